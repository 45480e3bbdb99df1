import pytest

from ceramic_pipeline.storage.batching import column_batches, refuse_duplicates, unnest_placeholders
from ceramic_pipeline.storage.outbox import OutboxEvent, enqueue_events, status_counts
from ceramic_pipeline.storage.streams import StreamRow, upsert_streams


def test_column_batches_regroup_rows_by_column():
    rows = [(1, "a"), (2, "b"), (3, "c")]
    assert list(column_batches(rows, size=2)) == [[[1, 2], ["a", "b"]], [[3], ["c"]]]
    assert list(column_batches([], size=2)) == []


def test_placeholders_send_json_as_text():
    assert unnest_placeholders(["text", "jsonb", "int4"]) == "%b::text[], %b::text[]::jsonb[], %b::int4[]"


def test_refuse_duplicates_names_the_key():
    refuse_duplicates(["a", "b"], "stream")
    with pytest.raises(ValueError, match="stream b appears twice"):
        refuse_duplicates(["a", "b", "b"], "stream")


def test_batches_larger_than_one_statement(conn, monkeypatch):
    monkeypatch.setattr("ceramic_pipeline.storage.batching.BATCH_SIZE", 7)
    rows = [StreamRow(f"s{i}", f"c{i}", 1, "did:key:z", "m", "d", i, "0" * 64) for i in range(20)]
    assert upsert_streams(conn, rows) == 20
    events = [OutboxEvent(f"e{i}", f"s{i}", 0, "init", bytes([i]) * 3) for i in range(20)]
    assert enqueue_events(conn, events + events[:3]) == 20  # repeats in one call are harmless
    assert status_counts(conn)["pending"] == 20
    assert conn.execute("SELECT car FROM ceramic_events WHERE event_cid = 'e5'").fetchone()[0] == b"\x05\x05\x05"
