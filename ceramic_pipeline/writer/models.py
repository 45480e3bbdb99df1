"""The DoclingChunk model stream: created once per controller DID, recorded, and reused."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import psycopg

from ceramic_pipeline.ceramic.client import CeramicClient
from ceramic_pipeline.ceramic.did import DIDKey
from ceramic_pipeline.ceramic.identifiers import StreamID
from ceramic_pipeline.ceramic.model import DOCLING_CHUNK_MODEL, model_init_event, model_stream_id
from ceramic_pipeline.storage import models, outbox
from ceramic_pipeline.writer.publisher import PublishReport, publish_outbox


def ensure_model(conn: psycopg.Connection, signer: DIDKey, definition: dict[str, Any] = DOCLING_CHUNK_MODEL) -> StreamID:
    """Register the model for ``signer`` (idempotent) and queue its init event in the outbox.

    The init event is deterministic in (DID, definition), so every run computes the same
    model StreamID; the publisher posts Model streams before any instance.
    """
    event = model_init_event(signer, definition)
    stream_id = model_stream_id(event)
    with conn.transaction():
        models.put_model(conn, models.ModelRecord(str(stream_id), signer.did, definition, str(event.cid)))
        outbox.enqueue_events(conn, [outbox.OutboxEvent(str(event.cid), str(stream_id), 0, "init", event.car)])
    return stream_id


def publish_model(
    connect: Callable[[], psycopg.Connection], client: CeramicClient, signer: DIDKey,
    definition: dict[str, Any] = DOCLING_CHUNK_MODEL,
) -> tuple[StreamID, PublishReport]:
    """Ensure the model and post what is pending (models first; the publisher registers interest).

    Never raises for an unreachable node: the events then stay pending (``report.pending``).
    """
    with connect() as conn:
        model = ensure_model(conn, signer, definition)
    report = publish_outbox(connect, client)
    return model, report
