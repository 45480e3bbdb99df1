"""Hypothesis strategies for JSON content both Python and the JS SDK represent exactly.

No floats (JS cannot tell 1.0 from 1) and only safe integers (|n| < 2**53). Text leans on
the cases that break hand-written encoders: astral characters (4-byte UTF-8, surrogate
pairs in JS), non-ASCII keys (DAG-CBOR sorts keys by their UTF-8 bytes), keys with '/' and
'~' (JSON-pointer escaping) and integer-like keys (JS enumerates those first).
"""

from __future__ import annotations

from typing import Any

from hypothesis import strategies as st

from ceramic_pipeline.ceramic.cid import CID, DAG_CBOR, DAG_JOSE
from ceramic_pipeline.ceramic.identifiers import StreamID, StreamType

SAFE_INT = 2**53 - 1

# CBOR length/integer boundaries and JS array-index boundaries.
_EDGE_INTS = [0, -1, 23, 24, -24, -25, 255, 256, 65535, 65536, 2**31 - 1, -(2**31), 2**32 - 1, 2**32, SAFE_INT, -SAFE_INT]
# '/' and '~' need JSON-pointer escaping; integer-like keys come first in JS Object.keys,
# but only up to 2**32 - 2 (an array index); "01" and "-1" are ordinary keys.
SPECIAL_KEYS = ["", "/", "~", "~1", "a/b", "~0/~1", "0", "1", "10", "2", "01", "-1", "4294967294", "4294967295", "é", "😀"]

_chars = st.one_of(
    st.characters(codec="utf-8"),  # any scalar value; surrogates excluded (not valid UTF-8)
    st.characters(min_codepoint=0x10000, codec="utf-8"),  # astral plane: emoji, CJK ext, private use
    st.sampled_from("/~|0123456789"),
)
text = st.text(_chars, max_size=24)
# "__proto__" is left out on purpose: JS would treat it as the prototype, not as content.
keys = st.one_of(st.text(_chars, max_size=8), st.sampled_from(SPECIAL_KEYS)).filter(lambda k: k != "__proto__")
ints = st.one_of(st.integers(-SAFE_INT, SAFE_INT), st.sampled_from(_EDGE_INTS), st.integers(-30, 30))
scalars = st.one_of(st.none(), st.booleans(), ints, text)
json_values = st.recursive(
    scalars, lambda children: st.lists(children, max_size=4) | st.dictionaries(keys, children, max_size=4), max_leaves=16
)
contents = st.dictionaries(keys, json_values, max_size=6)
seeds = st.binary(min_size=32, max_size=32)
should_index = st.sampled_from([None, True, False])


@st.composite
def mutated(draw: st.DrawFn, value: Any, depth: int = 0) -> Any:
    """A variation of ``value`` (kept, replaced, deleted, added, resized) so diffs recurse and mix ops."""
    if isinstance(value, dict) and depth < 4:
        out: dict[str, Any] = {}
        for key, child in value.items():
            action = draw(st.sampled_from(["keep", "keep", "mutate", "replace", "delete"]))
            if action == "keep":
                out[key] = child
            elif action == "mutate":
                out[key] = draw(mutated(child, depth + 1))
            elif action == "replace":
                out[key] = draw(json_values)
        for key, child in draw(st.dictionaries(keys, json_values, max_size=2)).items():
            out.setdefault(key, child)
        return out
    if isinstance(value, list) and depth < 4:
        items = [draw(mutated(v, depth + 1)) if draw(st.booleans()) else v for v in value]
        cut = draw(st.integers(0, len(items)))
        return items[:cut] + draw(st.lists(json_values, max_size=2)) if draw(st.booleans()) else items
    return draw(json_values) if draw(st.booleans()) else value


@st.composite
def content_pairs(draw: st.DrawFn) -> tuple[dict[str, Any], dict[str, Any]]:
    """(old, new): either unrelated documents or ``new`` derived from ``old``."""
    old = draw(contents)
    new = draw(st.one_of(contents, mutated(old), st.just(old)))
    return old, new


@st.composite
def stream_ids(draw: st.DrawFn, stream_type: StreamType = StreamType.MODEL) -> StreamID:
    codec = draw(st.sampled_from([DAG_JOSE, DAG_CBOR]))
    return StreamID(int(stream_type), CID.for_block(codec, draw(st.binary(max_size=16))))


@st.composite
def set_instances(draw: st.DrawFn) -> tuple[list[str], dict[str, Any]]:
    """(set fields, content): the fields hold scalars (or are missing), as a set relation requires."""
    fields = draw(st.lists(keys, min_size=1, max_size=3, unique=True))
    content = {k: v for k, v in draw(contents).items() if k not in fields}
    for field in fields:
        value = draw(st.one_of(st.just(...), st.none(), st.booleans(), ints, text))
        if value is not ...:
            content[field] = value
    return fields, dict(draw(st.permutations(list(content.items()))))


_property_schemas = st.recursive(
    st.one_of(
        st.builds(lambda n: {"type": "string", "maxLength": n}, st.integers(0, SAFE_INT)),
        st.builds(lambda n: {"type": "integer", "minimum": n}, ints),
        st.just({"type": "boolean"}),
        st.builds(lambda n: {"type": "array", "maxItems": n, "items": {"type": "string"}}, st.integers(0, 4096)),
    ),
    lambda inner: st.builds(
        lambda props: {"type": "object", "additionalProperties": False, "properties": props},
        st.dictionaries(keys, inner, min_size=1, max_size=3),
    ),
    max_leaves=6,
)


@st.composite
def model_definitions(draw: st.DrawFn) -> dict[str, Any]:
    """ModelDefinitionV2 documents that the SDK's own codec (ajv strict) accepts."""
    properties = draw(st.dictionaries(keys, _property_schemas, min_size=1, max_size=5))
    names = list(properties)
    relation = draw(
        st.sampled_from(["list", "single", "set", "none"]).flatmap(
            lambda kind: st.builds(lambda f: {"type": "set", "fields": f}, st.lists(st.sampled_from(names), min_size=1, unique=True))
            if kind == "set"
            else st.just({"type": kind})
        )
    )
    schema: dict[str, Any] = {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "type": "object",
        "additionalProperties": False,
        "properties": properties,
    }
    required = draw(st.lists(st.sampled_from(names), unique=True))
    if required:
        schema["required"] = required
    definition: dict[str, Any] = {
        "version": "2.0",
        "name": draw(st.text(_chars, min_size=1, max_size=40)),
        "interface": False,
        "implements": [str(s) for s in draw(st.lists(stream_ids(), max_size=2))],
        "schema": schema,
        "accountRelation": relation,
    }
    if draw(st.booleans()):
        definition["description"] = draw(text)
    if draw(st.booleans()):
        definition["immutableFields"] = draw(st.lists(st.sampled_from(names), unique=True))
    if draw(st.booleans()):
        definition["relations"] = {
            draw(keys): draw(st.sampled_from([{"type": "account"}, {"type": "document", "model": None}]))
        }
    return definition
