"""Health of the pipeline's dependencies: the Ceramic node, PostgreSQL, the pinning service, the outbox.

Each check returns a :class:`Check` and never raises; ``ceramic-pipeline health`` prints one
line per check and exits non-zero when one is down (a Kubernetes probe, a systemd
``ExecStartPre``). Nothing is started: for the embedded default a service that is not running
is reported down. Messages never carry a secret (the database password is removed; Pinata
credentials are never part of a message).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import psycopg

from ceramic_pipeline.ceramic.client import CeramicClient, CeramicError
from ceramic_pipeline.ceramic.retry import RetryPolicy
from ceramic_pipeline.envparse import ConfigError, env_int
from ceramic_pipeline.preflight import one_line
from ceramic_pipeline.settings import Settings

TIMEOUT_S = 5.0
# publish_outbox runs every 10 minutes: an event pending for an hour means publishing is stuck.
OUTBOX_MAX_AGE_VARIABLE = "HEALTH_OUTBOX_MAX_AGE_SECONDS"
OUTBOX_MAX_AGE_S = 3600


@dataclass(frozen=True)
class Check:
    name: str  # ceramic | postgres | pinning | outbox
    ok: bool
    detail: str  # one line

    def line(self) -> str:
        return f"{'ok' if self.ok else 'DOWN':<4}  {self.name:<8}  {self.detail}"


def check_ceramic(url: str | None, timeout_s: float = TIMEOUT_S) -> Check:
    """Liveness (``GET /ceramic/liveness``) and version (``GET /ceramic/version``), one attempt each."""
    if url is None:
        return Check("ceramic", False, "the embedded node is not running (CERAMIC_URL is not set; the first run starts it)")
    with CeramicClient(url, timeout_s=timeout_s, max_in_flight=1, retry=RetryPolicy(max_attempts=1)) as client:
        if not client.liveness():
            return Check("ceramic", False, f"{url}: not live (GET /ceramic/liveness failed)")
        try:
            version = client.version()
        except (CeramicError, ValueError, KeyError) as exc:
            return Check("ceramic", False, f"{url}: live, but GET /ceramic/version failed: {one_line(str(exc))}")
    return Check("ceramic", True, f"{url}: live, version {version}")


def check_postgres(url: str | None, timeout_s: float = TIMEOUT_S) -> Check:
    if url is None:
        return Check("postgres", False, "the embedded PostgreSQL is not running (DATABASE_URL is not set; the first run starts it)")
    try:
        with _connect(url, timeout_s) as conn:
            version = conn.execute("SHOW server_version").fetchone()[0]
            database = conn.info.dbname
    except psycopg.Error as exc:
        return Check("postgres", False, f"cannot connect: {_redacted(str(exc), url)}")
    return Check("postgres", True, f"database {database}, PostgreSQL {version}")


def check_outbox(url: str | None, max_age_s: int = OUTBOX_MAX_AGE_S, timeout_s: float = TIMEOUT_S) -> Check:
    """Down when the oldest pending event is older than ``max_age_s`` seconds (publishing is stuck)."""
    if url is None:
        return Check("outbox", False, "no database to read it from")
    try:
        with _connect(url, timeout_s) as conn:
            pending, age, rejected = conn.execute(
                "SELECT count(*) FILTER (WHERE status = 'pending'),"
                " coalesce(extract(epoch FROM now() - min(created_at) FILTER (WHERE status = 'pending')), 0)::bigint,"
                " count(*) FILTER (WHERE status = 'rejected') FROM ceramic_events"
            ).fetchone()
    except psycopg.errors.UndefinedTable:
        return Check("outbox", True, "empty (the schema is created by the first run)")
    except psycopg.Error as exc:
        return Check("outbox", False, f"cannot read ceramic_events: {_redacted(str(exc), url)}")
    detail = f"{pending} pending (oldest {age} s), {rejected} rejected"
    if age > max_age_s:
        return Check("outbox", False, f"{detail}: older than {max_age_s} s ({OUTBOX_MAX_AGE_VARIABLE}); is publish_outbox running?")
    return Check("outbox", True, detail)


def check_pinning(environ: Mapping[str, str], data_dir: Path, timeout_s: float = TIMEOUT_S) -> Check:
    """The configured service's own health: Pinata's auth check, Kubo's version, the blockstore writable."""
    from ceramic_pipeline.ipfs.config import pinning_service_from_env

    try:
        env = {**environ, "IPFS_HTTP_TIMEOUT_SECONDS": str(max(1, int(timeout_s)))}
        report = pinning_service_from_env(env, data_dir).health()
    except ConfigError as exc:
        return Check("pinning", False, str(exc))
    return Check("pinning", bool(report["ok"]), _describe(report))


def _describe(report: dict) -> str:
    if "primary" in report:
        return f"primary {_describe(report['primary'])}; fallback {_describe(report['fallback'])}"
    where = report.get("url") or report.get("path") or ""
    if not report["ok"]:
        return f"{report['service']} {where}: {one_line(str(report.get('error', 'not ok')))}"
    extra = {"pinata": lambda r: f"credentials accepted (API v{r.get('api_version')})",
             "local": lambda r: f"Kubo RPC version {r.get('version')}",
             "embedded": lambda r: f"writable, {r.get('pins')} pins"}.get(report["service"], lambda r: "ok")
    return f"{report['service']} {where}: {extra(report)}"


def run_checks(settings: Settings, timeout_s: float = TIMEOUT_S) -> list[Check]:
    """Every check, in a fixed order: ceramic, postgres, pinning, outbox."""
    from ceramic_pipeline.embedded_node import running_embedded_ceramic_url
    from ceramic_pipeline.storage.embedded import running_embedded_database_url

    max_age = env_int(settings.environ, OUTBOX_MAX_AGE_VARIABLE, OUTBOX_MAX_AGE_S)
    db_url = settings.database_url or running_embedded_database_url(settings.data_dir)
    return [
        check_ceramic(settings.ceramic_url or running_embedded_ceramic_url(settings.data_dir), timeout_s),
        check_postgres(db_url, timeout_s),
        check_pinning(settings.environ, settings.data_dir, timeout_s),
        check_outbox(db_url, max_age, timeout_s),
    ]


def record(checks: list[Check]) -> None:
    """Set the ``ceramic_dependency_up{dependency}`` gauge from ``checks`` (push it with metrics.push)."""
    from ceramic_pipeline.metrics import ceramic_dependency_up

    for check in checks:
        ceramic_dependency_up.labels(dependency=check.name).set(1 if check.ok else 0)


def _connect(url: str, timeout_s: float) -> psycopg.Connection:
    return psycopg.connect(url, connect_timeout=max(2, int(timeout_s)), autocommit=True)


def _redacted(message: str, url: str) -> str:
    from psycopg.conninfo import conninfo_to_dict

    try:
        password = conninfo_to_dict(url).get("password")
    except psycopg.Error:
        password = None
    return one_line(message, password)
