"""The DoclingChunk schema under ajv 8 strict mode (as js-ceramic / ComposeDB / the SDK compile it).

ajv comes from npm (the conformance harness); python-jsonschema is what the writer validates
with before signing, so the two must agree on what is valid.
"""

from __future__ import annotations

import copy

import jsonschema

from ceramic_pipeline.ceramic.did import DIDKey
from ceramic_pipeline.ceramic.model import DOCLING_CHUNK_MODEL, TEXT_HOMES, content_errors, model_init_event

SCHEMA = DOCLING_CHUNK_MODEL["schema"]
BASE = {
    "documentId": "reports/q3.json", "chunkIndex": 0, "textSha256": "a" * 64, "textBytes": 5,
    "createdAt": "2026-11-27T00:00:00.000Z", "updatedAt": "2026-11-27T00:00:00.000Z",
}
CONTENTS = [
    {**BASE, "text": "hello"},
    {**BASE, "textCid": "bafkreiabc"},
    {**BASE, "removed": True},
    {**BASE, "text": "x", "textCid": "bafk"},  # two homes for the text
    BASE,  # no home at all
    {**BASE, "text": "x", "textCid": "b", "removed": True},
    {**BASE, "removed": False},
    {**BASE, "text": "x", "surprise": 1},
    {**BASE, "text": "x", "chunkIndex": -1},
    {**BASE, "text": "x", "headings": ["\U0001d11e" * 1024]},  # 1,024 code points (2,048 UTF-16 units)
    {**BASE, "text": "x", "headings": ["h" * 1025]},
    {**BASE, "text": "x", "documentId": "d" * 4096, "source": "s" * 4096},
    {**BASE, "text": "x", "documentId": "d" * 4097},
    {**BASE, "text": "x", "documentId": ""},
    {**BASE, "text": "x", "truncated": [{"field": "/headings/0", "sha256": "b" * 64, "chars": 300000}]},
    {**BASE, "text": "x", "truncated": [{"field": "/headings/0", "sha256": "B" * 64, "chars": 3}]},
    {**BASE, "text": "x", "truncated": [{"field": "/source", "chars": 3}]},
    {**BASE, "text": "x", "createdAt": "yesterday"},  # format date-time: ajv-formats and the format checker
    {**BASE, "text": "x", "embeddingsMetadata": {"model": "m", "dimension": 384}},
    {**BASE, "text": "x", "embeddingsMetadata": {"model": "m", "dimension": 0}},
]


def test_the_schema_compiles_in_ajv_strict_mode_and_validates_like_jsonschema(sdk):
    result = sdk.request("schema", schema=SCHEMA, contents=CONTENTS)  # compile() throws in strict mode
    python = jsonschema.Draft202012Validator(SCHEMA, format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER)
    expected = [python.is_valid(c) for c in CONTENTS]
    assert result["valid"] == expected
    assert result["valid"] == [not content_errors(c) for c in CONTENTS]  # the writer's own check agrees
    assert expected.count(True) == 7 and expected.count(False) == 13  # both kinds really exercised


def test_the_harness_is_strict_it_refuses_the_old_exactly_one_construction(sdk):
    """The former oneOf/not/required form (same meaning) fails ajv's strictRequired: the harness can fail."""
    old = copy.deepcopy(SCHEMA)
    old["oneOf"] = [
        {"required": [home], "not": {"anyOf": [{"required": [o]} for o in TEXT_HOMES if o != home]}} for home in TEXT_HOMES
    ]
    reply = sdk.call("schema", schema=old, contents=[])
    assert not reply["ok"] and "strictRequired" in reply["error"]


def test_the_sdk_accepts_the_model_init_event(sdk):
    """@ceramic-sdk/model-protocol's ModelInitEventPayload codec (ajv validateSchema) accepts the definition."""
    signer = DIDKey.from_seed(b"\x05" * 32)
    event = model_init_event(signer, DOCLING_CHUNK_MODEL)
    result = sdk.request("verify", car_hex=event.car.hex(), post_data=event.post_body()["data"], controller=signer.did)
    assert result["codec"] == "ModelInitEventPayload" and result["event_cid"] == str(event.cid)
