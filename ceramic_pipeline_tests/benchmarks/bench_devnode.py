"""Benchmark: validated events/s and GET latency of the devnode: the old code, the new code with its
state cache off, and with it on (the default), side by side in one run.

Run: python -m ceramic_pipeline_tests.benchmarks.bench_devnode [--streams 2000] [--in-flight 50]
     [--gets 500] [--old-rev f6f639e] [--out var/benchmarks/bench_devnode.json]

Inputs are what the pipeline writes: the DoclingChunk model, then per chunk a set-relation MID's
deterministic init and its first signed data event (~1 KB of text), all signed before timing.
Modes:
  old        the devnode as of git revision ``--old-rev`` (before this work: no state cache, a
             thread pool, one fsynced commit per event), run from a ``git archive`` of that revision
  reference  this code with ``--state-cache-streams 0``: every GET recomputes the stream from
             storage, re-verifying every event, and every data event re-reads its init
  cached     this code as it runs by default
For each mode:
- in-process accept: events straight into a SQLite file, one commit per ``--in-flight`` events
  for the new code (what the server's group commit does under that many POSTs), per event for old;
- POST over real HTTP on loopback to a ``ceramic-pipeline devnode`` process pinned to one core,
  (a) with the project's ``CeramicClient.post_streams`` (``--in-flight`` in flight) and (b) with a
  raw keep-alive socket client (8 connections, ~30 us per request) that shows the node's own
  ceiling; events/s by wall clock and per second of the node process's CPU time (the "one core"
  figure, less skewed by the load other processes put on the machine);
- ``GET /streams/{id}`` with ``CeramicClient``, sequential: latency percentiles and node CPU per
  GET; every answer is checked against the content that was written.

Prints a table and writes the figures as JSON. Asserts nothing but correctness; not a test.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import pickle
import platform
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx

from ceramic_pipeline.ceramic.client import CeramicClient
from ceramic_pipeline.ceramic.did import DIDKey
from ceramic_pipeline.ceramic.events import car_to_multibase, data_event
from ceramic_pipeline.ceramic.model import (
    DOCLING_CHUNK_MODEL,
    mid_stream_id,
    model_init_event,
    model_stream_id,
    set_init_event,
)
from ceramic_pipeline.ceramic.patch import diff
from ceramic_pipeline.devnode import ingest
from ceramic_pipeline.devnode.aggregator import DEFAULT_CACHE_STREAMS, Aggregator
from ceramic_pipeline.devnode.store import EventStore
from ceramic_pipeline_tests.benchmarks.bench_events import make_inputs

REPO = Path(__file__).resolve().parents[2]
FIELDS = ["documentId", "chunkIndex"]
TARGET = 2_000  # validated events/s on one core (issue 10)
OLD_REV = "f6f639e"  # main before this work
RAW_CONNECTIONS = 8
TICKS = os.sysconf("SC_CLK_TCK")

# The old code's in-process accept loop, run in a fresh interpreter on the old tree.
OLD_IN_PROCESS = """
import pickle, sys, tempfile, time
try:
    from ceramic_pipeline.ceramic.devnode import ingest
    from ceramic_pipeline.ceramic.devnode.store import EventStore
except ImportError:
    from ceramic_pipeline.devnode import ingest
    from ceramic_pipeline.devnode.store import EventStore
model, cars = pickle.load(open(sys.argv[1], "rb"))
with tempfile.TemporaryDirectory() as folder:
    store = EventStore(folder)
    ingest.accept(store, model)
    wall, cpu = time.perf_counter(), time.thread_time()
    for car in cars:
        assert ingest.accept(store, car)
    print(time.perf_counter() - wall, time.thread_time() - cpu)
"""


def build(n: int) -> dict[str, Any]:
    """The model init, then per stream (StreamID, init CAR, data CAR, content); signed up front."""
    signer = DIDKey.from_seed(hashlib.sha256(b"ceramic-pipeline devnode benchmark").digest())  # public, not a secret
    model_event = model_init_event(signer, DOCLING_CHUNK_MODEL)
    model = model_stream_id(model_event)
    streams = []
    for content in make_inputs(n)["contents"]:
        init = set_init_event(signer.did, model, FIELDS, content)
        data = data_event(signer, init=init.cid, prev=init.cid, patch=diff(None, content))
        streams.append((str(mid_stream_id(init)), init.car, data.car, content))
    return {"model": model_event.car, "streams": streams}


def _cars(inputs: dict[str, Any]) -> list[bytes]:
    return [car for _sid, init, data, _c in inputs["streams"] for car in (init, data)]


def _rates(events: int, wall: float, cpu: float) -> dict[str, Any]:
    return {"events": events, "seconds": wall, "events_per_s": events / wall, "cpu_events_per_s": events / cpu if cpu else None}


def in_process(inputs: dict[str, Any], cache_streams: int, batch: int) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as folder:
        store = EventStore(folder)
        states = Aggregator(store, cache_streams=cache_streams)
        ingest.accept(store, states, inputs["model"])
        store.commit()
        cars = _cars(inputs)
        wall, cpu = time.perf_counter(), time.thread_time()
        for i, car in enumerate(cars, 1):
            assert ingest.accept(store, states, car)
            if i % batch == 0:
                store.commit()
        store.commit()
        wall, cpu = time.perf_counter() - wall, time.thread_time() - cpu
        store.close()
    return _rates(len(cars), wall, cpu)


def old_in_process(inputs: dict[str, Any], tree: Path) -> dict[str, Any]:
    with tempfile.NamedTemporaryFile(suffix=".pickle") as data:
        cars = _cars(inputs)
        pickle.dump((inputs["model"], cars), data)
        data.flush()
        done = subprocess.run([sys.executable, "-c", OLD_IN_PROCESS, data.name], env=_env(tree), cwd=tree,
                              capture_output=True, text=True, check=True)
    wall, cpu = map(float, done.stdout.split())
    return _rates(len(cars), wall, cpu)


def _env(tree: Path) -> dict[str, str]:
    """Import ``ceramic_pipeline`` from ``tree`` (run with ``cwd=tree`` too: ``-c``/``-m`` put the cwd first)."""
    return {**os.environ, "PYTHONPATH": str(tree)}


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS  # utime + stime


@contextmanager
def devnode_process(tree: Path, extra: list[str]) -> Iterator[tuple[str, int]]:
    """A ``ceramic-pipeline devnode`` from ``tree`` on one core; this process moves to another."""
    cores = sorted(os.sched_getaffinity(0))
    node_core, client_core = cores[0], cores[-1]
    port = _free_port()
    own_affinity = os.sched_getaffinity(0)
    with tempfile.TemporaryDirectory() as folder:
        node = subprocess.Popen(
            [sys.executable, "-m", "ceramic_pipeline.cli", "devnode", "--port", str(port), "--data", folder, *extra],
            stdout=subprocess.DEVNULL, env=_env(tree), cwd=tree, preexec_fn=lambda: os.sched_setaffinity(0, {node_core}),
        )
        os.sched_setaffinity(0, {client_core})
        url = f"http://127.0.0.1:{port}"
        try:
            deadline = time.monotonic() + 60
            while True:
                try:
                    if httpx.get(url + "/ceramic/liveness").status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                if time.monotonic() > deadline or node.poll() is not None:
                    raise RuntimeError(f"the devnode from {tree} did not start")
                time.sleep(0.05)
            yield url, node.pid
        finally:
            os.sched_setaffinity(0, own_affinity)
            node.terminate()
            node.wait(timeout=30)


def http_client(inputs: dict[str, Any], tree: Path, extra: list[str], in_flight: int, gets: int) -> dict[str, Any]:
    """POST every stream with CeramicClient, then GET a sample back."""
    with devnode_process(tree, extra) as (url, pid), CeramicClient(url, max_in_flight=in_flight, timeout_s=300) as client:
        client.post_event(inputs["model"])
        streams = inputs["streams"]
        cpu, wall = _cpu_seconds(pid), time.perf_counter()
        outcomes = client.post_streams([[init, data] for _sid, init, data, _c in streams])
        wall, cpu = time.perf_counter() - wall, _cpu_seconds(pid) - cpu
        failed = [o for o in outcomes if o is not None]
        assert not failed, failed[:3]
        sample = streams[:: max(1, len(streams) // gets)][:gets]
        latencies = []
        get_cpu = _cpu_seconds(pid)
        for sid, _init, _data, content in sample:
            start = time.perf_counter()
            state = client.get_stream(sid)
            latencies.append(time.perf_counter() - start)
            assert state is not None and state.content == content, sid
        get_cpu = _cpu_seconds(pid) - get_cpu
    latencies.sort()
    return {
        "post": _rates(2 * len(streams), wall, cpu),
        "get": {
            "gets": len(latencies),
            "ms_p50": 1e3 * statistics.median(latencies),
            "ms_p95": 1e3 * latencies[int(0.95 * (len(latencies) - 1))],
            "node_cpu_ms": 1e3 * get_cpu / len(latencies),
        },
    }


def _request(car: bytes) -> bytes:
    body = json.dumps({"data": car_to_multibase(car)}).encode()
    return (b"POST /ceramic/events HTTP/1.1\r\nHost: devnode\r\nContent-Type: application/json\r\n"
            b"Content-Length: " + str(len(body)).encode() + b"\r\n\r\n" + body)


def _post_all(port: int, requests: list[bytes]) -> None:
    with socket.create_connection(("127.0.0.1", port)) as sock:
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        for request in requests:
            sock.sendall(request)
            answer = b""
            while b"\r\n\r\n" not in answer:
                answer += sock.recv(65536)
            assert answer.startswith(b"HTTP/1.1 204 "), answer[:200]


def http_raw(inputs: dict[str, Any], tree: Path, extra: list[str]) -> dict[str, Any]:
    """POST every stream (init then data, in order) over RAW_CONNECTIONS keep-alive sockets."""
    requests = [(_request(init), _request(data)) for _sid, init, data, _c in inputs["streams"]]
    shares = [[r for pair in requests[i::RAW_CONNECTIONS] for r in pair] for i in range(RAW_CONNECTIONS)]
    with devnode_process(tree, extra) as (url, pid):
        port = int(url.rsplit(":", 1)[1])
        _post_all(port, [_request(inputs["model"])])
        cpu, wall = _cpu_seconds(pid), time.perf_counter()
        threads = [threading.Thread(target=_post_all, args=(port, share)) for share in shares]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        wall, cpu = time.perf_counter() - wall, _cpu_seconds(pid) - cpu
    return _rates(sum(len(s) for s in shares), wall, cpu)


def old_tree(rev: str, into: Path) -> Path | None:
    """``git archive`` of the package at ``rev`` (None when git or the revision is not available)."""
    try:
        archive = subprocess.run(["git", "-C", str(REPO), "archive", rev, "ceramic_pipeline"], capture_output=True, check=True)
    except (OSError, subprocess.CalledProcessError):
        return None
    subprocess.run(["tar", "-x", "-C", str(into)], input=archive.stdout, check=True)
    return into


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--streams", type=int, default=2000, help="set-relation MIDs, 2 events each (default: %(default)s)")
    parser.add_argument("--in-flight", type=int, default=50, help="POSTs in flight, as CERAMIC_BATCH_SIZE (default: %(default)s)")
    parser.add_argument("--gets", type=int, default=500, help="GET /streams requests per mode (default: %(default)s)")
    parser.add_argument("--old-rev", default=OLD_REV, help="git revision of the old code (default: %(default)s)")
    parser.add_argument("--out", type=Path, default=Path("var/benchmarks/bench_devnode.json"))
    args = parser.parse_args()

    print(f"building and signing {args.streams} streams ({2 * args.streams} events) ...", flush=True)
    inputs = build(args.streams)
    load_before = os.getloadavg()
    results: dict[str, Any] = {}
    with tempfile.TemporaryDirectory() as scratch:
        old = old_tree(args.old_rev, Path(scratch))
        modes: list[tuple[str, Path | None, list[str], int]] = [
            ("old", old, [], 0),
            ("reference", REPO, ["--state-cache-streams", "0"], 0),
            ("cached", REPO, [], DEFAULT_CACHE_STREAMS),
        ]
        for mode, tree, extra, cache_streams in modes:
            if tree is None:
                print(f"{mode}: skipped (git revision {args.old_rev} not available)")
                continue
            print(f"{mode}: in-process ...", flush=True)
            local = old_in_process(inputs, tree) if mode == "old" else in_process(inputs, cache_streams, args.in_flight)
            print(f"{mode}: HTTP with CeramicClient ...", flush=True)
            client = http_client(inputs, tree, extra, args.in_flight, args.gets)
            print(f"{mode}: HTTP with a raw keep-alive client ...", flush=True)
            raw = http_raw(inputs, tree, extra)
            results[mode] = {"in_process": local, "http_ceramic_client": client["post"], "http_raw_client": raw, "get": client["get"]}
    load_after = os.getloadavg()

    names = list(results)
    print(f"\n{args.streams} streams, {2 * args.streams} events, {args.in_flight} in flight; "
          f"load average {load_before[0]:.2f} before, {load_after[0]:.2f} after, {os.cpu_count()} CPUs")
    print(f"{'':<44}" + "".join(f"{n:>12}" for n in names))
    rows = [
        ("in-process accept, events/s", "in_process", "events_per_s", "{:,.0f}"),
        ("in-process accept, events/CPU-s", "in_process", "cpu_events_per_s", "{:,.0f}"),
        ("POST, CeramicClient, events/s", "http_ceramic_client", "events_per_s", "{:,.0f}"),
        ("POST, CeramicClient, events/node-CPU-s", "http_ceramic_client", "cpu_events_per_s", "{:,.0f}"),
        ("POST, raw client, events/s", "http_raw_client", "events_per_s", "{:,.0f}"),
        ("POST, raw client, events/node-CPU-s", "http_raw_client", "cpu_events_per_s", "{:,.0f}"),
        ("GET /streams p50, ms", "get", "ms_p50", "{:.2f}"),
        ("GET /streams p95, ms", "get", "ms_p95", "{:.2f}"),
        ("GET /streams node CPU, ms", "get", "node_cpu_ms", "{:.2f}"),
    ]
    for label, where, key, fmt in rows:
        cells = [fmt.format(results[n][where][key]) if results[n][where][key] is not None else "-" for n in names]
        print(f"{label:<44}" + "".join(f"{c:>12}" for c in cells))
    cached = results["cached"]
    print(f"target >= {TARGET:,} validated events/s on one core: in-process {cached['in_process']['cpu_events_per_s']:,.0f}/CPU-s, "
          f"over HTTP {cached['http_raw_client']['cpu_events_per_s'] or 0:,.0f}/node-CPU-s (raw client), "
          f"{cached['http_ceramic_client']['cpu_events_per_s'] or 0:,.0f}/node-CPU-s (CeramicClient)")

    report = {
        "benchmark": "bench_devnode",
        "streams": args.streams,
        "in_flight": args.in_flight,
        "old_rev": args.old_rev,
        "load_average_before": load_before,
        "load_average_after": load_after,
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version(), "platform": platform.platform()},
        "results": results,
        "target_events_per_core_s": TARGET,
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=2))
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
