import hashlib
import itertools

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ceramic_pipeline.documents.identity import PARTITION_KEY_PATTERN, document_id, partition_key


def test_document_id_is_posix_path_relative_to_inbox(tmp_path):
    inbox = tmp_path / "inbox"
    assert document_id(inbox / "reports" / "2026" / "q3.json", inbox) == "reports/2026/q3.json"
    assert document_id(str(inbox / "a.md"), str(inbox)) == "a.md"


def test_document_id_ignores_content_and_normalizes_dots(tmp_path):
    inbox = tmp_path / "inbox"
    (inbox / "sub").mkdir(parents=True)
    path = inbox / "sub" / "doc.json"
    path.write_text("one")
    first = document_id(path, inbox)
    path.write_text("two, longer content")
    assert document_id(path, inbox) == first
    assert document_id(inbox / "sub" / ".." / "sub" / "doc.json", inbox) == "sub/doc.json"


def test_document_id_rejects_paths_outside_the_inbox(tmp_path):
    with pytest.raises(ValueError, match="not inside the inbox"):
        document_id(tmp_path / "elsewhere.json", tmp_path / "inbox")
    with pytest.raises(ValueError, match="inbox itself"):
        document_id(tmp_path, tmp_path)


def test_partition_key_shape_is_pinned():
    digest = hashlib.sha256("reports/Q3 Überblick.json".encode()).hexdigest()[:10]
    assert partition_key("reports/Q3 Überblick.json") == f"reports-Q3-Uberblick-json-{digest}"


def test_partition_key_of_non_latin_path_falls_back_to_doc_slug():
    digest = hashlib.sha256("窯/記録.json".encode()).hexdigest()[:10]
    assert partition_key("窯/記録.json") == f"json-{digest}"
    assert partition_key("窯") == f"doc-{hashlib.sha256('窯'.encode()).hexdigest()[:10]}"


def test_long_paths_keep_the_file_name_and_fit_100_chars():
    doc_id = "/".join(["a-very-long-folder-name"] * 10) + "/final-report.json"
    key = partition_key(doc_id)
    assert len(key) <= 100
    assert "final-report-json-" in key
    assert not key.startswith("-")


@given(st.text(min_size=1, max_size=400))
def test_partition_key_charset_length_and_determinism(doc_id):
    key = partition_key(doc_id)
    assert PARTITION_KEY_PATTERN.match(key), key
    assert len(key) <= 100
    assert partition_key(doc_id) == key


def test_partition_key_is_unique_over_many_similar_paths():
    # Paths that slug identically (separators, case of punctuation, accents) and
    # long paths that truncate to the same slug must still get distinct keys.
    names = ["a b", "a-b", "a/b", "a.b", "a--b", "á b", "a\tb", "A b"]
    deep = "/".join(["shared-prefix-folder"] * 8)
    ids = [f"{d}/{n}-{i}.{ext}" for d, n, i, ext in itertools.product(["x", deep], names, range(600), ["json", "md"])]
    assert len(set(ids)) == len(ids) == 19_200
    keys = {partition_key(i) for i in ids}
    assert len(keys) == len(ids)


def test_partition_key_rejects_empty_id():
    with pytest.raises(ValueError):
        partition_key("")
