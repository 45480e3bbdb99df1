"""ceramic_feed_cursors: the resume token where a re-sync stopped reading a node's event feed."""

from __future__ import annotations

import psycopg


def get_resume_token(conn: psycopg.Connection, node_url: str, model_id: str, controller: str) -> str | None:
    row = conn.execute(
        "SELECT resume_token FROM ceramic_feed_cursors WHERE node_url = %s AND model_id = %s AND controller = %s",
        (node_url, model_id, controller),
    ).fetchone()
    return row[0] if row else None


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
