"""Model streams and the ``DoclingChunk`` model definition (the one place it is defined).

The model uses ``accountRelation: set`` on (documentId, chunkIndex): a chunk's StreamID is a
pure function of (controller DID, model, documentId, chunkIndex), so re-runs and back-fills
never create duplicate streams and a changed chunk becomes a data event on the same stream.
"""

from __future__ import annotations

from typing import Any

from ceramic_pipeline.ceramic.did import DIDKey
from ceramic_pipeline.ceramic.events import Event, deterministic_init_event, init_header, signed_init_event
from ceramic_pipeline.ceramic.identifiers import META_MODEL, StreamID, StreamType


def _exactly(home: str) -> dict[str, Any]:
    others = [h for h in ("text", "textCid", "removed") if h != home]
    return {"required": [home], "not": {"anyOf": [{"required": [o]} for o in others]}}


_STRING_LIST = {"type": "array", "maxItems": 256, "items": {"type": "string", "maxLength": 1024}}

DOCLING_CHUNK_MODEL: dict[str, Any] = {
    "version": "2.0",
    "name": "DoclingChunk",
    "description": "One chunk of a Docling-processed document: text inline (< 16 KB) or pinned to IPFS by CID.",
    "interface": False,
    "implements": [],
    "accountRelation": {"type": "set", "fields": ["documentId", "chunkIndex"]},
    "schema": {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "type": "object",
        "additionalProperties": False,
        "properties": {
            "documentId": {"type": "string", "minLength": 1, "maxLength": 1024},
            "chunkIndex": {"type": "integer", "minimum": 0},
            "text": {"type": "string", "maxLength": 16383},
            "textCid": {"type": "string", "maxLength": 128},
            "textSha256": {"type": "string", "pattern": "^[0-9a-f]{64}$"},
            "textBytes": {"type": "integer", "minimum": 0},
            "source": {"type": "string", "maxLength": 2048},
            "headings": _STRING_LIST,
            "pages": {"type": "array", "maxItems": 4096, "items": {"type": "integer", "minimum": 0}},
            "embeddingsMetadata": {
                "type": "object",
                "additionalProperties": False,
                "properties": {
                    "model": {"type": "string", "maxLength": 256},
                    "dimension": {"type": "integer", "minimum": 1},
                },
                "required": ["model", "dimension"],
            },
            "removed": {"const": True},
            "createdAt": {"type": "string", "format": "date-time", "maxLength": 64},
            "updatedAt": {"type": "string", "format": "date-time", "maxLength": 64},
        },
        "required": ["documentId", "chunkIndex", "textSha256", "textBytes", "createdAt", "updatedAt"],
        # Exactly one of: inline text, pinned text (CID), or the removed marker.
        "oneOf": [_exactly(home) for home in ("text", "textCid", "removed")],
    },
}


def model_init_event(signer: DIDKey, definition: dict[str, Any]) -> Event:
    """The signed init of a Model stream; deterministic in (DID, definition), so re-creating it is idempotent."""
    header = init_header(controller=signer.did, model=META_MODEL)
    return signed_init_event(signer, definition, header)


def model_stream_id(event: Event) -> StreamID:
    return StreamID(StreamType.MODEL, event.cid)


def js_string(value: Any) -> str:
    """``String(value)`` in JavaScript for the scalar kinds a set field may hold."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, str)):
        return str(value)
    raise TypeError(f"set-relation fields must be strings, integers or booleans, not {type(value).__name__}")


def set_unique(fields: list[str], content: dict[str, Any]) -> bytes:
    """The ``unique`` header of a set-relation MID: the fields' values joined with ``|`` (SDK 0.12.0)."""
    return "|".join(js_string(content.get(f)) for f in fields).encode()


def set_init_event(controller: str, model: StreamID, fields: list[str], content: dict[str, Any]) -> Event:
    """Unsigned deterministic init for a set-relation MID; the content follows in the first data event."""
    return deterministic_init_event(init_header(controller=controller, model=model, unique=set_unique(fields, content)))


def mid_stream_id(init: Event) -> StreamID:
    return StreamID(StreamType.MODEL_INSTANCE_DOCUMENT, init.cid)
