from ceramic_pipeline.documents import chunk_document, load_document, scan_inbox
from ceramic_pipeline.samples import sample_documents_dir
from ceramic_pipeline_tests.documents.make_samples import SAMPLES, write_samples


def test_committed_samples_match_the_generator(tmp_path):
    for path in write_samples(tmp_path):
        committed = sample_documents_dir() / path.name
        assert committed.read_bytes() == path.read_bytes(), f"regenerate {committed.name} with make_samples.py"


def test_samples_dir_is_a_usable_inbox():
    scan = scan_inbox(sample_documents_dir(), limit=10, known={})
    assert [f.document_id for f in scan.pending] == sorted(SAMPLES)
    assert scan.errors == []


def test_samples_cover_the_features_the_pipeline_relies_on():
    docs = {name: load_document(sample_documents_dir() / name) for name in SAMPLES}
    assert all(doc.texts and doc.texts[0].label == "title" for doc in docs.values())
    assert sum(len(doc.tables) for doc in docs.values()) >= 2
    with_lists = [name for name, doc in docs.items() if any(t.label == "list_item" for t in doc.texts)]
    assert with_lists == ["glaze-firing-guide.json", "studio-safety-notes.json"]
    assert any(c.pages for c in chunk_document(docs["glaze-firing-guide.json"]))
    all_text = "".join(c.text for doc in docs.values() for c in chunk_document(doc))
    assert not all_text.isascii()
