"""Benchmark: validated events/s of the devnode, with its state cache off (the old path) and on, in one run.

Run: python -m ceramic_pipeline_tests.benchmarks.bench_devnode [--streams 2000] [--in-flight 50]
     [--gets 500] [--out var/benchmarks/bench_devnode.json]

Inputs are what the pipeline writes: the DoclingChunk model, then per chunk a set-relation MID's
deterministic init and its first signed data event (~1 KB of text), all signed before timing.
For each mode (``reference``: ``--state-cache-streams 0``, every GET recomputes from storage and
every data event re-reads its init; ``cached``: the default) it measures:

- in-process accept: ``ingest.accept`` straight into a SQLite file, one commit per
  ``--in-flight`` events (what the server's group commit does under that many POSTs);
- POST over real HTTP on loopback: a ``ceramic-pipeline devnode`` process pinned to one core,
  the project's ``CeramicClient.post_streams`` (``--in-flight`` requests in flight) on the other;
  events/s by wall clock and by the node process's own CPU time (the "one core" figure, which
  the load other processes put on the machine does not skew);
- ``GET /streams/{id}``: sequential requests, latency percentiles, and node CPU per GET;
  every answer is checked against the content that was written.

Prints a table and writes the figures as JSON. Asserts nothing but correctness; not a test.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import platform
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

from ceramic_pipeline.ceramic.client import CeramicClient
from ceramic_pipeline.ceramic.did import DIDKey
from ceramic_pipeline.ceramic.events import data_event
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

FIELDS = ["documentId", "chunkIndex"]
MODES = {"reference": 0, "cached": DEFAULT_CACHE_STREAMS}
TARGET = 2_000  # validated events/s on one core (issue 10)
# Measured at the start of this work on this machine (old code: no cache, a thread pool, one
# fsynced commit per event), 2,000 streams, 50 in flight, load average ~0.6.
OLD_CODE = {"http_post_events_per_s": 643, "in_process_events_per_s": 654, "get_ms": 4.0}
TICKS = os.sysconf("SC_CLK_TCK")


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


def in_process(inputs: dict[str, Any], cache_streams: int, batch: int) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as folder:
        store = EventStore(folder)
        states = Aggregator(store, cache_streams=cache_streams)
        ingest.accept(store, states, inputs["model"])
        store.commit()
        cars = [car for _sid, init, data, _c in inputs["streams"] for car in (init, data)]
        wall, cpu = time.perf_counter(), time.thread_time()
        for i, car in enumerate(cars, 1):
            assert ingest.accept(store, states, car)
            if i % batch == 0:
                store.commit()
        store.commit()
        wall, cpu = time.perf_counter() - wall, time.thread_time() - cpu
        store.close()
    return {"events": len(cars), "seconds": wall, "events_per_s": len(cars) / wall, "cpu_events_per_s": len(cars) / cpu}


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS  # utime + stime


def _pin(core: int):
    return lambda: os.sched_setaffinity(0, {core})


def over_http(inputs: dict[str, Any], cache_streams: int, in_flight: int, gets: int) -> dict[str, Any]:
    cores = sorted(os.sched_getaffinity(0))
    node_core, client_core = cores[0], cores[-1]
    port = _free_port()
    with tempfile.TemporaryDirectory() as folder:
        node = subprocess.Popen(
            [sys.executable, "-m", "ceramic_pipeline.cli", "devnode", "--port", str(port), "--data", folder,
             "--state-cache-streams", str(cache_streams)],
            stdout=subprocess.DEVNULL, preexec_fn=_pin(node_core),
        )
        own_affinity = os.sched_getaffinity(0)
        os.sched_setaffinity(0, {client_core})
        url = f"http://127.0.0.1:{port}"
        try:
            deadline = time.monotonic() + 30
            while True:
                try:
                    if httpx.get(url + "/ceramic/liveness").status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                if time.monotonic() > deadline or node.poll() is not None:
                    raise RuntimeError("the devnode did not start")
                time.sleep(0.05)
            with CeramicClient(url, max_in_flight=in_flight, timeout_s=120) as client:
                client.post_event(inputs["model"])
                streams = inputs["streams"]
                cpu, wall = _cpu_seconds(node.pid), time.perf_counter()
                outcomes = client.post_streams([[init, data] for _sid, init, data, _c in streams])
                wall, cpu = time.perf_counter() - wall, _cpu_seconds(node.pid) - cpu
                failed = [o for o in outcomes if o is not None]
                assert not failed, failed[:3]
                events = 2 * len(streams)
                sample = streams[:: max(1, len(streams) // gets)][:gets]
                latencies = []
                get_cpu = _cpu_seconds(node.pid)
                for sid, _init, data, content in sample:
                    start = time.perf_counter()
                    state = client.get_stream(sid)
                    latencies.append(time.perf_counter() - start)
                    assert state is not None and state.content == content, sid
                get_cpu = _cpu_seconds(node.pid) - get_cpu
        finally:
            os.sched_setaffinity(0, own_affinity)
            node.terminate()
            node.wait(timeout=30)
    latencies.sort()
    return {
        "events": events,
        "seconds": wall,
        "events_per_s": events / wall,
        "node_cpu_seconds": cpu,
        "cpu_events_per_s": events / cpu if cpu else None,
        "gets": len(latencies),
        "get_ms_p50": 1e3 * statistics.median(latencies),
        "get_ms_p95": 1e3 * latencies[int(0.95 * (len(latencies) - 1))],
        "get_node_cpu_ms": 1e3 * get_cpu / len(latencies),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--streams", type=int, default=2000, help="set-relation MIDs, 2 events each (default: %(default)s)")
    parser.add_argument("--in-flight", type=int, default=50, help="POSTs in flight, as CERAMIC_BATCH_SIZE (default: %(default)s)")
    parser.add_argument("--gets", type=int, default=500, help="GET /streams requests per mode (default: %(default)s)")
    parser.add_argument("--out", type=Path, default=Path("var/benchmarks/bench_devnode.json"))
    args = parser.parse_args()

    print(f"building and signing {args.streams} streams ({2 * args.streams} events) ...", flush=True)
    inputs = build(args.streams)
    load = os.getloadavg()
    results: dict[str, Any] = {}
    for mode, cache_streams in MODES.items():
        print(f"{mode}: in-process ...", flush=True)
        local = in_process(inputs, cache_streams, args.in_flight)
        print(f"{mode}: over HTTP ...", flush=True)
        http = over_http(inputs, cache_streams, args.in_flight, args.gets)
        results[mode] = {"in_process": local, "http": http}

    print(f"\n{args.streams} streams, {2 * args.streams} events, {args.in_flight} in flight, load average {load[0]:.2f}")
    print(f"{'':<34}{'reference (cache off)':>22}{'cached':>12}")
    rows = [
        ("in-process accept, events/s", "in_process", "events_per_s", "{:,.0f}"),
        ("in-process accept, events/CPU-s", "in_process", "cpu_events_per_s", "{:,.0f}"),
        ("HTTP POST, events/s (wall)", "http", "events_per_s", "{:,.0f}"),
        ("HTTP POST, events/node-CPU-s", "http", "cpu_events_per_s", "{:,.0f}"),
        ("GET /streams p50, ms", "http", "get_ms_p50", "{:.2f}"),
        ("GET /streams p95, ms", "http", "get_ms_p95", "{:.2f}"),
        ("GET /streams node CPU, ms", "http", "get_node_cpu_ms", "{:.2f}"),
    ]
    for label, where, key, fmt in rows:
        cells = [fmt.format(results[m][where][key]) if results[m][where][key] is not None else "-" for m in MODES]
        print(f"{label:<34}{cells[0]:>22}{cells[1]:>12}")
    print(f"old code, measured before this change: {OLD_CODE}")
    cached_rate = results["cached"]["http"]["cpu_events_per_s"] or 0
    print(f"target >= {TARGET:,} validated events/s on one core: {'met' if cached_rate >= TARGET else 'MISSED'} ({cached_rate:,.0f})")

    report = {
        "benchmark": "bench_devnode",
        "streams": args.streams,
        "in_flight": args.in_flight,
        "load_average": load,
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version(), "platform": platform.platform()},
        "results": results,
        "old_code": OLD_CODE,
        "target_events_per_core_s": TARGET,
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=2))
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
