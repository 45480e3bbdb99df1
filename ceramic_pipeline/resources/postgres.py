from __future__ import annotations

from pathlib import Path

import dagster as dg
import psycopg
import pydantic

from ceramic_pipeline.storage.embedded import embedded_database_url
from ceramic_pipeline.storage.migrations import migrate

_migrated: set[str] = set()


class PostgresResource(dg.ConfigurableResource):
    """DATABASE_URL, or the embedded PostgreSQL under ``data_dir`` when it is empty."""

    # repr=False: the resolved URL may hold the password and a resource's repr reaches logs.
    database_url: str = pydantic.Field(default="", repr=False)
    data_dir: str

    def url(self) -> str:
        url = self.database_url or embedded_database_url(Path(self.data_dir))
        if url not in _migrated:  # once per process: migrations are idempotent but not free
            migrate(url)
            _migrated.add(url)
        return url

    def connect(self) -> psycopg.Connection:
        return psycopg.connect(self.url())
