"""DAG-CBOR encoding and strict decoding.

Encoding uses ``libipld`` (Rust): canonical length-first key order, minimal integers,
64-bit floats, and clear errors for NaN/Infinity, non-string keys and out-of-range
integers; it runs ~25x faster than ``cbor2``'s canonical mode here. But ``libipld`` has
no link type and silently writes any ``bytes`` value that parses as a CID as a link (an
atproto convention), so a JWS signature or a random ``unique`` could be mangled by chance.
Hence: one ``libipld`` call, then a scan for the link tag ``d8 2a``. That pair cannot occur
in UTF-8 text, so a hit means libipld wrote a link (or an integer/float happened to contain
the pair) and the value is re-encoded by the careful framing below, which writes bytes as
bytes and :class:`CID` values as links and hands only leaves and JSON-like parts to libipld.

Decoding uses ``cbor2`` with a tag-42 hook (``libipld`` decodes links to plain bytes,
which would lose the link/bytes distinction). Strictness is then enforced the way
ceramic-one enforces it: the decoded value must re-encode to the very same bytes, which
rejects non-canonical key order, duplicate keys, non-minimal integers, short floats,
indefinite lengths and foreign tags in one rule.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

import cbor2
import libipld

from ceramic_pipeline.ceramic.cid import CID

LINK_TAG = 42
_LINK_TAG = b"\xd8\x2a"


class DagCborError(ValueError):
    """A value that cannot be DAG-CBOR, or bytes that are not strict DAG-CBOR."""


def encode(value: Any) -> bytes:
    """Encode ``value`` (None, bool, int, float, str, bytes, list, dict, CID) as DAG-CBOR."""
    try:
        return _encode(value)
    except DagCborError as exc:
        raise DagCborError(f"{exc} (at {_locate(value)})") from None
    except RecursionError:
        raise DagCborError("cannot encode as DAG-CBOR: value nested too deeply") from None


def _encode(value: Any) -> bytes:
    if isinstance(value, CID):
        return link(value)
    if type(value) is dict and any(type(v) is CID for v in value.values()):
        return _encode_framed(value)  # e.g. every data payload: libipld would convert it all, then fail
    try:
        data = libipld.encode_dag_cbor(value)
    except ValueError:  # libipld does not know CID objects, or a real violation (located by encode)
        return _encode_framed(value)
    return _encode_framed(value) if _LINK_TAG in data else data


def link(cid: CID) -> bytes:
    """A CID as a DAG-CBOR link: tag 42 over ``0x00 ‖ cid bytes``."""
    return _LINK_TAG + bytes_item(b"\x00" + cid.bytes)


def bytes_item(data: bytes) -> bytes:
    """A CBOR byte string (major type 2)."""
    return _header(2, len(data)) + data


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


@lru_cache(maxsize=4096)
def _key(key: str) -> bytes:
    """An encoded map key; protocol maps reuse a handful of keys."""
    return libipld.encode_dag_cbor(key)


def _header(major: int, length: int) -> bytes:
    if length < 24:
        return bytes([major << 5 | length])
    for info, size in ((24, 1), (25, 2), (26, 4), (27, 8)):
        if length < 1 << (8 * size):
            return bytes([major << 5 | info]) + length.to_bytes(size, "big")
    raise DagCborError("length too large")


def _encode_framed(value: Any) -> bytes:
    if isinstance(value, (bytes, bytearray, memoryview)):
        return bytes_item(bytes(value))
    if isinstance(value, CID):
        return link(value)
    if isinstance(value, dict):
        if not all(isinstance(k, str) for k in value):
            raise DagCborError("cannot encode as DAG-CBOR: map keys must be strings")
        encoded = sorted((_key(k), k) for k in value)  # encoded-bytes order is the length-first order
        parts = [_header(5, len(encoded))]
        for key_bytes, key in encoded:
            parts += (key_bytes, _encode(value[key]))
        return b"".join(parts)
    if isinstance(value, list):
        return _header(4, len(value)) + b"".join(_encode(v) for v in value)
    try:  # a scalar: libipld cannot turn it into a link
        return libipld.encode_dag_cbor(value)
    except ValueError as exc:
        raise DagCborError(f"cannot encode as DAG-CBOR: {_reason(exc)}") from None


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
    if isinstance(value, (bytes, CID)):
        return ""
    try:
        libipld.encode_dag_cbor(value)
    except ValueError:
        return f"{path} = {value!r}"[:200]
    return ""
