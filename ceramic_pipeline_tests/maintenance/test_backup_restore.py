"""Backups and restores against the real PostgreSQL: round trip, refusals, atomicity, retention."""

from __future__ import annotations

from ceramic_pipeline.storage.migrations import MIGRATIONS

import json
import os
import sqlite3
import stat
import time
import tarfile
from datetime import datetime, timedelta, timezone
from pathlib import Path

import psycopg
import pytest
from psycopg import sql

from ceramic_pipeline.maintenance import pgtools
from ceramic_pipeline.maintenance.backup import BackupError, create_backup, list_backups
from ceramic_pipeline.maintenance.pgtools import PgToolError, find_client, server_major
from ceramic_pipeline.maintenance.restore import RestoreRefused, load_backup, restore_backup, verify_backup
from ceramic_pipeline_tests.maintenance.support import all_rows, populate


@pytest.fixture
def populated(migrated_pg_url: str) -> str:
    populate(migrated_pg_url)
    return migrated_pg_url


def _recreate_empty(admin_url: str, url: str) -> None:
    name = psycopg.conninfo.conninfo_to_dict(url)["dbname"]
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(sql.SQL("DROP DATABASE {} WITH (FORCE)").format(sql.Identifier(name)))
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))


def test_backup_drop_restore_equals_the_original_row_for_row(populated, pg_admin_url, tmp_path):
    before = all_rows(populated)
    assert sum(map(len, before.values())) == 3 + 120 + 120 + len(MIGRATIONS)  # + schema_migrations
    result = create_backup(populated, tmp_path / "backups", keep=3)
    manifest = result.backup.manifest
    assert manifest["tables"]["chunks"]["rows"] == 120 and manifest["tables"]["documents"]["rows"] == 3
    assert manifest["dump"]["size_bytes"] == result.backup.dump_path.stat().st_size
    assert result.backup.dump_path.read_bytes()[:5] == b"PGDMP"  # pg_dump's custom format

    _recreate_empty(pg_admin_url, populated)
    assert all_rows(populated) == {}
    report = restore_backup(result.backup.dump_path, populated)

    assert report.matches and report.rows == sum(map(len, before.values()))
    assert all_rows(populated) == before


def test_the_manifest_describes_the_dump_and_names_no_credentials(populated, tmp_path):
    result = create_backup(populated, tmp_path, keep=3)
    text = result.backup.manifest_path.read_text()
    manifest = json.loads(text)
    assert manifest["dump"]["sha256"] == __import__("hashlib").sha256(result.backup.dump_path.read_bytes()).hexdigest()
    assert manifest["name"].startswith("ceramic-pipeline-") and manifest["content_checksum"]
    assert "postgres@" not in text and "password" not in text.lower()


@pytest.mark.parametrize("damage", ["flip_a_byte", "truncate"])
def test_a_corrupted_or_truncated_backup_is_refused(populated, pg_url_factory, tmp_path, damage):
    result = create_backup(populated, tmp_path, keep=3)
    path = result.backup.dump_path
    data = bytearray(path.read_bytes())
    if damage == "flip_a_byte":
        data[len(data) // 2] ^= 0xFF
    else:
        del data[len(data) // 2:]
    path.write_bytes(bytes(data))
    target = pg_url_factory()
    with pytest.raises(BackupError, match="corrupted" if damage == "flip_a_byte" else "truncated") as info:
        restore_backup(path, target)
    assert "\n" not in str(info.value) and path.name in str(info.value)
    assert all_rows(target) == {}  # nothing was restored


def test_a_backup_without_its_manifest_is_refused(populated, tmp_path):
    result = create_backup(populated, tmp_path, keep=3)
    result.backup.manifest_path.unlink()
    with pytest.raises(BackupError, match="manifest .* is missing"):
        load_backup(result.backup.dump_path)


def test_a_non_empty_database_is_overwritten_only_with_force(populated, migrated_pg_url_factory, tmp_path):
    result = create_backup(populated, tmp_path, keep=3)
    target = migrated_pg_url_factory()
    with psycopg.connect(target) as conn:
        conn.execute("INSERT INTO documents (document_id, partition_key, source_path, content_sha256)"
                     " VALUES ('stale', 'stale', '/x', repeat('b', 64))")
    with pytest.raises(RestoreRefused, match="not empty"):
        restore_backup(result.backup.dump_path, target)
    assert [r[0] for r in all_rows(target)["public.documents"]] == ["stale"]

    report = restore_backup(result.backup.dump_path, target, force=True)
    assert report.matches
    assert all_rows(target) == all_rows(populated)


def test_a_failed_dump_leaves_no_file(populated, tmp_path, monkeypatch):
    # A pg_dump that writes half a file and dies, as a killed or failing dump would.
    fake = tmp_path / "bin" / "pg_dump"
    fake.parent.mkdir()
    fake.write_text("#!/bin/sh\nfor a; do case $a in --file=*) printf PGDMP-half > \"${a#--file=}\";; esac; done\n"
                    "echo 'pg_dump: error: connection lost' >&2; exit 1\n")
    fake.chmod(fake.stat().st_mode | stat.S_IXUSR)
    monkeypatch.setattr(pgtools, "client_major", lambda binary: server_major(psycopg.connect(populated)))
    monkeypatch.setattr(pgtools, "candidate_dirs", lambda: [fake.parent])
    backups = tmp_path / "backups"
    with pytest.raises(PgToolError, match="pg_dump of .* failed .*connection lost"):
        create_backup(populated, backups, keep=3)
    assert [p.name for p in backups.iterdir()] == [".lock"]


def test_a_pg_dump_of_another_major_version_is_refused_with_one_line(tmp_path):
    fake = tmp_path / "bin" / "pg_dump"
    fake.parent.mkdir()
    fake.write_text("#!/bin/sh\necho 'pg_dump (PostgreSQL) 11.22'\n")
    fake.chmod(0o755)
    with pytest.raises(PgToolError) as info:
        find_client("pg_dump", 15, dirs=[fake.parent, tmp_path / "nothing"])
    message = str(info.value)
    assert "\n" not in message
    assert "no pg_dump for PostgreSQL 15" in message and "found: 11" in message and "postgresql-client-15" in message


def test_the_chosen_pg_dump_matches_the_server(migrated_pg_url):
    with psycopg.connect(migrated_pg_url) as conn:
        major = server_major(conn)
    assert pgtools.client_major(find_client("pg_dump", major)) == major
    assert pgtools.client_major(find_client("pg_restore", major)) == major


def test_retention_keeps_the_newest_n(populated, tmp_path):
    start = datetime(2026, 11, 1, 2, 0, tzinfo=timezone.utc)
    names = [create_backup(populated, tmp_path, keep=3, now=start + timedelta(days=d)).backup.name for d in range(5)]
    kept = [b.name for b in list_backups(tmp_path)]
    assert kept == names[:1:-1]  # the three newest, newest first
    on_disk = sorted(p.name for p in tmp_path.iterdir() if not p.name.startswith("."))
    assert on_disk == sorted(f"{n}{suffix}" for n in kept for suffix in (".dump", ".manifest.json"))


def test_two_backups_in_the_same_second_do_not_collide(populated, tmp_path):
    now = datetime(2026, 11, 1, 2, 0, tzinfo=timezone.utc)
    first = create_backup(populated, tmp_path, keep=5, now=now).backup
    second = create_backup(populated, tmp_path, keep=5, now=now).backup
    third = create_backup(populated, tmp_path, keep=2, now=now).backup
    assert len({first.name, second.name, third.name}) == 3
    assert [b.name for b in list_backups(tmp_path)] == [third.name, second.name]  # newest kept, in order
    assert not first.dump_path.exists() and second.dump_path.exists()


def test_local_data_is_archived_consistently_and_checked(populated, tmp_path):
    data = tmp_path / "data"
    store = data / "devnode" / "devnode.sqlite3"
    store.parent.mkdir(parents=True)
    with sqlite3.connect(store) as db:
        db.execute("CREATE TABLE events (seq INTEGER PRIMARY KEY, car BLOB)")
        db.executemany("INSERT INTO events (car) VALUES (?)", [(os.urandom(64),) for _ in range(50)])
    blocks = data / "ipfs-blockstore" / "blocks"
    blocks.mkdir(parents=True)
    (blocks / "bafkreiexample").write_bytes(b"block bytes")
    local = {"devnode/devnode.sqlite3": store, "ipfs-blockstore": data / "ipfs-blockstore",
             "not-there": data / "missing"}

    backup = create_backup(populated, tmp_path / "backups", keep=3, local_data=local).backup
    assert backup.manifest["files"]["members"] == ["devnode/devnode.sqlite3", "ipfs-blockstore"]
    with tarfile.open(backup.files_path) as tar:
        names = tar.getnames()
        tar.extractall(tmp_path / "out", filter="data")
    assert "ipfs-blockstore/blocks/bafkreiexample" in names
    with sqlite3.connect(tmp_path / "out" / "devnode" / "devnode.sqlite3") as db:
        assert db.execute("SELECT count(*) FROM events").fetchone()[0] == 50
    verify_backup(backup)

    backup.files_path.write_bytes(backup.files_path.read_bytes()[:-10])
    with pytest.raises(BackupError, match=r"files\.tar\.gz: .*truncated"):
        verify_backup(backup)


def test_an_interrupted_dump_leaves_nothing_under_a_final_name_and_the_next_backup_cleans_up(populated, tmp_path):
    # pg_dump writes part of the file, then the whole backup process is killed (SIGKILL: no cleanup runs).
    import signal
    import subprocess
    import sys
    import textwrap

    slow = tmp_path / "bin" / "pg_dump"
    slow.parent.mkdir()
    slow.write_text("#!/bin/sh\nfor a; do case $a in --file=*) printf PGDMP-part > \"${a#--file=}\";; esac; done\nsleep 60\n")
    slow.chmod(0o755)
    backups = tmp_path / "backups"
    script = textwrap.dedent(f"""
        import psycopg
        from pathlib import Path
        from ceramic_pipeline.maintenance import backup, pgtools
        with psycopg.connect({populated!r}) as conn:
            major = pgtools.server_major(conn)
        pgtools.candidate_dirs = lambda: [Path({str(slow.parent)!r})]
        pgtools.client_major = lambda binary: major
        backup.create_backup({populated!r}, Path({str(backups)!r}), keep=3)
    """)
    process = subprocess.Popen([sys.executable, "-c", script], start_new_session=True)
    try:
        for _ in range(300):
            if list(backups.glob(".*.partial")):
                break
            time.sleep(0.1)
        assert list(backups.glob(".*.partial")), "the dump never started"
    finally:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=10)
    assert [p.name for p in backups.iterdir() if not p.name.startswith(".")] == []

    create_backup(populated, backups, keep=3)
    assert list(backups.glob(".*.partial")) == []
    assert len(list_backups(backups)) == 1
