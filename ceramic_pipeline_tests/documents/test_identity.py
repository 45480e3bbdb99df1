import hashlib
import itertools
import os

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ceramic_pipeline.documents.identity import (
    PARTITION_KEY_PATTERN,
    document_id,
    id_path,
    partition_key,
    path_text,
    text_path,
)


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


def test_outside_the_inbox_the_id_is_the_absolute_real_path(tmp_path):
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    for year in ("2023", "2024"):
        (tmp_path / year).mkdir()
        (tmp_path / year / "summary.json").write_text(year)
    ids = {document_id(tmp_path / y / "summary.json", inbox) for y in ("2023", "2024")}
    assert ids == {str(tmp_path.resolve() / y / "summary.json") for y in ("2023", "2024")}
    assert all(i.startswith("/") for i in ids)  # never equal to an inbox-relative id
    assert document_id(tmp_path / "2023" / "summary.json", None) == str(tmp_path.resolve() / "2023" / "summary.json")
    with pytest.raises(ValueError, match="inbox itself"):
        document_id(tmp_path, tmp_path)


def test_same_file_same_id_however_it_is_named(tmp_path, monkeypatch):
    real_inbox = tmp_path / "real-inbox"
    (real_inbox / "sub").mkdir(parents=True)
    deep = real_inbox / "sub" / "deep.json"
    deep.write_text("{}")
    inbox = tmp_path / "inbox"
    inbox.symlink_to(real_inbox, target_is_directory=True)  # the configured inbox is a symlink
    (real_inbox / "link.json").symlink_to(deep)
    (tmp_path / "outside-link.json").symlink_to(deep)
    monkeypatch.chdir(real_inbox)
    names = [deep, inbox / "sub" / "deep.json", "sub/deep.json", "./sub/../sub/deep.json",
             real_inbox / "link.json", tmp_path / "outside-link.json"]
    assert {document_id(n, inbox) for n in names} == {"sub/deep.json"}
    assert id_path("sub/deep.json", inbox) == deep.resolve()


NON_UTF8_NAMES = [b"r\xe9sum\xe9.json", b"\xff\xfe.json", b"a%e9.json", b"100%.json", b"%%41\xe9%4", b"\xed\xa0\x80.json"]


@pytest.mark.parametrize("raw", NON_UTF8_NAMES)
def test_odd_names_get_a_utf8_reversible_id(tmp_path, raw):
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    path = os.path.join(os.fsencode(inbox), raw)
    doc_id = document_id(path, inbox)
    doc_id.encode("utf-8")  # valid UTF-8: PostgreSQL text and the partition key take it
    assert os.fsencode(id_path(doc_id, inbox)) == path
    assert PARTITION_KEY_PATTERN.match(partition_key(doc_id))


def test_escape_examples_are_pinned():
    assert path_text(b"r\xe9sum\xe9.json") == "r%E9sum%E9.json"
    assert path_text("r\xe9sum\xe9.json") == "résumé.json"  # valid UTF-8 stays as it is
    assert path_text("100% sure.json") == "100% sure.json"  # a % not before two hex digits stays
    assert path_text("a%41.json") == "a%2541.json"  # ... one that is, is escaped: never read as a byte
    with pytest.raises(ValueError):
        path_text("\ud800.json")  # no OS name decodes to this lone surrogate


@given(st.lists(st.binary(min_size=1, max_size=12).filter(lambda b: b"/" not in b and b"\0" not in b), min_size=1, max_size=3))
def test_escape_is_reversible_hence_collision_free(parts):
    raw = b"/".join(parts)
    text = path_text(raw)
    text.encode("utf-8")
    assert os.fsencode(text_path(text)) == raw


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


def test_partition_key_names_an_id_that_is_not_utf8():
    with pytest.raises(ValueError, match="not valid UTF-8"):
        partition_key("r\udce9sum\udce9.json")
