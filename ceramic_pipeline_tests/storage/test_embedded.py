import subprocess
import sys
import textwrap

import psycopg
import pytest

from ceramic_pipeline.storage.embedded import (
    DATABASE_NAME, embedded_database_url, resolve_database_url, stop_embedded_server,
)
from ceramic_pipeline.storage.migrations import migrate


def start_time(url: str):
    with psycopg.connect(url) as conn:
        return conn.execute("SELECT pg_postmaster_start_time()").fetchone()[0]


def test_embedded_server_starts_and_is_reused(tmp_path):
    data_dir = tmp_path / "data"
    url = embedded_database_url(data_dir)
    try:
        assert f"host={data_dir / 'pgdata'}" in url  # unix socket inside the data dir
        assert url.split("?")[0].endswith(f"/{DATABASE_NAME}")
        assert migrate(url) != []
        started = start_time(url)
        assert embedded_database_url(data_dir) == url  # same process: same server
        # Another process reuses the running server and, on exit, leaves it running for us.
        script = textwrap.dedent(f"""
            from pathlib import Path
            import psycopg
            from ceramic_pipeline.storage.embedded import embedded_database_url
            url = embedded_database_url(Path({str(data_dir)!r}))
            with psycopg.connect(url) as conn:
                print(url, conn.execute("SELECT pg_postmaster_start_time()").fetchone()[0].isoformat())
        """)
        out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120, check=True)
        assert out.stdout.split() == [url, started.isoformat()]
        assert start_time(url) == started
        with psycopg.connect(url) as conn:  # schema from before is still there
            assert conn.execute("SELECT count(*) FROM ceramic_streams").fetchone()[0] == 0
    finally:
        stop_embedded_server(data_dir)
    with pytest.raises(psycopg.OperationalError):
        psycopg.connect(url, connect_timeout=2)
    assert (data_dir / "pgdata" / "PG_VERSION").exists()  # stopped, data kept


def test_processes_starting_it_at_once_share_one_server(tmp_path):
    """Three processes asking for a server that is not running yet: one starts it, all get its URL."""
    data_dir = tmp_path / "data"
    script = textwrap.dedent(f"""
        from pathlib import Path
        import psycopg
        from ceramic_pipeline.storage.embedded import embedded_database_url
        url = embedded_database_url(Path({str(data_dir)!r}))
        with psycopg.connect(url) as conn:
            print(url, conn.execute("SELECT pg_postmaster_start_time()").fetchone()[0].isoformat())
    """)
    try:
        starters = [subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
                    for _ in range(4)]
        outputs = [p.communicate(timeout=180) for p in starters]
        assert [p.returncode for p in starters] == [0, 0, 0, 0], [err[-1500:] for _out, err in outputs]
        assert len({out.strip() for out, _err in outputs}) == 1  # one URL, one server start time
    finally:
        stop_embedded_server(data_dir)


def test_resolve_prefers_database_url(tmp_path):
    data_dir = tmp_path / "never-created"
    url = "postgresql://app@db.example:5432/ceramic"
    assert resolve_database_url({"DATABASE_URL": url}, data_dir) == url
    assert not data_dir.exists()  # no embedded server was started


def test_resolve_falls_back_to_embedded(tmp_path):
    data_dir = tmp_path / "data"
    try:
        url = resolve_database_url({"DATABASE_URL": "  "}, data_dir)
        assert url == embedded_database_url(data_dir)
        with psycopg.connect(url) as conn:
            assert conn.execute("SELECT current_database()").fetchone()[0] == DATABASE_NAME
    finally:
        stop_embedded_server(data_dir)


def test_the_server_is_never_started_inside_the_calling_process(tmp_path, monkeypatch):
    """pgserver starts postgres with subprocess(user=...), a real fork(); inside Dagster's gRPC code
    server (where sensors run) such a child can die with SIGSEGV. Starting must happen elsewhere."""
    import pgserver

    def forbidden(*_args, **_kwargs):
        raise AssertionError("pgserver.get_server ran in the calling process")

    monkeypatch.setattr(pgserver, "get_server", forbidden)
    data_dir = tmp_path / "data"
    try:
        url = embedded_database_url(data_dir)
        with psycopg.connect(url) as conn:
            assert conn.execute("SELECT current_database()").fetchone()[0] == DATABASE_NAME
        assert embedded_database_url(data_dir) == url  # found running: still no pgserver call
    finally:
        stop_embedded_server(data_dir)
