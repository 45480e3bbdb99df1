"""DAG-CBOR encoding and strict decoding.

Encoding uses ``libipld`` (Rust): canonical length-first key order, minimal integers,
64-bit floats, and clear errors for NaN/Infinity, non-string keys and out-of-range
integers; it runs ~25x faster than ``cbor2``'s canonical mode here. But ``libipld`` has
no link type and silently writes any ``bytes`` value that parses as a CID as a link (an
atproto convention): a JWS signature or a random ``unique`` could be mangled by chance.
So only JSON-like subtrees (no bytes, no CIDs) reach ``libipld``; maps and lists that
hold bytes or :class:`CID` values are framed by the few lines below.

Decoding uses ``cbor2`` with a tag-42 hook (``libipld`` decodes links to plain bytes,
which would lose the link/bytes distinction). Strictness is then enforced the way
ceramic-one enforces it: the decoded value must re-encode to the very same bytes, which
rejects non-canonical key order, duplicate keys, non-minimal integers, short floats,
indefinite lengths and foreign tags in one rule.
"""

from __future__ import annotations

from typing import Any

import cbor2
import libipld

from ceramic_pipeline.ceramic.cid import CID

LINK_TAG = 42


class DagCborError(ValueError):
    """A value that cannot be DAG-CBOR, or bytes that are not strict DAG-CBOR."""


def encode(value: Any) -> bytes:
    """Encode ``value`` (None, bool, int, float, str, bytes, list, dict, CID) as DAG-CBOR."""
    if not _is_json_like(value):
        return _encode_framed(value)
    try:
        return libipld.encode_dag_cbor(value)
    except ValueError as exc:
        raise DagCborError(f"cannot encode as DAG-CBOR: {_reason(exc)} (at {_locate(value)})") from None
    except RecursionError:
        raise DagCborError("cannot encode as DAG-CBOR: value nested too deeply") from None


def decode(data: bytes, *, strict: bool = True) -> Any:
    """Decode one DAG-CBOR value; links come back as :class:`CID`.

    With ``strict`` (the default) the bytes must be exactly what :func:`encode` produces
    for the decoded value, as ceramic-one requires of every event block.
    """
    try:
        value = cbor2.loads(data, tag_hook=_tag_hook)
    except DagCborError:
        raise
    except Exception as exc:  # cbor2 raises several error types, wrapping our hook's
        if isinstance(exc.__cause__, DagCborError) or isinstance(exc.__context__, DagCborError):
            raise (exc.__cause__ or exc.__context__) from None
        raise DagCborError(f"malformed CBOR: {exc}") from None
    if not strict:
        return value
    try:
        again = encode(value)
    except DagCborError as exc:  # e.g. cbor2 turned a foreign tag into a datetime
        raise DagCborError(f"not DAG-CBOR: holds a value DAG-CBOR cannot represent ({exc})") from None
    if again != data:
        raise DagCborError(
            "bytes do not round-trip: non-canonical key order, duplicate keys, "
            "non-minimal integers, short floats or indefinite lengths"
        )
    return value


def _tag_hook(tag: cbor2.CBORTag, _immutable: bool) -> Any:
    if tag.tag != LINK_TAG:
        raise DagCborError(f"DAG-CBOR allows only tag 42 (links), found tag {tag.tag}")
    raw = tag.value
    if not isinstance(raw, bytes) or not raw.startswith(b"\x00"):
        raise DagCborError("a tag-42 link must be bytes starting with the 0x00 multibase prefix")
    return CID.from_bytes(raw[1:])


def _is_json_like(value: Any) -> bool:
    """True when no bytes or CID occurs anywhere in ``value`` (safe to hand to libipld)."""
    if isinstance(value, (bytes, bytearray, memoryview, CID)):
        return False
    if isinstance(value, dict):
        return all(_is_json_like(v) for v in value.values())
    if isinstance(value, list):
        return all(_is_json_like(v) for v in value)
    return True


def _header(major: int, length: int) -> bytes:
    if length < 24:
        return bytes([major << 5 | length])
    for info, size in ((24, 1), (25, 2), (26, 4), (27, 8)):
        if length < 1 << (8 * size):
            return bytes([major << 5 | info]) + length.to_bytes(size, "big")
    raise DagCborError("length too large")


def _encode_framed(value: Any) -> bytes:
    if isinstance(value, (bytes, bytearray, memoryview)):
        return _header(2, len(value)) + bytes(value)
    if isinstance(value, CID):
        link = b"\x00" + value.bytes
        return b"\xd8\x2a" + _header(2, len(link)) + link
    if isinstance(value, dict):
        if not all(isinstance(k, str) for k in value):
            raise DagCborError(f"cannot encode as DAG-CBOR: map keys must be strings, found {next(k for k in value if not isinstance(k, str))!r}")
        keys = sorted(value, key=lambda k: (len(k.encode()), k.encode()))
        parts = [_header(5, len(keys))]
        for key in keys:
            parts.append(libipld.encode_dag_cbor(key))
            parts.append(encode(value[key]))
        return b"".join(parts)
    if isinstance(value, list):
        return _header(4, len(value)) + b"".join(encode(v) for v in value)
    return encode(value)


def _reason(exc: ValueError) -> str:
    return str(exc).removeprefix("Failed to encode DAG-CBOR. ")


def _locate(value: Any, path: str = "$") -> str:
    """Find the first offending leaf so the error names where it is (slow path only)."""
    if isinstance(value, dict):
        for k, v in value.items():
            if not isinstance(k, str):
                return f"{path} key {k!r}"
            found = _locate(v, f"{path}.{k}")
            if found:
                return found
        return ""
    if isinstance(value, list):
        for i, v in enumerate(value):
            found = _locate(v, f"{path}[{i}]")
            if found:
                return found
        return ""
    try:
        libipld.encode_dag_cbor(value)
    except ValueError:
        return f"{path} = {value!r}"[:200]
    return ""
