"""The ceramic_models registry: which model stream a signer created for a model definition.

The DoclingChunk model is created once per DID; later runs look it up by
(signer_did, definition_sha256) instead of signing a new init event.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Any

import psycopg
from psycopg.types.json import Jsonb


@dataclass(frozen=True, slots=True)
class ModelRecord:
    model_id: str
    signer_did: str
    definition: dict[str, Any]
    init_event_cid: str

    @property
    def definition_sha256(self) -> str:
        return definition_sha256(self.definition)


def definition_sha256(definition: dict[str, Any]) -> str:
    """Hash of the definition's canonical JSON (sorted keys, no whitespace)."""
    canonical = json.dumps(definition, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode()).hexdigest()


def get_model(conn: psycopg.Connection, signer_did: str, definition: dict[str, Any]) -> ModelRecord | None:
    row = conn.execute(
        "SELECT model_id, signer_did, definition, init_event_cid FROM ceramic_models "
        "WHERE signer_did = %s AND definition_sha256 = %s",
        (signer_did, definition_sha256(definition)),
    ).fetchone()
    return ModelRecord(*row) if row else None


def put_model(conn: psycopg.Connection, record: ModelRecord) -> ModelRecord:
    """Register a model; returns the stored record (the earlier one if already registered).

    Two writers racing to register the same (signer, definition) both get the same record.
    A different model_id for an already registered pair raises ValueError.
    """
    conn.execute(
        "INSERT INTO ceramic_models (model_id, signer_did, definition_sha256, definition, init_event_cid) "
        "VALUES (%s, %s, %s, %s, %s) ON CONFLICT DO NOTHING",
        (record.model_id, record.signer_did, record.definition_sha256, Jsonb(record.definition),
         record.init_event_cid),
    )
    stored = get_model(conn, record.signer_did, record.definition)
    if stored is None:
        raise ValueError(f"model {record.model_id} conflicts with the registry: that id is "
                         "registered for another signer or definition")
    if stored.model_id != record.model_id:
        raise ValueError(f"model {record.model_id} conflicts with the registry: {record.signer_did} "
                         f"already has {stored.model_id} for this definition")
    return stored
