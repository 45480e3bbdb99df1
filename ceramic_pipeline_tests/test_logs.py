"""JSON log lines for the project's loggers, and the third-party noise silenced at its source."""

from __future__ import annotations

import io
import json
import logging
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from ceramic_pipeline.envparse import ConfigError
from ceramic_pipeline.logs import configure_logging, log_context

EXE = shutil.which("ceramic-pipeline", path=str(Path(sys.executable).parent))
# Hide torch from transformers' availability check, as in an install without the convert extra.
NO_TORCH = (
    "import importlib.util, sys; _real = importlib.util.find_spec; "
    "importlib.util.find_spec = lambda n, *a, **k: None if n.split('.')[0] == 'torch' else _real(n, *a, **k); "
)


@pytest.fixture
def project_logger():
    logger = logging.getLogger("ceramic_pipeline")
    saved = (logger.level, list(logger.handlers))
    yield
    logger.handlers[:] = saved[1]
    logger.setLevel(saved[0])


def lines(stream: io.StringIO) -> list[dict]:
    return [json.loads(line) for line in stream.getvalue().splitlines()]


def test_one_json_object_per_line_with_the_known_ids(project_logger):
    stream = io.StringIO()
    configure_logging({"LOG_LEVEL": "debug"}, stream)
    configure_logging({"LOG_LEVEL": "debug"}, stream)  # idempotent: still one handler
    log = logging.getLogger("ceramic_pipeline.writer.test")
    log.debug("plain")
    with log_context(run_id="run-1", document_id="a.json"):
        log.info("posted %d events\nsecond line", 2, extra={"stream_id": "kjz-1"})
        with log_context(document_id="b.json"):
            log.warning("inner")
    log.info("after")
    logging.getLogger("other.library").warning("not ours")
    records = lines(stream)
    assert [r["message"] for r in records] == ["plain", "posted 2 events\nsecond line", "inner", "after"]
    assert records[0].keys() == {"time", "level", "logger", "message"} and records[0]["level"] == "DEBUG"
    assert {k: records[1][k] for k in ("run_id", "document_id", "stream_id", "logger")} == {
        "run_id": "run-1", "document_id": "a.json", "stream_id": "kjz-1", "logger": "ceramic_pipeline.writer.test"}
    assert (records[2]["run_id"], records[2]["document_id"]) == ("run-1", "b.json") and "stream_id" not in records[2]
    assert "run_id" not in records[3]
    assert len(stream.getvalue().splitlines()) == 4  # the newline inside a message stays escaped


def test_level_and_format_from_the_environment(project_logger):
    stream = io.StringIO()
    configure_logging({"LOG_LEVEL": "WARNING"}, stream)
    logging.getLogger("ceramic_pipeline.x").info("dropped")
    logging.getLogger("ceramic_pipeline.x").error("kept")
    assert [r["message"] for r in lines(stream)] == ["kept"]
    text = io.StringIO()
    configure_logging({"LOG_FORMAT": "text"}, text)
    logging.getLogger("ceramic_pipeline.x").info("hello")
    assert text.getvalue() == "INFO ceramic_pipeline.x: hello\n"
    for env, variable in (({"LOG_LEVEL": "loud"}, "LOG_LEVEL"), ({"LOG_FORMAT": "xml"}, "LOG_FORMAT")):
        with pytest.raises(ConfigError, match=f"^{variable} must be"):
            configure_logging(env, io.StringIO())


def test_cli_writes_the_dev_seed_warning_once_as_json(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AGENT_DID", "LOG_", "DAGSTER_HOME"))}
    out = subprocess.run([EXE, "did"], env={**env, "CERAMIC_PIPELINE_DATA": str(tmp_path)}, capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    [record] = [json.loads(line) for line in out.stderr.splitlines()]
    assert (record["level"], record["logger"]) == ("WARNING", "ceramic_pipeline.keys") and "Production MUST set" in record["message"]
    assert (tmp_path / "agent-seed.b64").read_text().strip() not in out.stderr
    bad = subprocess.run([EXE, "did"], env={**env, "CERAMIC_PIPELINE_DATA": str(tmp_path), "LOG_LEVEL": "loud"},
                         capture_output=True, text=True, timeout=60)
    assert bad.returncode == 2 and bad.stderr.strip().splitlines() == [
        "ceramic-pipeline: LOG_LEVEL must be one of DEBUG, INFO, WARNING, ERROR, CRITICAL, got 'LOUD'"]


def python(code: str, tmp_path: Path) -> str:
    env = {**os.environ, "CERAMIC_PIPELINE_DATA": str(tmp_path), "PYTHONWARNINGS": "default"}
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    return out.stderr


def test_no_pytorch_line_without_torch(tmp_path):
    # control: docling-core's chunker package imports transformers, which logs the line
    assert "PyTorch was not found" in python(NO_TORCH + "import docling_core.transforms.chunker.base", tmp_path)
    assert "PyTorch was not found" not in python(NO_TORCH + "import ceramic_pipeline.documents", tmp_path)


def test_loading_the_definitions_prints_no_beta_warning(tmp_path):
    # control: without the defs package's filter, the assets' `backfill_policy` parameter is what Dagster warns about
    control = "import warnings, ceramic_pipeline.defs; warnings.resetwarnings(); import ceramic_pipeline.defs.documents.assets"
    assert "BetaWarning" in python(control, tmp_path)
    for module in ("ceramic_pipeline.definitions", "ceramic_pipeline.defs.ceramic.assets"):  # the CLI's workers import the latter
        stderr = python(f"import {module}", tmp_path)
        assert "BetaWarning" not in stderr and "Warning" not in stderr, stderr[-2000:]
