"""Crash-safe file writing and hashing for backups: a file appears under its final name only
once it is complete and on disk (temp name in the same directory, fsync, rename, fsync dir)."""

from __future__ import annotations

import contextlib
import hashlib
import os
from collections.abc import Iterator
from pathlib import Path

PARTIAL_SUFFIX = ".partial"


def sha256_file(path: Path, chunk: int = 1 << 20) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while block := handle.read(chunk):
            digest.update(block)
    return digest.hexdigest()


def fsync_path(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


@contextlib.contextmanager
def atomic_path(final: Path) -> Iterator[Path]:
    """Yield a temp path next to ``final``; on success fsync and rename it, on any error delete it."""
    temp = final.with_name(f".{final.name}{PARTIAL_SUFFIX}")
    temp.unlink(missing_ok=True)
    try:
        yield temp
        fsync_path(temp)
        os.replace(temp, final)
        fsync_path(final.parent)
    except BaseException:  # including KeyboardInterrupt / run termination
        temp.unlink(missing_ok=True)
        raise


def write_atomically(final: Path, data: bytes) -> None:
    with atomic_path(final) as temp:
        temp.write_bytes(data)
