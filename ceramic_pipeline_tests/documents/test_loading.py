import json

import pytest
from docling_core.types.doc import DocItemLabel, DoclingDocument

from ceramic_pipeline.documents import (
    DocumentError,
    DocumentReadError,
    InvalidDocumentError,
    UnsupportedFormatError,
    load_document,
    parse_docling_json,
)
from ceramic_pipeline.samples import sample_documents_dir


def _small_doc() -> DoclingDocument:
    doc = DoclingDocument(name="small")
    doc.add_title("Glasur — Übersicht")
    doc.add_text(DocItemLabel.TEXT, "Cone 6 is about 1222 °C.")
    return doc


def test_loads_what_docling_save_as_json_writes(tmp_path):
    doc = _small_doc()
    path = tmp_path / "small.json"
    doc.save_as_json(path)
    loaded = load_document(path)
    assert loaded == doc
    assert loaded.texts[1].text == "Cone 6 is about 1222 °C."


def test_loads_export_to_dict_output_and_uppercase_suffix(tmp_path):
    doc = _small_doc()
    path = tmp_path / "SMALL.JSON"
    path.write_text(json.dumps(doc.export_to_dict(), ensure_ascii=False), encoding="utf-8")
    assert load_document(path) == doc


def test_loads_every_shipped_sample():
    paths = sorted(sample_documents_dir().glob("*.json"))
    assert [p.name for p in paths] == [
        "glaze-firing-guide.json",
        "kiln-maintenance-log.json",
        "studio-safety-notes.json",
    ]
    for path in paths:
        assert load_document(path).name == path.stem


@pytest.mark.parametrize(
    "content",
    [b"{", b'{"name": "x",}', b"\xff\xfe not utf-8", b""],
    ids=["truncated", "trailing-comma", "bad-utf8", "empty"],
)
def test_invalid_json_names_the_file(tmp_path, content):
    path = tmp_path / "broken.json"
    path.write_bytes(content)
    with pytest.raises(InvalidDocumentError, match=r"broken\.json is not valid JSON") as info:
        load_document(path)
    assert info.value.path == path


@pytest.mark.parametrize(
    ("content", "detail"),
    [
        ([1, 2, 3], "Input should be an object"),
        ({"name": "only a name"}, 'missing "schema_name"'),
        ({"schema_name": "SomethingElse", "name": "x"}, "schema_name"),
        ({"schema_name": "DoclingDocument", "version": "99.0.0", "name": "x"}, "incompatible"),
        ({"schema_name": "DoclingDocument", "name": "x", "texts": [{"bogus": 1}]}, "more errors"),
    ],
    ids=["array", "no-schema-name", "other-schema", "future-version", "bad-items"],
)
def test_non_docling_json_names_the_file(tmp_path, content, detail):
    path = tmp_path / "other.json"
    path.write_text(json.dumps(content))
    with pytest.raises(InvalidDocumentError, match=r"other\.json is not a DoclingDocument") as info:
        load_document(path)
    assert detail in str(info.value)


def test_parse_docling_json_accepts_text_and_bytes():
    payload = _small_doc().model_dump_json()
    assert parse_docling_json(payload, "mem") == parse_docling_json(payload.encode(), "mem")


def test_missing_and_unreadable_files_are_document_errors(tmp_path):
    with pytest.raises(DocumentReadError, match=r"nope\.json"):
        load_document(tmp_path / "nope.json")
    (tmp_path / "folder.json").mkdir()
    with pytest.raises(DocumentReadError, match=r"folder\.json"):
        load_document(tmp_path / "folder.json")
    with pytest.raises(DocumentReadError, match=r"nope\.md"):
        load_document(tmp_path / "nope.md")


def test_unsupported_suffix(tmp_path):
    path = tmp_path / "notes.txt"
    path.write_text("hello")
    with pytest.raises(UnsupportedFormatError, match=r"notes\.txt.*\.txt") as info:
        load_document(path)
    assert isinstance(info.value, DocumentError)


def test_errors_name_a_non_utf8_file_as_printable_text(tmp_path):
    import os

    raw = os.path.join(os.fsencode(tmp_path), b"r\xe9sum\xe9.json")
    with open(raw, "wb") as handle:
        handle.write(b"{not json")
    with pytest.raises(InvalidDocumentError) as caught:
        load_document(os.fsdecode(raw))
    message = str(caught.value)
    message.encode("utf-8")  # printable, storable: no surrogate escapes left
    assert message.startswith(f"{tmp_path}/r%E9sum%E9.json is not valid JSON")
    assert os.fsencode(caught.value.path) == raw  # the exception still carries the real path
