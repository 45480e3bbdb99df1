"""The shared PostgreSQL fixture (ceramic_pipeline_tests/fixtures/postgres.py), both paths."""

import os
import socket
import subprocess
import sys
import textwrap
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import psycopg

from ceramic_pipeline_tests.fixtures.postgres import server_answers, throwaway_database, with_database

REPO_ROOT = Path(__file__).resolve().parents[2]


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def database_exists(admin_url: str, name: str) -> bool:
    with psycopg.connect(admin_url) as conn:
        return conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone() is not None


def test_server_answers(pg_admin_url):
    assert server_answers(pg_admin_url)
    assert not server_answers(f"postgresql://postgres@127.0.0.1:{closed_port()}/postgres")


def test_with_database_rewrites_urls_and_conninfo():
    assert with_database("postgresql://u:p@h:5433/postgres?sslmode=disable", "x") == \
        "postgresql://u:p@h:5433/x?sslmode=disable"
    assert with_database("postgresql://postgres:@/postgres?host=/tmp/pg", "x") == \
        "postgresql://postgres:@/x?host=/tmp/pg"
    assert psycopg.conninfo.conninfo_to_dict(with_database("host=h dbname=postgres", "x")) == \
        {"host": "h", "dbname": "x"}


def test_throwaway_database_is_dropped_even_with_open_connections(pg_admin_url):
    with throwaway_database(pg_admin_url) as url:
        name = urlsplit(url).path.lstrip("/") if "://" in url else psycopg.conninfo.conninfo_to_dict(url)["dbname"]
        assert database_exists(pg_admin_url, name)
        lingering = psycopg.connect(url)  # a test that forgot to close: WITH (FORCE) handles it
    try:
        assert not database_exists(pg_admin_url, name)
    finally:
        lingering.close()


def test_falls_back_to_a_throwaway_cluster(tmp_path):
    """With nothing at the configured URL, a pytest run gets pgserver and cleans it up."""
    report = tmp_path / "admin_url.txt"
    (tmp_path / "test_inner.py").write_text(textwrap.dedent(f"""
        import psycopg

        def test_inner(pg_admin_url, pg_url):
            open({str(report)!r}, "w").write(pg_admin_url)
            with psycopg.connect(pg_url) as conn:
                assert conn.execute("SELECT current_database()").fetchone()[0].startswith("ceramic_test_")
                conn.execute("CREATE TABLE t (a int)")
    """))
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT),
           "CERAMIC_TEST_PG_ADMIN_URL": f"postgresql://postgres@127.0.0.1:{closed_port()}/postgres"}
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-p", "ceramic_pipeline_tests.fixtures.postgres",
         "--rootdir", str(tmp_path), str(tmp_path / "test_inner.py")],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=180,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "1 passed" in result.stdout
    admin_url = report.read_text()
    socket_dir = Path(parse_qs(urlsplit(admin_url).query)["host"][0])
    assert socket_dir.name == "pgdata"  # pgserver's unix socket, not the closed TCP port
    assert not socket_dir.exists()  # cluster stopped and deleted at session end
