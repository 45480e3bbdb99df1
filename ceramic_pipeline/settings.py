"""Every environment variable the project reads, parsed and validated in one place.

Nothing configured means the embedded default: a seed generated once under the data
folder, an embedded PostgreSQL, the local validating Ceramic node and the embedded
blockstore. Production sets the variables listed in the README.
"""

from __future__ import annotations

import math
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from ceramic_pipeline.ceramic.did import DIDKey
from ceramic_pipeline.envparse import ConfigError, env_int, env_url
from ceramic_pipeline.keys import load_seed

MAX_INLINE_TEXT_BYTES = 16384  # the DoclingChunk model's inline text limit


DEFAULT_DAGSTER_HOME = Path("var") / "dagster"  # README command 1: DAGSTER_HOME=$PWD/var/dagster dagster dev


def default_data_dir(environ: Mapping[str, str]) -> Path:
    """CERAMIC_PIPELINE_DATA, else ``$DAGSTER_HOME/ceramic-pipeline``, else ``./var/dagster/ceramic-pipeline``.

    The last is where README command 1 (`dagster dev` with DAGSTER_HOME=$PWD/var/dagster)
    keeps its data, so the CLI run from the same folder without DAGSTER_HOME uses the same
    seed, database and node as the UI.
    """
    if environ.get("CERAMIC_PIPELINE_DATA"):
        return Path(environ["CERAMIC_PIPELINE_DATA"]).expanduser()
    home = Path(environ["DAGSTER_HOME"]).expanduser() if environ.get("DAGSTER_HOME") else Path.cwd() / DEFAULT_DAGSTER_HOME
    return home / "ceramic-pipeline"


def usable_cpus(cpu_max: Path = Path("/sys/fs/cgroup/cpu.max")) -> int:
    """CPUs this process may use, at least 1: its affinity mask (where the OS has one), capped by a
    cgroup v2 CPU quota (``cpu.max`` = "<quota> <period>" in µs, or "max"), which is how a container's
    CPU limit shows (Kubernetes ``resources.limits.cpu``, ``docker run --cpus``): a pod limited to
    1 CPU on a 32-core node must not fork 32 ingest workers."""
    try:
        cpus = len(os.sched_getaffinity(0))
    except AttributeError:  # macOS, Windows: no affinity API
        cpus = os.cpu_count() or 1
    try:
        quota, period = cpu_max.read_text().split()[:2]
        if quota != "max":
            cpus = min(cpus, math.ceil(int(quota) / int(period)))
    except (OSError, ValueError):  # no cgroup v2 here, or a format we do not know: no cap
        pass
    return max(1, cpus)


@dataclass(frozen=True)
class Settings:
    data_dir: Path
    database_url: str | None  # None: the embedded PostgreSQL under data_dir
    ceramic_url: str | None  # None: the embedded local validating node
    ceramic_timeout_s: float
    ceramic_batch_size: int
    inbox: Path
    pin_threshold_bytes: int
    chunker: str
    tokenizer_path: str | None
    max_tokens: int | None
    # Scheduled maintenance (backups, restore drill, VACUUM/REINDEX); crons are UTC unless
    # MAINTENANCE_TIMEZONE says otherwise, and are validated where the schedules are built.
    backup_dir: Path
    backup_retention_count: int
    maintenance_timezone: str
    archive_after_days: int  # streams not really changed for this long move to the archive table
    dagster_run_retention_days: int  # finished Dagster runs older than this are deleted
    # `ceramic-pipeline ingest`: documents per partition-range run, and runs executed at once
    # (one process each; ingest.py says why processes, not threads).
    ingest_documents_per_run: int
    ingest_workers: int
    environ: Mapping[str, str] = field(repr=False)

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        env = dict(os.environ if environ is None else environ)
        data_dir = default_data_dir(env)
        chunker = env.get("CHUNKER", "hierarchical").strip() or "hierarchical"
        if chunker not in {"hierarchical", "hybrid"}:
            raise ConfigError(f"CHUNKER must be 'hierarchical' or 'hybrid', got {chunker!r}")
        tokenizer = env.get("CHUNKER_TOKENIZER_PATH") or None
        if chunker == "hybrid" and not tokenizer:
            raise ConfigError("CHUNKER=hybrid needs CHUNKER_TOKENIZER_PATH (a local Hugging Face tokenizer folder)")
        max_tokens = env_int(env, "CHUNKER_MAX_TOKENS", 0, 0, 1_000_000) or None
        if chunker == "hybrid" and max_tokens is None:
            raise ConfigError("CHUNKER=hybrid needs CHUNKER_MAX_TOKENS (it is not detected offline)")
        return cls(
            data_dir=data_dir,
            database_url=env.get("DATABASE_URL") or None,
            ceramic_url=env_url(env, "CERAMIC_URL"),
            ceramic_timeout_s=env_int(env, "CERAMIC_TIMEOUT", 60000, 1, 3_600_000) / 1000,
            ceramic_batch_size=env_int(env, "CERAMIC_BATCH_SIZE", 50, 1, 1000),
            inbox=Path(env["DOCLING_INBOX"]).expanduser() if env.get("DOCLING_INBOX") else data_dir / "inbox",
            pin_threshold_bytes=env_int(env, "PIN_THRESHOLD_BYTES", MAX_INLINE_TEXT_BYTES, 1, MAX_INLINE_TEXT_BYTES),
            chunker=chunker,
            tokenizer_path=tokenizer,
            max_tokens=max_tokens,
            backup_dir=Path(env["BACKUP_DIR"]).expanduser() if env.get("BACKUP_DIR", "").strip() else data_dir / "backups",
            backup_retention_count=env_int(env, "BACKUP_RETENTION_COUNT", 7, 1, 10_000),
            maintenance_timezone=env.get("MAINTENANCE_TIMEZONE", "").strip() or "UTC",
            archive_after_days=env_int(env, "ARCHIVE_AFTER_DAYS", 90, 1, 36_500),
            dagster_run_retention_days=env_int(env, "DAGSTER_RUN_RETENTION_DAYS", 30, 1, 36_500),
            ingest_documents_per_run=env_int(env, "INGEST_DOCUMENTS_PER_RUN", 500, 1, 100_000),
            ingest_workers=env_int(env, "INGEST_WORKERS", usable_cpus(), 1, 256),
            environ=env,
        )

    def cron(self, name: str, default: str) -> str:
        """A maintenance schedule's cron string from ``name``, ``default`` when unset or blank.

        Checked where the schedule is built (Dagster's cron parser), which names ``name`` on error.
        """
        return self.environ.get(name, "").strip() or default

    def signer(self) -> DIDKey:
        """The agent's did:key from the configured seed source; ConfigError names the source."""
        return DIDKey.from_seed(load_seed(self.environ, self.data_dir))


def resolve_seed(environ: Mapping[str, str], data_dir: Path) -> bytes:
    """The agent seed from the configured source (ceramic_pipeline.keys), else a development seed under ``data_dir``."""
    return load_seed(environ, data_dir)
