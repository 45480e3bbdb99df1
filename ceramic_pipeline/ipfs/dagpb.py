"""The few DAG-PB and UnixFS protobuf fields a file import needs, encoded and decoded by hand.

Why hand-written: DAG-PB's canonical form puts ``Links`` (field 2) *before* ``Data``
(field 1), while general protobuf libraries (``protobuf``, ``betterproto``) always
serialise in field-number order, so their bytes would hash to a different CID than
``ipfs add``. The only Python DAG-PB packages on PyPI are single 0.0.x releases. The
schema needed is tiny: PBNode{Links, Data}, PBLink{Hash, Name, Tsize} and UnixFS
Data{Type, Data, filesize, blocksizes}; fields we never write are skipped on read.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ceramic_pipeline.ceramic import varint
from ceramic_pipeline.ceramic.cid import CID

UNIXFS_FILE = 2  # UnixFS Data.Type enum value for a file

_VARINT, _LEN = 0, 2


class DagPBError(ValueError):
    """Bytes that are not a DAG-PB node or UnixFS message we can read."""


@dataclass(frozen=True, slots=True)
class PBLink:
    cid: CID
    tsize: int  # cumulative size of the linked sub-DAG, as ipfs reports it
    name: str = ""


@dataclass(frozen=True, slots=True)
class PBNode:
    links: tuple[PBLink, ...]
    data: bytes | None


@dataclass(frozen=True, slots=True)
class UnixFSData:
    type: int
    data: bytes = b""
    filesize: int | None = None
    blocksizes: tuple[int, ...] = field(default_factory=tuple)


def _key(field_number: int, wire_type: int) -> bytes:
    return varint.encode(field_number << 3 | wire_type)


def _bytes_field(field_number: int, value: bytes) -> bytes:
    return _key(field_number, _LEN) + varint.encode(len(value)) + value


def _varint_field(field_number: int, value: int) -> bytes:
    return _key(field_number, _VARINT) + varint.encode(value)


def encode_node(node: PBNode) -> bytes:
    out = bytearray()
    for link in node.links:  # Links first: DAG-PB canonical order
        body = (
            _bytes_field(1, link.cid.bytes)
            + _bytes_field(
                2, link.name.encode()
            )  # written even when empty, as ipfs does
            + _varint_field(3, link.tsize)
        )
        out += _bytes_field(2, body)
    if node.data is not None:
        out += _bytes_field(1, node.data)
    return bytes(out)


def encode_unixfs(message: UnixFSData) -> bytes:
    out = _varint_field(1, message.type)
    if message.data:
        out += _bytes_field(2, message.data)
    if message.filesize is not None:
        out += _varint_field(3, message.filesize)
    for size in message.blocksizes:  # proto2 repeated, not packed
        out += _varint_field(4, size)
    return out


def _fields(buf: bytes):
    """Yield (field_number, wire_type, value) for each field; LEN values are bytes."""
    offset = 0
    try:
        while offset < len(buf):
            key, offset = varint.decode(buf, offset)
            number, wire = key >> 3, key & 7
            if wire == _VARINT:
                value, offset = varint.decode(buf, offset)
            elif wire == _LEN:
                size, offset = varint.decode(buf, offset)
                if offset + size > len(buf):
                    raise DagPBError("truncated length-delimited field")
                value, offset = bytes(buf[offset : offset + size]), offset + size
            else:
                raise DagPBError(f"unsupported wire type {wire} in field {number}")
            yield number, wire, value
    except ValueError as exc:  # varint errors
        if isinstance(exc, DagPBError):
            raise
        raise DagPBError(str(exc)) from None


def decode_node(buf: bytes) -> PBNode:
    links: list[PBLink] = []
    data: bytes | None = None
    for number, wire, value in _fields(buf):
        if number == 2 and wire == _LEN:
            cid, name, tsize = None, "", 0
            for n, w, v in _fields(value):
                if n == 1 and w == _LEN:
                    cid = CID.from_bytes(v)
                elif n == 2 and w == _LEN:
                    name = v.decode()
                elif n == 3 and w == _VARINT:
                    tsize = v
            if cid is None:
                raise DagPBError("PBLink without Hash")
            links.append(PBLink(cid=cid, tsize=tsize, name=name))
        elif number == 1 and wire == _LEN:
            data = value
    return PBNode(links=tuple(links), data=data)


def decode_unixfs(buf: bytes) -> UnixFSData:
    kind, data, filesize, blocksizes = None, b"", None, []
    for number, wire, value in _fields(buf):
        if number == 1 and wire == _VARINT:
            kind = value
        elif number == 2 and wire == _LEN:
            data = value
        elif number == 3 and wire == _VARINT:
            filesize = value
        elif number == 4 and wire == _VARINT:
            blocksizes.append(value)
    if kind is None:
        raise DagPBError("UnixFS Data without Type")
    return UnixFSData(
        type=kind, data=data, filesize=filesize, blocksizes=tuple(blocksizes)
    )
