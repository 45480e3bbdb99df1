import hashlib
import json
import os
import time
from pathlib import Path

import pytest

from ceramic_pipeline.documents import InboxError, document_id, scan_inbox
from ceramic_pipeline.documents.inbox import FileStamp

HOUR_NS = 3600 * 1_000_000_000


def _write(inbox: Path, rel: str, content: bytes | str, *, age_ns: int = HOUR_NS) -> Path:
    """Write a file and back-date it, like a file that arrived a while ago."""
    path = inbox / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(content.encode() if isinstance(content, str) else content)
    mtime = time.time_ns() - age_ns
    os.utime(path, ns=(mtime, mtime))
    return path


def _sha(content: str) -> str:
    return hashlib.sha256(content.encode()).hexdigest()


@pytest.fixture
def inbox(tmp_path) -> Path:
    root = tmp_path / "inbox"
    _write(root, "b.json", "bee")
    _write(root, "a.md", "# a")
    _write(root, "sub/c.html", "<p>c</p>")
    _write(root, "sub/deeper/d.DOCX", "d")
    _write(root, "e.pdf", "e")
    _write(root, "notes.txt", "ignored suffix")
    _write(root, ".hidden.json", "ignored hidden file")
    _write(root, ".git/x.json", "ignored hidden folder")
    _write(root, "~$lock.docx", "ignored office lock file")
    return root


def test_first_scan_reports_everything_as_new_in_sorted_order(inbox):
    scan = scan_inbox(inbox, limit=100, known={})
    assert [f.document_id for f in scan.pending] == ["a.md", "b.json", "e.pdf", "sub/c.html", "sub/deeper/d.DOCX"]
    assert all(f.is_new for f in scan.pending)
    b = scan.pending[1]
    assert b.content_hash == _sha("bee")
    assert b.path == inbox / "b.json"
    assert all(document_id(f.path, inbox) == f.document_id for f in scan.pending)
    assert (scan.remaining, scan.unchanged, scan.missing, scan.errors) == (0, 0, [], [])


def test_new_changed_unchanged_and_missing(inbox):
    known = {
        "a.md": _sha("# a"),  # unchanged
        "b.json": _sha("old bee"),  # changed
        "gone.json": _sha("deleted"),  # missing
    }
    scan = scan_inbox(inbox, limit=100, known=known)
    by_id = {f.document_id: f for f in scan.pending}
    assert sorted(by_id) == ["b.json", "e.pdf", "sub/c.html", "sub/deeper/d.DOCX"]
    assert by_id["b.json"].is_new is False
    assert by_id["b.json"].content_hash == _sha("bee")
    assert by_id["e.pdf"].is_new is True
    assert scan.unchanged == 1
    assert scan.missing == ["gone.json"]


def test_limit_caps_pending_and_counts_the_rest(inbox):
    first = scan_inbox(inbox, limit=2, known={})
    assert [f.document_id for f in first.pending] == ["a.md", "b.json"]
    assert first.remaining == 3
    # the next tick, after the first two were processed, picks up where this one stopped
    processed = {f.document_id: f.content_hash for f in first.pending}
    second = scan_inbox(inbox, limit=2, known=processed, stamps=first.stamps)
    assert [f.document_id for f in second.pending] == ["e.pdf", "sub/c.html"]
    assert (second.remaining, second.unchanged) == (1, 2)
    assert scan_inbox(inbox, limit=0, known={}).remaining == 5


def test_changed_known_files_beyond_the_cap_are_counted(inbox):
    known = {"a.md": _sha("# a"), "sub/c.html": _sha("stale"), "sub/deeper/d.DOCX": _sha("d")}
    scan = scan_inbox(inbox, limit=1, known=known)
    assert [f.document_id for f in scan.pending] == ["b.json"]
    assert scan.remaining == 2  # e.pdf (new) and sub/c.html (changed)
    assert scan.unchanged == 2


def test_stamps_avoid_rehashing_unchanged_files(inbox):
    first = scan_inbox(inbox, limit=100, known={})
    assert set(first.stamps) == {f.document_id for f in first.pending}
    stamp = first.stamps["b.json"]
    # Same size, same mtime, different bytes: only a scan that re-hashes can see it.
    path = inbox / "b.json"
    path.write_bytes(b"BEE")
    os.utime(path, ns=(stamp.mtime_ns, stamp.mtime_ns))
    known = {f.document_id: f.content_hash for f in first.pending}
    assert scan_inbox(inbox, limit=100, known=known, stamps=first.stamps).pending == []
    rehashed = scan_inbox(inbox, limit=100, known=known)
    assert [f.document_id for f in rehashed.pending] == ["b.json"]
    assert rehashed.pending[0].content_hash == _sha("BEE")


def test_stamps_survive_a_json_round_trip_and_detect_touches(inbox):
    first = scan_inbox(inbox, limit=100, known={})
    stamps = json.loads(json.dumps(first.stamps))
    known = {f.document_id: f.content_hash for f in first.pending}
    _write(inbox, "a.md", "# a, edited")
    scan = scan_inbox(inbox, limit=100, known=known, stamps=stamps)
    assert [(f.document_id, f.content_hash) for f in scan.pending] == [("a.md", _sha("# a, edited"))]
    assert scan.unchanged == 4
    assert scan.stamps["a.md"] == FileStamp(len("# a, edited"), scan.stamps["a.md"].mtime_ns, _sha("# a, edited"))


def test_files_modified_just_now_get_no_stamp(tmp_path):
    _write(tmp_path, "fresh.json", "fresh", age_ns=0)
    _write(tmp_path, "old.json", "old")
    scan = scan_inbox(tmp_path, limit=10, known={})
    assert [f.document_id for f in scan.pending] == ["fresh.json", "old.json"]
    assert set(scan.stamps) == {"old.json"}


def test_new_files_beyond_the_cap_are_not_hashed(tmp_path):
    for i in range(5):
        _write(tmp_path, f"doc-{i}.json", f"content {i}")
    scan = scan_inbox(tmp_path, limit=2, known={})
    assert set(scan.stamps) == {"doc-0.json", "doc-1.json"}
    assert scan.remaining == 3


def _make_unreadable(path: Path) -> str:
    """A file that cannot be ingested, also for root (who ignores permission bits); returns the
    start of the reason the scan gives."""
    if os.geteuid() != 0:
        path.write_text("secret")
        path.chmod(0)
        return "cannot read"
    # A link stands for its target (identity: one document per real file), and the target
    # /proc/<pid>/mem has no supported type.
    path.symlink_to("/proc/self/mem")
    return "symlink target has unsupported type"


def test_unreadable_files_are_reported_not_raised(inbox):
    expected = _make_unreadable(inbox / "locked.json")
    (inbox / "dangling.md").symlink_to(inbox / "does-not-exist.md")
    scan = scan_inbox(inbox, limit=100, known={"locked.json": "0" * 64})
    reasons = {e.document_id: e.reason for e in scan.errors}
    assert set(reasons) == {"dangling.md", "locked.json"}
    assert reasons["dangling.md"].startswith("cannot stat")
    assert reasons["locked.json"].startswith(expected)
    assert "locked.json" not in scan.missing  # present, just unreadable
    assert len(scan.pending) == 5
    assert "locked.json" not in scan.stamps


def test_unlistable_folder_is_reported(inbox):
    if os.geteuid() == 0:
        pytest.skip("root can list any folder; the listing error path needs an unprivileged user")
    locked = inbox / "locked"
    locked.mkdir()
    locked.chmod(0)
    try:
        scan = scan_inbox(inbox, limit=100, known={})
    finally:
        locked.chmod(0o755)
    assert [e.document_id for e in scan.errors] == ["locked/"]


def test_symlinked_folders_are_not_followed(inbox):
    (inbox / "loop").symlink_to(inbox, target_is_directory=True)
    scan = scan_inbox(inbox, limit=100, known={})
    assert len(scan.pending) == 5
    assert not any(f.document_id.startswith("loop/") for f in scan.pending)


def test_missing_inbox_and_bad_limit(tmp_path):
    with pytest.raises(InboxError, match="does not exist"):
        scan_inbox(tmp_path / "nope", limit=10, known={})
    with pytest.raises(ValueError):
        scan_inbox(tmp_path, limit=-1, known={})


def test_inbox_files_lists_by_the_scan_rules_without_hashing(tmp_path):
    from ceramic_pipeline.documents import inbox_files

    (tmp_path / "b").mkdir()
    for name in ("b/z.json", "a.md", ".hidden.json", "notes.txt", "~$lock.docx"):
        (tmp_path / name).write_text("x")
    assert inbox_files(tmp_path) == [("a.md", tmp_path / "a.md"), ("b/z.json", tmp_path / "b" / "z.json")]
    with pytest.raises(InboxError):
        inbox_files(tmp_path / "missing")


def test_odd_names_are_escaped_and_never_block_the_others(tmp_path):
    from ceramic_pipeline.documents import partition_key

    inbox = tmp_path / "inbox"
    _write(inbox, "good.json", "g")
    odd = os.path.join(os.fsencode(inbox), b"r\xe9sum\xe9.json")
    with open(odd, "wb") as handle:
        handle.write(b"latin-1 name")
    scan = scan_inbox(inbox, limit=100, known={})
    assert [f.document_id for f in scan.pending] == ["good.json", "r%E9sum%E9.json"]
    assert os.fsencode(scan.pending[1].path) == odd
    assert scan.errors == []
    assert len({partition_key(f.document_id) for f in scan.pending}) == 2
    json.dumps(scan.stamps).encode("utf-8")  # the sensor's cursor encodes


def test_a_symlink_is_its_target_one_document_per_real_file(tmp_path):
    from ceramic_pipeline.documents import inbox_files

    inbox = tmp_path / "inbox"
    target = _write(inbox, "sub/deep.json", "d")
    outside = _write(tmp_path, "elsewhere/other.json", "o")
    (inbox / "alias.json").symlink_to(target)
    (inbox / "outside-alias.json").symlink_to(outside)
    scan = scan_inbox(inbox, limit=100, known={})
    assert [(f.document_id, f.path) for f in scan.pending] == [
        (str(outside.resolve()), outside.resolve()),  # outside the inbox: the absolute real path
        ("sub/deep.json", target.resolve()),  # the link and its target: one document
    ]
    assert inbox_files(inbox) == [(f.document_id, f.path) for f in scan.pending]


def test_resolve_inputs_gives_one_id_per_real_file(tmp_path, monkeypatch):
    from ceramic_pipeline.documents import resolve_inputs

    inbox = tmp_path / "inbox"
    deep = _write(inbox, "sub/deep.json", "d")
    for year in ("2023", "2024"):
        _write(tmp_path, f"{year}/summary.json", year)
    (tmp_path / "link.json").symlink_to(deep)
    monkeypatch.chdir(tmp_path)
    docs, errors = resolve_inputs([inbox, "inbox/sub/deep.json", deep, "link.json", "2023", tmp_path / "2024"], inbox)
    assert errors == []
    real = tmp_path.resolve()
    assert docs == [
        (f"{real}/2023/summary.json", real / "2023" / "summary.json"),
        (f"{real}/2024/summary.json", real / "2024" / "summary.json"),
        ("sub/deep.json", deep.resolve()),
    ]
    # A folder that holds the inbox: files inside the inbox still get inbox-relative ids.
    around, errors = resolve_inputs([tmp_path], inbox)
    assert [doc_id for doc_id, _ in around] == [d for d, _ in docs] and errors == []


def test_resolve_inputs_reports_each_bad_input_on_one_line(tmp_path):
    from ceramic_pipeline.documents import resolve_inputs

    good = _write(tmp_path, "good.json", "g")
    _write(tmp_path, "notes.txt", "t")
    odd = os.path.join(os.fsencode(tmp_path), b"caf\xe9.json")
    docs, errors = resolve_inputs([tmp_path / "missing.json", tmp_path / "notes.txt", odd, good, "/dev/null"], None)
    assert [p for _, p in docs] == [good.resolve()]
    assert errors == [
        f"no such file: {tmp_path}/missing.json",
        f"unsupported type .txt (supported: .docx, .html, .json, .md, .pdf): {tmp_path}/notes.txt",
        f"no such file: {tmp_path}/caf%E9.json",
        "not a regular file: /dev/null",
    ]
