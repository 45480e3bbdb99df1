"""Backups: a pg_dump (custom format) of the pipeline database plus a tar of the embedded
node's and blockstore's data, with a manifest beside them; retention keeps the newest N.

A backup named ``ceramic-pipeline-<UTC timestamp>`` is the files
``<name>.dump``, optionally ``<name>.files.tar.gz``, and ``<name>.manifest.json``, written
last: a backup without a manifest does not exist (a crash leaves at most a ``.partial``
temp file, removed by the next backup). The row counts and content checksums in the manifest
are computed in the very snapshot pg_dump exports from (``pg_export_snapshot`` +
``pg_dump --snapshot``), so they describe exactly what the dump holds.
"""

from __future__ import annotations

import fcntl
import json
import sqlite3
import tarfile
import tempfile
import time
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

import psycopg

from ceramic_pipeline.maintenance.files import PARTIAL_SUFFIX, atomic_path, sha256_file, write_atomically
from ceramic_pipeline.maintenance.pgtools import client_major, find_client, libpq_args, run_client, server_major
from ceramic_pipeline.maintenance.tables import content_checksum, table_stats

PREFIX = "ceramic-pipeline-"
MANIFEST_SUFFIX = ".manifest.json"
MANIFEST_FORMAT = 1


class BackupError(RuntimeError):
    """A backup could not be made or read; one line naming the file or program and the cause."""


@dataclass(frozen=True)
class Backup:
    manifest_path: Path
    manifest: dict

    @property
    def name(self) -> str:
        return self.manifest["name"]

    @property
    def dump_path(self) -> Path:
        return self.manifest_path.parent / self.manifest["dump"]["file"]

    @property
    def files_path(self) -> Path | None:
        files = self.manifest.get("files")
        return self.manifest_path.parent / files["file"] if files else None


@dataclass(frozen=True)
class BackupResult:
    backup: Backup
    deleted: list[str]  # names removed by retention
    seconds: float


def _database_label(url: str) -> str:
    """host/dbname for the manifest: never a user or password."""
    params = psycopg.conninfo.conninfo_to_dict(url)
    return f"{params.get('host') or 'localhost'}:{params.get('port') or 5432}/{params.get('dbname') or ''}"


def list_backups(backup_dir: Path) -> list[Backup]:
    """Complete backups (those with a readable manifest), newest first."""
    backups = []
    for path in Path(backup_dir).glob(f"{PREFIX}*{MANIFEST_SUFFIX}"):
        try:
            backup = Backup(path, json.loads(path.read_text()))
            backups.append((_order(backup), backup))
        except (OSError, ValueError, KeyError, TypeError):
            continue  # unreadable manifest: not a backup we can restore or count
    return [backup for _, backup in sorted(backups, key=lambda item: item[0], reverse=True)]


def _order(backup: Backup) -> tuple[datetime, int]:
    """Creation time, then the collision suffix (``NAME``, ``NAME-2``, ...) of same-second backups."""
    suffix = backup.name.rsplit("-", 1)[1]
    return datetime.fromisoformat(backup.manifest["created_at"]), int(suffix) if suffix.isdigit() else 1


def prune_backups(backup_dir: Path, keep: int) -> list[str]:
    """Delete all but the newest ``keep`` backups; returns the deleted names."""
    deleted = []
    for old in list_backups(backup_dir)[keep:]:
        for path in (old.dump_path, old.files_path):
            if path is not None:
                path.unlink(missing_ok=True)
        old.manifest_path.unlink(missing_ok=True)
        deleted.append(old.name)
    return deleted


def _archive_local_data(target: Path, sources: Mapping[str, Path]) -> list[str]:
    """tar.gz of ``sources`` (arcname -> path; missing ones skipped). SQLite files are copied
    through SQLite's online backup API first, so a running node's database is consistent."""
    members = []
    with tempfile.TemporaryDirectory(prefix="ceramic-backup-") as tmp, tarfile.open(target, "w:gz") as tar:
        for arcname, path in sorted(sources.items()):
            if not path.exists():
                continue
            if path.is_file() and path.suffix in {".sqlite3", ".sqlite", ".db"}:
                copy = Path(tmp) / path.name
                src, dst = sqlite3.connect(f"file:{path}?mode=ro", uri=True), sqlite3.connect(copy)
                try:
                    src.backup(dst)
                finally:
                    src.close()
                    dst.close()
                tar.add(copy, arcname=arcname)
            else:
                tar.add(path, arcname=arcname)
            members.append(arcname)
    return members


def _unique_name(backup_dir: Path, now: datetime) -> str:
    name = f"{PREFIX}{now.astimezone(timezone.utc):%Y%m%dT%H%M%SZ}"
    candidate, n = name, 1
    while any(backup_dir.glob(f"{candidate}.*")):
        n += 1
        candidate = f"{name}-{n}"
    return candidate


def create_backup(
    database_url: str,
    backup_dir: Path,
    *,
    keep: int,
    local_data: Mapping[str, Path] | None = None,
    now: datetime | None = None,
    timeout_s: float | None = None,
) -> BackupResult:
    """Dump ``database_url`` into ``backup_dir``, archive ``local_data``, write the manifest, prune.

    Raises BackupError (or PgToolError) with one line; nothing is left under a final name then.
    """
    started = time.monotonic()
    backup_dir = Path(backup_dir)
    backup_dir.mkdir(parents=True, exist_ok=True)
    with open(backup_dir / ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # one backup at a time per directory
        for stale in backup_dir.glob(f".*{PARTIAL_SUFFIX}"):  # left by a killed process
            stale.unlink(missing_ok=True)
        now = now or datetime.now(timezone.utc)
        name = _unique_name(backup_dir, now)
        dump = backup_dir / f"{name}.dump"
        written: list[Path] = []
        try:
            manifest = _dump(database_url, dump, name, now, timeout_s)
            written.append(dump)
            if local_data:
                archive = backup_dir / f"{name}.files.tar.gz"
                with atomic_path(archive) as temp:
                    members = _archive_local_data(temp, local_data)
                if members:
                    written.append(archive)
                    manifest["files"] = {"file": archive.name, "sha256": sha256_file(archive),
                                         "size_bytes": archive.stat().st_size, "members": members}
                else:
                    archive.unlink()
            manifest_path = backup_dir / f"{name}{MANIFEST_SUFFIX}"
            write_atomically(manifest_path, (json.dumps(manifest, indent=2, sort_keys=True) + "\n").encode())
        except BaseException:
            for path in written:
                path.unlink(missing_ok=True)
            raise
        deleted = prune_backups(backup_dir, keep)
    return BackupResult(Backup(manifest_path, manifest), deleted, time.monotonic() - started)


def _dump(database_url: str, dump: Path, name: str, now: datetime, timeout_s: float | None) -> dict:
    conninfo, env = libpq_args(database_url)
    with psycopg.connect(database_url) as conn:
        conn.isolation_level = psycopg.IsolationLevel.REPEATABLE_READ
        conn.read_only = True
        major = server_major(conn)
        pg_dump = find_client("pg_dump", major)
        snapshot = conn.execute("SELECT pg_export_snapshot()").fetchone()[0]
        stats = table_stats(conn)
        server_version = conn.execute("SHOW server_version").fetchone()[0]
        # The transaction stays open (holding the snapshot) until pg_dump is done.
        with atomic_path(dump) as temp:
            run_client([str(pg_dump), "--format=custom", f"--snapshot={snapshot}", f"--file={temp}", f"--dbname={conninfo}"],
                       env, f"pg_dump of {_database_label(database_url)}", timeout_s)
    return {
        "format": MANIFEST_FORMAT,
        "name": name,
        "created_at": now.astimezone(timezone.utc).isoformat(),
        "database": _database_label(database_url),
        "server_version": server_version,
        "pg_dump_major": client_major(pg_dump),
        "dump": {"file": dump.name, "sha256": sha256_file(dump), "size_bytes": dump.stat().st_size},
        "files": None,
        "tables": {table: {"rows": s.rows, "checksum": s.checksum} for table, s in stats.items()},
        "content_checksum": content_checksum(stats),
    }
