"""Per-document containment: one bad document is recorded as failed and never sinks its run.

Each step works document by document inside :func:`per_document`. An error caused by the
document (bad JSON, unstorable text, a chunk the model refuses, a read-back mismatch) marks
that document ``failed`` with a one-line reason and the step goes on with the others. A
*transient* error (the database or a service unreachable, a timeout) is re-raised: it is not
the document's fault, and Dagster's step retry policy may retry the whole step. A
*configuration* error (bad seed, credentials refused) is re-raised too and fails the step once.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import logging

import httpx
import psycopg

from ceramic_pipeline.ceramic.client import CeramicUnavailable
from ceramic_pipeline.ceramic.did import SeedError
from ceramic_pipeline.envparse import ConfigError
from ceramic_pipeline.ipfs.errors import PinningAuthError, PinningUnavailableError
from ceramic_pipeline.logs import log_context
from ceramic_pipeline.storage import documents as document_store

# Errors that say nothing about the document: retrying later may succeed.
TRANSIENT_ERRORS: tuple[type[BaseException], ...] = (
    psycopg.OperationalError,
    psycopg.InterfaceError,
    httpx.TransportError,
    CeramicUnavailable,
    PinningUnavailableError,
    TimeoutError,
    ConnectionError,
)

# Errors of the deployment, not of a document: every document would fail the same way, so
# they fail the step at once (and are never retried) instead of marking each document failed.
CONFIGURATION_ERRORS: tuple[type[BaseException], ...] = (ConfigError, PinningAuthError, SeedError)

REASON_MAX_CHARS = 300

log = logging.getLogger(__name__)


def is_transient(exc: BaseException) -> bool:
    return isinstance(exc, TRANSIENT_ERRORS)


def is_configuration(exc: BaseException) -> bool:
    return isinstance(exc, CONFIGURATION_ERRORS)


def one_line(exc: BaseException) -> str:
    """``Type: first line of the message``, at most 300 characters; never the exception's cause.

    Our own document errors name the file and the problem, not the content; only the first
    line of anything else is kept, because multi-line driver messages may quote data.
    """
    text = str(exc).strip().splitlines()
    reason = f"{type(exc).__name__}: {text[0]}" if text else type(exc).__name__
    return reason if len(reason) <= REASON_MAX_CHARS else reason[: REASON_MAX_CHARS - 1] + "…"


@contextmanager
def per_document(conn: psycopg.Connection, document_id: str, failures: dict[str, str]) -> Iterator[None]:
    """Run one document's work; commit it, or on a non-transient error record the document failed.

    Each document's work is committed on its own, so a later document's failure cannot roll
    back an earlier one's. ``failures`` collects {document_id: reason} for the step's metadata.
    On failure the connection is rolled back first (the document's uncommitted work is
    discarded, and an aborted transaction is cleared), then the failure is recorded.
    """
    with log_context(document_id=document_id):  # the project's log lines inside name the document
        try:
            yield
            conn.commit()
        except Exception as exc:
            if is_transient(exc) or is_configuration(exc):
                raise
            conn.rollback()
            reason = one_line(exc)
            document_store.mark_failed(conn, document_id, reason)
            conn.commit()
            failures[document_id] = reason
            log.warning(f"document failed: {reason}")
