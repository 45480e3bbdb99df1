import pytest

from ceramic_pipeline.ceramic.cid import CID, DAG_PB, RAW
from ceramic_pipeline.ipfs.dagpb import (
    PBLink,
    PBNode,
    decode_node,
    decode_unixfs,
    encode_node,
)
from ceramic_pipeline.ipfs.errors import ContentIntegrityError
from ceramic_pipeline.ipfs.unixfs import (
    CHUNK_SIZE,
    MAX_LINKS,
    assemble,
    file_cid,
    import_file,
)


def test_known_cids_match_ipfs_add():
    # Published values for "hello world": raw-leaf CIDv1 and the classic CIDv0.
    assert (
        str(file_cid(b"hello world"))
        == "bafkreifzjut3te2nhyekklss27nh3k72ysco7y32koao5eei66wof36n5e"
    )
    assert (
        str(import_file(b"hello world", cid_version=0).root)
        == "Qmf412jQZiuVUtdgnB36FXFX7xg5V6KEbSJ4dpQuhkLyfD"
    )


def test_single_chunk_is_one_raw_block_and_two_chunks_get_a_dag_pb_root():
    one = import_file(b"x" * CHUNK_SIZE)
    assert one.root.codec == RAW and len(one.blocks) == 1
    two = import_file(b"x" * CHUNK_SIZE + b"y")
    assert two.root.codec == DAG_PB and len(two.blocks) == 3
    root = decode_node(two.blocks[-1].data)
    assert [link.tsize for link in root.links] == [CHUNK_SIZE, 1]
    unixfs = decode_unixfs(root.data)
    assert (unixfs.filesize, unixfs.blocksizes) == (CHUNK_SIZE + 1, (CHUNK_SIZE, 1))


def test_balanced_layout_caps_links_per_node():
    # Zero bytes dedupe to one leaf CID but every position still gets its own link.
    content = bytes(CHUNK_SIZE * (MAX_LINKS + 1))
    imported = import_file(content)
    root = decode_node(imported.blocks[-1].data)
    assert len(root.links) == 2
    assert (
        len(
            decode_node(
                next(b.data for b in imported.blocks if b.cid == root.links[0].cid)
            ).links
        )
        == MAX_LINKS
    )
    blocks = {b.cid: b.data for b in imported.blocks}
    assert assemble(imported.root, blocks.__getitem__) == content


def test_dag_pb_writes_links_before_data():
    link = PBLink(cid=CID.for_block(RAW, b"a"), tsize=1)
    encoded = encode_node(PBNode(links=(link,), data=b"\x08\x02"))
    assert encoded[0] == 0x12  # field 2 (Links) first, as DAG-PB requires
    assert decode_node(encoded) == PBNode(links=(link,), data=b"\x08\x02")


def test_assemble_rejects_a_block_that_does_not_match_its_cid():
    imported = import_file(bytes(range(256)) * 2000)
    blocks = {b.cid: b.data for b in imported.blocks}
    leaf = imported.blocks[0].cid
    blocks[leaf] = b"tampered" + blocks[leaf][8:]
    with pytest.raises(ContentIntegrityError, match=str(leaf)):
        assemble(imported.root, blocks.__getitem__)
