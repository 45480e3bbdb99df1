"""Batched upserts as one ``INSERT ... SELECT FROM unnest(array, ...)`` statement per batch.

Parameters go in binary format (``%b``), and JSON columns travel as text arrays cast to jsonb
on the server: wrapping each array element in psycopg's Jsonb cost ~16 us per value (about 8x
the ``json.dumps`` + binary text-array path), which dominated 10,000-row batches.
ceramic_pipeline_tests/benchmarks/bench_storage.py compares this with ``executemany``.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable, Sequence
from typing import Any

BATCH_SIZE = 5_000  # rows per statement: bounds the size of one parameter message


def unnest_placeholders(sql_types: Sequence[str]) -> str:
    """``%b::text[], %b::int4[], ...`` for unnest(); json/jsonb columns expect JSON text values."""
    return ", ".join(f"%b::text[]::{t}[]" if t in ("json", "jsonb") else f"%b::{t}[]" for t in sql_types)


def column_batches(rows: Sequence[Sequence[Any]], size: int | None = None) -> Iterable[list[list[Any]]]:
    """Row tuples regrouped as one list per column, ``size`` (default BATCH_SIZE) rows at a time."""
    size = size or BATCH_SIZE
    for start in range(0, len(rows), size):
        yield [list(column) for column in zip(*rows[start:start + size])]


def refuse_duplicates(keys: Iterable[Hashable], what: str) -> None:
    """ON CONFLICT DO UPDATE cannot touch a row twice in one statement, and the winner would
    depend on order anyway: say which key repeats instead."""
    seen: set[Hashable] = set()
    for key in keys:
        if key in seen:
            raise ValueError(f"{what} {key} appears twice in one upsert batch")
        seen.add(key)
