"""StreamID and CommitID (CIP-59): ``varint(0xce) ‖ varint(type) ‖ init CID [‖ commit]``, base36 text."""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum

import libipld

from ceramic_pipeline.ceramic import varint
from ceramic_pipeline.ceramic.cid import CID, CIDError

STREAMID_CODEC = 0xCE
_PREFIX = varint.encode(STREAMID_CODEC)


class StreamType(IntEnum):
    TILE = 0
    CAIP10_LINK = 1
    MODEL = 2
    MODEL_INSTANCE_DOCUMENT = 3
    UNLOADABLE = 4


class StreamIDError(ValueError):
    """Text or bytes that are not a StreamID/CommitID."""


def _split(data: bytes) -> tuple[int, CID, int]:
    """Parse ``ce01 ‖ type ‖ cid``; return (type, cid, offset after the CID)."""
    if not data.startswith(_PREFIX):
        raise StreamIDError("missing the StreamID multicodec prefix 0xce01")
    try:
        stream_type, offset = varint.decode(data, len(_PREFIX))
        cid, offset = CID.read(data, offset)
    except (ValueError, IndexError) as exc:
        raise StreamIDError(f"malformed StreamID bytes: {exc}") from None
    return stream_type, cid, offset


def _bytes_from_text(text: str) -> bytes:
    try:
        base, data = libipld.decode_multibase(text)
    except ValueError as exc:
        raise StreamIDError(f"not a multibase StreamID: {text!r} ({exc})") from None
    return bytes(data)


@dataclass(frozen=True, slots=True)
class StreamID:
    type: int
    cid: CID

    @property
    def bytes(self) -> bytes:
        return _PREFIX + varint.encode(self.type) + self.cid.bytes

    @classmethod
    def from_bytes(cls, data: bytes) -> StreamID:
        stream_type, cid, end = _split(data)
        if end != len(data):
            raise StreamIDError("trailing bytes after StreamID (is this a CommitID?)")
        return cls(stream_type, cid)

    @classmethod
    def from_string(cls, text: str) -> StreamID:
        return cls.from_bytes(_bytes_from_text(text))

    def __str__(self) -> str:
        return libipld.encode_multibase("k", self.bytes)

    def __repr__(self) -> str:
        return f"StreamID({self})"


@dataclass(frozen=True, slots=True)
class CommitID:
    """A stream at one event; ``commit is None`` is the genesis (init) commit."""

    stream_id: StreamID
    commit: CID | None = None

    @classmethod
    def from_stream(cls, stream_id: StreamID, commit: CID | None = None) -> CommitID:
        return cls(stream_id, None if commit == stream_id.cid else commit)

    @property
    def commit_cid(self) -> CID:
        """The event this commit points at (the init CID for genesis), i.e. the ``prev`` of a next event."""
        return self.commit or self.stream_id.cid

    @property
    def bytes(self) -> bytes:
        return self.stream_id.bytes + (b"\x00" if self.commit is None else self.commit.bytes)

    @classmethod
    def from_bytes(cls, data: bytes) -> CommitID:
        stream_type, cid, offset = _split(data)
        rest = data[offset:]
        stream_id = StreamID(stream_type, cid)
        if rest == b"\x00":
            return cls(stream_id)
        try:
            return cls.from_stream(stream_id, CID.from_bytes(rest))
        except CIDError as exc:
            raise StreamIDError(f"malformed commit part: {exc}") from None

    @classmethod
    def from_string(cls, text: str) -> CommitID:
        return cls.from_bytes(_bytes_from_text(text))

    def __str__(self) -> str:
        return libipld.encode_multibase("k", self.bytes)


# Every Model stream's header.model: type UNLOADABLE over a historical dag-cbor "model-v1" CID.
META_MODEL = StreamID.from_bytes(bytes.fromhex("ce01040171710b0009686d6f64656c2d7631"))
