"""`ceramic-pipeline ingest` / `stream show` as a user runs them (real subprocess, PostgreSQL, local
node over HTTP): exact text round trip (U+0000 and control characters) and stable, collision-free
document identity (same names in two folders, a file named two ways, a symlink, a non-UTF-8 name)."""

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

from ceramic_pipeline.ceramic.client import CeramicClient
from ceramic_pipeline.documents import chunk_document, load_document
from ceramic_pipeline.storage.chunks import chunks_for_document
from ceramic_pipeline.storage.streams import streams_for_document
from ceramic_pipeline.writer.readback import read_back
from ceramic_pipeline_tests.documents import odd_documents

EXE = shutil.which("ceramic-pipeline", path=str(Path(sys.executable).parent))


def _env(tmp_path: Path, pg_url: str, node_url: str, inbox: Path) -> dict[str, str]:
    base = {k: v for k, v in os.environ.items() if k not in {"DAGSTER_HOME", "IPFS_PINNING_SERVICE"}}
    return {**base, "DATABASE_URL": pg_url, "CERAMIC_URL": node_url, "DOCLING_INBOX": str(inbox),
            "CERAMIC_PIPELINE_DATA": str(tmp_path / "data"),
            "AGENT_DID_SEED_BASE64": base64.b64encode(secrets.token_bytes(32)).decode()}


def run(args: list, env: dict[str, str], cwd: Path | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([EXE, *args], env=env, cwd=cwd, capture_output=True, text=True, timeout=300)


def ingest(paths: list, env: dict[str, str], cwd: Path | None = None) -> tuple[int, dict]:
    out = run(["ingest", "--json", *paths], env, cwd)
    assert "Traceback" not in out.stderr, out.stderr[-3000:]
    return out.returncode, json.loads(out.stdout)


def node_state(node_url: str, stream_ids: list[str]) -> dict[str, tuple[dict, int]]:
    """{stream_id: (content, number of events)} as the node serves them, every event verified."""
    with CeramicClient(node_url) as client:
        return {sid: (back.content, len(back.events)) for sid in stream_ids for back in [read_back(client, sid)]}


def test_nul_and_control_characters_round_trip_to_the_node_and_stream_show(tmp_path, migrated_pg_url, node):
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    path = inbox / "control.json"
    odd_documents.control_characters().save_as_json(path)
    expected = chunk_document(load_document(path))
    assert any("\x00" in c.text for c in expected) and any("\x00" in h for c in expected for h in c.headings)
    env = _env(tmp_path, migrated_pg_url, node.url, inbox)

    code, summary = ingest([path], env)
    assert code == 0, json.dumps(summary)
    assert (summary["documents"], summary["chunks"], summary["streams_created"], summary["failed"]) == (1, len(expected), len(expected), 0)

    with psycopg.connect(migrated_pg_url) as conn:
        chunks = chunks_for_document(conn, "control.json")
        streams = streams_for_document(conn, "control.json")
        view_texts = [t for (t,) in conn.execute("SELECT text FROM chunks_with_ceramic ORDER BY chunk_index")]
    assert [(c.text, tuple(c.headings)) for c in chunks] == [(c.text, c.headings) for c in expected]
    assert view_texts == [c.text.replace("\x00", "\ufffd") for c in expected]  # SQL readers see U+FFFD
    assert [s.stream_metadata["content"]["text"] for s in streams] == [c.text for c in expected]

    state = node_state(node.url, [s.stream_id for s in streams])
    for stream, chunk in zip(streams, expected):
        content, events = state[stream.stream_id]
        assert (content["text"], tuple(content["headings"]), events) == (chunk.text, chunk.headings, 2)

    first = streams[0].stream_id
    shown = run(["stream", "show", first], env)
    assert shown.returncode == 0, shown.stderr
    assert json.loads(shown.stdout)["text"] == expected[0].text == odd_documents.CONTROL_TEXT

    again_code, again = ingest([inbox], env)  # re-run: nothing to publish, nothing rewritten
    assert again_code == 0 and (again["streams_unchanged"], again["events"]) == (len(expected), 0)

    # An edit keeps the NULs: the patch is computed from the exact previous content.
    data = json.loads(path.read_text())
    [item] = [t for t in data["texts"] if t["text"] == odd_documents.CONTROL_TEXT]
    item["text"] = "edited\x00" + odd_documents.CONTROL_TEXT
    path.write_text(json.dumps(data))
    edit_code, edit = ingest([path], env)
    assert edit_code == 0 and (edit["streams_updated"], edit["streams_unchanged"]) == (1, len(expected) - 1)
    content, events = node_state(node.url, [first])[first]
    assert (content["text"], events) == ("edited\x00" + odd_documents.CONTROL_TEXT, 3)
    assert content["headings"] == list(expected[0].headings)


def test_identity_is_one_id_per_real_file_and_odd_names_never_block_the_others(tmp_path, migrated_pg_url, node):
    inbox = tmp_path / "inbox"
    (inbox / "sub").mkdir(parents=True)
    for year, build in (("2023", odd_documents.rtl_and_tables), ("2024", odd_documents.nested_lists)):
        (tmp_path / year).mkdir()
        build().save_as_json(tmp_path / year / "summary.json")
    deep = inbox / "sub" / "deep.json"
    odd_documents.nested_lists().save_as_json(deep)
    odd_name = os.path.join(os.fsencode(inbox), b"r\xe9sum\xe9.json")
    odd_documents.rtl_and_tables().save_as_json(os.fsdecode(odd_name))
    (tmp_path / "link.json").symlink_to(deep)
    env = _env(tmp_path, migrated_pg_url, node.url, inbox)

    code, summary = ingest([tmp_path / "2023", tmp_path / "2024", inbox, tmp_path / "missing.json"], env)
    assert code == 1  # the missing path fails the command ...
    assert summary["failures"] == [f"no such file: {tmp_path}/missing.json"]
    assert summary["documents"] == 5 and summary["documents_ingested"] == 4  # ... but every good document beside it is ingested

    real = tmp_path.resolve()
    ids = [f"{real}/2023/summary.json", f"{real}/2024/summary.json", "r%E9sum%E9.json", "sub/deep.json"]
    with psycopg.connect(migrated_pg_url) as conn:
        assert sorted(d for (d,) in conn.execute("SELECT document_id FROM documents")) == ids
        streams = {doc_id: streams_for_document(conn, doc_id) for doc_id in ids}
        chunk_counts = {doc_id: len(chunks_for_document(conn, doc_id)) for doc_id in ids}
    assert all(len(streams[d]) == chunk_counts[d] > 0 for d in ids)
    all_ids = [s.stream_id for rows in streams.values() for s in rows]
    assert len(set(all_ids)) == len(all_ids) == summary["streams_created"]
    state = node_state(node.url, all_ids)
    for doc_id, rows in streams.items():  # nothing overwritten: each stream still holds its own document
        assert {state[s.stream_id][0]["documentId"] for s in rows} == {doc_id}
        assert all(state[s.stream_id][1] == 2 for s in rows)

    # The same file named by its path, relatively, and through a symlink: the same document.
    again_code, again = ingest(["inbox/sub/../sub/deep.json", deep, "link.json"], env, cwd=tmp_path)
    assert again_code == 0, again
    assert (again["documents"], again["streams_created"], again["events"]) == (1, 0, 0)
    with psycopg.connect(migrated_pg_url) as conn:
        assert conn.execute("SELECT count(*) FROM documents").fetchone()[0] == 4
        assert conn.execute("SELECT count(*) FROM ceramic_streams").fetchone()[0] == len(all_ids)
