from collections.abc import Iterator

import psycopg
import pytest

# Until the root conftest registers ceramic_pipeline_tests.fixtures.postgres as a plugin
# (pytest_plugins is only allowed there); drop this import then.
from ceramic_pipeline_tests.fixtures.postgres import migrated_pg_url, pg_admin_url, pg_url  # noqa: F401


@pytest.fixture
def conn(migrated_pg_url: str) -> Iterator[psycopg.Connection]:
    """A connection to a migrated throwaway database (not autocommit: tests commit as needed)."""
    with psycopg.connect(migrated_pg_url) as connection:
        yield connection
