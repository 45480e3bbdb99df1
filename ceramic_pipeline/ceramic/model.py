"""Model streams and the ``DoclingChunk`` model definition (the one place it is defined).

The model uses ``accountRelation: set`` on (documentId, chunkIndex): a chunk's StreamID is a
pure function of (controller DID, model, documentId, chunkIndex), so re-runs and back-fills
never create duplicate streams and a changed chunk becomes a data event on the same stream.

Field limits, and what happens to real docling output that exceeds them (the writer applies
this policy in ``writer/content.py`` and validates the result with :func:`content_errors`
before anything is signed):

- ``documentId`` and ``source``: up to :data:`MAX_PATH_CHARS` (4096 = Linux ``PATH_MAX``)
  characters, so any real path fits. ``documentId`` is the stream's identity (it is in the
  init event's ``unique`` header) and is never altered: a longer one is a per-chunk error.
- ``headings``: each heading up to :data:`MAX_HEADING_CHARS` characters, at most
  :data:`MAX_HEADINGS` of them. Docling labels long legal clauses and table captions as
  headings; such a heading is **truncated** to its first :data:`MAX_HEADING_CHARS`
  characters and an entry in ``truncated`` keeps the full value's SHA-256 (of its UTF-8
  bytes) and length in characters, with a JSON Pointer (RFC 6901) to the field. A long
  ``source`` is truncated the same way. The full values stay in PostgreSQL (``chunks``).
- ``text``: inline below 16,384 UTF-8 bytes, otherwise pinned to IPFS (``textCid``).
- Every event block must also fit the official SDK's block limit
  (:data:`~ceramic_pipeline.ceramic.events.MAX_BLOCK_SIZE`, 256,000 bytes).

What still does not fit is a per-chunk error (``writer.plan.ChunkError``: document, chunk
index, field, rule; never the value) and that chunk gets no event: a ``documentId`` over
4096 characters, more than :data:`MAX_HEADINGS` headings or 4096 pages, an unpinned text of
16,384 bytes or more, text that is not valid Unicode, or schema-valid content whose event
block is still over 256,000 bytes (e.g. 256 headings of 1,024 four-byte characters).

The schema compiles in ajv 8 strict mode (draft 2020-12, ``strict: true``), as js-ceramic,
ComposeDB and ``@ceramic-sdk/model-protocol`` compile model schemas; the conformance tests
check that, and that ajv and python-jsonschema agree on valid and invalid contents.
"""

from __future__ import annotations

import functools
from typing import Any

import jsonschema
import jsonschema_rs

from ceramic_pipeline.ceramic.did import DIDKey
from ceramic_pipeline.ceramic.events import Event, deterministic_init_event, init_header, signed_init_event
from ceramic_pipeline.ceramic.identifiers import META_MODEL, StreamID, StreamType

MAX_PATH_CHARS = 4096  # Linux PATH_MAX (limits.h); documentId and source
MAX_HEADING_CHARS = 1024
MAX_HEADINGS = 256
MAX_INLINE_TEXT_CHARS = 16383  # inline text is < 16,384 UTF-8 bytes (settings.MAX_INLINE_TEXT_BYTES)
TEXT_HOMES = ("text", "textCid", "removed")

_STRING_LIST = {"type": "array", "maxItems": MAX_HEADINGS, "items": {"type": "string", "maxLength": MAX_HEADING_CHARS}}
_SHA256 = {"type": "string", "pattern": "^[0-9a-f]{64}$"}

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
            "documentId": {"type": "string", "minLength": 1, "maxLength": MAX_PATH_CHARS},
            "chunkIndex": {"type": "integer", "minimum": 0},
            "text": {"type": "string", "maxLength": MAX_INLINE_TEXT_CHARS},
            "textCid": {"type": "string", "maxLength": 128},
            "textSha256": _SHA256,
            "textBytes": {"type": "integer", "minimum": 0},
            "source": {"type": "string", "maxLength": MAX_PATH_CHARS},
            "headings": _STRING_LIST,
            "pages": {"type": "array", "maxItems": 4096, "items": {"type": "integer", "minimum": 0}},
            "truncated": {
                "type": "array",
                "maxItems": MAX_HEADINGS + 1,  # every heading and the source
                "items": {
                    "type": "object",
                    "additionalProperties": False,
                    "properties": {
                        "field": {"type": "string", "maxLength": 64},  # JSON Pointer, e.g. /headings/2
                        "sha256": _SHA256,  # of the full value's UTF-8 bytes
                        "chars": {"type": "integer", "minimum": 0},  # the full value's length
                    },
                    "required": ["field", "sha256", "chars"],
                },
            },
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
        # Exactly one of: inline text, pinned text (CID), or the removed marker: a branch matches
        # iff its property is present, and oneOf admits exactly one matching branch. Each branch
        # names its property under "properties" because ajv's strictRequired rejects a "required"
        # whose property is not defined in the same schema object.
        "oneOf": [{"properties": {home: True}, "required": [home]} for home in TEXT_HOMES],
    },
}


@functools.cache
def _chunk_validator() -> jsonschema.Draft202012Validator:
    """Compiled once per process: the DoclingChunk schema, formats checked (as ajv-formats does)."""
    schema = DOCLING_CHUNK_MODEL["schema"]
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator(schema, format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER)


@functools.cache
def _fast_chunk_validator() -> jsonschema_rs.Validator:
    """The same schema and formats in jsonschema-rs (the Rust crate ceramic-one validates with):
    0.6 us per content against python-jsonschema's 55 us (1 s of a 10,000-chunk ingest). It
    answers valid or not; python-jsonschema still words the errors of content that is not."""
    return jsonschema_rs.validator_for(DOCLING_CHUNK_MODEL["schema"], validate_formats=True, offline=True)


def content_errors(content: Any) -> list[tuple[str, str]]:
    """Why ``content`` does not fit the DoclingChunk schema: ``[(field, reason)]``, ``[]`` when it fits.

    ``field`` is a JSON Pointer (``/headings/3``; ``""`` for the whole content). ``reason``
    names the rule broken (``maxLength 1024``), never the value, so it is safe to log.
    """
    if _fast_chunk_validator().is_valid(content):
        return []  # the usual case, ~90x faster than collecting python-jsonschema's errors
    errors = sorted(_chunk_validator().iter_errors(content), key=lambda e: [str(p) for p in e.absolute_path])
    return [("".join(f"/{p}" for p in e.absolute_path), _reason(e)) for e in errors]


def _reason(error: jsonschema.ValidationError) -> str:
    rule, limit = error.validator, error.validator_value
    if rule == "oneOf":
        return "needs exactly one of " + ", ".join(TEXT_HOMES)
    if rule in ("required", "additionalProperties"):
        return error.message  # names only property names, never values
    if isinstance(limit, (str, int, bool)) and rule != "const":
        return f"{rule} {limit}"
    return f"fails {rule}"


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
