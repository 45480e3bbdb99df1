"""`ceramic-pipeline db url|shell` and the one default data folder for the CLI and `dagster dev`."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import psycopg

from ceramic_pipeline.settings import Settings
from ceramic_pipeline.storage.embedded import stop_embedded_server

EXE = shutil.which("ceramic-pipeline", path=str(Path(sys.executable).parent))


def run(args: list[str], env: dict[str, str], cwd: Path | None = None) -> subprocess.CompletedProcess:
    base = {k: v for k, v in os.environ.items() if not k.startswith(("AGENT_DID", "DAGSTER_HOME", "CERAMIC_", "DATABASE_URL", "LOG_"))}
    return subprocess.run([EXE, *args], env={**base, **env}, capture_output=True, text=True, timeout=300, cwd=cwd)


def test_db_url_hides_the_password_and_shell_queries_the_view(migrated_pg_url):
    out = run(["db", "url"], {"DATABASE_URL": migrated_pg_url})
    assert out.returncode == 0 and out.stdout.strip() == migrated_pg_url  # trust auth: nothing to hide
    with_password = migrated_pg_url.replace("postgres@", "postgres:s3cr3t-pw@")
    out = run(["db", "url"], {"DATABASE_URL": with_password})
    assert out.returncode == 0 and "s3cr3t-pw" not in out.stdout + out.stderr and "password=***" in out.stdout
    with psycopg.connect(migrated_pg_url) as conn:
        conn.execute("INSERT INTO chunks (document_id, chunk_index, text, text_sha256, text_bytes, partition_key)"
                     " VALUES ('a.json', 0, 'hello', repeat('0', 64), 5, 'a')")
    query = "SELECT document_id, chunk_index, stream_id FROM chunks_with_ceramic"
    shell = run(["db", "shell", "--", "-A", "-t", "-c", query], {"DATABASE_URL": migrated_pg_url})
    assert shell.returncode == 0, shell.stderr
    assert shell.stdout.strip() == "a.json|0|"


def test_embedded_database_for_the_default_data_folder(tmp_path):
    # No DATABASE_URL, DAGSTER_HOME or CERAMIC_PIPELINE_DATA: the folder `dagster dev` (README command 1) uses.
    data_dir = tmp_path / "var" / "dagster" / "ceramic-pipeline"
    try:
        out = run(["db", "url"], {}, cwd=tmp_path)
        assert out.returncode == 0, out.stderr
        # a unix-socket URL (pgserver moves the socket to a short runtime path when the folder's is too long)
        assert out.stdout.strip().startswith("postgresql://postgres:@/ceramic_pipeline?host=/"), out.stdout
        assert (data_dir / "pgdata" / "PG_VERSION").exists()
        shell = run(["db", "shell", "--", "-A", "-t", "-c", "SELECT current_database()"], {}, cwd=tmp_path)
        assert (shell.returncode, shell.stdout.strip()) == (0, "ceramic_pipeline"), shell.stderr
    finally:
        stop_embedded_server(data_dir)


def test_cli_and_dagster_dev_share_one_default_data_folder(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    readme_home = {"DAGSTER_HOME": str(tmp_path / "var" / "dagster")}
    assert Settings.from_env({}).data_dir == Settings.from_env(readme_home).data_dir == tmp_path / "var" / "dagster" / "ceramic-pipeline"
    plain, with_home = run(["did"], {}, cwd=tmp_path), run(["did"], readme_home, cwd=tmp_path)
    assert plain.returncode == with_home.returncode == 0 and plain.stdout == with_home.stdout
