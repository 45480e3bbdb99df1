"""What the ``ceramic-pipeline`` subcommands do, apart from argument parsing."""

from __future__ import annotations

import json
from typing import Any

from ceramic_pipeline.ceramic.client import CeramicClient
from ceramic_pipeline.ceramic.identifiers import StreamID
from ceramic_pipeline.ceramic.verify import EventError
from ceramic_pipeline.embedded_node import embedded_ceramic_url
from ceramic_pipeline.settings import Settings
from ceramic_pipeline.writer.readback import read_back


def ceramic_client(settings: Settings) -> CeramicClient:
    url = settings.ceramic_url or embedded_ceramic_url(settings.data_dir)
    return CeramicClient(url, timeout_s=settings.ceramic_timeout_s, max_in_flight=settings.ceramic_batch_size)


def show_stream(settings: Settings, stream_id: str) -> dict[str, Any]:
    """The stream's current state, with the chunk text fetched from IPFS when it is pinned."""
    from ceramic_pipeline.ipfs.config import pinning_service_from_env

    StreamID.from_string(stream_id)  # a clear error for a malformed id before any request
    with ceramic_client(settings) as client:
        back = read_back(client, stream_id)
    content = back.content or {}
    model = back.events[0].model
    text = content.get("text")
    if text is None and content.get("textCid"):
        service = pinning_service_from_env(settings.environ, settings.data_dir)
        text = service.fetch(content["textCid"]).decode("utf-8")
    return {
        "stream_id": stream_id, "controller": back.controller, "model": str(model) if model else None,
        "version": len(back.events), "tip": back.tip, "content": content, "text": text,
    }


def verify_stream(settings: Settings, stream_id: str) -> tuple[bool, str]:
    """(ok, report): every event's signature, CID and prev link checked."""
    try:
        StreamID.from_string(stream_id)
        with ceramic_client(settings) as client:
            back = read_back(client, stream_id)
    except (EventError, ValueError) as exc:
        return False, f"FAILED {stream_id}: {exc}"
    signer = ", ".join(sorted(back.signers)) or back.controller
    return True, f"OK {stream_id}: {len(back.events)} events, signatures, CIDs and prev links verified; signed by {signer}"


def format_summary(summary: dict[str, Any], as_json: bool) -> str:
    if as_json:
        return json.dumps(summary, indent=2, sort_keys=True)
    width = max(len(k) for k in summary)
    return "\n".join(f"{k.ljust(width)}  {v}" for k, v in summary.items())
