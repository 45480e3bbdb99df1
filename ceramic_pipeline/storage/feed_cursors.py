"""ceramic_feed_cursors: the resume token where a re-sync stopped reading a node's event feed."""

from __future__ import annotations

import psycopg


def get_resume_token(conn: psycopg.Connection, node_url: str, model_id: str, controller: str) -> str | None:
    row = conn.execute(
        "SELECT resume_token FROM ceramic_feed_cursors WHERE node_url = %s AND model_id = %s AND controller = %s",
        (node_url, model_id, controller),
    ).fetchone()
    return row[0] if row else None


def synced_resume_token(conn: psycopg.Connection, node_url: str, model_id: str, controller: str) -> str | None:
    """The re-sync's resume token, when it still vouches for the database: every stream of ours
    with an event before it is in ``ceramic_streams_all``. Without any row of ours (the table was
    lost or restored empty) the token vouches for nothing and None is returned, as the re-sync
    then reads the feed from its start (maintenance.resync)."""
    token = get_resume_token(conn, node_url, model_id, controller)
    if token is None:
        return None
    ours = conn.execute("SELECT 1 FROM ceramic_streams_all WHERE signer_did = %s AND model_id = %s LIMIT 1",
                        (controller, model_id)).fetchone()
    return token if ours else None


def save_resume_token(
    conn: psycopg.Connection, node_url: str, model_id: str, controller: str, token: str, events_read: int
) -> None:
    """Record ``token`` (call in the transaction that stores what was read before it)."""
    conn.execute(
        """
        INSERT INTO ceramic_feed_cursors (node_url, model_id, controller, resume_token, events_read)
        VALUES (%s, %s, %s, %s, %s)
        ON CONFLICT (node_url, model_id, controller) DO UPDATE
        SET resume_token = EXCLUDED.resume_token,
            events_read = ceramic_feed_cursors.events_read + EXCLUDED.events_read,
            updated_at = now()
        """,
        (node_url, model_id, controller, token, events_read),
    )
