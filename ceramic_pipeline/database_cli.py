"""`ceramic-pipeline db url|shell`: reach the pipeline's PostgreSQL (DATABASE_URL or the embedded one).

The embedded server listens on a unix socket under the data folder only, so its URL carries
``host=<socket dir>``; ``db shell`` runs pgserver's own psql (the same major version as the
embedded server; any psql works for DATABASE_URL). A password in DATABASE_URL is never
printed and never put on psql's command line (it goes in PGPASSWORD).
"""

from __future__ import annotations

import os
import shutil
import warnings
from pathlib import Path

from psycopg.conninfo import conninfo_to_dict, make_conninfo

from ceramic_pipeline.envparse import ConfigError
from ceramic_pipeline.settings import Settings


def database_url(settings: Settings) -> str:
    """DATABASE_URL, else the embedded server's URL (started if it is not running)."""
    from ceramic_pipeline.storage.embedded import embedded_database_url

    return settings.database_url or embedded_database_url(settings.data_dir)


def _params(url: str) -> dict:
    try:
        return conninfo_to_dict(url)
    except Exception:  # the parser's message may quote the password
        raise ConfigError("DATABASE_URL is not a valid PostgreSQL URL or key=value connection string") from None


def display_url(url: str) -> str:
    """``url`` with its password replaced by ``***`` (as a key=value string when it had one)."""
    params = _params(url)
    if not params.get("password"):
        return url
    return make_conninfo(**{**params, "password": "***"})


def psql_command(url: str) -> tuple[list[str], dict[str, str]]:
    """(argv, extra environment) that open psql on ``url``; the password travels in PGPASSWORD."""
    params = _params(url)
    password = params.pop("password", None)
    return [_psql(), make_conninfo(**params)], ({"PGPASSWORD": password} if password else {})


def _psql() -> str:
    try:
        with warnings.catch_warnings():  # pgserver's import asks platformdirs for a runtime dir it never uses
            warnings.filterwarnings("ignore", message="XDG_RUNTIME_DIR")
            import pgserver

        bundled = Path(pgserver.__file__).parent / "pginstall" / "bin" / "psql"
        if bundled.exists():
            return str(bundled)
    except ImportError:
        pass
    found = shutil.which("psql")
    if found is None:
        raise ConfigError("no psql found: install the PostgreSQL client, or pgserver (a dependency of this project)")
    return found


def exec_psql(url: str, extra_args: list[str]) -> None:
    """Replace this process with psql (interactive unless ``extra_args`` say otherwise)."""
    argv, env = psql_command(url)
    os.execve(argv[0], [*argv, *extra_args], {**os.environ, **env})
