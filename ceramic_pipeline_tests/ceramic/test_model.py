"""The DoclingChunk model definition: node rules, schema behaviour, determinism."""

import jsonschema
import pytest

from ceramic_pipeline.ceramic.did import DIDKey
from ceramic_pipeline.ceramic.model import (
    DOCLING_CHUNK_MODEL,
    content_errors,
    model_init_event,
    model_stream_id,
    set_unique,
)

SCHEMA = DOCLING_CHUNK_MODEL["schema"]
BASE = {
    "documentId": "reports/q3.json", "chunkIndex": 0, "textSha256": "a" * 64, "textBytes": 5,
    "createdAt": "2026-11-27T00:00:00.000Z", "updatedAt": "2026-11-27T00:00:00.000Z",
}


def _objects(schema):
    if isinstance(schema, dict):
        if schema.get("type") == "object":
            yield schema
        for value in schema.values():
            yield from _objects(value)
    elif isinstance(schema, list):
        for value in schema:
            yield from _objects(value)


def test_every_object_schema_forbids_additional_properties():
    objects = list(_objects(SCHEMA))
    assert len(objects) >= 2 and all(o.get("additionalProperties") is False for o in objects)


def test_schema_has_no_floats():
    def floats(v):
        if isinstance(v, float):
            return True
        if isinstance(v, dict):
            return any(floats(x) for x in v.values()) or any(x.get("type") == "number" for x in [v])
        if isinstance(v, list):
            return any(floats(x) for x in v)
        return False

    assert not floats(DOCLING_CHUNK_MODEL)


@pytest.mark.parametrize(
    "content, valid",
    [
        ({**BASE, "text": "hello"}, True),
        ({**BASE, "textCid": "bafkreiabc"}, True),
        ({**BASE, "removed": True}, True),
        ({**BASE, "text": "x", "textCid": "bafk"}, False),  # two homes for the text
        (BASE, False),  # no home at all
        ({**BASE, "text": "x", "removed": True}, False),
        ({**BASE, "text": "x", "surprise": 1}, False),
        ({**BASE, "text": "x", "chunkIndex": 1.5}, False),
        ({**BASE, "text": "x", "embeddingsMetadata": {"model": "m", "dimension": 384}}, True),
        ({**BASE, "text": "x", "embeddingsMetadata": {"model": "m", "dimension": 384, "x": 1}}, False),
        ({**BASE, "text": "é" * 16383}, True),
        ({**BASE, "text": "x" * 16384}, False),
        ({**BASE, "text": "x", "documentId": "d" * 4096, "source": "s" * 4096}, True),  # PATH_MAX
        ({**BASE, "text": "x", "documentId": "d" * 4097}, False),
        ({**BASE, "text": "x", "source": "s" * 4097}, False),
        ({**BASE, "text": "x", "headings": ["h" * 1024] * 256}, True),
        ({**BASE, "text": "x", "headings": ["h" * 1025]}, False),
        ({**BASE, "text": "x", "headings": ["h"] * 257}, False),
        ({**BASE, "text": "x", "truncated": [{"field": "/headings/0", "sha256": "b" * 64, "chars": 300000}]}, True),
        ({**BASE, "text": "x", "truncated": [{"field": "/headings/0", "sha256": "b" * 64}]}, False),
        ({**BASE, "text": "x", "truncated": [{"field": "/source", "sha256": "b" * 64, "chars": 1, "x": 1}]}, False),
    ],
)
def test_schema(content, valid):
    validator = jsonschema.Draft202012Validator(SCHEMA)
    assert validator.is_valid(content) is valid


def test_model_stream_is_deterministic_per_did():
    a, b = DIDKey.from_seed(bytes(32)), DIDKey.from_seed(bytes([1]) * 32)
    assert model_stream_id(model_init_event(a, DOCLING_CHUNK_MODEL)) == model_stream_id(model_init_event(a, DOCLING_CHUNK_MODEL))
    assert model_stream_id(model_init_event(a, DOCLING_CHUNK_MODEL)) != model_stream_id(model_init_event(b, DOCLING_CHUNK_MODEL))


def test_set_unique_matches_the_sdk_rule():
    assert set_unique(["documentId", "chunkIndex"], {"documentId": "a|b", "chunkIndex": 0}) == b"a|b|0"
    assert set_unique(["documentId", "chunkIndex"], {"documentId": "d"}) == b"d|"
    with pytest.raises(TypeError):
        set_unique(["x"], {"x": 1.5})


@pytest.mark.parametrize(
    "content, expected",
    [
        ({**BASE, "text": "x"}, []),
        ({**BASE, "text": "x", "headings": ["ok", "secret clause " * 100]}, [("/headings/1", "maxLength 1024")]),
        ({**BASE, "text": "x", "documentId": "secret/" * 700}, [("/documentId", "maxLength 4096")]),
        ({**BASE, "text": "secret", "textCid": "bafk"}, [("", "needs exactly one of text, textCid, removed")]),
        ({**BASE, "text": "x", "pages": [-1]}, [("/pages/0", "minimum 0")]),
        ({**BASE, "text": "x", "createdAt": "secret"}, [("/createdAt", "format date-time")]),
    ],
)
def test_content_errors_name_the_field_and_rule_never_the_value(content, expected):
    errors = content_errors(content)
    assert errors == expected
    assert not any("secret" in reason for _, reason in errors)
