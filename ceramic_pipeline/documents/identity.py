"""Stable document identity and the Dagster-safe partition key derived from it.

A document is identified by where it sits in the inbox, not by its content, so an
edited file keeps its identity (and its partition, and its Ceramic streams).

Partition keys must avoid characters that break Dagster's UI and backfill
selection (commas, pipes, JSON-ish text), so they use ``[A-Za-z0-9_-]`` only: a
readable ASCII slug of the path plus a short sha256 of the exact document id,
which keeps two paths that slug alike (``a b.json`` / ``a_b.json``) apart.
"""

from __future__ import annotations

import hashlib
import os
import re
import unicodedata
from pathlib import Path

PARTITION_KEY_MAX_LENGTH = 100
_HASH_HEX_CHARS = 10
_SLUG_MAX_LENGTH = PARTITION_KEY_MAX_LENGTH - _HASH_HEX_CHARS - 1
_NOT_SLUG = re.compile(r"[^A-Za-z0-9_-]+")
PARTITION_KEY_PATTERN = re.compile(r"^[A-Za-z0-9_-]{1,100}$")


def document_id(path: Path | str, inbox: Path | str) -> str:
    """The POSIX path of ``path`` relative to ``inbox`` (e.g. ``reports/q3.json``).

    Paths are made absolute without resolving symlinks, so a symlinked inbox
    still yields ids relative to the folder the operator configured.
    """
    absolute = Path(os.path.abspath(path))
    root = Path(os.path.abspath(inbox))
    try:
        relative = absolute.relative_to(root)
    except ValueError:
        raise ValueError(f"{str(path)!r} is not inside the inbox {str(inbox)!r}") from None
    if relative == Path("."):
        raise ValueError(f"{str(path)!r} is the inbox itself, not a document in it")
    return relative.as_posix()


def partition_key(doc_id: str) -> str:
    """Deterministic ``[A-Za-z0-9_-]`` key of at most 100 chars for a document id.

    Shape: ``<slug>-<10 hex of sha256(doc_id)>``. When the slug is too long its
    *end* is kept, because the file name is what distinguishes documents that
    share a deep folder prefix.
    """
    if not doc_id:
        raise ValueError("document id must not be empty")
    digest = hashlib.sha256(doc_id.encode("utf-8")).hexdigest()[:_HASH_HEX_CHARS]
    ascii_text = unicodedata.normalize("NFKD", doc_id).encode("ascii", "ignore").decode("ascii")
    slug = _NOT_SLUG.sub("-", ascii_text).strip("-")
    slug = slug[-_SLUG_MAX_LENGTH:].lstrip("-") or "doc"
    return f"{slug}-{digest}"
