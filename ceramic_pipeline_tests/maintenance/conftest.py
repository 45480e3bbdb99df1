from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator

import pytest

from ceramic_pipeline.storage.migrations import migrate
from ceramic_pipeline_tests.fixtures.postgres import throwaway_database


@pytest.fixture
def pg_url_factory(pg_admin_url: str) -> Iterator[Callable[[], str]]:
    """More empty throwaway databases for one test (restore targets), dropped afterwards."""
    with contextlib.ExitStack() as stack:
        yield lambda: stack.enter_context(throwaway_database(pg_admin_url))


@pytest.fixture
def migrated_pg_url_factory(pg_url_factory: Callable[[], str]) -> Callable[[], str]:
    def make() -> str:
        url = pg_url_factory()
        migrate(url)
        return url
    return make

# The write-path fixtures (signer, connect, conn, client, requests) over the real devnode and PostgreSQL.
from ceramic_pipeline_tests.writer.conftest import client, conn, connect, requests, signer  # noqa: F401
