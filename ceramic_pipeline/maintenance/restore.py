"""Restore a backup into a database, and the restore drill (restore into a scratch database
and compare with what the backup recorded).

A backup is only restored after its files match the manifest (size and sha256), and only
into a database holding none of the project's tables unless ``force`` is given (then
``pg_restore --clean --if-exists`` replaces the objects the dump holds). The pg_restore used
has the target server's major version.
"""

from __future__ import annotations

import json
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import psycopg
from psycopg import sql

from ceramic_pipeline.maintenance.backup import MANIFEST_SUFFIX, Backup, BackupError, list_backups
from ceramic_pipeline.maintenance.files import sha256_file
from ceramic_pipeline.maintenance.pgtools import PgToolError, find_client, libpq_args, run_client, server_major
from ceramic_pipeline.maintenance.tables import content_checksum, database_is_empty, table_stats


class RestoreRefused(RuntimeError):
    """The target database is not empty and ``force`` was not given."""


@dataclass(frozen=True)
class RestoreReport:
    backup: str
    tables: int
    rows: int
    mismatches: dict[str, dict] = field(default_factory=dict)  # table -> {"expected": ..., "restored": ...}
    content_checksum_matches: bool = True
    seconds: float = 0.0

    @property
    def matches(self) -> bool:
        return not self.mismatches and self.content_checksum_matches


def load_backup(path: Path) -> Backup:
    """The backup a ``.dump`` or ``.manifest.json`` path belongs to (its manifest must exist)."""
    path = Path(path)
    if path.name.endswith(MANIFEST_SUFFIX):
        manifest_path = path
    elif path.suffix == ".dump":
        manifest_path = path.with_name(path.name[: -len(".dump")] + MANIFEST_SUFFIX)
    else:
        raise BackupError(f"{path}: not a backup (expected NAME.dump or NAME{MANIFEST_SUFFIX})")
    try:
        manifest = json.loads(manifest_path.read_text())
        manifest["dump"]["sha256"], manifest["tables"]  # noqa: B018 - the fields restore relies on
    except FileNotFoundError:
        raise BackupError(f"{path}: its manifest {manifest_path.name} is missing") from None
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise BackupError(f"{manifest_path}: unreadable manifest ({type(exc).__name__})") from None
    return Backup(manifest_path, manifest)


def verify_backup(backup: Backup) -> None:
    """BackupError unless the dump (and the files archive, if any) match the manifest's size and sha256."""
    expected = [(backup.dump_path, backup.manifest["dump"])]
    if backup.files_path is not None:
        expected.append((backup.files_path, backup.manifest["files"]))
    for path, record in expected:
        if not path.is_file():
            raise BackupError(f"{path}: missing")
        size = path.stat().st_size
        if size != record["size_bytes"]:
            raise BackupError(f"{path}: {size} bytes, the manifest records {record['size_bytes']} (truncated or replaced)")
        if sha256_file(path) != record["sha256"]:
            raise BackupError(f"{path}: sha256 does not match the manifest (corrupted)")


def compare_with_manifest(backup: Backup, conn: psycopg.Connection) -> tuple[dict[str, dict], bool, int]:
    """Per-table differences between the manifest and ``conn``'s database, content checksum match, rows."""
    restored = table_stats(conn)
    recorded = backup.manifest["tables"]
    mismatches = {}
    for table, record in recorded.items():
        got = restored.get(table)
        if got is None or got.rows != record["rows"] or got.checksum != record["checksum"]:
            mismatches[table] = {"expected_rows": record["rows"], "restored_rows": None if got is None else got.rows,
                                 "checksum_matches": got is not None and got.checksum == record["checksum"]}
    ours = {t: s for t, s in restored.items() if t in recorded}
    checksum_ok = content_checksum(ours) == backup.manifest["content_checksum"] and set(ours) == set(recorded)
    return mismatches, checksum_ok, sum(s.rows for s in ours.values())


def restore_backup(path: Path, target_url: str, *, force: bool = False, timeout_s: float | None = None) -> RestoreReport:
    """Verify, restore into ``target_url`` and compare with the manifest.

    Raises BackupError (file/manifest problems), RestoreRefused (non-empty target without
    ``force``) or PgToolError (no matching pg_restore, or pg_restore failed).
    """
    started = time.monotonic()
    backup = load_backup(path)
    verify_backup(backup)
    with psycopg.connect(target_url, autocommit=True) as conn:
        if not force and not database_is_empty(conn):
            raise RestoreRefused(
                f"{_target_label(target_url)} is not empty; restoring would overwrite it (use --force)"
            )
        pg_restore = find_client("pg_restore", server_major(conn))
    conninfo, env = libpq_args(target_url)
    args = [str(pg_restore), "--no-owner", "--no-privileges", "--exit-on-error", "--single-transaction",
            f"--dbname={conninfo}"]
    if force:
        args[1:1] = ["--clean", "--if-exists"]
    run_client([*args, str(backup.dump_path)], env, f"pg_restore of {backup.dump_path.name}", timeout_s)
    with psycopg.connect(target_url) as conn:
        mismatches, checksum_ok, rows = compare_with_manifest(backup, conn)
    return RestoreReport(backup=backup.name, tables=len(backup.manifest["tables"]), rows=rows,
                         mismatches=mismatches, content_checksum_matches=checksum_ok,
                         seconds=time.monotonic() - started)


def _target_label(url: str) -> str:
    params = psycopg.conninfo.conninfo_to_dict(url)
    return f"database {params.get('dbname') or '(default)'!r}"


@dataclass(frozen=True)
class DrillReport:
    passed: bool
    backup: str | None
    reason: str  # one line: what passed or why it failed
    report: RestoreReport | None = None


def restore_drill(backup_dir: Path, server_url: str) -> DrillReport:
    """Restore the newest backup in ``backup_dir`` into a scratch database created on the
    server of ``server_url`` (needs CREATEDB), compare it with the manifest, drop it."""
    backups = list_backups(backup_dir)
    if not backups:
        return DrillReport(False, None, f"no backup in {backup_dir}")
    newest = backups[0]
    scratch = f"ceramic_restore_drill_{uuid.uuid4().hex[:12]}"
    try:
        with psycopg.connect(server_url, autocommit=True) as conn:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(scratch)))
    except psycopg.Error as exc:
        return DrillReport(False, newest.name, f"could not create the scratch database: {exc.diag.message_primary or exc}")
    try:
        report = restore_backup(newest.manifest_path, psycopg.conninfo.make_conninfo(server_url, dbname=scratch))
    except (BackupError, PgToolError, RestoreRefused) as exc:
        return DrillReport(False, newest.name, str(exc))
    finally:
        with psycopg.connect(server_url, autocommit=True) as conn:
            # WITH (FORCE) (PostgreSQL >= 13) ends sessions a failed restore may have left behind.
            force = " WITH (FORCE)" if server_major(conn) >= 13 else ""
            conn.execute(sql.SQL("DROP DATABASE IF EXISTS {}" + force).format(sql.Identifier(scratch)))
    if not report.matches:
        what = ", ".join(sorted(report.mismatches)) or "content checksum"
        return DrillReport(False, newest.name, f"restored data differs from the backup's record: {what}", report)
    return DrillReport(True, newest.name, f"{report.tables} tables, {report.rows} rows restored and match the backup", report)
