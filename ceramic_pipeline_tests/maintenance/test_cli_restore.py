"""`ceramic-pipeline restore` as an operator runs it: a real subprocess against real databases."""

from __future__ import annotations

from ceramic_pipeline.storage.migrations import MIGRATIONS

import psycopg

from ceramic_pipeline.maintenance.backup import create_backup
from ceramic_pipeline_tests.maintenance.support import all_rows, populate
from ceramic_pipeline_tests.test_cli import run


def test_restore_cli_restores_refuses_a_non_empty_target_and_a_corrupted_file(migrated_pg_url, pg_url_factory, tmp_path):
    populate(migrated_pg_url)
    backup = create_backup(migrated_pg_url, tmp_path / "backups", keep=3).backup
    target = pg_url_factory()
    env = {"CERAMIC_PIPELINE_DATA": str(tmp_path / "data")}

    done = run(["restore", str(backup.dump_path), "--database-url", target], env)
    assert done.returncode == 0, done.stderr
    assert f"restored {backup.name}: 8 tables, {243 + len(MIGRATIONS)} rows, matching the manifest" in done.stdout
    assert all_rows(target) == all_rows(migrated_pg_url)

    again = run(["restore", str(backup.dump_path), "--database-url", target], env)
    assert again.returncode == 1
    assert again.stderr.strip().splitlines() == [
        f"ceramic-pipeline restore: database {psycopg.conninfo.conninfo_to_dict(target)['dbname']!r} is not empty; restoring would overwrite it (use --force)"]
    forced = run(["restore", str(backup.manifest_path), "--database-url", target, "--force"], env)
    assert forced.returncode == 0, forced.stderr

    data = backup.dump_path.read_bytes()
    backup.dump_path.write_bytes(data[:-1] + bytes([data[-1] ^ 0xFF]))
    corrupted = run(["restore", str(backup.dump_path), "--database-url", pg_url_factory()], env)
    assert corrupted.returncode == 1
    [line] = corrupted.stderr.strip().splitlines()
    assert "sha256 does not match the manifest (corrupted)" in line and backup.dump_path.name in line
