"""The redaction scan (issue 12): a full ``ceramic-pipeline ingest`` with known secrets (the DID seed,
a database password, a Pinata JWT), then every byte it left behind is searched for them: stdout,
stderr, every file under DAGSTER_HOME (run storage and its snapshots, event logs with the
materialisation metadata, compute logs, the data folder) and the pipeline's PostgreSQL tables. SQLite cells are read one by one and
zlib-compressed ones (Dagster's snapshots) are inflated, so a compressed copy is found too.
Real PostgreSQL (a role with a password), the local node over real HTTP."""

from __future__ import annotations

import base64
import json
import os
import secrets
import shutil
import sqlite3
import subprocess
import sys
import zlib
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import psycopg
import pytest
from psycopg import sql

from ceramic_pipeline.ceramic.did import DIDKey
from ceramic_pipeline.samples import sample_documents_dir

EXE = shutil.which("ceramic-pipeline", path=str(Path(sys.executable).parent))


@pytest.fixture
def password_url(pg_admin_url: str, pg_url: str) -> Iterator[tuple[str, str]]:
    """(DATABASE_URL of a role with a password that owns the test database, the password)."""
    role, password = f"ceramic_redact_{secrets.token_hex(4)}", "pw-" + secrets.token_hex(16)
    dbname = urlsplit(pg_url).path.lstrip("/")
    with psycopg.connect(pg_admin_url, autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE ROLE {} LOGIN PASSWORD {}").format(sql.Identifier(role), sql.Literal(password)))
        conn.execute(sql.SQL("ALTER DATABASE {} OWNER TO {}").format(sql.Identifier(dbname), sql.Identifier(role)))
    parts = urlsplit(pg_url)
    host = f"{parts.hostname}:{parts.port}" if parts.hostname and parts.port else (parts.hostname or "")
    try:
        yield urlunsplit(parts._replace(netloc=f"{role}:{password}@{host}")), password
    finally:
        with psycopg.connect(pg_url, autocommit=True) as conn:  # as the admin: hand everything back
            conn.execute(sql.SQL("REASSIGN OWNED BY {} TO CURRENT_USER").format(sql.Identifier(role)))
            conn.execute(sql.SQL("DROP OWNED BY {}").format(sql.Identifier(role)))
        with psycopg.connect(pg_admin_url, autocommit=True) as conn:
            conn.execute(sql.SQL("DROP ROLE {}").format(sql.Identifier(role)))


def stored_bytes(path: Path) -> Iterator[bytes]:
    """The file's bytes; for a SQLite database also each cell, and each zlib-compressed cell inflated."""
    data = path.read_bytes()
    yield data
    if not data.startswith(b"SQLite format 3\x00"):
        return
    with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as db:
        tables = [t for (t,) in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
        for table in tables:
            for row in db.execute(f'SELECT * FROM "{table}"'):
                for cell in row:
                    if isinstance(cell, str):
                        yield cell.encode()
                    elif isinstance(cell, bytes):
                        yield cell
                        try:
                            yield zlib.decompress(cell)
                        except zlib.error:
                            pass


def test_a_full_ingest_leaves_no_secret_anywhere(tmp_path: Path, password_url, node):
    url, password = password_url
    raw_seed = secrets.token_bytes(32)
    seed = base64.b64encode(raw_seed).decode()
    jwt = "PINATA-JWT-MARKER-" + secrets.token_hex(16)
    home = tmp_path / "dagster_home"
    home.mkdir()
    inbox = tmp_path / "inbox"
    shutil.copytree(sample_documents_dir(), inbox)
    base = {k: v for k, v in os.environ.items() if not k.startswith(("PINATA_", "IPFS_", "DOCLING_", "AGENT_", "CERAMIC_PIPELINE_"))}
    env = {
        **base,
        "DAGSTER_HOME": str(home),  # the data folder defaults to $DAGSTER_HOME/ceramic-pipeline: scanned too
        "DATABASE_URL": url,
        "CERAMIC_URL": node.url,
        "DOCLING_INBOX": str(inbox),
        "AGENT_DID_SEED_BASE64": seed,
        "PINATA_JWT": jwt,  # IPFS_PINNING_SERVICE unset: the embedded blockstore pins; the JWT must still not show
        "LOG_LEVEL": "DEBUG",  # the most the project's loggers ever say
    }

    result = subprocess.run([EXE, "ingest", str(inbox), "--json"], env=env, capture_output=True, text=True, timeout=300)

    assert result.returncode == 0, result.stderr[-3000:]
    summary = json.loads(result.stdout)
    assert summary["documents_ingested"] == 3 and summary["streams_created"] == 13  # the run really used them all
    with psycopg.connect(url) as conn:  # and really connected as the role with the password
        assert conn.execute("SELECT count(DISTINCT signer_did) FROM ceramic_streams").fetchone() == (1,)

    secrets_ = {"seed": seed.encode(), "seed (hex)": raw_seed.hex().encode(), "password": password.encode(), "PINATA_JWT": jwt.encode()}
    outputs = {"stdout": result.stdout.encode(), "stderr": result.stderr.encode()}
    files = [p for p in home.rglob("*") if p.is_file()]
    assert any(p.suffix == ".db" for p in files)  # run storage and event logs were there to scan
    # the DID is public and in the materialisation metadata: the scan must find it (it can fail)
    secrets_["control: the DID"] = DIDKey.from_seed(raw_seed).did.encode()
    found = [f"{name} in {where}" for where, text in outputs.items() for name, value in secrets_.items() if value in text]
    for path in files:
        for chunk in stored_bytes(path):
            found += [f"{name} in {path.relative_to(home)}" for name, value in secrets_.items() if value in chunk]
    with psycopg.connect(url) as conn:  # the pipeline's own tables (errors, stream metadata, outbox) too
        tables = [t for (t,) in conn.execute("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")]
        for table in tables:
            text = "\n".join(r for (r,) in conn.execute(sql.SQL("SELECT t::text FROM {} t").format(sql.Identifier(table)))).encode()
            found += [f"{name} in table {table}" for name, value in secrets_.items() if value in text]
    control = {f for f in found if f.startswith("control: ")}
    assert any(f.endswith(".db") for f in control) and "control: the DID in table ceramic_streams" in control, (
        sorted(set(found)), [str(p.relative_to(home)) for p in files])
    assert not set(found) - control, sorted(set(found) - control)
