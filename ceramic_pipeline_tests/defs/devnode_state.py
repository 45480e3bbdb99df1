"""Read a stream's current state from a node over HTTP (GET /ceramic/streams/{id})."""

from __future__ import annotations

import base64
import json

import httpx


def stream_state(node_url: str, stream_id: str) -> dict:
    """{"event_cid": tip, "content": ..., "metadata": ...} as the node aggregates it."""
    response = httpx.get(f"{node_url}/ceramic/streams/{stream_id}", timeout=10)
    response.raise_for_status()
    body = response.json()
    encoded = body["data"][1:]  # multibase 'u': base64url without padding
    data = json.loads(base64.urlsafe_b64decode(encoded + "=" * (-len(encoded) % 4)))
    return {"event_cid": body["event_cid"], "content": data["content"], "metadata": data["metadata"]}
