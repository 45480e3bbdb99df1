"""Benchmark: client CPU per request of the Ceramic client's transport choices, side by side in one run.

Against one devnode (its own process, on loopback), ``--requests`` GET /streams of
an unknown StreamID (a 404 the node answers in microseconds, so the figures are the client's):

- ``httpx, N threads``: httpx's sync Client shared by N threads (the transport before issue 10);
- ``aiohttp, N threads``: ``CeramicClient.get_stream`` from N threads (threads wait on the loop);
- ``aiohttp, gathered``: ``CeramicClient.get_streams`` (one asyncio.gather on the loop).

Client CPU is this process's CPU time minus the node's (the node runs in a child process), per
request. Prints a table and writes JSON; asserts nothing; not a test.

Run: python -m ceramic_pipeline_tests.benchmarks.bench_client [--requests 4000] [--threads 50]
"""

from __future__ import annotations

import argparse
import json
import socket
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from tempfile import TemporaryDirectory

import httpx

from ceramic_pipeline.ceramic.client import CeramicClient

UNKNOWN = "k2t6wzhkhabz3xw1dm1sa2n6hf3cqc3xnzonjwf57k1r9qn9gancbba5nenzxq"
EXE = str(Path(sys.executable).parent / "ceramic-pipeline")


def measure(requests: int, run) -> tuple[float, float]:
    """(wall ms, client CPU ms) per request."""
    wall, cpu = time.perf_counter(), time.process_time()
    run()
    return 1e3 * (time.perf_counter() - wall) / requests, 1e3 * (time.process_time() - cpu) / requests


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--requests", type=int, default=4000)
    parser.add_argument("--threads", type=int, default=50)
    parser.add_argument("--json", type=Path, default=Path("var/benchmarks/bench_client.json"))
    args = parser.parse_args()
    n, threads = args.requests, args.threads
    with TemporaryDirectory() as tmp, socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
        probe.close()
        node = subprocess.Popen([EXE, "devnode", "--port", str(port), "--data", tmp], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        url = f"http://127.0.0.1:{port}"
        try:
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline:
                try:
                    if httpx.get(f"{url}/ceramic/liveness").status_code == 200:
                        break
                except httpx.TransportError:
                    time.sleep(0.1)
            path = f"/ceramic/streams/{UNKNOWN}"
            results = {}
            limits = httpx.Limits(max_connections=threads, max_keepalive_connections=threads)
            with httpx.Client(base_url=url, limits=limits) as http, ThreadPoolExecutor(threads) as pool:
                results[f"httpx, {threads} threads"] = measure(n, lambda: list(pool.map(lambda _: http.get(path).status_code, range(n))))
            with CeramicClient(url, max_in_flight=threads) as client, ThreadPoolExecutor(threads) as pool:
                results[f"aiohttp, {threads} threads"] = measure(n, lambda: list(pool.map(lambda _: client.get_stream(UNKNOWN), range(n))))
                results["aiohttp, gathered"] = measure(n, lambda: client.get_streams([UNKNOWN] * n))
        finally:
            node.terminate()
            node.wait(10)
    base = results[f"httpx, {threads} threads"][1]
    print(f"{'transport':<24} {'wall ms/req':>12} {'client CPU ms/req':>18} {'vs httpx':>9}")
    for name, (wall, cpu) in results.items():
        print(f"{name:<24} {wall:>12.3f} {cpu:>18.3f} {base / cpu:>8.1f}x")
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps({k: {"wall_ms": w, "cpu_ms": c} for k, (w, c) in results.items()}, indent=2))


if __name__ == "__main__":
    main()
