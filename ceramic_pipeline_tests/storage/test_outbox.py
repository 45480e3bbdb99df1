import psycopg
import pytest

from ceramic_pipeline.storage.outbox import (
    OutboxEvent, enqueue_events, lock_pending, mark_failed, mark_published, mark_rejected, pending_chains, pending_events,
    status_counts,
)


def event(stream: str, position: int) -> OutboxEvent:
    return OutboxEvent(
        event_cid=f"bagcq-{stream}-{position}", stream_id=stream, position=position,
        kind="init" if position == 0 else "data", car=f"car:{stream}:{position}".encode(),
    )


def ready(conn) -> list[tuple[str, int]]:
    return [(e.stream_id, e.position) for e in pending_events(conn, 100)]


def test_enqueue_is_idempotent(conn):
    events = [event("a", 0), event("a", 1), event("b", 0)]
    assert enqueue_events(conn, events) == 3
    assert enqueue_events(conn, events) == 0
    assert enqueue_events(conn, []) == 0
    assert status_counts(conn) == {"pending": 3, "published": 0, "rejected": 0}


def test_other_event_at_taken_position_is_refused(conn):
    enqueue_events(conn, [event("a", 0)])
    fork = OutboxEvent("bagcq-fork", "a", 0, "init", b"other")
    with pytest.raises(psycopg.errors.UniqueViolation):
        enqueue_events(conn, [fork])


def test_enqueue_joins_callers_transaction(conn):
    enqueue_events(conn, [event("a", 0)])
    conn.rollback()
    assert status_counts(conn)["pending"] == 0


def test_streams_are_posted_strictly_in_order(conn):
    enqueue_events(conn, [event("b", 0), event("a", 1), event("a", 0), event("a", 2), event("b", 1)])
    assert ready(conn) == [("a", 0), ("b", 0)]  # position 1 waits while 0 is pending
    mark_published(conn, ["bagcq-a-0"])
    assert ready(conn) == [("a", 1), ("b", 0)]
    mark_failed(conn, "bagcq-a-1", "node timed out")
    assert ready(conn) == [("a", 1), ("b", 0)]  # a failed attempt stays pending and first in line
    mark_published(conn, ["bagcq-a-1", "bagcq-b-0"])
    assert ready(conn) == [("a", 2), ("b", 1)]


def test_gap_holds_back_later_positions(conn):
    enqueue_events(conn, [event("a", 0), event("a", 2)])
    mark_published(conn, ["bagcq-a-0"])
    assert ready(conn) == []  # position 1 was never enqueued
    enqueue_events(conn, [event("a", 1)])
    assert ready(conn) == [("a", 1)]


def test_rejection_blocks_the_rest_of_the_stream(conn):
    enqueue_events(conn, [event("a", 0), event("a", 1), event("b", 0)])
    mark_published(conn, ["bagcq-a-0"])
    assert mark_rejected(conn, "bagcq-a-1", "invalid signature") == 1
    enqueue_events(conn, [event("a", 2)])
    assert ready(conn) == [("b", 0)]
    assert status_counts(conn) == {"pending": 2, "published": 1, "rejected": 1}
    row = conn.execute("SELECT status, last_error FROM ceramic_events WHERE event_cid = 'bagcq-a-1'").fetchone()
    assert row == ("rejected", "invalid signature")


def test_attempts_and_errors_are_recorded(conn):
    enqueue_events(conn, [event("a", 0)])
    assert mark_failed(conn, "bagcq-a-0", "503") == 1
    assert mark_failed(conn, "bagcq-a-0", "connection reset") == 2
    (pending,) = pending_events(conn, 10)
    assert (pending.attempts, pending.last_error, pending.car) == (2, "connection reset", b"car:a:0")
    assert mark_published(conn, ["bagcq-a-0"]) == 1
    assert mark_published(conn, ["bagcq-a-0"]) == 0
    published_at = conn.execute("SELECT published_at FROM ceramic_events").fetchone()[0]
    assert published_at is not None
    with pytest.raises(LookupError, match="no pending event"):
        mark_failed(conn, "bagcq-a-0", "late failure")
    with pytest.raises(LookupError):
        mark_rejected(conn, "bagcq-unknown", "x")


def test_limit_and_bad_input(conn):
    enqueue_events(conn, [event(f"s{i:02d}", 0) for i in range(5)])
    assert [e.stream_id for e in pending_events(conn, 2)] == ["s00", "s01"]
    with pytest.raises(ValueError):
        pending_events(conn, 0)
    with pytest.raises(ValueError, match="position 0"):
        OutboxEvent("bagcq-x", "x", 1, "init", b"")
    with pytest.raises(ValueError, match="kind"):
        OutboxEvent("bagcq-x", "x", 1, "anchor", b"")


def test_locked_events_are_skipped_by_a_second_publisher(conn, migrated_pg_url):
    enqueue_events(conn, [event("a", 0), event("b", 0)])
    conn.commit()
    with conn.transaction():
        taken = pending_events(conn, 1, lock=True)
        assert [e.stream_id for e in taken] == ["a"]
        with psycopg.connect(migrated_pg_url) as other, other.transaction():
            assert [e.stream_id for e in pending_events(other, 10, lock=True)] == ["b"]


def test_a_run_locks_its_own_events_waiting_for_the_publisher_that_holds_them(conn, migrated_pg_url):
    """Another run's publisher took stream a's init (SKIP LOCKED). The run whose streams are a and b
    waits for it instead of passing a by; once a's init is published there, the run holds a's data
    event and b's init, and its next query sees both ready (c is another run's: never taken)."""
    import threading

    enqueue_events(conn, [event("a", 0), event("a", 1), event("b", 0), event("c", 0)])
    conn.commit()
    with psycopg.connect(migrated_pg_url) as other:
        with other.transaction():
            assert [e.stream_id for e in pending_events(other, 1, lock=True)] == ["a"]
            assert [e.stream_id for e in pending_events(conn, 10, lock=True)] == ["b", "c"]  # a plain publisher skips a
            conn.rollback()
            held: list = []
            waiter = threading.Thread(target=lambda: held.append(own_drain(conn, ["a", "b"])))
            waiter.start()
            waiter.join(1.0)
            assert waiter.is_alive() and not held  # blocked on the other publisher's lock
            mark_published(other, ["bagcq-a-0"])
        waiter.join(30)
    assert held == [(2, [("a", 1), ("b", 0)])]
    with psycopg.connect(migrated_pg_url) as third, third.transaction():
        assert [e.stream_id for e in pending_events(third, 10, lock=True)] == ["a", "b", "c"]  # released at commit


def own_drain(conn, streams: list[str]) -> tuple[int, list[tuple[str, int]]]:
    with conn.transaction():
        locked = lock_pending(conn, streams)
        return locked, [(e.stream_id, e.position) for e in pending_events(conn, 10, lock=True, streams=streams)]


def test_a_chain_is_a_ready_event_and_the_pending_ones_after_it_up_to_a_gap_or_a_lock(conn, migrated_pg_url):
    enqueue_events(conn, [event("a", 0), event("a", 1), event("a", 2),  # a fresh stream, then two updates
                          event("b", 0), event("b", 1), event("b", 3),  # b's position 2 is missing
                          event("c", 0), event("c", 1)])
    mark_published(conn, ["bagcq-b-0"])
    conn.commit()
    chains = lambda c: [[(e.stream_id, e.position) for e in chain] for chain in pending_chains(c, 10, lock=True)]  # noqa: E731
    with psycopg.connect(migrated_pg_url) as other, other.transaction():
        other.execute("SELECT 1 FROM ceramic_events WHERE event_cid = 'bagcq-c-1' FOR UPDATE")  # another publisher's
        with conn.transaction():
            assert chains(conn) == [[("a", 0), ("a", 1), ("a", 2)], [("b", 1)], [("c", 0)]]
    assert [len(c) for c in pending_chains(conn, 1)] == [3]  # the limit counts streams, not events
    assert pending_chains(conn, 10, streams=["b"])[0][0].position == 1
