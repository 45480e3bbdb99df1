"""Find inbox files that are new or changed since the pipeline last saw them.

A pure function for the sensor: it never raises for one bad file (those come back
in ``errors``), and it keeps each tick cheap on large inboxes:

- a file is only hashed when needed: files whose (size, mtime_ns) match a stamp
  from the previous scan reuse its hash, and new files beyond ``limit`` are just
  counted, since being new is decided without a hash;
- stamps are only issued for files whose mtime is comfortably older than the
  moment they were hashed, so a same-size rewrite within the file system's
  timestamp granularity cannot hide behind a stale stamp ("racy" files are simply
  hashed again next time).

Candidates are the supported suffixes (case-insensitive); hidden files and
folders (``.name``) and Office lock files (``~$name``) are skipped. Symlinked
files are followed and stand for their target (``identity``: one document per real
file, so a link and its target are one document); symlinked folders are not
followed, to rule out cycles. Ids follow ``documents.identity`` (odd names are
escaped, never a crash).
"""

from __future__ import annotations

import hashlib
import os
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import NamedTuple

from ceramic_pipeline.documents.errors import InboxError
from ceramic_pipeline.documents.identity import document_id, path_text
from ceramic_pipeline.documents.formats import SUPPORTED_SUFFIXES

RACY_WINDOW_NS = 2_000_000_000


class FileStamp(NamedTuple):
    """What the scan remembers about a file; a plain tuple, so it JSON-encodes as a list."""

    size: int
    mtime_ns: int
    content_hash: str


@dataclass(frozen=True)
class InboxFile:
    document_id: str
    path: Path
    content_hash: str  # sha256 hex of the file bytes
    is_new: bool  # False: the document is known but its content changed


@dataclass(frozen=True)
class ScanError:
    document_id: str  # the file's document id (a folder's ends with "/")
    reason: str


@dataclass(frozen=True)
class InboxScan:
    pending: list[InboxFile]  # new or changed, sorted by document_id, at most `limit`
    remaining: int  # further new or changed files left for a later scan
    unchanged: int
    missing: list[str]  # known document ids no longer in the inbox, sorted
    errors: list[ScanError]
    stamps: dict[str, FileStamp] = field(repr=False)  # pass back as `stamps` next time


@dataclass(frozen=True)
class _Candidate:
    document_id: str
    path: str  # a str, not a Path: building 10k Path objects dominated the scan time
    size: int
    mtime_ns: int


def scan_inbox(
    inbox: Path | str,
    limit: int,
    known: Mapping[str, str],
    stamps: Mapping[str, FileStamp] | None = None,
) -> InboxScan:
    """Compare the inbox with ``known`` ({document_id: content_hash}).

    ``stamps`` is the previous scan's ``InboxScan.stamps`` (entries may be plain
    lists, as after a JSON round trip). Raises ``InboxError`` only when the inbox
    folder itself is unusable.
    """
    if limit < 0:
        raise ValueError("limit must be >= 0")
    root = Path(inbox)
    if not root.is_dir():
        raise InboxError(f"inbox {root} does not exist or is not a directory", root)
    stamps = stamps or {}
    errors: list[ScanError] = []
    candidates = walk_documents(root, root, errors)

    pending: list[InboxFile] = []
    new_stamps: dict[str, FileStamp] = {}
    remaining = unchanged = 0
    for cand in candidates:
        content_hash = _reusable_hash(stamps.get(cand.document_id), cand)
        is_new = cand.document_id not in known
        if content_hash is None:
            if is_new and len(pending) >= limit:
                remaining += 1  # new either way; hash it when it gets its turn
                continue
            hashed_at = time.time_ns()
            try:
                content_hash = _sha256_file(cand.path)
            except OSError as exc:
                errors.append(ScanError(cand.document_id, f"cannot read: {exc.strerror or exc}"))
                continue
            if cand.mtime_ns < hashed_at - RACY_WINDOW_NS:
                new_stamps[cand.document_id] = FileStamp(cand.size, cand.mtime_ns, content_hash)
        else:
            new_stamps[cand.document_id] = FileStamp(cand.size, cand.mtime_ns, content_hash)

        if not is_new and known[cand.document_id] == content_hash:
            unchanged += 1
        elif len(pending) < limit:
            pending.append(InboxFile(cand.document_id, Path(cand.path), content_hash, is_new))
        else:
            remaining += 1

    present = {c.document_id for c in candidates} | {e.document_id for e in errors}
    missing = sorted(doc_id for doc_id in known if doc_id not in present)
    errors.sort(key=lambda e: e.document_id)
    return InboxScan(pending, remaining, unchanged, missing, errors, new_stamps)


def inbox_files(inbox: Path | str) -> list[tuple[str, Path]]:
    """(document_id, path) of every supported file, sorted, by the same rules as the scan; no hashing.

    ``path`` is the file's real path (symlinks resolved).
    """
    root = Path(inbox)
    if not root.is_dir():
        raise InboxError(f"inbox {root} does not exist or is not a directory", root)
    return [(c.document_id, Path(c.path)) for c in walk_documents(root, root, [])]


def walk_documents(folder: Path | str, inbox: Path | str | None, errors: list[ScanError]) -> list[_Candidate]:
    """Supported files below ``folder``, one per document id, sorted by id; problems go to ``errors``.

    ``inbox`` is the configured inbox, so ids follow ``identity.document_id`` also when
    ``folder`` is elsewhere (or holds the inbox).
    """
    real = os.path.realpath(os.fsdecode(folder))
    inbox_real = os.path.realpath(os.fsdecode(inbox)) if inbox is not None else None
    prefix = "" if real == inbox_real else document_id(real, inbox) + "/"
    unique = {c.document_id: c for c in _walk(real, prefix, errors, inbox_real)}
    return [unique[doc_id] for doc_id in sorted(unique)]


def _walk(folder: str, prefix: str, errors: list[ScanError], inbox_real: str | None):
    """Yield candidate files below the real path ``folder``; ``prefix`` is its document id plus "/"."""
    try:
        with os.scandir(folder) as entries:
            listing = list(entries)
    except OSError as exc:
        errors.append(ScanError(prefix or "./", f"cannot list folder: {exc.strerror or exc}"))
        return
    for entry in listing:
        name = entry.name
        if name.startswith((".", "~$")):
            continue
        doc_id = prefix + path_text(name)
        try:
            if entry.is_dir(follow_symlinks=False):
                # symlinked folders are not followed, so a subfolder's real path is folder/name
                inner = "" if entry.path == inbox_real else doc_id + "/"
                yield from _walk(entry.path, inner, errors, inbox_real)
                continue
            if os.path.splitext(name)[1].lower() not in SUPPORTED_SUFFIXES:
                continue
            st = entry.stat()  # follows symlinks: a dangling link lands in `errors`
        except OSError as exc:
            errors.append(ScanError(doc_id, f"cannot stat: {exc.strerror or exc}"))
            continue
        if not entry.is_file():
            continue
        path = entry.path
        if entry.is_symlink():  # the document is the target, under the target's id
            path = os.path.realpath(path)
            suffix = os.path.splitext(path)[1].lower()
            if suffix not in SUPPORTED_SUFFIXES:
                errors.append(ScanError(doc_id, f"symlink target has unsupported type {path_text(suffix) or '(none)'}"))
                continue
            doc_id = document_id(path, inbox_real)
        yield _Candidate(doc_id, path, st.st_size, st.st_mtime_ns)


def _reusable_hash(stamp, cand: _Candidate) -> str | None:
    if stamp is None:
        return None
    size, mtime_ns, content_hash = stamp
    if size == cand.size and mtime_ns == cand.mtime_ns:
        return content_hash
    return None


def _sha256_file(path: str) -> str:
    with open(path, "rb") as handle:
        return hashlib.file_digest(handle, "sha256").hexdigest()
