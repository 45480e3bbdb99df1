"""PostgreSQL client programs (pg_dump, pg_restore) whose major version matches the server.

pg_dump refuses a server newer than itself, and a dump made by a newer pg_dump may not restore
with an older pg_restore, so the client's major version must equal the server's. Candidates:
the binaries pgserver ships in its wheel (the embedded server's own version) and Debian's
``/usr/lib/postgresql/<major>/bin`` (package ``postgresql-client-<major>``).
"""

from __future__ import annotations

import importlib.util
import os
import re
import subprocess
from collections.abc import Iterable
from pathlib import Path

import psycopg

DEBIAN_ROOT = Path("/usr/lib/postgresql")


class PgToolError(RuntimeError):
    """A client program is missing, of the wrong version, or failed; the message is one line."""


def server_major(conn: psycopg.Connection) -> int:
    """The server's major version (``server_version_num`` 150020 -> 15)."""
    return conn.info.server_version // 10000


def _pgserver_bin() -> Path | None:
    spec = importlib.util.find_spec("pgserver")
    if spec is None or spec.origin is None:
        return None
    return Path(spec.origin).parent / "pginstall" / "bin"


def candidate_dirs() -> list[Path]:
    """Directories searched for client programs, pgserver's first."""
    dirs = [d for d in [_pgserver_bin()] if d is not None]
    if DEBIAN_ROOT.is_dir():
        dirs += sorted((p / "bin" for p in DEBIAN_ROOT.iterdir()), reverse=True)
    return dirs


def client_major(binary: Path) -> int | None:
    """Major version printed by ``binary --version`` ("pg_dump (PostgreSQL) 16.2" -> 16)."""
    try:
        out = subprocess.run([str(binary), "--version"], capture_output=True, text=True, timeout=30).stdout
    except OSError:
        return None
    match = re.search(r"\)\s+(\d+)", out)
    return int(match.group(1)) if match else None


def find_client(tool: str, major: int, dirs: Iterable[Path] | None = None) -> Path:
    """The ``tool`` binary of PostgreSQL ``major``; PgToolError naming the versions found otherwise."""
    found: list[str] = []
    for directory in candidate_dirs() if dirs is None else dirs:
        binary = directory / tool
        if not binary.is_file():
            continue
        version = client_major(binary)
        if version == major:
            return binary
        found.append(f"{version} ({binary})")
    raise PgToolError(
        f"no {tool} for PostgreSQL {major} (the server's version); found: {', '.join(found) or 'none'}; "
        f"install postgresql-client-{major}"
    )


def libpq_args(url: str) -> tuple[str, dict[str, str]]:
    """A conninfo string without the password, and the environment carrying it (PGPASSWORD).

    Keeps the password off the command line, where ``ps`` would show it.
    """
    params = psycopg.conninfo.conninfo_to_dict(url)
    password = params.pop("password", None)
    env = {"PGPASSWORD": str(password)} if password else {}
    return psycopg.conninfo.make_conninfo(**{k: str(v) for k, v in params.items() if v is not None}), env


def run_client(args: list[str], env: dict[str, str], what: str, timeout_s: float | None = None) -> None:
    """Run a client program; PgToolError with the last stderr lines when it fails."""
    result = subprocess.run(args, capture_output=True, text=True, env={**os.environ, **env}, timeout=timeout_s,
                            stdin=subprocess.DEVNULL)
    if result.returncode != 0:
        tail = " | ".join(result.stderr.strip().splitlines()[-3:])
        raise PgToolError(f"{what} failed (exit {result.returncode}): {tail}")
