"""Our chunks equal docling-core's own HierarchicalChunker output on real-shaped documents
(tables, long headings, RTL text, nested lists, U+0000 and other control characters), after the
same JSON round trip an inbox file takes; and text no UTF-8 can hold is a clear per-chunk error."""

from __future__ import annotations

import json

import pytest
from docling_core.transforms.chunker.hierarchical_chunker import HierarchicalChunker
from docling_core.types.doc import DocItemLabel, DoclingDocument

from ceramic_pipeline.documents import InvalidChunkError, InvalidDocumentError, chunk_document, load_document
from ceramic_pipeline.samples import sample_documents_dir
from ceramic_pipeline_tests.documents import odd_documents


def _docling_core_chunks(doc: DoclingDocument) -> list[tuple[str, tuple[str, ...]]]:
    return [(c.text, tuple(c.meta.headings or ())) for c in HierarchicalChunker().chunk(dl_doc=doc)]


@pytest.mark.parametrize("build", odd_documents.ALL, ids=lambda f: f.__name__)
def test_chunks_equal_docling_cores_own_chunker(tmp_path, build):
    path = tmp_path / f"{build.__name__}.json"
    build().save_as_json(path)
    doc = load_document(path)
    expected = _docling_core_chunks(doc)
    ours = chunk_document(doc)
    assert len(ours) == len(expected) > 0
    assert [(c.text, c.headings) for c in ours] == expected
    assert [c.index for c in ours] == list(range(len(ours)))
    assert all(c.byte_length == len(c.text.encode("utf-8")) for c in ours)


def test_samples_still_equal_docling_cores_chunker():
    for path in sorted(sample_documents_dir().glob("*.json")):
        doc = load_document(path)
        assert [(c.text, c.headings) for c in chunk_document(doc)] == _docling_core_chunks(doc), path.name


def test_control_characters_survive_the_json_file_exactly(tmp_path):
    path = tmp_path / "control.json"
    odd_documents.control_characters().save_as_json(path)
    chunks = chunk_document(load_document(path))
    assert chunks[0].text == odd_documents.CONTROL_TEXT
    assert chunks[1].text == "\x00"
    assert chunks[0].headings == ("Firing\x00 log", "Section\x00 with a NUL")


def test_a_lone_surrogate_is_a_per_chunk_error_naming_document_chunk_and_field():
    doc = DoclingDocument(name="broken")
    doc.add_heading("fine", level=1)
    doc.add_text(label=DocItemLabel.TEXT, text="ok")
    doc.add_text(label=DocItemLabel.TEXT, text="bad \ud800 text")
    with pytest.raises(InvalidChunkError) as caught:
        chunk_document(doc, source="inbox/broken.json")
    assert str(caught.value) == (
        "inbox/broken.json: chunk 1: text: lone surrogate U+D800 at character 4 is not valid Unicode text"
    )
    assert (caught.value.document, caught.value.chunk_index, caught.value.field) == ("inbox/broken.json", 1, "text")

    heading = DoclingDocument(name="broken-heading")
    heading.add_heading("head \udfff", level=1)
    heading.add_text(label=DocItemLabel.TEXT, text="body")
    with pytest.raises(InvalidChunkError, match=r"^broken-heading: chunk 0: headings\[0\]: lone surrogate U\+DFFF"):
        chunk_document(heading)


def test_a_lone_surrogate_escape_in_a_json_file_is_an_invalid_document(tmp_path):
    data = json.loads(odd_documents.nested_lists().model_dump_json())
    data["texts"][0]["text"] = "\ud800"
    path = tmp_path / "surrogate.json"
    path.write_text(json.dumps(data))  # ensure_ascii writes the escape "\ud800"
    assert "\\ud800" in path.read_text()
    with pytest.raises(InvalidDocumentError, match="surrogate.json is not valid JSON"):
        load_document(path)
