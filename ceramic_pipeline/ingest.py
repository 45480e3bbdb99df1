"""Headless ingestion: run the ingest job for given files or folders, many documents per run.

Runs execute INGEST_WORKERS at once in forked worker processes (or one after another in this
process). Uses the Dagster instance of DAGSTER_HOME when set (runs then show in the UI),
otherwise a temporary in-memory one per run; resources come from the same environment as the
UI's. Documents are grouped into partition-range runs (``defs.partitions.partition_batches``),
so the run's fixed cost is paid once per batch, not once per document; each document's outcome
is read from the ``documents`` table afterwards, so one bad document is reported and the
others still land.
Documents whose content is already ingested under the active DID are left out of the runs
(no run at all when nothing changed).
"""

from __future__ import annotations

import multiprocessing
import os
import threading
import time
from collections import Counter
from collections.abc import Callable
from concurrent.futures import Future, ProcessPoolExecutor, as_completed
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import psycopg

from ceramic_pipeline.documents import partition_key, resolve_inputs
from ceramic_pipeline.settings import Settings
from ceramic_pipeline.steps.sources import record_sources
from ceramic_pipeline.storage import outbox
from ceramic_pipeline.storage.checks import stream_and_chunk_counts
from ceramic_pipeline.storage.documents import outcomes_for_keys, unchanged_documents
from ceramic_pipeline.storage.embedded import resolve_database_url
from ceramic_pipeline.storage.migrations import migrate

if TYPE_CHECKING:
    import dagster as dg

    from ceramic_pipeline.defs.partitions import PartitionBatch

# The CLI prints its own summary, with each failed document and step; Dagster's console lines
# would bury it (per-event DEBUG lines; on Ctrl-C, a STEP_FAILURE and RUN_FAILURE per worker).
QUIET = {"loggers": {"console": {"config": {"log_level": "CRITICAL"}}}}

# Exit codes of `ceramic-pipeline ingest`.
EXIT_OK, EXIT_FAILED, EXIT_CONFIG, EXIT_PENDING = 0, 1, 2, 3

_RUN_COUNTS = (
    ("docling_chunks", ("chunks",)),
    ("pinned_chunks", ("pinned", "already_pinned")),
    ("ceramic_streams", ("created", "updated", "removed", "unchanged", "events", "published")),
)

# Steps whose own time (Dagster's STEP_SUCCESS duration: compute plus the handling of the events
# it yields) goes into the summary's "phases"; ceramic_streams also reports its sign/publish split.
_PHASE_STEPS = ("doclingchunk_model", "docling_documents", "docling_chunks", "pinned_chunks", "ceramic_streams", "ceramic_streams_table")
_STREAM_SPLIT = (("sign_seconds", "ceramic_streams.sign"), ("publish_seconds", "ceramic_streams.publish"))

Progress = Callable[[int, int], None]  # (documents done in this batch, chunks in this batch)


def ingest(paths: list[Path], environ: dict[str, str] | None = None,
           progress: Callable[[int], Progress] | None = None) -> dict[str, Any]:
    """Ingest the DoclingDocument files named by ``paths`` (files or folders); return the summary.

    Ids follow documents.identity for the configured inbox; a bad input (no such file,
    unsupported type) is one failure line and the others still run. ``progress(total)`` may
    return a callback told after each run how many documents and chunks it covered. The
    summary's ``exit_code`` follows EXIT_* above.
    """
    env = dict(os.environ if environ is None else environ)
    settings = Settings.from_env(env)
    database_url = resolve_database_url(settings.environ, settings.data_dir)
    migrate(database_url)  # before the first query: a fresh (e.g. embedded) database has no tables yet
    documents, failures = resolve_inputs(paths, settings.inbox)
    bad_inputs = len(failures)
    keys = list(dict.fromkeys(partition_key(doc_id) for doc_id, _path in documents))
    tick = progress(len(keys)) if progress else None
    totals: Counter = Counter()
    failed_checks: set[str] = set()
    phases: Counter = Counter()
    started = time.perf_counter()
    workers = 0
    with psycopg.connect(database_url) as conn:
        rows = record_sources(conn, documents)  # so the runs find files outside the inbox by partition key
        # Documents already ingested with this content (under the active DID) need no run at all:
        # an unchanged re-ingest costs a hash per file and one query, and never imports Dagster (issue 10).
        did = settings.signer().did
        unchanged = unchanged_documents(conn, rows, did)
        totals["unchanged"] += sum(streams for streams, _chunks in stream_and_chunk_counts(conn, sorted(unchanged), did).values())
    to_run = list(dict.fromkeys(partition_key(row.document_id) for row in rows if row.document_id not in unchanged))
    if tick and len(to_run) < len(keys):
        tick(len(keys) - len(to_run), 0)
    if to_run:
        runs_started = time.perf_counter()
        workers = _run_batches(to_run, settings, tick, totals, phases, failed_checks, failures)
        phases["runs_wall"] = time.perf_counter() - runs_started
    with psycopg.connect(database_url) as conn:
        outcomes = outcomes_for_keys(conn, keys)
        outbox_pending = outbox.pending_count(conn)
    states = Counter(o.state for o in outcomes)
    failures += [f"{o.document_id}: {o.error}" for o in outcomes if o.state == "failed"]
    summary: dict[str, Any] = {
        "documents": len(keys) + bad_inputs,
        "documents_ingested": states["ingested"],
        "documents_failed": states["failed"] + len(keys) - len(outcomes) + bad_inputs,
        "documents_pending": states["registered"],
        "chunks": totals["chunks"],
        "streams_created": totals["created"], "streams_updated": totals["updated"],
        "streams_removed": totals["removed"], "streams_unchanged": totals["unchanged"],
        "events": totals["events"], "events_published": totals["published"],
        "pins": totals["pinned"] + totals["already_pinned"],
        "outbox_pending": outbox_pending,
        "failed": len(failures),
        "runs": totals["runs"], "workers": workers,
        "seconds": round(time.perf_counter() - started, 2),
        "phases": _phases_summary(phases),
    }
    if failures:
        summary["failures"] = failures
    checks = sorted(failed_checks)
    if checks:
        summary["failed_checks"] = checks
    pending_only = not failures and (summary["documents_pending"] or summary["outbox_pending"])
    summary["exit_code"] = EXIT_FAILED if failures or (checks and not pending_only) else EXIT_PENDING if pending_only else EXIT_OK
    return summary


@dataclass
class _BatchOutcome:
    """What one partition-range run reports back (picklable: it crosses from a worker process)."""

    documents: int
    counts: Counter = field(default_factory=Counter)
    phases: Counter = field(default_factory=Counter)
    failed_checks: set[str] = field(default_factory=set)
    failure: str | None = None


def _run_batches(keys: list[str], settings: Settings, tick: Progress | None, totals: Counter, phases: Counter,
                 failed_checks: set[str], failures: list[str]) -> int:
    """Materialise the ingest assets for ``keys`` in partition-range runs, ``settings.ingest_workers`` at once;
    adds each run's figures, phases, failed checks and failure line to the given collections and
    returns how many runs went at once (1: one after another in this process).

    Runs are split evenly over the workers, at most INGEST_DOCUMENTS_PER_RUN documents each.
    Each worker is a forked process, not a thread: a run is CPU-bound Python (signing, HTTP,
    docling-core, Dagster's event handling) and one process uses one core under the GIL
    (issue 10: a fresh 10,000-chunk ingest took 34.2 s as one process and 20.8 s as two on this
    2-core machine). Documents are independent (per-document transactions, per-stream outbox
    order, ``FOR UPDATE SKIP LOCKED`` publishing), so runs over different documents may overlap.
    """
    from ceramic_pipeline.defs.partitions import partition_batches

    env = dict(settings.environ)
    if os.environ.get("DAGSTER_HOME"):  # runs show in the UI: a range follows the instance's partition order
        import dagster as dg

        with dg.DagsterInstance.get() as shared:
            existing = set(shared.get_dynamic_partitions("documents"))
            shared.add_dynamic_partitions("documents", [k for k in keys if k not in existing])
            order = shared.get_dynamic_partitions("documents")
    else:
        order = keys
    per_run = min(settings.ingest_documents_per_run, -(-len(keys) // settings.ingest_workers))
    batches = partition_batches(order, keys, per_run)
    workers = min(settings.ingest_workers, len(batches))

    def add(outcome: _BatchOutcome) -> None:
        phases.update(outcome.phases)
        totals.update(outcome.counts)
        totals["runs"] += 1
        failed_checks.update(outcome.failed_checks)
        if outcome.failure:
            failures.append(outcome.failure)
        if tick:
            tick(outcome.documents, outcome.counts["chunks"])

    if workers > 1 and _fork_is_safe():
        if not settings.ceramic_url:  # start the embedded node once, here, rather than in each worker
            from ceramic_pipeline.embedded_node import embedded_ceramic_url

            embedded_ceramic_url(settings.data_dir)
        with ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("fork")) as pool:
            running = {pool.submit(_run_batch, batch.keys, batch.tags, env): batch for batch in batches}
            for future in as_completed(running):
                add(_outcome_of(future, running[future]))
        return workers
    for batch in batches:
        add(_run_batch(batch.keys, batch.tags, env))
    return 1


def _fork_is_safe() -> bool:
    """Whether worker processes may be forked from this one: a fork copies only the calling
    thread, so a lock held by another thread (an event loop, a connection pool) would stay
    locked in the child forever. Otherwise the runs go one after another in this process."""
    return "fork" in multiprocessing.get_all_start_methods() and threading.active_count() == 1


def _outcome_of(future: Future, batch: PartitionBatch) -> _BatchOutcome:
    """The worker's outcome; a worker that raised or died is one failure line for its run's documents
    (their rows say how far each got: the summary reads outcomes from the database)."""
    try:
        return future.result()
    except Exception as exc:  # noqa: BLE001 - one run's failure must not lose the others' figures
        return _BatchOutcome(len(batch.keys), failure=f"run over {len(batch.keys)} document(s) "
                             f"({batch.keys[0]} .. {batch.keys[-1]}) stopped: {type(exc).__name__}: {exc}")


def _run_batch(keys: list[str], tags: dict[str, str], env: dict[str, str]) -> _BatchOutcome:
    """One partition-range run of the ingest assets over ``keys`` (in this process)."""
    import dagster as dg

    # The ingest assets' own modules, not ceramic_pipeline.definitions with every job, schedule
    # and maintenance asset: 0.3 s less of imports in each worker (python -X importtime).
    from ceramic_pipeline.defs.ceramic.assets import ceramic_streams, ceramic_streams_table, doclingchunk_model
    from ceramic_pipeline.defs.documents.assets import docling_chunks, docling_documents
    from ceramic_pipeline.defs.pinning.assets import pinned_chunks
    from ceramic_pipeline.gc_tuning import tune_after_imports
    from ceramic_pipeline.resources import InboxResource, resources_from_env

    tune_after_imports()  # the run's imports are done: see gc_tuning
    resources = resources_from_env(env)
    run_resources = {**resources, "inbox": InboxResource(**{**resources["inbox"].model_dump(), "seed_samples": False})}
    job_assets = [doclingchunk_model, docling_documents, docling_chunks, pinned_chunks, ceramic_streams, ceramic_streams_table]
    with ExitStack() as stack:
        if os.environ.get("DAGSTER_HOME"):
            instance = stack.enter_context(dg.DagsterInstance.get())
        else:
            from ceramic_pipeline.run_instance import run_instance

            instance = stack.enter_context(run_instance(keys))
        run_started = time.perf_counter()
        result = dg.materialize(job_assets, instance=instance, resources=run_resources, tags=tags,
                                run_config=QUIET, raise_on_error=False)
        outcome = _BatchOutcome(len(keys), counts=_run_counts(result), phases=_run_phases(result))
        outcome.phases["run_total"] += time.perf_counter() - run_started
        outcome.failed_checks = {e.check_name for e in result.get_asset_check_evaluations() if not e.passed}
        if not result.success:
            outcome.failure = f"run {result.run_id} over {len(keys)} document(s): {_failure(result)}"
    return outcome


def _run_counts(result: dg.ExecuteInProcessResult) -> Counter:
    """The run's figures, from each asset's materialisation metadata.

    A range run's single MaterializeResult is copied onto every partition's event, so each
    asset's figures are read from one event only.
    """
    counts: Counter = Counter()
    for asset, fields in _RUN_COUNTS:
        events = result.asset_materializations_for_node(asset)
        for field in fields:
            value = events[0].metadata.get(field) if events else None
            if value is not None and isinstance(value.value, int):
                counts[field] += value.value
    return counts


def _run_phases(result: dg.ExecuteInProcessResult) -> Counter:
    """Seconds per step of the run (successful attempts), and ceramic_streams' sign/publish split."""
    phases: Counter = Counter()
    for event in result.all_events:
        if event.is_step_success and event.step_key in _PHASE_STEPS:
            phases[event.step_key] += event.event_specific_data.duration_ms / 1000
    events = result.asset_materializations_for_node("ceramic_streams")
    for field, phase in _STREAM_SPLIT:
        value = events[0].metadata.get(field) if events else None  # one copy per partition: read one
        if value is not None:
            phases[phase] += float(value.value)
    return phases


def _phases_summary(phases: Counter) -> dict[str, float]:
    """Seconds per phase, summed over all runs (so with runs going at once, more than the wall time).

    ``run_total`` sums the runs' own wall times, ``runs_wall`` is the wall time from the first run's
    start to the last one's end, and ``outside_steps`` is the runs' time not spent in a step (run
    creation, planning, resource set-up, event log): Dagster's own overhead.
    """
    summary = {name: round(phases[name], 3) for name in (*_PHASE_STEPS, *(p for _f, p in _STREAM_SPLIT), "run_total", "runs_wall")}
    summary["outside_steps"] = round(max(0.0, phases["run_total"] - sum(phases[name] for name in _PHASE_STEPS)), 3)
    return summary


def _failure(result: dg.ExecuteInProcessResult) -> str:
    """The first failed step's one-line description (``dg.Failure`` from defs.failures)."""
    for event in result.all_events:
        if event.is_step_failure and event.step_failure_data and event.step_failure_data.error:
            error = event.step_failure_data.error
            lines = (error.message or "").strip().splitlines()
            description = event.step_failure_data.user_failure_data.description if event.step_failure_data.user_failure_data else None
            return f"{event.step_key}: {description or (lines[-1] if lines else error.cls_name)}"
    return "run failed"
