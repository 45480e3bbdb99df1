"""Run metrics reach a real Pushgateway (Debian's prometheus-pushgateway) under one group per process."""

from __future__ import annotations

import shutil
import socket
import subprocess
import time

import httpx
import pytest

from ceramic_pipeline import metrics


@pytest.fixture
def pushgateway(tmp_path):
    binary = shutil.which("prometheus-pushgateway")
    assert binary, "prometheus-pushgateway is missing: run scripts/setup-test-deps (Debian package prometheus-pushgateway)"
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    process = subprocess.Popen([binary, f"--web.listen-address=127.0.0.1:{port}"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(100):
            try:
                if httpx.get(f"{url}/-/ready", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.1)
        yield url
    finally:
        process.terminate()
        process.wait(timeout=10)


def _value(text: str, prefix: str) -> float:
    lines = [line for line in text.splitlines() if line.startswith(prefix)]
    assert lines, f"{prefix} not found"
    return float(lines[0].rsplit(" ", 1)[1])


def test_push_lands_in_one_group_per_process(pushgateway):
    before = metrics.ceramic_streams_created_total._value.get()
    metrics.ceramic_streams_created_total.inc(3)
    metrics.ceramic_outbox_pending.set(7)
    env = {"PROMETHEUS_PUSHGATEWAY_URL": pushgateway}
    assert metrics.push("run-1:100", env)
    assert metrics.push("run-1:100", env)  # the same process again replaces its group
    scraped = httpx.get(f"{pushgateway}/metrics").text
    group = 'instance="run-1:100",job="ceramic_pipeline"'
    assert _value(scraped, f"ceramic_streams_created_total{{{group}}}") == before + 3
    assert _value(scraped, f"ceramic_outbox_pending{{{group}}}") == 7
    assert scraped.count(f"ceramic_outbox_pending{{{group}}}") == 1


def test_push_is_off_without_a_url_and_never_raises(pushgateway):
    assert metrics.push("x", {}) is False
    assert metrics.push("x", {"PROMETHEUS_PUSHGATEWAY_URL": "http://127.0.0.1:9"}) is False  # nothing listens there


def test_backup_success_time_lives_in_one_fixed_group_that_each_backup_replaces(pushgateway):
    env = {"PROMETHEUS_PUSHGATEWAY_URL": pushgateway}
    assert metrics.push_backup_success(1_700_000_000.0, env)
    assert metrics.push_backup_success(1_700_086_400.0, env)
    scraped = httpx.get(f"{pushgateway}/metrics").text
    lines = [line for line in scraped.splitlines() if line.startswith("ceramic_backup_last_success_timestamp_seconds{")]
    assert len(lines) == 1 and 'instance="postgres_backup"' in lines[0]
    assert float(lines[0].rsplit(" ", 1)[1]) == 1_700_086_400.0
    in_group = {line.split("{")[0] for line in scraped.splitlines() if 'instance="postgres_backup"' in line}
    assert in_group == {"ceramic_backup_last_success_timestamp_seconds", "push_time_seconds", "push_failure_time_seconds"}
