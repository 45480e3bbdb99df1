"""What the ``ceramic-pipeline`` subcommands do, apart from argument parsing."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import psycopg

from ceramic_pipeline.ceramic.client import CeramicClient, CeramicError
from ceramic_pipeline.ceramic.identifiers import StreamID
from ceramic_pipeline.ceramic.verify import EventError
from ceramic_pipeline.embedded_node import embedded_ceramic_url
from ceramic_pipeline.settings import Settings
from ceramic_pipeline.steps.readback import differences
from ceramic_pipeline.storage import outbox, streams
from ceramic_pipeline.storage.streams import StreamRow
from ceramic_pipeline.writer.readback import ReadBack, read_back

T = TypeVar("T")


def ceramic_client(settings: Settings) -> CeramicClient:
    url = settings.ceramic_url or embedded_ceramic_url(settings.data_dir)
    return CeramicClient(url, timeout_s=settings.ceramic_timeout_s, max_in_flight=settings.ceramic_batch_size)


def show_stream(settings: Settings, stream_id: str) -> dict[str, Any]:
    """The stream's current state, with the chunk text fetched from IPFS when it is pinned."""
    return read_stream(settings, stream_id)[0]


def read_stream(settings: Settings, stream_id: str) -> tuple[dict[str, Any], ReadBack]:
    """(show_stream's dict, the verified read-back it was made from: every event, init first).

    Raises StreamIDError for a malformed id, EventError for an unknown or flawed stream,
    CeramicError when the node is unreachable, PinningError when pinned text cannot be fetched.
    """
    from ceramic_pipeline.ipfs.config import pinning_service_from_env

    StreamID.from_string(stream_id)  # a clear error for a malformed id before any request
    with ceramic_client(settings) as client:
        back = read_back(client, stream_id)
    content = back.content or {}
    model = back.events[0].model
    text = content.get("text")
    if text is None and content.get("textCid"):
        service = pinning_service_from_env(settings.environ, settings.data_dir)
        text = service.fetch(content["textCid"]).decode("utf-8")
    return {
        "stream_id": stream_id, "controller": back.controller, "model": str(model) if model else None,
        "version": len(back.events), "tip": back.tip, "content": content, "text": text,
    }, back


def verify_stream(settings: Settings, stream_id: str) -> tuple[bool, str]:
    """(ok, report): every event's signature, CID and prev link checked, then the node's tip,
    version and content compared with the row the database says was written.

    Without a reachable database (or without a row for the stream) only the chain is checked,
    and the report says so on its second line. Issue 8: "success means verified".
    """
    try:
        StreamID.from_string(stream_id)
        with ceramic_client(settings) as client:
            back = read_back(client, stream_id)
    except (EventError, ValueError, CeramicError) as exc:
        return False, f"FAILED {stream_id}: {exc}"
    row, status, note = _written(settings, stream_id)
    if row is not None:
        problem = differences(back, row)
        if problem and status is not None and status[0] != "published":
            problem += f"; that event is {status[0]} in the outbox" + (f" ({status[1]})" if status[1] else "")
        if problem:
            return False, f"FAILED {stream_id}: {problem}"
    signer = ", ".join(sorted(back.signers)) or back.controller
    report = f"OK {stream_id}: {len(back.events)} events, signatures, CIDs and prev links verified; signed by {signer}"
    if row is None:
        return True, f"{report}\n{note}"
    return True, report + "; tip, version and content match the database" + (f"; {note}" if note else "")


def _written(settings: Settings, stream_id: str) -> tuple[StreamRow | None, tuple[str, str | None] | None, str]:
    """(the database's row, the outbox status of its tip, a note: why there is no row, or the
    stream that superseded this one after a key rotation)."""

    def lookup(conn):
        row = streams.get_stream(conn, stream_id)
        if row is None:
            return None, None, None
        return row, outbox.event_status(conn, row.latest_cid), streams.superseded_by(conn, stream_id)

    found, note = database_lookup(settings, lookup)
    if found is None:
        return None, None, f"note: {note}: checked the chain only"
    row, status, replaced = found
    if row is None:
        return None, None, "note: the database has no row for this stream: checked the chain only"
    return row, status, f"superseded by {replaced} (key rotation)" if replaced else ""


def database_lookup(settings: Settings, lookup: Callable[[psycopg.Connection], T]) -> tuple[T | None, str]:
    """(``lookup(conn)``, "") on the pipeline database, or (None, why not) without starting a server.

    For read-only commands: DATABASE_URL when set, else the embedded PostgreSQL only if it is
    already running. The reason is one line without the password.
    """
    from ceramic_pipeline.storage.embedded import running_database_url

    url = running_database_url(settings.environ, settings.data_dir)
    if url is None:
        return None, "no DATABASE_URL and the embedded PostgreSQL is not running"
    try:
        with psycopg.connect(url, connect_timeout=5) as conn:
            return lookup(conn), ""
    except psycopg.Error as exc:
        first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
        return None, f"database not usable ({first})"
