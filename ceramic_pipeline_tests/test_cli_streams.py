"""`ceramic-pipeline stream show|verify` against a real local node over HTTP."""

from __future__ import annotations

import base64
import json
import os
import secrets
import shutil
import socket
import subprocess
import sys
from pathlib import Path


from ceramic_pipeline.ceramic.client import CeramicClient
from ceramic_pipeline.ceramic.did import DIDKey
from ceramic_pipeline.ceramic.events import data_event
from ceramic_pipeline.ceramic.model import DOCLING_CHUNK_MODEL, mid_stream_id, model_init_event, model_stream_id, set_init_event
from ceramic_pipeline.ceramic.patch import diff
from ceramic_pipeline.ipfs.config import pinning_service_from_env

EXE = shutil.which("ceramic-pipeline", path=str(Path(sys.executable).parent))



def _env(tmp_path: Path, seed: bytes, url: str) -> dict[str, str]:
    return {**os.environ, "CERAMIC_URL": url, "CERAMIC_PIPELINE_DATA": str(tmp_path),
            "AGENT_DID_SEED_BASE64": base64.b64encode(seed).decode()}


def _write_chunk_stream(url: str, signer: DIDKey, content: dict) -> str:
    model_event = model_init_event(signer, DOCLING_CHUNK_MODEL)
    model = model_stream_id(model_event)
    content = {**content, "documentId": "a.json", "chunkIndex": 0}
    init = set_init_event(signer.did, model, ["documentId", "chunkIndex"], content)
    first = data_event(signer, init=init.cid, prev=init.cid, patch=diff(None, content))
    with CeramicClient(url) as client:
        assert client.post_streams([[model_event.car], [init.car, first.car]]) == [None, None]
    return str(mid_stream_id(init))


def run(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run([EXE, *args], env=env, capture_output=True, text=True, timeout=60)


def test_show_fetches_pinned_text_and_verify_passes(node, tmp_path):
    seed = secrets.token_bytes(32)
    signer = DIDKey.from_seed(seed)
    env = _env(tmp_path, seed, node.url)
    text = "ç" * 9000  # 18,000 UTF-8 bytes: a pinned chunk
    record = pinning_service_from_env({}, tmp_path).pin(text.encode(), "a.json#0")
    stream_id = _write_chunk_stream(node.url, signer, {
        "textCid": str(record.cid), "textSha256": "0" * 64, "textBytes": 18000,
        "createdAt": "2026-11-27T00:00:00.000Z", "updatedAt": "2026-11-27T00:00:00.000Z",
    })
    shown = run(["stream", "show", stream_id], env)
    assert shown.returncode == 0, shown.stderr
    state = json.loads(shown.stdout)
    assert state["controller"] == signer.did and state["version"] == 2
    assert state["text"] == text and state["content"]["textCid"] == str(record.cid)
    verified = run(["stream", "verify", stream_id], env)
    assert verified.returncode == 0, verified.stdout + verified.stderr
    assert verified.stdout.startswith("OK") and signer.did in verified.stdout and "2 events" in verified.stdout
    assert base64.b64encode(seed).decode() not in shown.stdout + shown.stderr + verified.stdout + verified.stderr


def test_verify_fails_for_unknown_or_malformed_streams(node, tmp_path):
    env = _env(tmp_path, secrets.token_bytes(32), node.url)
    unknown = run(["stream", "verify", "k2t6wzhkhabz3mnvvx5ncv1zobsvr8jh5y2bql7bzzbbc4ee9ekxr6yjz44u0s"], env)
    assert unknown.returncode == 1 and unknown.stdout.startswith("FAILED") and "unknown to the node" in unknown.stdout
    malformed = run(["stream", "verify", "not-a-stream"], env)  # bad input: exit 2, one line, as `stream show`
    assert (malformed.returncode, malformed.stdout) == (2, "")
    assert malformed.stderr.strip().splitlines()[-1].startswith("ceramic-pipeline: stream verify: not a StreamID:")


def test_show_unknown_malformed_or_unreachable_is_one_line(node, tmp_path):
    env = _env(tmp_path, secrets.token_bytes(32), node.url)
    unknown_id = "k2t6wzhkhabz3mnvvx5ncv1zobsvr8jh5y2bql7bzzbbc4ee9ekxr6yjz44u0s"
    unknown = run(["stream", "show", unknown_id], env)
    assert (unknown.returncode, unknown.stdout) == (1, "")
    assert unknown.stderr.strip().splitlines() == [f"ceramic-pipeline: stream show {unknown_id}: stream {unknown_id} is unknown to the node"]
    malformed = run(["stream", "show", "not-a-stream"], env)
    assert (malformed.returncode, malformed.stdout) == (2, "")
    lines = malformed.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("ceramic-pipeline: stream show: not a StreamID:")
    commit_id = run(["stream", "show", unknown_id[:-4]], env)  # damaged: a multibase text that does not decode
    assert commit_id.returncode == 2 and len(commit_id.stderr.strip().splitlines()) == 1
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        closed = f"http://127.0.0.1:{sock.getsockname()[1]}"
    down = run(["stream", "show", unknown_id], {**env, "CERAMIC_URL": closed})
    assert down.returncode == 1 and len(down.stderr.strip().splitlines()) == 1 and closed in down.stderr


def _recorded(db_url: str, signer: DIDKey, model, init, last, content: dict, node_url: str) -> None:
    """Record in the database that ``init`` then ``last`` were written with ``content``, posting
    ``last`` to the node as the publisher would (the node may store it and drop it, or refuse it)."""
    import psycopg

    from ceramic_pipeline.ceramic.client import EventRejected
    from ceramic_pipeline.storage import outbox, streams
    from ceramic_pipeline.writer.content import content_sha256

    stream_id = str(mid_stream_id(init))
    with CeramicClient(node_url) as client:
        client.post_event(init.car)
        try:
            client.post_event(last.car)
            rejected = None
        except EventRejected as exc:
            rejected = exc.message
    with psycopg.connect(db_url) as conn:
        outbox.enqueue_events(conn, [outbox.OutboxEvent(str(init.cid), stream_id, 0, "init", init.car),
                                     outbox.OutboxEvent(str(last.cid), stream_id, 1, "data", last.car)])
        outbox.mark_published(conn, [str(init.cid)] + ([str(last.cid)] if rejected is None else []))
        if rejected is not None:
            outbox.mark_rejected(conn, str(last.cid), rejected)
        streams.upsert_streams(conn, [streams.StreamRow(
            stream_id, str(last.cid), 2, signer.did, str(model), content["documentId"], content["chunkIndex"],
            content_sha256(content), stream_metadata={"content": content})])


def test_verify_compares_the_node_with_what_the_database_says_was_written(node, tmp_path, migrated_pg_url):
    seed = secrets.token_bytes(32)
    signer = DIDKey.from_seed(seed)
    env = {**_env(tmp_path, seed, node.url), "DATABASE_URL": migrated_pg_url}
    model_event = model_init_event(signer, DOCLING_CHUNK_MODEL)
    model = model_stream_id(model_event)
    with CeramicClient(node.url) as client:
        client.post_event(model_event.car)
    good = {"documentId": "a.json", "chunkIndex": 0, "text": "cone 6", "textSha256": "0" * 64, "textBytes": 6,
            "createdAt": "2026-11-27T00:00:00.000Z", "updatedAt": "2026-11-27T00:00:00.000Z"}
    bad = {**good, "chunkIndex": 1, "textBytes": -6}  # the model's schema refuses a negative size
    init_good = set_init_event(signer.did, model, ["documentId", "chunkIndex"], good)
    init_bad = set_init_event(signer.did, model, ["documentId", "chunkIndex"], bad)
    first_good = data_event(signer, init=init_good.cid, prev=init_good.cid, patch=diff(None, good))
    first_bad = data_event(signer, init=init_bad.cid, prev=init_bad.cid, patch=diff(None, bad))
    _recorded(migrated_pg_url, signer, model, init_good, first_good, good, node.url)
    _recorded(migrated_pg_url, signer, model, init_bad, first_bad, bad, node.url)

    ok = run(["stream", "verify", str(mid_stream_id(init_good))], env)
    assert ok.returncode == 0, ok.stdout + ok.stderr
    assert ok.stdout.strip().endswith("tip, version and content match the database")

    # The node dropped (or refused) the data event: its stream is the bare init, content None.
    failed = run(["stream", "verify", str(mid_stream_id(init_bad))], env)
    assert failed.returncode == 1, failed.stdout + failed.stderr
    (line,) = failed.stdout.strip().splitlines()
    assert line.startswith(f"FAILED {mid_stream_id(init_bad)}: node tip {init_bad.cid} (version 1)")
    assert f"database says {first_bad.cid} (version 2)" in line

    # Without a database, one line says only the chain was checked; a bad chain still fails.
    for url, said in (("postgresql://127.0.0.1:1/none", "database not usable"), ("", "no DATABASE_URL")):
        alone = run(["stream", "verify", str(mid_stream_id(init_bad))], {**env, "DATABASE_URL": url})
        assert alone.returncode == 0, alone.stdout + alone.stderr
        assert alone.stdout.startswith("OK") and "1 events" in alone.stdout
        assert said in alone.stdout.splitlines()[1] and "checked the chain only" in alone.stdout


def test_publish_exits_3_while_the_node_is_down_then_0(node, tmp_path, migrated_pg_url):
    import psycopg

    from ceramic_pipeline.steps.streams import record_document_streams
    from ceramic_pipeline.storage.chunks import upsert_chunks
    from ceramic_pipeline.storage.documents import DocumentRow, register_documents
    from ceramic_pipeline.writer.models import ensure_model
    from ceramic_pipeline_tests.writer.support import document_chunks

    seed = secrets.token_bytes(32)
    signer = DIDKey.from_seed(seed)
    env = {**_env(tmp_path, seed, node.url), "DATABASE_URL": migrated_pg_url, "CERAMIC_TIMEOUT": "1000"}
    with psycopg.connect(migrated_pg_url) as conn:
        register_documents(conn, [DocumentRow("a.json", "a-json", "/inbox/a.json", "0" * 64)], signer.did)
        upsert_chunks(conn, document_chunks("a.json", 2))
        model = ensure_model(conn, signer)
        record_document_streams(conn, signer, model, "a.json")  # its run ended with the node down
    node.stop()
    down = run(["publish"], env)
    assert down.returncode == 3, down.stdout + down.stderr
    assert down.stdout.startswith("published 0, rejected 0, failed 1, pending 5")
    node.start()
    up = run(["publish"], env)
    assert up.returncode == 0, up.stdout + up.stderr
    assert up.stdout.startswith("published 5, rejected 0, failed 0, pending 0")
    # The document that waited on those events is read back and ingested: no further ingest needed.
    assert "documents verified and ingested 1, still pending 0" in up.stdout
    with psycopg.connect(migrated_pg_url) as conn:
        assert conn.execute("SELECT state FROM documents WHERE document_id = 'a.json'").fetchone()[0] == "ingested"


def _three_versions_recorded(node_url: str, db_url: str, signer: DIDKey, text_cid: str):
    """A pinned chunk's stream with three events on the node; in the database, its row (with its
    pin) and the outbox: init and first data event published, the update still pending."""
    import psycopg

    from ceramic_pipeline.storage import outbox, streams
    from ceramic_pipeline.writer.content import content_sha256

    model_event = model_init_event(signer, DOCLING_CHUNK_MODEL)
    model = model_stream_id(model_event)
    first = {"documentId": "a.json", "chunkIndex": 0, "textCid": text_cid, "textSha256": "0" * 64, "textBytes": 18000,
             "createdAt": "2026-11-27T00:00:00.000Z", "updatedAt": "2026-11-27T00:00:00.000Z"}
    # Console markup and a terminal escape in the content must be shown as text, never interpreted.
    second = {**first, "headings": ["[bold red]Glazes[/]"], "source": "a\x1b[2Jb.json", "updatedAt": "2026-11-28T00:00:00.000Z"}
    init = set_init_event(signer.did, model, ["documentId", "chunkIndex"], first)
    one = data_event(signer, init=init.cid, prev=init.cid, patch=diff(None, first))
    two = data_event(signer, init=init.cid, prev=one.cid, patch=diff(first, second))
    with CeramicClient(node_url) as client:
        assert client.post_streams([[model_event.car], [init.car, one.car, two.car]]) == [None, None]
    stream_id = str(mid_stream_id(init))
    with psycopg.connect(db_url) as conn:
        outbox.enqueue_events(conn, [outbox.OutboxEvent(str(init.cid), stream_id, 0, "init", init.car),
                                     outbox.OutboxEvent(str(one.cid), stream_id, 1, "data", one.car),
                                     outbox.OutboxEvent(str(two.cid), stream_id, 2, "data", two.car)])
        outbox.mark_published(conn, [str(init.cid), str(one.cid)])
        for cid, created, published in ((init.cid, "2026-11-27 00:00:00Z", "2026-11-27 00:00:05Z"),
                                        (one.cid, "2026-11-27 00:00:01Z", "2026-11-27 00:00:06Z"),
                                        (two.cid, "2026-11-28 00:00:00Z", None)):
            conn.execute("UPDATE ceramic_events SET created_at = %s, published_at = %s WHERE event_cid = %s",
                         (created, published, str(cid)))
        streams.upsert_streams(conn, [streams.StreamRow(
            stream_id, str(two.cid), 3, signer.did, str(model), "a.json", 0, content_sha256(second),
            ipfs_pins=[{"cid": text_cid, "service": "embedded", "status": "pinned", "size": 18000,
                        "pinned_at": "2026-11-27T00:00:01+00:00"}])])
    return stream_id, model, [init.cid, one.cid, two.cid]


def test_show_text_view_has_versions_times_and_pins(node, tmp_path, migrated_pg_url):
    seed = secrets.token_bytes(32)
    signer = DIDKey.from_seed(seed)
    env = {**_env(tmp_path, seed, node.url), "DATABASE_URL": migrated_pg_url, "COLUMNS": "220"}
    text = "ç" * 9000
    text_cid = str(pinning_service_from_env({}, tmp_path).pin(text.encode(), "a.json#0").cid)
    stream_id, model, cids = _three_versions_recorded(node.url, migrated_pg_url, signer, text_cid)

    shown = run(["stream", "show", "--format", "text", stream_id], env)
    assert (shown.returncode, shown.stderr) == (0, ""), shown.stderr
    out = shown.stdout
    lines = out.splitlines()
    for label, value in (("stream", stream_id), ("controller", signer.did), ("model", str(model)), ("version", "3"),
                         ("tip", str(cids[2]))):
        assert any(line.split() == [label, value] for line in lines), (label, out)
    versions = {line.split("│")[2].strip(): [c.strip() for c in line.split("│")[1:-1]] for line in lines
                if "│" in line and any(str(cid) in line for cid in cids)}
    # Published events show when the node accepted them, a pending one when it was queued (UTC).
    assert versions[str(cids[0])] == ["1", str(cids[0]), "init", "2026-11-27T00:00:05+00:00", "published"]
    assert versions[str(cids[1])] == ["2", str(cids[1]), "data", "2026-11-27T00:00:06+00:00", "published"]
    assert versions[str(cids[2])] == ["3", str(cids[2]), "data", "2026-11-28T00:00:00+00:00", "pending"]
    cells = "".join(out.replace("│", "").split())  # a long value wraps over several lines of its cell
    assert "ç" * 300 + "…(9,000characters)" in cells and "ç" * 301 not in cells  # the pinned text, from IPFS, shortened
    assert "[bold red]Glazes[/]" in out and "a\\x1b[2Jb.json" in out and "\x1b" not in out
    [pin] = [line for line in lines if text_cid in line and "embedded" in line]
    assert [c.strip() for c in pin.split("│")[1:-1]] == [text_cid, "embedded", "pinned", "18000", "2026-11-27T00:00:01+00:00"]
    assert base64.b64encode(seed).decode() not in out

    # Without a database the node's view is still shown; times are "-" and the pins unknown.
    alone = run(["stream", "show", "--format", "text", stream_id], {**env, "DATABASE_URL": ""})
    assert alone.returncode == 0, alone.stderr
    rows = [[c.strip() for c in line.split("│")[1:-1]] for line in alone.stdout.splitlines() if str(cids[2]) in line and "│" in line]
    assert ["3", str(cids[2]), "data", "-", "-"] in rows
    assert "pins: unknown (no DATABASE_URL and the embedded PostgreSQL is not running)" in alone.stdout

    # Not a terminal: JSON as before, and --json / --format json say the same.
    default = run(["stream", "show", stream_id], env)
    state = json.loads(default.stdout)
    assert state["version"] == 3 and state["tip"] == str(cids[2]) and state["text"] == text
    assert run(["stream", "show", "--json", stream_id], env).stdout == default.stdout
    assert run(["stream", "show", "--format", "json", stream_id], env).stdout == default.stdout


def test_show_on_a_terminal_is_the_text_view(node, tmp_path):
    import pty

    seed = secrets.token_bytes(32)
    signer = DIDKey.from_seed(seed)
    stream_id = _write_chunk_stream(node.url, signer, {"text": "cone 6 glaze", "textSha256": "0" * 64, "textBytes": 12,
                                                       "createdAt": "2026-11-27T00:00:00.000Z", "updatedAt": "2026-11-27T00:00:00.000Z"})
    leader, follower = pty.openpty()
    with subprocess.Popen([EXE, "stream", "show", stream_id], env=_env(tmp_path, seed, node.url), stdout=follower,
                          stderr=subprocess.PIPE) as process:
        os.close(follower)
        chunks = []
        while True:
            try:
                data = os.read(leader, 65536)
            except OSError:  # EIO: the child closed the terminal
                break
            if not data:
                break
            chunks.append(data)
        assert process.wait(timeout=60) == 0, process.stderr.read()
    os.close(leader)
    out = b"".join(chunks).decode()
    assert "versions" in out and "cone 6 glaze" in out and not out.lstrip().startswith("{")
