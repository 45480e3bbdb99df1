"""Content addresses for byte strings, computed exactly as ``ipfs add --cid-version 1 --raw-leaves``.

The importer splits content into 256 KiB chunks (kubo's default ``size-262144`` chunker).
One chunk is addressed as a single raw block; more chunks become raw leaves under a
balanced tree of DAG-PB/UnixFS ``File`` nodes with at most 174 links each. Building
the blocks, not just the root CID, lets the embedded blockstore store content in the
same shape a real IPFS node would, and :func:`assemble` reads such a DAG back,
re-hashing every block against its CID on the way.

``cid_version=0`` (dag-pb leaves, base58 ``Qm…`` CIDs) exists for the Pinata stand-in,
which must honour ``pinataOptions.cidVersion`` like the real service.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass

from ceramic_pipeline.ceramic.cid import CID, DAG_PB, RAW
from ceramic_pipeline.ipfs.dagpb import (
    UNIXFS_FILE,
    DagPBError,
    PBLink,
    PBNode,
    UnixFSData,
    decode_node,
    decode_unixfs,
    encode_node,
    encode_unixfs,
)
from ceramic_pipeline.ipfs.errors import ContentIntegrityError

CHUNK_SIZE = 262_144
MAX_LINKS = 174
_SHA2_256_PREFIX = b"\x12\x20"


@dataclass(frozen=True, slots=True)
class Block:
    cid: CID
    data: bytes


@dataclass(frozen=True, slots=True)
class ImportedFile:
    root: CID
    blocks: tuple[Block, ...]  # leaves first, root last
    size: int  # content bytes (UnixFS filesize), not the DAG's encoded size


@dataclass(frozen=True, slots=True)
class _Child:
    cid: CID
    tsize: int  # encoded size of the sub-DAG, reported in the parent's link
    filesize: int  # content bytes below it, reported in the parent's blocksizes


def block_cid(codec: int, data: bytes, cid_version: int = 1) -> CID:
    if cid_version == 0:
        if codec != DAG_PB:
            raise ValueError("CIDv0 can only address dag-pb blocks")
        return CID(_SHA2_256_PREFIX + hashlib.sha256(data).digest())
    return CID.for_block(codec, data)


def import_file(content: bytes, *, cid_version: int = 1) -> ImportedFile:
    """Chunk ``content`` and build its UnixFS DAG (CIDv1 uses raw leaves)."""
    if cid_version not in (0, 1):
        raise ValueError(f"unsupported CID version {cid_version}")
    blocks: list[Block] = []
    level = [
        _leaf(content[i : i + CHUNK_SIZE], cid_version, blocks)
        for i in range(0, max(len(content), 1), CHUNK_SIZE)
    ]
    while len(level) > 1:  # balanced layout: group each level into parents of <= 174
        level = [
            _parent(level[i : i + MAX_LINKS], cid_version, blocks)
            for i in range(0, len(level), MAX_LINKS)
        ]
    return ImportedFile(root=level[0].cid, blocks=tuple(blocks), size=len(content))


def file_cid(content: bytes) -> CID:
    """The CIDv1 ``ipfs add --cid-version 1 --raw-leaves`` gives ``content``."""
    return import_file(content).root


def _leaf(chunk: bytes, cid_version: int, blocks: list[Block]) -> _Child:
    if cid_version == 1:
        data, codec = chunk, RAW
    else:
        unixfs = UnixFSData(type=UNIXFS_FILE, data=chunk, filesize=len(chunk))
        data, codec = encode_node(PBNode(links=(), data=encode_unixfs(unixfs))), DAG_PB
    cid = block_cid(codec, data, cid_version)
    blocks.append(Block(cid, data))
    return _Child(cid=cid, tsize=len(data), filesize=len(chunk))


def _parent(children: list[_Child], cid_version: int, blocks: list[Block]) -> _Child:
    sizes = tuple(child.filesize for child in children)
    unixfs = UnixFSData(type=UNIXFS_FILE, filesize=sum(sizes), blocksizes=sizes)
    links = tuple(PBLink(cid=child.cid, tsize=child.tsize) for child in children)
    data = encode_node(PBNode(links=links, data=encode_unixfs(unixfs)))
    cid = block_cid(DAG_PB, data, cid_version)
    blocks.append(Block(cid, data))
    return _Child(
        cid=cid, tsize=len(data) + sum(c.tsize for c in children), filesize=sum(sizes)
    )


def verify_block(cid: CID, data: bytes) -> None:
    """Raise :class:`ContentIntegrityError` unless ``data`` hashes to ``cid``."""
    if cid.bytes[-34:-32] != _SHA2_256_PREFIX:
        raise ContentIntegrityError(f"{cid}: only sha2-256 CIDs can be verified")
    if hashlib.sha256(data).digest() != cid.digest:
        raise ContentIntegrityError(
            f"block {cid} does not match its content hash (corrupted)"
        )


def assemble(root: CID, get_block: Callable[[CID], bytes]) -> bytes:
    """Read the file DAG under ``root``, verifying every block; return the content."""
    data = get_block(root)
    verify_block(root, data)
    if root.codec == RAW:
        return data
    if root.codec != DAG_PB:
        raise ContentIntegrityError(
            f"{root}: codec {root.codec:#x} is not a UnixFS file"
        )
    try:
        node = decode_node(data)
        unixfs = decode_unixfs(node.data or b"")
    except DagPBError as exc:
        raise ContentIntegrityError(f"{root}: unreadable UnixFS node ({exc})") from None
    if unixfs.type != UNIXFS_FILE:
        raise ContentIntegrityError(f"{root}: UnixFS type {unixfs.type} is not a file")
    content = unixfs.data + b"".join(
        assemble(link.cid, get_block) for link in node.links
    )
    if unixfs.filesize is not None and unixfs.filesize != len(content):
        raise ContentIntegrityError(
            f"{root}: re-assembled {len(content)} bytes, node declares {unixfs.filesize}"
        )
    return content
