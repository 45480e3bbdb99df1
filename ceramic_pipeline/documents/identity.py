"""Stable document identity and the Dagster-safe partition key derived from it.

A document is identified by where its file really is, not by its content, so an edited
file keeps its identity (and its partition, and its Ceramic streams). The rule:

1. **One document per real file.** The path is made absolute and every symlink in it is
   resolved (``os.path.realpath``), so a file named by a folder, by its own path, relative
   or absolute, or through a symlink always gets the same id. A symlink is therefore *not*
   a document of its own: it stands for its target, and a target reached twice in one scan
   (the file and a link to it) is one document. Hard links are separate names of one inode
   and count as separate documents.
2. **Inside the configured inbox** (``DOCLING_INBOX``): the POSIX path relative to the
   inbox's real path, e.g. ``reports/q3.json``. It never starts with ``/``.
3. **Anywhere else**: the absolute real path, e.g. ``/data/2024/summary.json``. It always
   starts with ``/``, so it can never equal an inbox-relative id, and two folders holding
   the same file name give two ids.
4. **Names that are not UTF-8** (the OS hands them over as bytes): every byte that is not
   part of valid UTF-8 is written ``%XX`` (upper-case hex), and a literal ``%`` that is
   followed by two hex digits is written ``%25``. Every other character, ``%`` included,
   stays as it is, so ids of ordinary names are plain paths. The escape is reversible
   (``id_path``, via ``urllib.parse.unquote_to_bytes`` and ``os.fsdecode``), hence
   collision-free, and an id is always valid UTF-8 (PostgreSQL ``text``).

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
from urllib.parse import unquote_to_bytes

PARTITION_KEY_MAX_LENGTH = 100
_HASH_HEX_CHARS = 10
_SLUG_MAX_LENGTH = PARTITION_KEY_MAX_LENGTH - _HASH_HEX_CHARS - 1
_NOT_SLUG = re.compile(r"[^A-Za-z0-9_-]+")
PARTITION_KEY_PATTERN = re.compile(r"^[A-Za-z0-9_-]{1,100}$")
_HEX = frozenset("0123456789abcdefABCDEF")


def path_text(path: str | bytes | os.PathLike) -> str:
    """``path`` as valid UTF-8 text: undecodable bytes as ``%XX``, an ambiguous ``%`` as ``%25``.

    Accepts what the OS returns (``str`` with surrogate escapes, or ``bytes``); the inverse is
    ``text_path``. Ordinary names (valid UTF-8 with no ``%`` before two hex digits) come back
    unchanged.
    """
    text = os.fsdecode(path)
    if "%" not in text:
        try:
            text.encode("utf-8")
            return text  # the common case: nothing to escape
        except UnicodeEncodeError:
            os.fsencode(text)  # a surrogate no OS name decodes to raises UnicodeEncodeError here
    out: list[str] = []
    for i, char in enumerate(text):
        if "\udc80" <= char <= "\udcff":  # an undecodable byte, as os.fsdecode's surrogateescape left it
            out.append(f"%{ord(char) - 0xDC00:02X}")
        elif char == "%" and len(text) >= i + 3 and text[i + 1] in _HEX and text[i + 2] in _HEX:
            out.append("%25")
        else:
            out.append(char)
    return "".join(out)


def text_path(text: str) -> str:
    """The OS path (``str``, surrogate-escaped where needed) that ``path_text`` turned into ``text``."""
    if "%" not in text:
        return text
    return os.fsdecode(unquote_to_bytes(text))


def document_id(path: str | bytes | os.PathLike, inbox: str | bytes | os.PathLike | None) -> str:
    """The document id of the file at ``path`` by the rule in this module's docstring.

    ``inbox`` is the configured inbox (None when there is none: every id is then absolute).
    Raises ``ValueError`` when ``path`` is the inbox itself.
    """
    real = os.path.realpath(os.fsdecode(path))
    if inbox is not None:
        root = os.path.realpath(os.fsdecode(inbox))
        if real == root:
            raise ValueError(f"{path_text(path)!r} is the inbox itself, not a document in it")
        if real.startswith(root.rstrip("/") + "/"):
            return path_text(Path(real).relative_to(root).as_posix())
    return path_text(real)


def id_path(doc_id: str, inbox: str | os.PathLike | None) -> Path:
    """Where the file of ``doc_id`` is: the inverse of ``document_id`` (for the same inbox)."""
    path = text_path(doc_id)
    if os.path.isabs(path):
        return Path(path)
    if inbox is None:
        raise ValueError(f"document id {doc_id!r} is inbox-relative, but no inbox is configured")
    return Path(os.path.realpath(os.fsdecode(inbox))) / path


def partition_key(doc_id: str) -> str:
    """Deterministic ``[A-Za-z0-9_-]`` key of at most 100 chars for a document id.

    Shape: ``<slug>-<10 hex of sha256(doc_id)>``. When the slug is too long its
    *end* is kept, because the file name is what distinguishes documents that
    share a deep folder prefix. Raises ``ValueError`` for an empty id or one that is
    not valid UTF-8 text (ids from ``document_id`` always are).
    """
    if not doc_id:
        raise ValueError("document id must not be empty")
    try:
        encoded = doc_id.encode("utf-8")
    except UnicodeEncodeError:
        raise ValueError(f"document id {path_text(doc_id)!r} is not valid UTF-8; build it with document_id()") from None
    digest = hashlib.sha256(encoded).hexdigest()[:_HASH_HEX_CHARS]
    ascii_text = unicodedata.normalize("NFKD", doc_id).encode("ascii", "ignore").decode("ascii")
    slug = _NOT_SLUG.sub("-", ascii_text).strip("-")
    slug = slug[-_SLUG_MAX_LENGTH:].lstrip("-") or "doc"
    return f"{slug}-{digest}"
