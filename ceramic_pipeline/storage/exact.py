"""Values PostgreSQL cannot hold as they are: U+0000 in ``text`` and ``jsonb``.

Extracted text (PDFs especially) may contain U+0000, which docling-core keeps and Ceramic
and IPFS carry byte-for-byte, but PostgreSQL's ``text`` rejects and ``jsonb`` refuses as
``\\u0000``. The ``json`` type stores its input text as given, so ``\\u0000`` survives there.
A repository therefore writes such a row in two forms:

- the usual columns, with every U+0000 replaced by U+FFFD (REPLACEMENT CHARACTER), so SQL
  readers and the ``chunks_with_ceramic`` view keep working and show where a NUL was;
- the row's ``exact_values`` column (``json``, NULL for ordinary rows): ``{column: exact
  value}`` for just the columns that needed it; for an object column (``stream_metadata``)
  just the members that needed it, so members SQL adds later (``node_tip``) stay visible.

Reading merges the two back (``merge``), so repositories return the exact values.
Other control characters need nothing: ``text`` and ``jsonb`` hold them.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

NUL = "\x00"
REPLACEMENT = "\ufffd"


def split(values: Mapping[str, Any]) -> tuple[dict[str, Any], str | None]:
    """(``values`` with every U+0000 replaced, JSON text for ``exact_values`` or None).

    ``values`` maps column names to str / JSON-like values (dicts, lists, scalars).
    """
    safe: dict[str, Any] = {}
    exact: dict[str, Any] = {}
    for column, value in values.items():
        safe[column] = _replaced(value)
        if not _has_nul(value):
            continue
        if isinstance(value, Mapping):
            exact[column] = {k: v for k, v in value.items() if _has_nul(k) or _has_nul(v)}
        else:
            exact[column] = value
    # ensure_ascii keeps the JSON text free of raw control characters: U+0000 travels as \u0000
    return safe, (json.dumps(exact, separators=(",", ":")) if exact else None)


def merge(values: Mapping[str, Any], exact: Mapping[str, Any] | None) -> dict[str, Any]:
    """The exact values back from the stored columns and the parsed ``exact_values``."""
    merged = dict(values)
    for column, value in (exact or {}).items():
        if isinstance(value, Mapping) and isinstance(merged.get(column), Mapping):
            kept = {k: v for k, v in merged[column].items() if _replaced(k) not in {_replaced(e) for e in value}}
            merged[column] = {**kept, **value}
        else:
            merged[column] = value
    return merged


def _has_nul(value: Any) -> bool:
    if isinstance(value, str):
        return NUL in value
    if isinstance(value, Mapping):
        return any(_has_nul(k) or _has_nul(v) for k, v in value.items())
    if isinstance(value, (list, tuple)):
        return any(_has_nul(v) for v in value)
    return False


def _replaced(value: Any) -> Any:
    if isinstance(value, str):
        return value.replace(NUL, REPLACEMENT)
    if isinstance(value, Mapping):
        return {_replaced(k): _replaced(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_replaced(v) for v in value]
    return value
