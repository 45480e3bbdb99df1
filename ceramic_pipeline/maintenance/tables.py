"""The project's tables and what a backup records about them: rows and a content checksum.

"The project's tables" are every ordinary or partitioned table outside the system schemas
(the pipeline database holds only the pipeline's schema; extension-owned tables are skipped).
The content checksum of a table is order-independent: two sums of 64-bit slices of each row's
md5 (computed by the server over the row's text form), so a restore that reorders rows still
matches and any changed, missing or extra row does not. The row text form depends on session
settings (time zone, date and float formats), which are pinned here for both sides.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

import psycopg
from psycopg import sql

_TABLES = """
SELECT n.nspname, c.relname
FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE c.relkind IN ('r', 'p')
  AND n.nspname <> 'information_schema' AND n.nspname NOT LIKE 'pg\\_%'
  AND NOT EXISTS (SELECT 1 FROM pg_depend d
                  WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid AND d.deptype = 'e')
ORDER BY 1, 2
"""

_STABLE_TEXT = (
    "SET TIME ZONE 'UTC'", "SET DateStyle = 'ISO, YMD'", "SET IntervalStyle = 'postgres'",
    "SET extra_float_digits = 1", "SET bytea_output = 'hex'",
)


@dataclass(frozen=True)
class TableStat:
    rows: int
    checksum: str  # 32 hex digits


def project_tables(conn: psycopg.Connection) -> list[tuple[str, str]]:
    """(schema, table) pairs, sorted."""
    return [(schema, name) for schema, name in conn.execute(_TABLES)]


def qualified(schema: str, name: str) -> str:
    return name if schema == "public" else f"{schema}.{name}"


def table_stats(conn: psycopg.Connection) -> dict[str, TableStat]:
    """Rows and content checksum per table (key: ``table``, or ``schema.table`` outside public)."""
    for statement in _STABLE_TEXT:
        conn.execute(statement)
    stats = {}
    for schema, name in project_tables(conn):
        query = sql.SQL(
            "SELECT count(*), coalesce(sum(('x' || substr(h, 1, 16))::bit(64)::bigint), 0),"
            " coalesce(sum(('x' || substr(h, 17, 16))::bit(64)::bigint), 0)"
            " FROM (SELECT md5(t::text) AS h FROM {}.{} AS t) AS rows"
        ).format(sql.Identifier(schema), sql.Identifier(name))
        rows, high, low = conn.execute(query).fetchone()
        digest = hashlib.sha256(f"{rows}:{high}:{low}".encode()).hexdigest()[:32]
        stats[qualified(schema, name)] = TableStat(rows=rows, checksum=digest)
    return stats


def content_checksum(stats: dict[str, TableStat]) -> str:
    """One sha256 over every table's name, rows and checksum (sorted by table)."""
    lines = "".join(f"{name}\t{s.rows}\t{s.checksum}\n" for name, s in sorted(stats.items()))
    return hashlib.sha256(lines.encode()).hexdigest()


def database_is_empty(conn: psycopg.Connection) -> bool:
    """True when the database holds none of the tables a restore would create."""
    return not project_tables(conn)
