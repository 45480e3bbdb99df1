"""`ceramic-pipeline ingest` over a real PostgreSQL database and a local node on loopback:
many documents per run, one bad document contained, one-line reasons, exit codes, no content leaks."""

from __future__ import annotations

import base64
import json
import os
import secrets
import shutil
import subprocess
import sys
from pathlib import Path

import psycopg
import pytest

from ceramic_pipeline.samples import sample_documents_dir

EXE = shutil.which("ceramic-pipeline", path=str(Path(sys.executable).parent))
MARKER = "S3CRET-MARKER-" + secrets.token_hex(8)  # content of a rejected file: must never be echoed


@pytest.fixture
def cli_env(tmp_path: Path, migrated_pg_url: str, node) -> dict[str, str]:
    home = tmp_path / "dagster_home"
    home.mkdir()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PINATA_", "IPFS_", "DOCLING_"))}
    return {
        **env,
        "DAGSTER_HOME": str(home),  # runs are recorded where the scan below can read them
        "CERAMIC_PIPELINE_DATA": str(tmp_path / "data"),
        "DATABASE_URL": migrated_pg_url,
        "CERAMIC_URL": node.url,
        "AGENT_DID_SEED_BASE64": base64.b64encode(secrets.token_bytes(32)).decode(),
    }


def ingest(paths: list[Path], env: dict[str, str]) -> tuple[subprocess.CompletedProcess, dict]:
    result = subprocess.run([EXE, "ingest", *map(str, paths), "--json"], env=env, capture_output=True, text=True, timeout=300)
    return result, json.loads(result.stdout) if result.stdout.strip() else {}


def documents(url: str) -> dict[str, tuple[str, str | None]]:
    with psycopg.connect(url) as conn:
        return {d: (s, e) for d, s, e in conn.execute("SELECT document_id, state, error FROM documents")}


def test_one_bad_document_is_contained_and_its_reason_is_one_line(tmp_path, cli_env):
    inbox = tmp_path / "inbox"
    shutil.copytree(sample_documents_dir(), inbox)
    (inbox / "broken.json").write_text('{"schema_name": "DoclingDocument", "name": "' + MARKER + '", "texts": 7')
    (inbox / "not-docling.json").write_text(json.dumps({"schema_name": "DoclingDocument", "name": 1, "body": MARKER}))
    cli_env["DOCLING_INBOX"] = str(inbox)  # ids relative to the inbox (documents.identity)

    result, summary = ingest([inbox], cli_env)

    assert result.returncode == 1, result.stderr[-2000:]
    assert summary["documents"] == 5 and summary["documents_ingested"] == 3 and summary["documents_failed"] == 2
    assert summary["streams_created"] == 13  # the three good documents, in full
    reasons = dict(line.split(": ", 1) for line in summary["failures"])
    assert set(reasons) == {"broken.json", "not-docling.json"}
    assert reasons["broken.json"].startswith("InvalidDocumentError: ") and "is not valid JSON" in reasons["broken.json"]
    assert "is not a DoclingDocument" in reasons["not-docling.json"]
    assert all("\n" not in r for r in reasons.values())
    rows = documents(cli_env["DATABASE_URL"])
    assert {d for d, (state, _e) in rows.items() if state == "ingested"} == {
        "glaze-firing-guide.json", "kiln-maintenance-log.json", "studio-safety-notes.json"}
    assert rows["broken.json"][0] == "failed"
    # the operator's log says the same, as JSON lines naming the document
    records = [json.loads(line) for line in result.stderr.splitlines() if line.startswith("{")]
    failed_lines = {r["document_id"]: r["message"] for r in records if r["message"].startswith("document failed: ")}
    assert set(failed_lines) == {"broken.json", "not-docling.json"} and failed_lines["broken.json"].endswith(reasons["broken.json"])
    assert all(len(r.get("run_id", "")) == 36 for r in records if r["message"].startswith("document failed: "))  # and the run
    # the rejected files' content is in no output and nowhere in Dagster's storage (event log, compute logs)
    assert MARKER not in result.stdout + result.stderr
    home = Path(cli_env["DAGSTER_HOME"])
    for path in home.rglob("*"):
        if path.is_file():
            assert MARKER.encode() not in path.read_bytes(), path

    # a second run: nothing to do for the good ones, the failed ones are failed again (same reason)
    again, summary = ingest([inbox], cli_env)
    assert again.returncode == 1
    assert summary["events"] == 0 and summary["streams_unchanged"] == 13 and summary["documents_failed"] == 2


def copies_of_a_sample(inbox: Path, count: int) -> Path:
    """``count`` documents notes-00.json.. (the studio-safety sample, each with its own title: 4 chunks each)."""
    inbox.mkdir()
    template = json.loads((sample_documents_dir() / "studio-safety-notes.json").read_text())
    for n in range(count):
        template["texts"][0]["text"] = f"Studio safety notes, copy {n}"
        (inbox / f"notes-{n:02d}.json").write_text(json.dumps(template))
    return inbox


def test_many_documents_are_one_run_and_an_unchanged_rerun_does_nothing(tmp_path, cli_env):
    inbox = copies_of_a_sample(tmp_path / "inbox", 12)
    cli_env["DOCLING_INBOX"] = str(inbox)
    cli_env["INGEST_WORKERS"] = "1"  # one worker: all twelve in one run (several workers split them: next test)

    result, summary = ingest([inbox], cli_env)
    assert result.returncode == 0, result.stderr[-2000:]
    assert summary["documents_ingested"] == 12 and summary["streams_created"] == 48 and summary["events"] == 96
    assert summary["runs"] == 1 and summary["workers"] == 1
    runs = subprocess.run([sys.executable, "-c", "import dagster as dg; print(len(dg.DagsterInstance.get().get_run_records()))"],
                          env=cli_env, capture_output=True, text=True, timeout=120)
    assert runs.stdout.strip() == "1", runs.stderr[-2000:]  # twelve documents, one run
    assert_phases_add_up(summary)

    again, summary = ingest([inbox], cli_env)
    assert again.returncode == 0
    assert summary["events"] == 0 and summary["streams_created"] == 0 and summary["streams_unchanged"] == 48
    assert summary["documents_ingested"] == 12
    # Nothing changed, so nothing heavy is imported: no Dagster, no docling-core loader or chunker, no pandas.
    script = ("import json, sys; from pathlib import Path; from ceramic_pipeline.ingest import ingest; s = ingest([Path(sys.argv[1])]); "
              "print(json.dumps([s['events'], s['runs'], sorted(m for m in ('dagster', 'docling_core', 'pandas') if m in sys.modules)]))")
    light = subprocess.run([sys.executable, "-c", script, str(inbox)], env=cli_env, capture_output=True, text=True, timeout=120)
    assert json.loads(light.stdout) == [0, 0, []], light.stderr[-2000:]


def test_runs_go_at_once_in_worker_processes_and_one_bad_document_stays_contained(tmp_path, cli_env):
    """INGEST_WORKERS=2: the documents are split into two partition-range runs executed at the same
    time in two processes (their run records overlap in time), and the summary adds both up."""
    inbox = copies_of_a_sample(tmp_path / "inbox", 9)
    (inbox / "notes-04b.json").write_text('{"schema_name": "DoclingDocument", "texts": ' + json.dumps(MARKER))
    cli_env.update(DOCLING_INBOX=str(inbox), INGEST_WORKERS="2")

    result, summary = ingest([inbox], cli_env)

    assert result.returncode == 1, result.stderr[-2000:]
    assert summary["runs"] == 2 and summary["workers"] == 2, summary
    assert summary["documents_ingested"] == 9 and summary["documents_failed"] == 1
    assert summary["streams_created"] == 36 and summary["events"] == 72 and summary["chunks"] == 36
    assert [line.split(": ")[0] for line in summary["failures"]] == ["notes-04b.json"]
    assert MARKER not in result.stdout + result.stderr
    assert_phases_add_up(summary)
    script = ("import dagster as dg, json; print(json.dumps([(r.start_time, r.end_time, r.dagster_run.status.value)"
              " for r in dg.DagsterInstance.get().get_run_records()]))")
    runs = subprocess.run([sys.executable, "-c", script], env=cli_env, capture_output=True, text=True, timeout=120)
    (a_start, a_end, a_status), (b_start, b_end, b_status) = json.loads(runs.stdout)
    assert a_status == b_status == "SUCCESS"  # the bad document failed alone, inside its run
    assert a_start < b_end and b_start < a_end, "the two runs did not overlap: they ran one after the other"
    rows = documents(cli_env["DATABASE_URL"])
    assert rows.pop("notes-04b.json")[0] == "failed"
    assert set(rows.values()) == {("ingested", None)} and len(rows) == 9


def test_the_text_summary_runs_its_runs_at_once_too(tmp_path, cli_env):
    """Without --json the progress bar is built first; it must not keep ingest from forking its
    workers (tqdm's monitor thread did: every text-mode ingest ran one run after another)."""
    inbox = copies_of_a_sample(tmp_path / "inbox", 4)
    cli_env.update(DOCLING_INBOX=str(inbox), INGEST_WORKERS="2")
    result = subprocess.run([EXE, "ingest", str(inbox)], env=cli_env, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-2000:]
    lines = dict(line.split(maxsplit=1) for line in result.stdout.splitlines() if line and not line.startswith(" ") and " " in line)
    assert (lines["runs"], lines["workers"], lines["documents_ingested"]) == ("2", "2", "4"), result.stdout


def test_a_worker_that_stops_is_one_failure_line_for_its_run():
    """A worker process that dies (killed, out of memory) or raises costs its run one line naming
    the run's documents; the other runs' figures are kept (ingest._outcome_of)."""
    from concurrent.futures import Future
    from concurrent.futures.process import BrokenProcessPool

    from ceramic_pipeline.defs.partitions import PartitionBatch
    from ceramic_pipeline.ingest import _outcome_of

    died: Future = Future()
    died.set_exception(BrokenProcessPool("A process in the process pool was terminated abruptly"))
    outcome = _outcome_of(died, PartitionBatch(["notes-00_json", "notes-01_json", "notes-02_json"]))
    assert outcome.documents == 3 and not outcome.counts
    assert outcome.failure == ("run over 3 document(s) (notes-00_json .. notes-02_json) stopped: "
                               "BrokenProcessPool: A process in the process pool was terminated abruptly")


STEPS = ("doclingchunk_model", "docling_documents", "docling_chunks", "pinned_chunks", "ceramic_streams", "ceramic_streams_table")


def assert_phases_add_up(summary: dict) -> None:
    """The summary's per-phase seconds (the benchmark's breakdown): every phase, none negative,
    the steps and the framework's share make up the runs' wall time, and the runs fit in the ingest."""
    phases = summary["phases"]
    assert set(phases) == {*STEPS, "ceramic_streams.sign", "ceramic_streams.publish", "run_total", "runs_wall", "outside_steps"}
    assert all(isinstance(v, (int, float)) and v >= 0 for v in phases.values()), phases
    assert all(phases[step] > 0 for step in STEPS), phases  # every step ran and was timed
    assert abs(sum(phases[s] for s in STEPS) + phases["outside_steps"] - phases["run_total"]) < 0.01, phases
    assert phases["ceramic_streams.sign"] + phases["ceramic_streams.publish"] <= phases["ceramic_streams"] + 0.01, phases
    assert phases["runs_wall"] <= summary["seconds"] + 0.01, (phases, summary["seconds"])
    # runs going at once add up to more than their wall time, never more than one wall time per worker
    assert phases["run_total"] <= phases["runs_wall"] * summary["workers"] + 0.01, phases
