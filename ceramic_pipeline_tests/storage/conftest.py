from collections.abc import Iterator

import psycopg
import pytest



@pytest.fixture
def conn(migrated_pg_url: str) -> Iterator[psycopg.Connection]:
    """A connection to a migrated throwaway database (not autocommit: tests commit as needed)."""
    with psycopg.connect(migrated_pg_url) as connection:
        yield connection
