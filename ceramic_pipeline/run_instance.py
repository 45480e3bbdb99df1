"""The throwaway in-memory Dagster instance of one CLI ingest run (no DAGSTER_HOME), and what
makes its event handling cheap.

A partition-range run records one materialisation per asset and partition: 5 × 200 events for a
worker's run of 200 documents. On Dagster's ``InMemoryEventLogStorage`` each costs a connection,
two SQLite PRAGMAs, two schema inspections and two serialisations of the event: measured on a
10,000-chunk ingest against the store-only node, 2.5 CPU-seconds of the 14.7 the CLI and its
workers used (found by not storing them at all), for a history nobody can open after the run.
Stored per batch as below, the CLI and its workers used 12.5-12.9 CPU-seconds.

Dagster already offers the pieces to do better, both read from its code (1.13.27):
- ``DAGSTER_EMIT_PARTITION_SUBSET_IN_PLANNED_EVENTS``: one "materialisation planned" event per
  asset with the run's partition subset, instead of one per asset and partition
  (``EventLogStorage.supports_partition_subset_in_asset_materialization_planned_events``);
- ``DAGSTER_EVENT_BATCH_SIZE``: a range run's per-partition events reach the storage as one
  ``store_event_batch`` call (``EventMethods.handle_new_event``; ``execute_step`` tags them with
  ``DagsterEventBatchMetadata``). Dagster's SQL storages inherit the base class's loop over
  ``store_event``; :class:`BatchingInMemoryEventLogStorage` stores a batch in one transaction.

Both switches are environment variables Dagster reads while a run executes, so they are set for
runs on this instance only (:func:`run_instance`); runs on DAGSTER_HOME's instance, the UI's,
keep Dagster's defaults.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING

import dagster as dg
from dagster._core.events import ASSET_EVENTS
from dagster._core.instance import InstanceType
from dagster._core.launcher.sync_in_memory_run_launcher import SyncInMemoryRunLauncher
from dagster._core.run_coordinator import DefaultRunCoordinator
from dagster._core.storage.event_log import InMemoryEventLogStorage
from dagster._core.storage.event_log.base import EventLogCursor
from dagster._core.storage.noop_compute_log_manager import NoOpComputeLogManager
from dagster._core.storage.root import TemporaryLocalArtifactStorage
from dagster._core.storage.runs import InMemoryRunStorage

if TYPE_CHECKING:
    from dagster._core.events.log import EventLogEntry

PLANNED_SUBSET = "DAGSTER_EMIT_PARTITION_SUBSET_IN_PLANNED_EVENTS"
EVENT_BATCH_SIZE = "DAGSTER_EVENT_BATCH_SIZE"
# The most partitions a CLI run has (INGEST_DOCUMENTS_PER_RUN's upper bound), so a step's
# per-partition events arrive as one batch.
_BATCH = 100_000


class BatchingInMemoryEventLogStorage(InMemoryEventLogStorage):
    """``InMemoryEventLogStorage`` that stores a batch of asset events in one transaction.

    What a batch writes is what ``SqlEventLogStorage.store_event`` writes for each of its events
    (the event row, its indexed tags, the asset key's latest entry), on one connection. Two
    things are done once per batch instead of once per event: the schema questions ("has the
    tags table", "has the asset key index columns"), whose answers cannot change on a fresh
    in-memory database, and the asset key's latest-entry update, which keeps only the batch's
    last event of each key and event type anyway. Anything else in a batch goes through ``store_event``.
    A test compares what a range run leaves in this storage with Dagster's own.
    """

    def __init__(self) -> None:
        super().__init__()
        self._schema: dict[str, bool] = {}  # answers to schema questions: a fresh database's never change

    def has_table(self, table_name: str) -> bool:
        if table_name not in self._schema:
            self._schema[table_name] = super().has_table(table_name)
        return self._schema[table_name]

    def _has_asset_key_index_cols_on_connection(self, conn) -> bool:  # noqa: ANN001 - Dagster's signature
        if "asset key index columns" not in self._schema:
            self._schema["asset key index columns"] = super()._has_asset_key_index_cols_on_connection(conn)
        return self._schema["asset key index columns"]

    def store_event_batch(self, events: Sequence[EventLogEntry]) -> None:
        asset_events = [e for e in events if e.is_dagster_event and e.dagster_event_type in ASSET_EVENTS and e.dagster_event.asset_key]
        if len(asset_events) < len(events):
            super().store_event_batch(events)  # not what execute_step batches: keep Dagster's path
            return
        self.has_table("asset_event_tags")  # asked before the batch holds the connection lock
        with self._connect() as conn:
            ids = [conn.execute(self.prepare_insert_event(event)).inserted_primary_key[0] for event in events]
            self._store_asset_event_tags(conn, events, ids)
            # The asset key's row keeps columns per event type: the last event of each type sets them.
            latest = {(event.dagster_event.asset_key, event.dagster_event_type): (event, event_id) for event, event_id in zip(events, ids)}
            for event, event_id in latest.values():
                self._store_asset_event(conn, event, event_id)
        for event in events:  # what InMemoryEventLogStorage.store_event does after storing
            self._storage_id += 1
            for handler in list(self._handlers[event.run_id]):
                handler(event, str(EventLogCursor.from_storage_id(self._storage_id)))


@contextmanager
def run_instance(partition_keys: Sequence[str]) -> Iterator[dg.DagsterInstance]:
    """An in-memory instance for one run over ``partition_keys`` (its dynamic partitions), with
    Dagster's two switches above set while it is open; the variables are restored on exit.

    One instance per run, so memory stays flat in the number of documents (a single instance
    for all runs kept every run's events: peak RSS 358 MiB at 10,000 chunks, 613 MiB at 100,000).
    """
    instance = dg.DagsterInstance(
        instance_type=InstanceType.EPHEMERAL,
        local_artifact_storage=TemporaryLocalArtifactStorage(),
        run_storage=InMemoryRunStorage(),
        event_storage=BatchingInMemoryEventLogStorage(),
        compute_log_manager=NoOpComputeLogManager(),
        run_coordinator=DefaultRunCoordinator(),
        run_launcher=SyncInMemoryRunLauncher(),
    )
    with instance, _environment({PLANNED_SUBSET: "true", EVENT_BATCH_SIZE: str(_BATCH)}):
        instance.add_dynamic_partitions("documents", list(partition_keys))
        yield instance


@contextmanager
def _environment(values: dict[str, str]) -> Iterator[None]:
    previous = {name: os.environ.get(name) for name in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for name, value in previous.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value

