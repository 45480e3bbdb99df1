"""Benchmark: `ceramic-pipeline ingest` end to end on a generated corpus (prints figures, writes JSON).

Corpus: N DoclingDocuments × 25 paragraphs of ~1 KB, 2 % of paragraphs over the 16 KB pin
threshold, built with docling-core's API. Each CLI scenario runs the real console script in a
fresh process (so peak RSS is the CLI's own, read from that process's rusage), against:

- ``embedded``: the embedded default (pgserver PostgreSQL + the local validating node,
  started on first use under a fresh data dir), exactly README command 1's setup;
- ``external``: the machine's PostgreSQL (a throwaway database) and a local node started
  with ``ceramic-pipeline devnode`` in its own process;
- ``stub``: the machine's PostgreSQL and ``store_only_node`` (this folder): a node that stores
  and aggregates events WITHOUT validating them, so the figure is the client side's ceiling.

Scenarios (``--scenarios``, comma-separated; default ``fresh,breakdown,stub,sensor``, plus
``scale`` when ``--scale`` is given):

1-3. ``fresh``: fresh ingest, unchanged re-ingest, one changed paragraph, per ``--backend``.
4.   ``sensor``: through the inbox sensor with a Dagster daemon: a temporary DAGSTER_HOME
     (the repository's dagster.yaml linked in, as README command 1), a temporary DOCLING_INBOX,
     the external backend, ``dagster-daemon run -w workspace.yaml``. ``--sensor-documents``
     documents of ``--sensor-paragraphs`` paragraphs are moved into the inbox at once (after
     the sensor's first tick, so the wait for the next 30 s tick is included, as a user would
     see it); the ``documents`` table is polled until all are ingested or failed. Reports drop
     to done, documents/s, chunks/s, the wait for the first run, and the runs of job
     ``ingest_documents`` (count, statuses) read from the instance.
5.   ``scale``: a fresh/unchanged/changed set per ``--scale`` size (last backend), one run
     each; the final table has the peak RSS per size.
6.   ``breakdown``: where a fresh ingest's time goes, from the summary's ``phases`` (each
     step's Dagster-measured seconds, ceramic_streams' sign/publish split, the runs' wall time):
     process start-up + imports + migration, load, chunk, pin, plan+sign+outbox, publish,
     read-back, Dagster overhead (runs' wall time outside the steps). One column per backend
     run, in seconds and % of the fresh ingest's wall time.
7.   ``stub``: the fresh ingest against ``store_only_node`` (chunks/s), side by side with the
     devnode/embedded figures (and in the breakdown table).
8.   ``workers``: fresh ingests with ``INGEST_WORKERS=1`` and with the default (one run per usable
     CPU) interleaved, per backend and the stub: medians and the speedup, side by side.

Medians of ``--repeat`` runs, with ``uptime`` load printed. Not a timed test.

Run (from the repository root; the machine's PostgreSQL at 127.0.0.1:5432 for all but embedded):
  .venv/bin/python -m ceramic_pipeline_tests.benchmarks.bench_ingest [--chunks 10000] [--repeat 3]
      [--backend embedded|external|both] [--scenarios fresh,breakdown,stub,sensor,scale,workers]
      [--scale 30000 100000] [--sensor-documents 1000] [--sensor-paragraphs 4] [--json FILE]
  only the sensor:   ... --scenarios sensor --sensor-documents 1000
  only the stub:     ... --scenarios stub --chunks 10000 --repeat 1
  breakdown alone:   ... --scenarios breakdown --backend external --repeat 1 (fresh ingests only)
"""

from __future__ import annotations

import argparse
import json
import os
import random
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path

from docling_core.types.doc import DocItemLabel, DoclingDocument

PARAGRAPHS = 25
PIN_SHARE = 0.02
BIN = Path(sys.executable).parent
EXE = str(BIN / "ceramic-pipeline")
REPO = Path(__file__).resolve().parents[2]
SCENARIOS = ("fresh", "breakdown", "stub", "sensor", "scale", "workers")
CLEARED = ("DATABASE_URL", "CERAMIC_URL", "DOCLING_INBOX", "DAGSTER_HOME", "CERAMIC_PIPELINE_DATA")


def paragraph(rng: random.Random, size: int) -> str:
    words = ["kiln", "glaze", "cone", "bisque", "slip", "clay", "fire", "wheel", "trim", "wedge", "oxide", "ash"]
    out, length = [], 0
    while length < size:
        word = rng.choice(words)
        out.append(word)
        length += len(word) + 1
    return " ".join(out)[:size] + "."


def make_corpus(folder: Path, documents: int, seed: int = 7, paragraphs: int = PARAGRAPHS) -> int:
    """Write ``documents`` DoclingDocument JSON files; returns the number of chunks they make."""
    rng = random.Random(seed)
    folder.mkdir(parents=True, exist_ok=True)
    for n in range(documents):
        doc = DoclingDocument(name=f"doc-{n:05d}")
        for p in range(paragraphs):
            size = 17_000 if rng.random() < PIN_SHARE else 1_000
            doc.add_text(label=DocItemLabel.TEXT, text=f"[{n}.{p}] " + paragraph(rng, size))
        doc.save_as_json(folder / f"doc-{n:05d}.json")
    return documents * paragraphs


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def child_env(**extra: str) -> dict[str, str]:
    """This process's environment without the pipeline's locations, with the repository first on PYTHONPATH."""
    env = {k: v for k, v in os.environ.items() if k not in CLEARED}
    env["PYTHONPATH"] = os.pathsep.join([str(REPO), *filter(None, [os.environ.get("PYTHONPATH")])])
    env.update(extra)
    return env


def wait_for_port(port: int, process: subprocess.Popen, what: str, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"{what} exited ({process.returncode}) before listening on {port}")
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.1)
    raise SystemExit(f"{what} did not listen on {port} within {timeout:.0f} s")


def stop_group(process: subprocess.Popen, grace: float = 10) -> None:
    """SIGTERM the process group started with start_new_session, then SIGKILL what is left.

    A Dagster process started from a non-interactive shell may ignore SIGTERM/SIGINT; its
    children (code server, run workers) are in the same group, so they go too.
    """
    if process.poll() is not None:
        return
    try:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(grace)
    except subprocess.TimeoutExpired:
        pass
    except ProcessLookupError:
        return
    try:
        os.killpg(process.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    process.wait(10)


@contextmanager
def external_backend(work: Path, node: str = "devnode"):
    """The machine's PostgreSQL (throwaway database) and a node in its own process:
    ``devnode`` (validating) or ``stub`` (store_only_node, no validation)."""
    from ceramic_pipeline.storage.migrations import migrate
    from ceramic_pipeline_tests.fixtures.postgres import admin_server, throwaway_database

    port = free_port()
    command = ([EXE, "devnode", "--port", str(port), "--data", str(work / "devnode")] if node == "devnode" else
               [sys.executable, "-m", "ceramic_pipeline_tests.benchmarks.store_only_node", "--port", str(port)])
    process = subprocess.Popen(command, env=child_env(), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                               start_new_session=True)
    try:
        with admin_server() as admin, throwaway_database(admin) as url:
            migrate(url)
            wait_for_port(port, process, node)
            yield {"DATABASE_URL": url, "CERAMIC_URL": f"http://127.0.0.1:{port}"}
    finally:
        stop_group(process)


def run_ingest(corpus: Path, env: dict[str, str]) -> dict:
    """One `ceramic-pipeline ingest --json` in a fresh process: wall seconds, summary, that process's peak RSS."""
    started = time.perf_counter()
    process = subprocess.Popen([EXE, "ingest", str(corpus), "--json"], env=env, text=True,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    with ThreadPoolExecutor(2) as pool:
        out, err = pool.submit(process.stdout.read), pool.submit(process.stderr.read)
        stdout, stderr = out.result(), err.result()
    _pid, status, usage = os.wait4(process.pid, 0)  # this child's own rusage, not the max over all children
    process.returncode = os.waitstatus_to_exitcode(status)
    seconds = time.perf_counter() - started
    if process.returncode != 0:
        try:  # the summary says what failed (documents, checks); stderr may only hold warnings
            told = {k: v for k, v in json.loads(stdout).items() if k in ("failures", "failed_checks", "outbox_pending")}
        except ValueError:
            told = {}
        raise SystemExit(f"ingest failed ({process.returncode}): {told} {stderr[-3000:]}")
    return {"seconds": seconds, "summary": json.loads(stdout), "peak_rss_mib": round(usage.ru_maxrss / 1024, 1)}


def change_one_paragraph(corpus: Path) -> None:
    path = sorted(corpus.glob("*.json"))[0]
    doc = DoclingDocument.load_from_json(path)
    doc.texts[3].text += " Changed."
    doc.save_as_json(path)


def load() -> str:
    return subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip()


@contextmanager
def backend_env(backend: str, root: Path):
    env = child_env(CERAMIC_PIPELINE_DATA=str(root / "data"), IPFS_PINNING_SERVICE="embedded")
    if backend == "embedded":
        try:
            yield env
        finally:
            subprocess.run([EXE, "embedded", "stop"], env=env, capture_output=True, check=False)
        return
    with external_backend(root, "devnode" if backend == "external" else "stub") as extra:
        yield {**env, **extra}


def scenario_set(chunks: int, repeat: int, backend: str, work: Path, *, fresh_only: bool = False,
                 workers: int | None = None) -> dict:
    """Fresh ingest, unchanged re-ingest and one changed paragraph (only the first with ``fresh_only``);
    ``workers`` sets INGEST_WORKERS (default: the CLI's, one per usable CPU)."""
    documents = chunks // PARAGRAPHS
    fresh, unchanged, changed = [], [], []
    for attempt in range(repeat):
        root = work / f"{backend}-{chunks}-w{workers or 'default'}-{attempt}"
        corpus = root / "corpus"
        made = make_corpus(corpus, documents)
        with backend_env(backend, root) as env:
            if workers is not None:
                env["INGEST_WORKERS"] = str(workers)
            first = run_ingest(corpus, env)
            assert first["summary"]["streams_created"] == made, first["summary"]
            fresh.append(first)
            line = (f"  [{backend} {chunks} chunks, run {attempt + 1}, {first['summary'].get('workers')} worker(s)] "
                    f"fresh {first['seconds']:.1f} s")
            if not fresh_only:
                again = run_ingest(corpus, env)
                change_one_paragraph(corpus)
                edit = run_ingest(corpus, env)
                assert again["summary"]["events"] == 0 and edit["summary"]["streams_updated"] == 1
                unchanged.append(again)
                changed.append(edit)
                line += f", unchanged {again['seconds']:.1f} s, one change {edit['seconds']:.1f} s"
        print(f"{line}, peak RSS {first['peak_rss_mib']} MiB | {load()}", flush=True)
    median = lambda runs: statistics.median(r["seconds"] for r in runs) if runs else None  # noqa: E731
    middle = sorted(fresh, key=lambda r: r["seconds"])[len(fresh) // 2]  # the median fresh run, for its breakdown
    return {
        "backend": backend, "chunks": chunks, "documents": documents, "workers": middle["summary"].get("workers"),
        "fresh_seconds": median(fresh), "fresh_chunks_per_s": chunks / median(fresh),
        "unchanged_seconds": median(unchanged),
        "unchanged_speedup": median(fresh) / median(unchanged) if unchanged else None,
        "one_change_seconds": median(changed),
        "peak_rss_mib": max(r["peak_rss_mib"] for r in fresh + unchanged + changed),
        "fresh_run": {"seconds": middle["seconds"], "summary_seconds": middle["summary"]["seconds"],
                      "phases": middle["summary"].get("phases", {})},
        "unchanged_summaries": [r["summary"] for r in unchanged],  # how much of each re-ingest ran
    }


# -- scenario 6: breakdown ------------------------------------------------------------------------

def breakdown(result: dict) -> list[tuple[str, float]]:
    """(phase, seconds) of the median fresh ingest; the rows add up to its wall time."""
    run, phases = result["fresh_run"], result["fresh_run"]["phases"]
    if not phases:
        return []
    # Runs going at once (INGEST_WORKERS) sum to more than their wall time: each run phase is
    # scaled by runs_wall / run_total, i.e. shown as its share of the runs' wall time.
    runs_wall = phases.get("runs_wall", phases["run_total"])
    scale = runs_wall / phases["run_total"] if phases["run_total"] else 1.0
    streams = phases["ceramic_streams"]
    sign, publish = phases["ceramic_streams.sign"], phases["ceramic_streams.publish"]
    return [
        ("process start, imports, migrate", run["seconds"] - run["summary_seconds"]),
        ("ingest outside runs (sources, outcomes)", run["summary_seconds"] - runs_wall),
        *((name, seconds * scale) for name, seconds in (
            ("model (doclingchunk_model)", phases["doclingchunk_model"]),
            ("load (docling_documents)", phases["docling_documents"]),
            ("chunk (docling_chunks)", phases["docling_chunks"]),
            ("pin (pinned_chunks)", phases["pinned_chunks"]),
            ("plan + sign + outbox rows", sign),
            ("publish (POST events)", publish),
            ("ceramic_streams rest (checks, preview)", max(0.0, streams - sign - publish)),
            ("read-back (ceramic_streams_table)", phases["ceramic_streams_table"]),
            ("Dagster overhead (runs outside steps)", phases["outside_steps"]),
        )),
    ]


def print_breakdown(results: list[dict]) -> None:
    columns = [(f"{r['backend']} {r['chunks']}", dict(breakdown(r)), r["fresh_run"]["seconds"]) for r in results if r["fresh_run"]["phases"]]
    if not columns:
        return
    print("\nbreakdown of a fresh ingest (median run), seconds and % of its wall time")
    print(f"{'phase':<42}" + "".join(f" {name:>20}" for name, _rows, _wall in columns))
    for phase in columns[0][1]:
        print(f"{phase:<42}" + "".join(f" {rows[phase]:>10.2f} s {100 * rows[phase] / wall:>5.1f} %" for _n, rows, wall in columns))
    print(f"{'= wall time':<42}" + "".join(f" {wall:>10.2f} s {'':>7}" for _n, _rows, wall in columns))


# -- scenario 8: one worker against the default, side by side ------------------------------------

def workers_scenario(chunks: int, repeat: int, backend: str, work: Path) -> dict:
    """Fresh ingests with INGEST_WORKERS=1 and with the CLI's default, interleaved (1, default, 1, ...)
    so that load drifts hit both alike; medians and their ratio."""
    seconds: dict[str, list[float]] = {"1": [], "default": []}
    workers = None
    for attempt in range(repeat):
        for label, value in (("1", 1), ("default", None)):
            result = scenario_set(chunks, 1, backend, work / f"workers-{label}-{attempt}", fresh_only=True, workers=value)
            seconds[label].append(result["fresh_seconds"])
            workers = result["workers"] if value is None else workers
    one, default = statistics.median(seconds["1"]), statistics.median(seconds["default"])
    return {"backend": backend, "chunks": chunks, "default_workers": workers, "seconds_one_worker": one,
            "seconds_default": default, "chunks_per_s_one_worker": chunks / one, "chunks_per_s_default": chunks / default,
            "speedup": one / default, "runs": seconds}


# -- scenario 4: through the sensor and a Dagster daemon ------------------------------------------

def sensor_scenario(documents: int, paragraphs: int, timeout: float, work: Path) -> dict:
    import psycopg

    root = work / "sensor"
    home, inbox, staging = root / "dagster_home", root / "inbox", root / "staging"
    home.mkdir(parents=True)
    inbox.mkdir()
    (home / "dagster.yaml").symlink_to(REPO / "dagster.yaml")
    chunks = make_corpus(staging, documents, paragraphs=paragraphs)
    with external_backend(root) as extra:
        env = child_env(**extra, DAGSTER_HOME=str(home), DOCLING_INBOX=str(inbox),
                        CERAMIC_PIPELINE_DATA=str(root / "data"), IPFS_PINNING_SERVICE="embedded")
        with _instance_at(home):
            pass  # create the instance's SQLite storage now: two processes migrating it at once corrupt it
        log = root / "daemon.log"  # in the temporary folder: its tail is printed if the daemon fails
        with log.open("w") as out:
            daemon = subprocess.Popen([str(BIN / "dagster-daemon"), "run", "-w", str(REPO / "workspace.yaml")],
                                      env=env, cwd=root, start_new_session=True, stdout=out, stderr=subprocess.STDOUT)
        try:
            started = time.monotonic()
            while first_sensor_tick(home) is None:  # the sensor ticked once on the empty inbox
                if daemon.poll() is not None or time.monotonic() - started > 180:
                    raise SystemExit(f"dagster-daemon: no sensor tick (exit {daemon.returncode}); its log ends:\n"
                                     + "\n".join(log.read_text(errors="replace").splitlines()[-20:]))
                time.sleep(1)
            print(f"  [sensor] daemon up, first tick after {time.monotonic() - started:.1f} s; dropping {documents} documents", flush=True)
            dropped_wall = time.time()
            dropped = time.perf_counter()
            for path in sorted(staging.iterdir()):
                path.rename(inbox / path.name)
            states: Counter = Counter()
            last_print = 0.0
            while time.perf_counter() - dropped < timeout:
                with psycopg.connect(extra["DATABASE_URL"]) as conn:
                    states = Counter(dict(conn.execute("SELECT state, count(*) FROM documents GROUP BY state").fetchall()))
                if states["ingested"] + states["failed"] >= documents:
                    break
                if time.perf_counter() - last_print > 30:
                    last_print = time.perf_counter()
                    print(f"  [sensor] {time.perf_counter() - dropped:.0f} s: {dict(states)} | {load()}", flush=True)
                time.sleep(1)
            seconds = time.perf_counter() - dropped
            # A run marks its documents ingested in its last step, before its checks and its own end:
            # wait (briefly) for every run to finish so the statuses are final.
            runs = ingest_runs(home)
            while any(r["status"] in UNFINISHED for r in runs) and time.perf_counter() - dropped < timeout + 120:
                time.sleep(1)
                runs = ingest_runs(home)
            runs_done = time.perf_counter() - dropped
        finally:
            stop_group(daemon)
    first = min((r["created"] for r in runs), default=None)
    result = {
        "scenario": "sensor", "documents": documents, "paragraphs": paragraphs, "chunks": chunks,
        "seconds": seconds, "timed_out": states["ingested"] + states["failed"] < documents,
        "documents_per_s": states["ingested"] / seconds, "chunks_per_s": states["ingested"] * paragraphs / seconds,
        "states": dict(states), "first_run_after_s": None if first is None else first - dropped_wall,
        "runs_finished_after_s": runs_done,
        # the same rate from the first run's creation on: without the wait for the sensor's tick
        "chunks_per_s_after_first_run": (states["ingested"] * paragraphs / (seconds - (first - dropped_wall))
                                         if first is not None and seconds > first - dropped_wall else None),
        "runs": len(runs), "run_statuses": dict(Counter(r["status"] for r in runs)),
        "max_documents_per_run": int(os.environ.get("SENSOR_MAX_DOCUMENTS_PER_RUN", "100")),
    }
    print(f"  [sensor] {documents} documents ({chunks} chunks): {seconds:.1f} s from drop to done, "
          f"{result['documents_per_s']:.1f} documents/s, {result['chunks_per_s']:.0f} chunks/s, "
          f"{len(runs)} runs {result['run_statuses']} (all finished {runs_done:.1f} s after the drop), "
          f"first run {result['first_run_after_s'] or 0:.1f} s after the drop (sensor tick + queue) | {load()}",
          flush=True)
    return result


@contextmanager
def _instance_at(home: Path):
    import dagster as dg

    previous = os.environ.get("DAGSTER_HOME")
    os.environ["DAGSTER_HOME"] = str(home)
    try:
        with dg.DagsterInstance.get() as instance:
            yield instance
    finally:
        if previous is None:
            os.environ.pop("DAGSTER_HOME", None)
        else:
            os.environ["DAGSTER_HOME"] = previous


def first_sensor_tick(home: Path) -> float | None:
    """When new_documents_sensor's first completed tick was, or None before it."""
    from dagster._core.scheduler.instigation import InstigatorType

    with _instance_at(home) as instance:
        states = instance.all_instigator_state(instigator_type=InstigatorType.SENSOR)
        for state in states:
            if state.name == "new_documents_sensor":
                ticks = instance.get_ticks(state.instigator_origin_id, state.selector_id, limit=100)
                done = [t.timestamp for t in ticks if t.status.value in ("SKIPPED", "SUCCESS")]
                if done:
                    return min(done)
    return None


UNFINISHED = ("QUEUED", "NOT_STARTED", "STARTING", "STARTED", "CANCELING")


def ingest_runs(home: Path) -> list[dict]:
    import dagster as dg

    with _instance_at(home) as instance:
        records = instance.get_run_records(filters=dg.RunsFilter(job_name="ingest_documents"))
        return [{"status": r.dagster_run.status.value, "created": r.create_timestamp.timestamp()} for r in records]


# -- main ------------------------------------------------------------------------------------------

def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--chunks", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--backend", choices=["embedded", "external", "both"], default="both")
    parser.add_argument("--scenarios", default=None,
                        help=f"comma-separated, of {','.join(SCENARIOS)} (default: fresh,breakdown,stub,sensor; scale when --scale is given)")
    parser.add_argument("--scale", type=int, nargs="*", default=[], help="further corpus sizes in chunks (e.g. 30000 100000), one run each")
    parser.add_argument("--sensor-documents", type=int, default=1_000)
    parser.add_argument("--sensor-paragraphs", type=int, default=4)
    parser.add_argument("--sensor-timeout", type=float, default=3_600, help="seconds to wait for the sensor's documents")
    parser.add_argument("--json", type=Path, default=Path("var/benchmarks/bench_ingest.json"))
    args = parser.parse_args()
    chosen = set(args.scenarios.split(",")) if args.scenarios else {"fresh", "breakdown", "stub", "sensor", *(["scale"] if args.scale else [])}
    if chosen - set(SCENARIOS):
        parser.error(f"unknown scenario(s): {', '.join(sorted(chosen - set(SCENARIOS)))}")
    print(f"machine: {os.cpu_count()} cores | {load()} | scenarios: {', '.join(s for s in SCENARIOS if s in chosen)}")
    backends = ["embedded", "external"] if args.backend == "both" else [args.backend]
    results, sensor, compared = [], None, []
    with tempfile.TemporaryDirectory(prefix="bench-ingest-") as tmp:
        work = Path(tmp)
        if chosen & {"fresh", "breakdown"}:
            for backend in backends:
                results.append(scenario_set(args.chunks, args.repeat, backend, work, fresh_only="fresh" not in chosen))
        if "stub" in chosen:
            results.append(scenario_set(args.chunks, args.repeat, "stub", work, fresh_only=True))
        if "scale" in chosen:
            for size in args.scale:
                results.append(scenario_set(size, 1, backends[-1], work))
        if "workers" in chosen:
            for backend in [*backends, "stub"]:
                compared.append(workers_scenario(args.chunks, args.repeat, backend, work))
        if "sensor" in chosen:
            sensor = sensor_scenario(args.sensor_documents, args.sensor_paragraphs, args.sensor_timeout, work)
    if results:
        print(f"\n{'backend':<9} {'chunks':>7} {'fresh s':>8} {'chunks/s':>9} {'unchanged s':>12} {'speedup':>8} {'1 change s':>10} {'RSS MiB':>8}")
        dash = lambda v, fmt: format(v, fmt) if v is not None else "-"  # noqa: E731
        for r in results:
            print(f"{r['backend']:<9} {r['chunks']:>7} {r['fresh_seconds']:>8.1f} {r['fresh_chunks_per_s']:>9.0f} "
                  f"{dash(r['unchanged_seconds'], '>12.1f'):>12} {dash(r['unchanged_speedup'], '>7.1f') + ('x' if r['unchanged_speedup'] else ''):>8} "
                  f"{dash(r['one_change_seconds'], '>10.1f'):>10} {r['peak_rss_mib']:>8.0f}")
    if "breakdown" in chosen:
        print_breakdown(results)
    if compared:
        print("\nfresh ingest, INGEST_WORKERS=1 against the default (medians, interleaved runs)")
        print(f"{'backend':<9} {'chunks':>7} {'1 worker s':>11} {'chunks/s':>9} {'default':>8} {'s':>7} {'chunks/s':>9} {'speedup':>8}")
        for c in compared:
            print(f"{c['backend']:<9} {c['chunks']:>7} {c['seconds_one_worker']:>11.1f} {c['chunks_per_s_one_worker']:>9.0f} "
                  f"{c['default_workers']:>8} {c['seconds_default']:>7.1f} {c['chunks_per_s_default']:>9.0f} {c['speedup']:>7.2f}x")
    if sensor:
        print(f"\nsensor + daemon: {sensor['documents']} documents × {sensor['paragraphs']} paragraphs, "
              f"{sensor['seconds']:.1f} s drop to done{' (TIMED OUT)' if sensor['timed_out'] else ''}, "
              f"{sensor['documents_per_s']:.1f} documents/s, {sensor['chunks_per_s']:.0f} chunks/s; "
              f"{sensor['runs']} ingest_documents runs {sensor['run_statuses']}; first run {sensor['first_run_after_s'] or 0:.1f} s after the drop "
              f"(sensor tick + run queue), all runs finished after {sensor['runs_finished_after_s']:.1f} s; "
              f"{sensor['chunks_per_s_after_first_run'] or 0:.0f} chunks/s counted from the first run")
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps({"load": load(), "results": results, "sensor": sensor, "workers": compared}, indent=2))
    print(f"written: {args.json}")


if __name__ == "__main__":
    main()
