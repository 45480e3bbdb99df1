"""The DoclingChunk content a chunk's stream holds, and the hash that decides "changed"."""

from __future__ import annotations

import hashlib
import json
from typing import Any

from ceramic_pipeline.storage.chunks import ChunkRow

TIMESTAMPS = ("createdAt", "updatedAt")


def chunk_content(chunk: ChunkRow, *, created_at: str, updated_at: str) -> dict[str, Any]:
    """Content for a live chunk: text inline, or its IPFS CID when the chunk was pinned."""
    content: dict[str, Any] = {
        "documentId": chunk.document_id,
        "chunkIndex": chunk.chunk_index,
        "textSha256": chunk.text_sha256,
        "textBytes": chunk.text_bytes,
        "headings": list(chunk.headings),
        "pages": list(chunk.pages),
        "createdAt": created_at,
        "updatedAt": updated_at,
    }
    if chunk.text_cid:
        content["textCid"] = chunk.text_cid
    else:
        content["text"] = chunk.text
    if chunk.source:
        content["source"] = chunk.source
    return content


def removed_content(previous: dict[str, Any], *, updated_at: str) -> dict[str, Any]:
    """Content marking a chunk gone from its document; the stream and its history stay."""
    keep = ("documentId", "chunkIndex", "textSha256", "textBytes", "createdAt")
    return {**{k: previous[k] for k in keep}, "removed": True, "updatedAt": updated_at}


def content_sha256(content: dict[str, Any]) -> str:
    """Hash of everything but the timestamps: equal hashes mean nothing to publish."""
    substance = {k: v for k, v in content.items() if k not in TIMESTAMPS}
    return hashlib.sha256(json.dumps(substance, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()).hexdigest()
