"""The ``local`` backend against a real IPFS daemon (js-ipfs 0.66, Kubo RPC, offline)."""

import random
import socket

import httpx
import pytest
from ceramic_pipeline.metrics import REGISTRY

from ceramic_pipeline.ceramic.cid import CID
from ceramic_pipeline.ipfs import (
    ContentNotFoundError,
    KuboPinningService,
    PinningUnavailableError,
    RetryPolicy,
    file_cid,
)

pytestmark = pytest.mark.slow  # starts an external daemon (see pyproject markers)

SIZES = {"1B": 1, "16KiB": 16 * 1024, "300KiB": 300 * 1024, "3MiB": 3 * 1024 * 1024}


@pytest.fixture
def sent():
    return []


@pytest.fixture
def local(ipfs_api_url, sent):
    client = httpx.Client(
        timeout=60, event_hooks={"request": [lambda r: sent.append(r.url.path)]}
    )
    yield KuboPinningService(ipfs_api_url, client=client)
    client.close()


@pytest.mark.parametrize("size", SIZES.values(), ids=SIZES.keys())
def test_local_cid_equals_the_daemons_and_the_pin_is_listed(ipfs_api_url, local, size):
    content = random.Random(size).randbytes(size)
    expected = file_cid(content)  # computed here, before the daemon sees the bytes
    record = local.pin(
        content, f"random-{size}"
    )  # raises CIDMismatchError if the daemon disagrees
    assert record.cid == expected and record.service == "local" and record.size == size
    # Ask the daemon directly, independent of our client: it lists the pin (in base58btc).
    listed = httpx.post(
        f"{ipfs_api_url}/api/v0/pin/ls", params={"arg": str(expected)}
    ).json()["Keys"]
    assert [CID.from_string(key) for key in listed] == [expected]
    assert local.is_pinned(expected)
    assert local.fetch(expected) == content


def test_already_pinned_content_is_not_added_again(local, sent):
    content = random.Random(99).randbytes(40_000)
    local.pin(content, "first")
    sent.clear()
    record = local.pin(content, "second")
    assert record.cid == file_cid(content)
    assert "/api/v0/add" not in sent and sent == ["/api/v0/pin/ls"]


def test_a_name_with_slashes_is_not_taken_for_a_folder(local):
    content = b"folder-looking name " * 1000
    assert local.pin(content, "docs/report.pdf/chunk 3").cid == file_cid(content)


def test_unknown_content_is_neither_pinned_nor_fetchable(ipfs_api_url):
    local = KuboPinningService(ipfs_api_url, fetch_timeout="1s")
    unknown = file_cid(b"never added to this node")
    assert local.is_pinned(unknown) is False
    with pytest.raises(ContentNotFoundError):
        local.fetch(unknown)


def test_health_reports_the_daemon_version(local):
    health = local.health()
    assert health["ok"] is True and health["version"]


def test_unreachable_node_exhausts_retries_and_counts_failures():
    with socket.socket() as sock:  # a loopback port nobody listens on once closed
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    sleeps = []
    down = KuboPinningService(
        f"http://127.0.0.1:{port}",
        policy=RetryPolicy(max_attempts=3, sleep=sleeps.append),
    )
    before = (
        REGISTRY.get_sample_value(
            "ceramic_ipfs_pin_failures_total", {"service": "local"}
        )
        or 0.0
    )
    with pytest.raises(PinningUnavailableError, match="ConnectError"):
        down.pin(b"x" * 20_000, "chunk")
    assert len(sleeps) == 2
    assert (
        REGISTRY.get_sample_value(
            "ceramic_ipfs_pin_failures_total", {"service": "local"}
        )
        == before + 3
    )
    assert down.health()["ok"] is False
