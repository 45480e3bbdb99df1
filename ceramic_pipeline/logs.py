"""Logging for the project's own loggers (the ``ceramic_pipeline`` hierarchy), and quieting
third-party noise at its source.

``configure_logging`` gives the ``ceramic_pipeline`` logger one handler that writes one JSON
object per line (python-json-logger) to stderr: ``time``, ``level``, ``logger``, ``message``,
plus ``run_id``, ``document_id`` and ``stream_id`` when known, either passed as
``extra={...}`` or set for a block with :func:`log_context`. ``LOG_LEVEL`` (DEBUG, INFO,
WARNING, ERROR, CRITICAL; default INFO) sets its level; ``LOG_FORMAT=text`` gives plain
``LEVEL logger: message`` lines instead.
"""

from __future__ import annotations

import contextvars
import logging
import os
import sys
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import IO

from ceramic_pipeline.envparse import ConfigError

ROOT = "ceramic_pipeline"
CONTEXT_FIELDS = ("run_id", "document_id", "stream_id")
LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")
_context: contextvars.ContextVar[dict[str, str]] = contextvars.ContextVar("ceramic_pipeline_log_context", default={})


@contextmanager
def log_context(**fields: str | None) -> Iterator[None]:
    """Add ``run_id``/``document_id``/``stream_id`` to every project log line inside the block."""
    unknown = set(fields) - set(CONTEXT_FIELDS)
    if unknown:
        raise ValueError(f"log_context takes {', '.join(CONTEXT_FIELDS)}, not {', '.join(sorted(unknown))}")
    token = _context.set({**_context.get(), **{k: str(v) for k, v in fields.items() if v is not None}})
    try:
        yield
    finally:
        _context.reset(token)


class _ContextFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        for name, value in _context.get().items():
            if not hasattr(record, name):  # an explicit extra= wins
                setattr(record, name, value)
        return True


def log_level(environ: Mapping[str, str]) -> int:
    raw = environ.get("LOG_LEVEL", "").strip().upper() or "INFO"
    if raw not in LEVELS:
        raise ConfigError(f"LOG_LEVEL must be one of {', '.join(LEVELS)}, got {raw[:20]!r}")
    return getattr(logging, raw)


def configure_logging(environ: Mapping[str, str] | None = None, stream: IO[str] | None = None) -> logging.Handler:
    """Install (or replace) the project's handler; idempotent, returns the handler.

    Records still propagate (pytest's caplog and any handler an operator adds on the root
    keep working); an entry point with a root handler of its own excludes the project's
    records there with :func:`not_ours` so that nothing is written twice.
    """
    env = os.environ if environ is None else environ
    level = log_level(env)
    kind = env.get("LOG_FORMAT", "").strip().lower() or "json"
    if kind not in ("json", "text"):
        raise ConfigError(f"LOG_FORMAT must be json or text, got {kind[:20]!r}")
    if kind == "text":
        formatter: logging.Formatter = logging.Formatter("%(levelname)s %(name)s: %(message)s")
    else:
        from pythonjsonlogger.json import JsonFormatter

        formatter = JsonFormatter(
            "{asctime}{levelname}{name}{message}", style="{", datefmt="%Y-%m-%dT%H:%M:%S%z",
            rename_fields={"asctime": "time", "levelname": "level", "name": "logger"},
        )
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.set_name("ceramic_pipeline")
    handler.setFormatter(formatter)
    handler.addFilter(_ContextFilter())
    logger = logging.getLogger(ROOT)
    for old in [h for h in logger.handlers if h.get_name() == "ceramic_pipeline"]:
        logger.removeHandler(old)
    logger.addHandler(handler)
    logger.setLevel(level)
    return handler


def not_ours(record: logging.LogRecord) -> bool:
    """A filter for a root handler: keep only records of loggers outside the project."""
    return not (record.name == ROOT or record.name.startswith(ROOT + "."))


class _DropMessage(logging.Filter):
    def __init__(self, prefix: str) -> None:
        super().__init__()
        self.prefix = prefix

    def filter(self, record: logging.LogRecord) -> bool:
        return not str(record.msg).startswith(self.prefix)


def quiet_third_party() -> None:
    """Drop third-party lines that are noise for this project, each at its source; idempotent.

    transformers logs "PyTorch was not found..." on import. docling-core's chunker package
    imports it (its ``__init__`` pulls in the HybridChunker) even for the hierarchical
    chunker, and only its tokenizers are used here, so the line is expected and says nothing.
    It is logged on the ``transformers`` library logger itself, which a filter there catches
    (created now, before transformers configures it).
    """
    transformers = logging.getLogger("transformers")
    if not any(isinstance(f, _DropMessage) for f in transformers.filters):
        transformers.addFilter(_DropMessage("PyTorch was not found"))
