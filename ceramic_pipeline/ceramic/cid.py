"""CIDv1 values: the content address of a block.

Hand-written on purpose: a CIDv1 is four concatenated fields, and the one maintained
Python implementation (``multiformats``) renders ``str(CID)`` at ~3,300/s here, slower
than the event rate we must sustain. Multibase text goes through ``libipld`` (Rust).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from functools import lru_cache

import libipld

from ceramic_pipeline.ceramic import varint

DAG_PB = 0x70
DAG_CBOR = 0x71
RAW = 0x55
DAG_JOSE = 0x85
SHA2_256 = 0x12

CODEC_NAMES = {DAG_PB: "dag-pb", DAG_CBOR: "dag-cbor", RAW: "raw", DAG_JOSE: "dag-jose"}


@lru_cache(maxsize=None)
def _prefix(codec: int) -> bytes:
    """``version 1 ‖ codec ‖ sha2-256 ‖ 32``: the part of a CIDv1 before the digest."""
    return b"\x01" + varint.encode(codec) + b"\x12\x20"


class CIDError(ValueError):
    """A byte string or text that is not a CID we can read."""


@dataclass(frozen=True, slots=True)
class CID:
    """A CID held as its binary form; ``str()`` gives the base32 ``b…`` text."""

    bytes: bytes

    @classmethod
    def for_block(cls, codec: int, data: bytes) -> CID:
        """CIDv1 of ``data`` under ``codec`` with a sha2-256 multihash."""
        return cls(_prefix(codec) + hashlib.sha256(data).digest())

    @classmethod
    def from_bytes(cls, data: bytes) -> CID:
        cid, end = cls.read(data, 0)
        if end != len(data):
            raise CIDError(f"{len(data) - end} trailing bytes after CID")
        return cls(cid.bytes)

    @classmethod
    def read(cls, data: bytes, offset: int) -> tuple[CID, int]:
        """Parse one CID starting at ``offset``; return it and the offset after it."""
        start = offset
        if data[offset + 2 : offset + 4] == b"\x12\x20" and data[offset] == 1 and data[offset + 1] < 0x80:
            end = offset + 36  # the usual CIDv1: one-byte codec, sha2-256 (dag-cbor, raw, ...)
        elif data[offset : offset + 5] == b"\x01\x85\x01\x12\x20":
            end = offset + 37  # a dag-jose CIDv1 (every signed event's envelope)
        elif data[offset : offset + 2] == b"\x12\x20":  # CIDv0: a bare sha2-256 multihash
            end = offset + 34
        else:
            version, offset = varint.decode(data, offset)
            if version != 1:
                raise CIDError(f"unsupported CID version {version}")
            _codec, offset = varint.decode(data, offset)
            _hash_code, offset = varint.decode(data, offset)
            size, offset = varint.decode(data, offset)
            end = offset + size
        if end > len(data):
            raise CIDError("truncated CID")
        return cls(bytes(data[start:end])), end

    @classmethod
    def from_string(cls, text: str) -> CID:
        try:
            if text.startswith("Qm"):  # CIDv0 text is bare base58btc
                text = "z" + text
            return cls.from_bytes(bytes(libipld.decode_multibase(text)[1]))
        except (ValueError, IndexError) as exc:
            raise CIDError(f"not a CID: {text!r} ({exc})") from None

    @property
    def version(self) -> int:
        return 0 if self.bytes[0] == 0x12 else 1

    @property
    def codec(self) -> int:
        if self.version == 0:
            return DAG_PB
        return varint.decode(self.bytes, 1)[0]

    @property
    def digest(self) -> bytes:
        """The multihash digest (its code and length fields stripped)."""
        if self.version == 0:
            return self.bytes[2:]
        offset = varint.decode(self.bytes, varint.decode(self.bytes, 1)[1])[1]  # skip version, codec, hash code
        size, offset = varint.decode(self.bytes, offset)
        return self.bytes[offset : offset + size]

    def __str__(self) -> str:
        if self.version == 0:
            return libipld.encode_multibase("z", self.bytes)[1:]
        return libipld.encode_multibase("b", self.bytes)

    def __repr__(self) -> str:
        return f"CID({self})"
