"""Build every resource from the environment, once, through Settings."""

from __future__ import annotations

import os
from collections.abc import Mapping

import dagster as dg

from ceramic_pipeline.maintenance.local_data import embedded_local_data
from ceramic_pipeline.resources.backups import BackupResource
from ceramic_pipeline.resources.ceramic import CeramicNodeResource
from ceramic_pipeline.resources.inbox import InboxResource
from ceramic_pipeline.resources.pinning import PinningResource
from ceramic_pipeline.resources.postgres import PostgresResource
from ceramic_pipeline.resources.signer import SignerResource
from ceramic_pipeline.settings import ConfigError, Settings


def _secret(environ: Mapping[str, str], name: str) -> dg.EnvVar | str:
    """An EnvVar when set (resolved at launch, never stored in run config), else empty.

    An EnvVar is read from the *process* environment when a run launches, so an explicit
    mapping that disagrees with os.environ would be silently ignored; refuse it instead
    (a literal value would be written into Dagster's stored run snapshot).
    """
    if not environ.get(name):
        return ""
    if os.environ.get(name) != environ[name]:
        raise ConfigError(
            f"{name} is resolved from the process environment when a run launches; "
            f"set it in os.environ (the given mapping's value differs)"
        )
    return dg.EnvVar(name)


def resources_from_env(environ: Mapping[str, str] | None = None) -> dict[str, dg.ConfigurableResource]:
    env = dict(os.environ if environ is None else environ)
    settings = Settings.from_env(env)
    data_dir = str(settings.data_dir)
    return {
        "postgres": PostgresResource(database_url=_secret(env, "DATABASE_URL"), data_dir=data_dir),
        "signer": SignerResource(seed_base64=_secret(env, "AGENT_DID_SEED_BASE64"), data_dir=data_dir),
        "ceramic": CeramicNodeResource(
            url=settings.ceramic_url or "",
            timeout_ms=int(settings.ceramic_timeout_s * 1000),
            batch_size=settings.ceramic_batch_size,
            data_dir=data_dir,
        ),
        "pinning": PinningResource(data_dir=data_dir, threshold_bytes=settings.pin_threshold_bytes),
        "inbox": InboxResource(
            path=str(settings.inbox),
            seed_samples=not env.get("DOCLING_INBOX"),
            chunker=settings.chunker,
            tokenizer_path=settings.tokenizer_path or "",
            max_tokens=settings.max_tokens or 0,
        ),
        "backups": BackupResource(
            backup_dir=str(settings.backup_dir),
            retention_count=settings.backup_retention_count,
            local_data={name: str(path) for name, path in embedded_local_data(settings).items()},
        ),
    }
