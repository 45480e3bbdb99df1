"""The DoclingChunk content a chunk's stream holds, and the hash that decides "changed"."""

from __future__ import annotations

import hashlib
import json
from typing import Any

from ceramic_pipeline.ceramic.model import MAX_HEADING_CHARS, MAX_PATH_CHARS
from ceramic_pipeline.storage.chunks import ChunkRow

TIMESTAMPS = ("createdAt", "updatedAt")


def chunk_content(chunk: ChunkRow, *, created_at: str, updated_at: str) -> dict[str, Any]:
    """Content for a live chunk: text inline, or its IPFS CID when the chunk was pinned.

    A heading or source longer than the model allows is truncated and listed in
    ``truncated`` with its full value's SHA-256 and length (policy: ``ceramic/model.py``).
    """
    truncated: list[dict[str, Any]] = []
    content: dict[str, Any] = {
        "documentId": chunk.document_id,
        "chunkIndex": chunk.chunk_index,
        "textSha256": chunk.text_sha256,
        "textBytes": chunk.text_bytes,
        "headings": [_fit(h, MAX_HEADING_CHARS, f"/headings/{i}", truncated) for i, h in enumerate(chunk.headings)],
        "pages": list(chunk.pages),
        "createdAt": created_at,
        "updatedAt": updated_at,
    }
    if chunk.text_cid:
        content["textCid"] = chunk.text_cid
    else:
        content["text"] = chunk.text
    if chunk.source:
        content["source"] = _fit(chunk.source, MAX_PATH_CHARS, "/source", truncated)
    if truncated:
        content["truncated"] = truncated
    return content


def _fit(value: Any, limit: int, pointer: str, truncated: list[dict[str, Any]]) -> Any:
    """``value`` cut to ``limit`` characters, recording the full value's hash; non-strings are left to validation."""
    if not isinstance(value, str) or len(value) <= limit:
        return value
    digest = hashlib.sha256(value.encode("utf-8", "surrogatepass")).hexdigest()
    truncated.append({"field": pointer, "sha256": digest, "chars": len(value)})
    return value[:limit]


def removed_content(previous: dict[str, Any], *, updated_at: str) -> dict[str, Any]:
    """Content marking a chunk gone from its document; the stream and its history stay."""
    keep = ("documentId", "chunkIndex", "textSha256", "textBytes", "createdAt")
    return {**{k: previous[k] for k in keep}, "removed": True, "updatedAt": updated_at}


def content_sha256(content: dict[str, Any]) -> str:
    """Hash of everything but the timestamps: equal hashes mean nothing to publish."""
    substance = {k: v for k, v in content.items() if k not in TIMESTAMPS}
    text = json.dumps(substance, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    # surrogatepass: a lone surrogate must not crash planning; the writer reports it per chunk
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()
