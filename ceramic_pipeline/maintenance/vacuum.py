"""VACUUM ANALYZE and REINDEX on the project's tables, with sizes before and after.

Both run outside a transaction block (an autocommit connection): VACUUM and REINDEX
CONCURRENTLY refuse to run inside one. REINDEX TABLE CONCURRENTLY (PostgreSQL >= 12, per the
REINDEX docs) rebuilds indexes without blocking writes; older servers get a plain REINDEX.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import psycopg
from psycopg import sql

from ceramic_pipeline.maintenance.pgtools import server_major
from ceramic_pipeline.maintenance.tables import project_tables, qualified

CONCURRENT_REINDEX_SINCE = 12


@dataclass(frozen=True)
class Sizes:
    table_bytes: int  # heap + TOAST (pg_table_size)
    index_bytes: int  # pg_indexes_size
    total_bytes: int  # pg_total_relation_size


@dataclass(frozen=True)
class VacuumReport:
    before: dict[str, Sizes]
    after: dict[str, Sizes]
    concurrent_reindex: bool
    invalid_indexes: list[str]  # left by an interrupted REINDEX CONCURRENTLY (named *_ccnew*)
    seconds: float

    def total(self, which: str) -> int:
        return sum(s.total_bytes for s in getattr(self, which).values())


def relation_sizes(conn: psycopg.Connection) -> dict[str, Sizes]:
    sizes = {}
    for schema, name in project_tables(conn):
        oid = f"{sql.Identifier(schema).as_string(conn)}.{sql.Identifier(name).as_string(conn)}"
        row = conn.execute(
            "SELECT pg_table_size(%s::regclass), pg_indexes_size(%s::regclass), pg_total_relation_size(%s::regclass)",
            (oid, oid, oid),
        ).fetchone()
        sizes[qualified(schema, name)] = Sizes(*row)
    return sizes


def vacuum_and_reindex(database_url: str) -> VacuumReport:
    started = time.monotonic()
    with psycopg.connect(database_url, autocommit=True) as conn:
        concurrent = server_major(conn) >= CONCURRENT_REINDEX_SINCE
        before = relation_sizes(conn)
        for schema, name in project_tables(conn):
            table = sql.Identifier(schema, name)
            conn.execute(sql.SQL("VACUUM (ANALYZE) {}").format(table))
            reindex = "REINDEX TABLE CONCURRENTLY {}" if concurrent else "REINDEX TABLE {}"
            conn.execute(sql.SQL(reindex).format(table))
        after = relation_sizes(conn)
        invalid = [name for (name,) in conn.execute(
            "SELECT c.relname FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid"
            " JOIN pg_namespace n ON n.oid = c.relnamespace"
            " WHERE NOT i.indisvalid AND n.nspname <> 'information_schema' AND n.nspname NOT LIKE 'pg\\_%' ORDER BY 1"
        )]
    return VacuumReport(before, after, concurrent, invalid, time.monotonic() - started)
