"""CAR v1 archives: ``varint(len) ‖ dag-cbor header {roots, version: 1}`` then ``varint(len) ‖ cid ‖ bytes`` blocks.

Hand-written framing: the reader must keep each block's exact bytes (ceramic-one checks
that they round-trip), which ``libipld.decode_car`` does not return.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from ceramic_pipeline.ceramic import codec, varint
from ceramic_pipeline.ceramic.cid import CID, CIDError


class CarError(ValueError):
    """Bytes that are not a well-formed CAR v1 archive."""


@dataclass(frozen=True)
class Car:
    roots: list[CID]
    blocks: dict[CID, bytes]  # in archive order


_ONE_ROOT = b"\xa2" + codec.encode("roots") + b"\x81"
_VERSION_1 = codec.encode("version") + b"\x01"


def encode_car(roots: list[CID], blocks: Iterable[tuple[CID, bytes]]) -> bytes:
    if len(roots) == 1:  # every event CAR: {"roots": [root], "version": 1} written directly
        header = _ONE_ROOT + codec.link(roots[0]) + _VERSION_1
    else:
        header = codec.encode({"roots": roots, "version": 1})
    parts = [varint.encode(len(header)), header]
    for cid, data in blocks:
        parts += (varint.encode(len(cid.bytes) + len(data)), cid.bytes, data)
    return b"".join(parts)


def decode_car(data: bytes, *, strict: bool = True) -> Car:
    """The CAR's roots and blocks (block bytes as stored, not decoded). ``strict``: the header
    must be canonical DAG-CBOR (``codec.decode``), as ceramic-one requires. Raises CarError."""
    try:
        size, offset = varint.decode(data, 0)
        if offset + size > len(data):
            raise CarError("truncated CAR header")
        header = codec.decode(data[offset : offset + size], strict=strict)
        offset += size
        if not isinstance(header, dict) or header.get("version") != 1 or set(header) != {"roots", "version"}:
            raise CarError("CAR header must be {roots, version: 1}")
        roots = header["roots"]
        if not isinstance(roots, list) or not roots or not all(isinstance(r, CID) for r in roots):
            raise CarError("CAR header has no roots")
        blocks: dict[CID, bytes] = {}
        while offset < len(data):
            size, offset = varint.decode(data, offset)
            end = offset + size
            if end > len(data):
                raise CarError("truncated CAR block")
            cid, body_start = CID.read(data, offset)
            if body_start > end:
                raise CarError("CAR block shorter than its CID")
            blocks[cid] = bytes(data[body_start:end])
            offset = end
    except CarError:
        raise
    except (ValueError, CIDError, IndexError) as exc:
        raise CarError(f"unparsable CAR: {exc}") from None
    return Car(roots, blocks)
