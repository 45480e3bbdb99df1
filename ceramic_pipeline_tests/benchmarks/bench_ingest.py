"""Benchmark: `ceramic-pipeline ingest` end to end on a generated corpus (prints figures, writes JSON).

Corpus: N DoclingDocuments × 25 paragraphs of ~1 KB, 2 % of paragraphs over the 16 KB pin
threshold, built with docling-core's API. Each scenario runs the real console script in a
fresh process (so peak RSS is the CLI's own), against either:

- ``embedded``: the embedded default (pgserver PostgreSQL + the local validating node,
  started on first use under a fresh data dir), exactly README command 1's setup; or
- ``external``: the machine's PostgreSQL (a throwaway database) and a local node started
  with ``ceramic-pipeline devnode`` in its own process.

Scenarios: fresh ingest, unchanged re-ingest, one changed paragraph; ``--scale`` adds larger
corpora. Median of ``--repeat`` runs, with ``uptime`` load printed. Not a timed test.

Run: .venv/bin/python -m ceramic_pipeline_tests.benchmarks.bench_ingest [--chunks 10000] [--repeat 3]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path

from docling_core.types.doc import DocItemLabel, DoclingDocument

PARAGRAPHS = 25
PIN_SHARE = 0.02
EXE = str(Path(sys.executable).parent / "ceramic-pipeline")


def paragraph(rng: random.Random, size: int) -> str:
    words = ["kiln", "glaze", "cone", "bisque", "slip", "clay", "fire", "wheel", "trim", "wedge", "oxide", "ash"]
    out, length = [], 0
    while length < size:
        word = rng.choice(words)
        out.append(word)
        length += len(word) + 1
    return " ".join(out)[:size] + "."


def make_corpus(folder: Path, documents: int, seed: int = 7) -> int:
    """Write ``documents`` DoclingDocument JSON files; returns the number of chunks they make."""
    rng = random.Random(seed)
    folder.mkdir(parents=True, exist_ok=True)
    for n in range(documents):
        doc = DoclingDocument(name=f"doc-{n:05d}")
        for p in range(PARAGRAPHS):
            size = 17_000 if rng.random() < PIN_SHARE else 1_000
            doc.add_text(label=DocItemLabel.TEXT, text=f"[{n}.{p}] " + paragraph(rng, size))
        doc.save_as_json(folder / f"doc-{n:05d}.json")
    return documents * PARAGRAPHS


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def external_backend(work: Path):
    """The machine's PostgreSQL (throwaway database) and a devnode in its own process."""
    from ceramic_pipeline.storage.migrations import migrate
    from ceramic_pipeline_tests.fixtures.postgres import admin_server, throwaway_database

    port = free_port()
    node = subprocess.Popen([EXE, "devnode", "--port", str(port), "--data", str(work / "devnode")],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        with admin_server() as admin, throwaway_database(admin) as url:
            migrate(url)
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline:
                with socket.socket() as s:
                    if s.connect_ex(("127.0.0.1", port)) == 0:
                        break
                time.sleep(0.1)
            yield {"DATABASE_URL": url, "CERAMIC_URL": f"http://127.0.0.1:{port}"}
    finally:
        node.terminate()
        node.wait(10)


def run_ingest(corpus: Path, env: dict[str, str]) -> dict:
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    started = time.perf_counter()
    result = subprocess.run([EXE, "ingest", str(corpus), "--json"], env=env, capture_output=True, text=True, check=False)
    seconds = time.perf_counter() - started
    if result.returncode != 0:
        raise SystemExit(f"ingest failed ({result.returncode}): {result.stderr[-3000:]}")
    summary = json.loads(result.stdout)
    rss = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss  # KiB; max over children so far
    return {"seconds": seconds, "summary": summary, "peak_rss_mib": round(max(rss, before) / 1024, 1)}


def change_one_paragraph(corpus: Path) -> None:
    path = sorted(corpus.glob("*.json"))[0]
    doc = DoclingDocument.load_from_json(path)
    doc.texts[3].text += " Changed."
    doc.save_as_json(path)


def load() -> str:
    return subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip()


def scenario_set(chunks: int, repeat: int, backend: str, work: Path) -> dict:
    documents = chunks // PARAGRAPHS
    fresh, unchanged, changed = [], [], []
    for attempt in range(repeat):
        root = work / f"{backend}-{chunks}-{attempt}"
        corpus = root / "corpus"
        made = make_corpus(corpus, documents)
        env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "CERAMIC_URL", "DOCLING_INBOX", "DAGSTER_HOME")}
        env.update({"CERAMIC_PIPELINE_DATA": str(root / "data"), "IPFS_PINNING_SERVICE": "embedded"})
        with (external_backend(root) if backend == "external" else _nothing()) as extra:
            env.update(extra)
            first = run_ingest(corpus, env)
            again = run_ingest(corpus, env)
            change_one_paragraph(corpus)
            edit = run_ingest(corpus, env)
        if backend == "embedded":
            subprocess.run([EXE, "embedded", "stop"], env=env, capture_output=True, check=False)
        assert first["summary"]["streams_created"] == made, first["summary"]
        assert again["summary"]["events"] == 0 and edit["summary"]["streams_updated"] == 1
        fresh.append(first)
        unchanged.append(again)
        changed.append(edit)
        print(f"  [{backend} {chunks} chunks, run {attempt + 1}] fresh {first['seconds']:.1f} s, "
              f"unchanged {again['seconds']:.1f} s, one change {edit['seconds']:.1f} s, peak RSS {first['peak_rss_mib']} MiB | {load()}",
              flush=True)
    median = lambda runs: statistics.median(r["seconds"] for r in runs)  # noqa: E731
    return {
        "backend": backend, "chunks": chunks, "documents": documents,
        "fresh_seconds": median(fresh), "fresh_chunks_per_s": chunks / median(fresh),
        "unchanged_seconds": median(unchanged), "unchanged_speedup": median(fresh) / median(unchanged),
        "one_change_seconds": median(changed),
        "peak_rss_mib": max(r["peak_rss_mib"] for r in fresh),
    }


@contextmanager
def _nothing():
    yield {}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--chunks", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--backend", choices=["embedded", "external", "both"], default="both")
    parser.add_argument("--scale", type=int, nargs="*", default=[], help="further corpus sizes in chunks (e.g. 30000 100000), one run each")
    parser.add_argument("--json", type=Path, default=Path("bench_ingest.json"))
    args = parser.parse_args()
    print(f"machine: {os.cpu_count()} cores | {load()}")
    backends = ["embedded", "external"] if args.backend == "both" else [args.backend]
    results = []
    with tempfile.TemporaryDirectory(prefix="bench-ingest-") as tmp:
        for backend in backends:
            results.append(scenario_set(args.chunks, args.repeat, backend, Path(tmp)))
        for size in args.scale:
            results.append(scenario_set(size, 1, backends[-1], Path(tmp)))
    print(f"\n{'backend':<9} {'chunks':>7} {'fresh s':>8} {'chunks/s':>9} {'unchanged s':>12} {'speedup':>8} {'1 change s':>10} {'RSS MiB':>8}")
    for r in results:
        print(f"{r['backend']:<9} {r['chunks']:>7} {r['fresh_seconds']:>8.1f} {r['fresh_chunks_per_s']:>9.0f} "
              f"{r['unchanged_seconds']:>12.1f} {r['unchanged_speedup']:>7.1f}x {r['one_change_seconds']:>10.1f} {r['peak_rss_mib']:>8.0f}")
    args.json.write_text(json.dumps({"load": load(), "results": results}, indent=2))
    print(f"written: {args.json}")


if __name__ == "__main__":
    main()
