"""Check the whole configuration before any work, so a permanent mistake fails once, fast.

Without it a bad seed, a URL without a scheme, an unreachable database, a read-only data
folder or rejected Pinata credentials surface inside a Dagster step, go through the step
retry policy (tens of seconds) and end as a long traceback. ``preflight`` raises
:class:`ConfigError` with one line that names the variable and the cause, never its value.

Called by the CLI before ``ingest``/``publish`` (exit 2), and meant for the start of Dagster
runs. No Dagster imports here.
"""

from __future__ import annotations

import logging
import re
import tempfile
from collections.abc import Mapping
from pathlib import Path

import psycopg
from psycopg.conninfo import conninfo_to_dict

from ceramic_pipeline.envparse import ConfigError, env_int
from ceramic_pipeline.settings import Settings

log = logging.getLogger(__name__)

CONNECT_TIMEOUT_S = 5  # libpq's connect_timeout (whole seconds, at least 2)


def preflight(settings: Settings, *, timeout_s: float = CONNECT_TIMEOUT_S) -> None:
    """Raise ConfigError (one line, naming the variable) for the first unusable setting.

    Checks, cheapest first: numbers and URLs (already parsed by ``Settings.from_env``; the
    ones only other modules read are parsed here), the data folder is writable, the DID seed
    resolves to 32 bytes, the pinning service is buildable and, for Pinata, accepts its
    credentials, and DATABASE_URL accepts a connection within ``timeout_s``. A pinning
    service or Ceramic node that is merely unreachable is not a configuration error: events
    and pins wait for the next run (``ceramic-pipeline health`` reports it).
    """
    from ceramic_pipeline.health import OUTBOX_MAX_AGE_S, OUTBOX_MAX_AGE_VARIABLE
    from ceramic_pipeline.logs import log_level

    env = settings.environ
    env_int(env, "SENSOR_MAX_RUNS_PER_TICK", 200, 1, 100_000)
    env_int(env, OUTBOX_MAX_AGE_VARIABLE, OUTBOX_MAX_AGE_S)
    log_level(env)
    _check_inbox(settings.inbox, env)
    check_data_dir_writable(settings.data_dir, env)
    settings.signer()
    _check_pinning(settings, timeout_s)
    if settings.database_url:
        check_database(settings.database_url, timeout_s)


def data_dir_variable(environ: Mapping[str, str]) -> str:
    """The variable that chose the data folder, for messages."""
    if environ.get("CERAMIC_PIPELINE_DATA"):
        return "CERAMIC_PIPELINE_DATA"
    if environ.get("DAGSTER_HOME"):
        return "DAGSTER_HOME"
    return "the default data folder (set CERAMIC_PIPELINE_DATA)"


def check_data_dir_writable(data_dir: Path, environ: Mapping[str, str]) -> None:
    """Create ``data_dir`` if needed and write (then remove) a file in it."""
    try:
        data_dir.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=data_dir, prefix=".preflight-"):
            pass
    except OSError as exc:
        raise ConfigError(
            f"{data_dir_variable(environ)}: the data folder {data_dir} is not writable ({exc.strerror or type(exc).__name__})"
        ) from None


def _check_inbox(inbox: Path, environ: Mapping[str, str]) -> None:
    if environ.get("DOCLING_INBOX") and inbox.exists() and not inbox.is_dir():
        raise ConfigError(f"DOCLING_INBOX {inbox} is not a folder")


def _check_pinning(settings: Settings, timeout_s: float) -> None:
    from ceramic_pipeline.ipfs.config import pinning_service_from_env

    # Building the service checks kinds, that credentials are present, URLs and numbers; the
    # user's timeout is parsed here because the auth check below uses a short one of its own.
    env_int(settings.environ, "IPFS_HTTP_TIMEOUT_SECONDS", 60)
    env = {**settings.environ, "IPFS_HTTP_TIMEOUT_SECONDS": str(max(1, int(timeout_s)))}
    service = pinning_service_from_env(env, settings.data_dir)
    kinds = {settings.environ.get(v, "").strip().lower() for v in ("IPFS_PINNING_SERVICE", "IPFS_FALLBACK_SERVICE")}
    if "pinata" not in kinds:
        return  # only Pinata has credentials to check; Kubo RPC and the blockstore have none
    for report in _reports(service.health()):
        if report.get("auth_rejected"):
            raise ConfigError(f"{report['error']} (pinata at {report.get('url')})")


def _reports(health: dict) -> list[dict]:
    """A health report and those it nests (the fallback service reports primary and fallback)."""
    nested = [health[k] for k in ("primary", "fallback") if isinstance(health.get(k), dict)]
    return [health, *[r for n in nested for r in _reports(n)]]


def check_database(url: str, timeout_s: float = CONNECT_TIMEOUT_S) -> None:
    """Connect to DATABASE_URL once (``SELECT 1``); one line naming the cause, password removed."""
    try:
        params = conninfo_to_dict(url)
    except psycopg.Error:
        # The parser's message quotes the text it choked on, which may be the password.
        raise ConfigError("DATABASE_URL is not a valid PostgreSQL URL or key=value connection string") from None
    try:
        with psycopg.connect(url, connect_timeout=max(2, int(timeout_s)), autocommit=True) as conn:
            conn.execute("SELECT 1")
    except psycopg.Error as exc:
        raise ConfigError(f"DATABASE_URL: cannot connect: {one_line(str(exc), params.get('password'))}") from None


def one_line(message: str, *secrets: str | None) -> str:
    """``message`` on one line, with every given secret replaced by ``***``."""
    for secret in secrets:
        if secret:
            message = message.replace(secret, "***")
    message = re.sub(r"\s+", " ", message).strip()
    return message.removeprefix("connection failed: ")
