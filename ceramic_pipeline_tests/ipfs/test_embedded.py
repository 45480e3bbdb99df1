import os
import random

import pytest

from ceramic_pipeline.ipfs import (
    ContentIntegrityError,
    ContentNotFoundError,
    EmbeddedBlockstore,
    file_cid,
)

SMALL = b"a chunk of text " * 1500  # ~24 KB: one raw block
LARGE = random.Random(7).randbytes(700 * 1024)  # three leaves under a dag-pb root


@pytest.fixture
def store(tmp_path):
    return EmbeddedBlockstore(tmp_path / "blockstore")


def _block_files(store):
    return sorted(p for p in store.blocks_dir.rglob("*") if p.is_file())


@pytest.mark.parametrize("content", [SMALL, LARGE], ids=["single-block", "multi-block"])
def test_round_trip(store, content):
    record = store.pin(content, "chunk.txt")
    assert record.cid == file_cid(content)
    assert record.to_json() == {
        "cid": str(record.cid),
        "service": "embedded",
        "pinned_at": record.pinned_at,
        "status": "pinned",
        "size": len(content),
    }
    assert record.pinned_at.endswith("Z")
    assert store.is_pinned(record.cid) and store.is_pinned(str(record.cid))
    assert store.fetch(record.cid) == content
    # A fresh instance on the same folder sees the same pin (it is on disk, not in memory).
    assert EmbeddedBlockstore(store.root).fetch(str(record.cid)) == content


def test_same_content_is_stored_once(store):
    first = store.pin(LARGE, "one")
    files = _block_files(store)
    mtimes = [p.stat().st_mtime_ns for p in files]
    second = store.pin(LARGE, "two")
    assert second == first  # the original record, pinned_at included
    assert (
        _block_files(store) == files and [p.stat().st_mtime_ns for p in files] == mtimes
    )
    assert len(files) == 4


def test_unpinned_content_is_not_found(store):
    assert not store.is_pinned(file_cid(b"never stored"))
    with pytest.raises(ContentNotFoundError):
        store.fetch(file_cid(b"never stored"))


@pytest.mark.parametrize("content", [SMALL, LARGE], ids=["single-block", "multi-block"])
def test_tampered_block_is_detected_on_read(store, content):
    record = store.pin(content, "chunk.txt")
    victim = _block_files(store)[0]
    data = bytearray(victim.read_bytes())
    data[len(data) // 2] ^= 0x01
    victim.write_bytes(bytes(data))
    with pytest.raises(ContentIntegrityError, match="corrupted") as excinfo:
        store.fetch(record.cid)
    assert victim.name in str(excinfo.value)


def test_missing_leaf_of_multi_block_content_is_reported(store):
    record = store.pin(LARGE, "chunk.txt")
    leaves = [p for p in _block_files(store) if p.name.startswith("bafkrei")]
    os.remove(leaves[0])
    with pytest.raises(ContentNotFoundError, match=leaves[0].name):
        store.fetch(record.cid)


def test_health_reports_the_folder(store):
    store.pin(SMALL, "x")
    assert store.health() == {
        "service": "embedded",
        "ok": True,
        "path": str(store.root),
        "pins": 1,
    }
