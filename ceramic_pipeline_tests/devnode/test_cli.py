"""The devnode as a real process: help text, serving, persistence across a process restart."""

from __future__ import annotations

import signal
import socket
import subprocess
import sys
import time

import httpx

from ceramic_pipeline.devnode import build_parser
from ceramic_pipeline_tests.devnode import builders as b


def test_help_says_it_is_a_development_stand_in():
    text = build_parser().format_help()
    assert "DEVELOPMENT STAND-IN for ceramic-one" in text
    assert "Production uses a real ceramic-one" in text
    for option in ("--host", "--port", "--data"):
        assert option in text
    args = build_parser().parse_args([])
    assert (args.host, args.port, args.data) == ("127.0.0.1", 5101, None)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _start(port: int, data_dir) -> subprocess.Popen:
    proc = subprocess.Popen(
        [sys.executable, "-m", "ceramic_pipeline.devnode.cli", "--port", str(port), "--data", str(data_dir)],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        assert proc.poll() is None, proc.stdout.read()
        try:
            if httpx.get(f"http://127.0.0.1:{port}/ceramic/liveness", timeout=1).status_code == 200:
                return proc
        except httpx.TransportError:
            time.sleep(0.1)
    proc.kill()
    raise AssertionError("devnode process did not come up")


def _stop(proc: subprocess.Popen) -> str:
    proc.send_signal(signal.SIGTERM)
    out, _ = proc.communicate(timeout=15)
    assert proc.returncode == 0, out
    return out


def test_process_serves_and_keeps_events_across_restart(tmp_path):
    port = _free_port()
    model, model_id = b.model(b.definition("Persisted", {"type": "list"}))
    proc = _start(port, tmp_path)
    try:
        assert httpx.post(f"http://127.0.0.1:{port}/ceramic/events", json=b.body(model)).status_code == 204
    finally:
        out = _stop(proc)
    assert "development stand-in" in out
    proc = _start(port, tmp_path)
    try:
        state = httpx.get(f"http://127.0.0.1:{port}/ceramic/streams/{model_id}")
        assert state.status_code == 200 and state.json()["event_cid"] == str(model.cid)
        assert httpx.post(f"http://127.0.0.1:{port}/_devnode/faults", json={}).status_code == 404  # hooks off by default
    finally:
        _stop(proc)
