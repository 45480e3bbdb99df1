"""Fixtures for the IPFS tests: a real js-ipfs daemon (offline) and the Pinata stand-in."""

from __future__ import annotations

import json
import os
import re
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from ceramic_pipeline_tests.ipfs.pinata_standin import PinataStandIn

JSIPFS_DIR = Path(__file__).parent / "jsipfs"
READY_TIMEOUT_SECONDS = 120  # init + start take 5-20 s on a loaded 2-core machine

# Offline and loopback only: no swarm listeners, peers, delegates or discovery.
# Port 0 lets the daemon pick free ports; the log tells which it got.
DAEMON_CONFIG = {
    "Addresses": {
        "Swarm": [],
        "Delegates": [],
        "API": "/ip4/127.0.0.1/tcp/0",
        "Gateway": "/ip4/127.0.0.1/tcp/0",
        "RPC": "/ip4/127.0.0.1/tcp/0",
    },
    "Bootstrap": [],
    "Discovery": {"MDNS": {"Enabled": False}, "webRTCStar": {"Enabled": False}},
}


@pytest.fixture(scope="session")
def ipfs_api_url(tmp_path_factory) -> Iterator[str]:
    """Start js-ipfs 0.66 (Kubo RPC compatible) on a temp repo; yield its API URL."""
    jsipfs = JSIPFS_DIR / "node_modules" / ".bin" / "jsipfs"
    if not jsipfs.exists():
        pytest.fail(
            f"js-ipfs is not installed: run `npm ci` in {JSIPFS_DIR}", pytrace=False
        )
    work = tmp_path_factory.mktemp("jsipfs")
    config = work / "config.json"
    config.write_text(json.dumps(DAEMON_CONFIG))
    node_options = f"{os.environ.get('NODE_OPTIONS', '')} --require {JSIPFS_DIR / 'polyfill.cjs'}".strip()
    env = {**os.environ, "IPFS_PATH": str(work / "repo"), "NODE_OPTIONS": node_options}
    init = subprocess.run(
        [str(jsipfs), "init", "--emptyRepo", str(config)],
        env=env,
        capture_output=True,
        check=False,
        text=True,
        timeout=READY_TIMEOUT_SECONDS,
    )
    if init.returncode != 0:
        pytest.fail(
            f"jsipfs init failed ({init.returncode}): {init.stdout}{init.stderr}",
            pytrace=False,
        )
    log_path = work / "daemon.log"
    with log_path.open("wb") as log:
        daemon = subprocess.Popen(
            [str(jsipfs), "daemon", "--offline"],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    try:
        yield f"http://127.0.0.1:{_wait_for_api_port(daemon, log_path)}"
    finally:
        daemon.terminate()
        try:
            daemon.wait(timeout=20)
        except subprocess.TimeoutExpired:
            daemon.kill()
            daemon.wait()


def _wait_for_api_port(daemon: subprocess.Popen, log_path: Path) -> int:
    deadline = time.monotonic() + READY_TIMEOUT_SECONDS
    while time.monotonic() < deadline:
        text = log_path.read_text(errors="replace")
        if "Daemon is ready" in text:
            match = re.search(
                r"HTTP API listening on /ip4/127\.0\.0\.1/tcp/(\d+)", text
            )
            if match:
                return int(match.group(1))
            pytest.fail(
                f"js-ipfs ready but no API address in its log:\n{text}", pytrace=False
            )
        if daemon.poll() is not None:
            pytest.fail(
                f"js-ipfs daemon exited with {daemon.returncode}:\n{text[-3000:]}",
                pytrace=False,
            )
        time.sleep(0.2)
    pytest.fail(
        f"js-ipfs not ready after {READY_TIMEOUT_SECONDS} s:\n{log_path.read_text()[-3000:]}",
        pytrace=False,
    )


@pytest.fixture
def pinata() -> Iterator[PinataStandIn]:
    with PinataStandIn() as standin:
        yield standin
