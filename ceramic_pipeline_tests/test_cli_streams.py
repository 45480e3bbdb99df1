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
    malformed = run(["stream", "verify", "not-a-stream"], env)
    assert malformed.returncode == 1 and malformed.stdout.startswith("FAILED")


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
