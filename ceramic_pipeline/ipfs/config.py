"""Build the pinning service the environment describes.

Variables: IPFS_PINNING_SERVICE (pinata | local | embedded, default embedded),
IPFS_FALLBACK_SERVICE (optional, same values), IPFS_API_URL (local, default
http://localhost:5001), PINATA_JWT or PINATA_API_KEY + PINATA_API_SECRET,
PINATA_API_URL, PINATA_UPLOADS_URL, PINATA_GATEWAY_URL (optional, for fetch),
IPFS_RETRY_MAX_ATTEMPTS (default 5), IPFS_HTTP_TIMEOUT_SECONDS (default 60).
PIN_THRESHOLD_BYTES belongs to ceramic_pipeline.settings.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from ceramic_pipeline.envparse import env_int, env_url
from ceramic_pipeline.ipfs.embedded import EmbeddedBlockstore
from ceramic_pipeline.ipfs.errors import PinningConfigError
from ceramic_pipeline.ipfs.fallback import FallbackPinningService
from ceramic_pipeline.ipfs.kubo import KuboPinningService
from ceramic_pipeline.ipfs.pinata import (
    DEFAULT_API_URL,
    DEFAULT_UPLOADS_URL,
    PinataPinningService,
)
from ceramic_pipeline.ceramic.retry import RetryPolicy
from ceramic_pipeline.ipfs.service import PinningService

SERVICES = ("pinata", "local", "embedded")
EMBEDDED_SUBDIR = "ipfs-blockstore"


def pinning_service_from_env(
    environ: Mapping[str, str], data_dir: Path, *, policy: RetryPolicy | None = None
) -> PinningService:
    """The primary service, wrapped with the fallback when IPFS_FALLBACK_SERVICE is set."""
    primary_kind = _service_kind(environ, "IPFS_PINNING_SERVICE") or "embedded"
    fallback_kind = _service_kind(environ, "IPFS_FALLBACK_SERVICE")
    if fallback_kind == primary_kind:
        raise PinningConfigError(
            f"IPFS_FALLBACK_SERVICE must differ from IPFS_PINNING_SERVICE ({primary_kind})"
        )
    policy = policy or RetryPolicy(
        max_attempts=env_int(environ, "IPFS_RETRY_MAX_ATTEMPTS", 5)
    )
    primary = _build(primary_kind, environ, Path(data_dir), policy)
    if fallback_kind is None:
        return primary
    return FallbackPinningService(
        primary, _build(fallback_kind, environ, Path(data_dir), policy)
    )


def _service_kind(environ: Mapping[str, str], variable: str) -> str | None:
    value = environ.get(variable, "").strip().lower()
    if not value:
        return None
    if value not in SERVICES:
        raise PinningConfigError(
            f"{variable} must be one of {', '.join(SERVICES)} (got {value!r})"
        )
    return value


def _build(
    kind: str, environ: Mapping[str, str], data_dir: Path, policy: RetryPolicy
) -> PinningService:
    timeout = float(env_int(environ, "IPFS_HTTP_TIMEOUT_SECONDS", 60))
    if kind == "embedded":
        return EmbeddedBlockstore(data_dir / EMBEDDED_SUBDIR)
    if kind == "local":
        return KuboPinningService(
            env_url(environ, "IPFS_API_URL") or "http://localhost:5001",
            policy=policy,
            timeout=timeout,
        )
    jwt = environ.get("PINATA_JWT", "").strip()
    key = environ.get("PINATA_API_KEY", "").strip()
    secret = environ.get("PINATA_API_SECRET", "").strip()
    if not jwt:
        if key and not secret:
            raise PinningConfigError(
                "PINATA_API_SECRET must be set together with PINATA_API_KEY"
            )
        if secret and not key:
            raise PinningConfigError(
                "PINATA_API_KEY must be set together with PINATA_API_SECRET"
            )
        if not key:
            raise PinningConfigError(
                "pinata needs PINATA_JWT (or PINATA_API_KEY and PINATA_API_SECRET) to be set"
            )
    return PinataPinningService(
        jwt=jwt or None,
        api_key=key or None,
        api_secret=secret or None,
        api_url=env_url(environ, "PINATA_API_URL") or DEFAULT_API_URL,
        uploads_url=env_url(environ, "PINATA_UPLOADS_URL") or DEFAULT_UPLOADS_URL,
        gateway_url=env_url(environ, "PINATA_GATEWAY_URL"),
        policy=policy,
        timeout=timeout,
    )
