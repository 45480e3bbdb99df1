from __future__ import annotations

from collections.abc import Callable, Iterator

import psycopg
import pytest

from ceramic_pipeline.ceramic.client import CeramicClient
from ceramic_pipeline.ceramic.retry import RetryPolicy
from ceramic_pipeline.devnode.runner import DevNode
from ceramic_pipeline.ceramic.did import DIDKey
from ceramic_pipeline_tests.writer.support import RequestCounter, count_requests

# Small delays keep fault tests fast; enough attempts that 30% errors almost never exhaust them.
FAST_RETRY = RetryPolicy(max_attempts=6, base_delay=0.01, max_delay=0.05)


@pytest.fixture
def signer() -> DIDKey:
    return DIDKey.from_seed(b"writer-tests-fixed-seed-32bytes!")  # a throwaway test key



@pytest.fixture
def requests(node: DevNode) -> RequestCounter:
    return count_requests(node)


@pytest.fixture
def connect(migrated_pg_url: str) -> Callable[[], psycopg.Connection]:
    return lambda: psycopg.connect(migrated_pg_url)


@pytest.fixture
def conn(migrated_pg_url: str) -> Iterator[psycopg.Connection]:
    with psycopg.connect(migrated_pg_url, autocommit=True) as connection:
        yield connection


@pytest.fixture
def client(node: DevNode) -> Iterator[CeramicClient]:
    with CeramicClient(node.url, retry=FAST_RETRY, max_in_flight=16, timeout_s=10) as client:
        yield client
