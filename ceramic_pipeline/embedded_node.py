"""Start (once) the local validating Ceramic node for the embedded default.

Like the embedded PostgreSQL, the node outlives the run that started it: it is a detached
process whose address is kept in ``<data_dir>/devnode/state.json`` and reused while it
answers ``/ceramic/liveness``. Production sets CERAMIC_URL to a real ceramic-one instead.
"""

from __future__ import annotations

import fcntl
import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx


def _alive(url: str) -> bool:
    try:
        return httpx.get(f"{url}/ceramic/liveness", timeout=2).status_code == 200
    except httpx.HTTPError:
        return False


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def embedded_ceramic_url(data_dir: Path, *, start_timeout_s: float = 60.0) -> str:
    folder = Path(data_dir) / "devnode"
    folder.mkdir(parents=True, exist_ok=True)
    state = folder / "state.json"
    with open(folder / "lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # concurrent runs start one node, not several
        if state.exists():
            url = json.loads(state.read_text())["url"]
            if _alive(url):
                return url
        port = _free_port()
        url = f"http://127.0.0.1:{port}"
        log = open(folder / "devnode.log", "ab")
        process = subprocess.Popen(
            [sys.executable, "-m", "ceramic_pipeline.cli", "devnode", "--host", "127.0.0.1", "--port", str(port), "--data", str(folder)],
            stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True,
        )
        deadline = time.monotonic() + start_timeout_s
        while not _alive(url):
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"the embedded Ceramic node did not start; see {folder / 'devnode.log'}")
            time.sleep(0.1)
        state.write_text(json.dumps({"url": url, "pid": process.pid}))
        return url


def running_embedded_ceramic_url(data_dir: Path) -> str | None:
    """The embedded node's URL when it answers; never starts it."""
    state = Path(data_dir) / "devnode" / "state.json"
    if not state.exists():
        return None
    url = json.loads(state.read_text())["url"]
    return url if _alive(url) else None


def stop_embedded_node(data_dir: Path) -> None:
    state = Path(data_dir) / "devnode" / "state.json"
    if state.exists():
        try:
            os.kill(json.loads(state.read_text())["pid"], 15)
        except ProcessLookupError:
            pass
        state.unlink()
