"""Turn the files and folders a user names (``ceramic-pipeline ingest PATH...``) into documents.

Ids follow ``documents.identity`` for the configured inbox, so a file gets the same id
however it is named, and two files never share one. One bad input is one line in the
errors, never an exception that loses the good inputs beside it.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Iterable
from pathlib import Path

from ceramic_pipeline.documents.identity import document_id, path_text
from ceramic_pipeline.documents.inbox import ScanError, walk_documents
from ceramic_pipeline.documents.formats import SUPPORTED_SUFFIXES

_SUPPORTED = ", ".join(sorted(SUPPORTED_SUFFIXES))


def resolve_inputs(
    paths: Iterable[str | bytes | os.PathLike], inbox: str | os.PathLike | None
) -> tuple[list[tuple[str, Path]], list[str]]:
    """([(document_id, real path)] sorted by id and without repeats, [one-line error per bad input]).

    A folder stands for every supported file below it, by the inbox scan's rules (hidden
    files skipped, symlinked files followed, symlinked folders not). A file named directly
    must have a supported type. Errors name the input as given (escaped like ids when not
    UTF-8) and the cause, e.g. ``no such file: x.json``.
    """
    found: dict[str, Path] = {}
    errors: list[str] = []
    for given in paths:
        raw = os.fsdecode(given)
        shown = path_text(raw)
        try:
            mode = os.stat(raw).st_mode
        except FileNotFoundError:
            errors.append(f"no such file: {shown}")
            continue
        except OSError as exc:
            errors.append(f"cannot read {shown}: {exc.strerror or exc}")
            continue
        if stat.S_ISDIR(mode):
            problems: list[ScanError] = []
            for cand in walk_documents(raw, inbox, problems):
                found.setdefault(cand.document_id, Path(cand.path))
            errors.extend(f"{shown}: {p.document_id}: {p.reason}" for p in problems)
        elif not stat.S_ISREG(mode):
            errors.append(f"not a regular file: {shown}")
        else:
            real = os.path.realpath(raw)
            suffix = os.path.splitext(real)[1].lower()
            if suffix not in SUPPORTED_SUFFIXES:
                errors.append(f"unsupported type {path_text(suffix) or '(none)'} (supported: {_SUPPORTED}): {shown}")
                continue
            found.setdefault(document_id(real, inbox), Path(real))
    return sorted(found.items()), errors
