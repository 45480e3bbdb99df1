"""The pin record stored with a chunk (it lands in a JSONB column)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from ceramic_pipeline.ceramic.cid import CID


def utc_now_iso() -> str:
    """ISO 8601 in UTC with a ``Z`` suffix and millisecond precision."""
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


@dataclass(frozen=True, slots=True)
class PinRecord:
    cid: CID
    service: str  # which backend holds the pin: "pinata", "local" or "embedded"
    pinned_at: str  # ISO 8601 UTC
    size: int  # content bytes
    status: str = "pinned"

    def to_json(self) -> dict:
        return {
            "cid": str(self.cid),
            "service": self.service,
            "pinned_at": self.pinned_at,
            "status": self.status,
            "size": self.size,
        }

    @classmethod
    def from_json(cls, obj: dict) -> PinRecord:
        return cls(
            cid=CID.from_string(obj["cid"]),
            service=obj["service"],
            pinned_at=obj["pinned_at"],
            size=int(obj["size"]),
            status=obj["status"],
        )
