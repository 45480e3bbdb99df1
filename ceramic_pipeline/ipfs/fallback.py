"""A primary pinning service with a fallback that takes over when the primary is unavailable.

Only :class:`PinningUnavailableError` (retry budget spent on 429/5xx/network errors)
hands over. Rejected credentials and CID mismatches are configuration or integrity
faults that must surface, not be hidden behind the fallback.
"""

from __future__ import annotations

import logging

from ceramic_pipeline.ceramic.cid import CID
from ceramic_pipeline.ipfs.errors import ContentNotFoundError, PinningUnavailableError
from ceramic_pipeline.ipfs.records import PinRecord
from ceramic_pipeline.ipfs.service import PinningService, Upload, as_cid
from ceramic_pipeline.ipfs.unixfs import ImportedFile

log = logging.getLogger(__name__)


class FallbackPinningService(PinningService):
    def __init__(self, primary: PinningService, fallback: PinningService) -> None:
        self.primary = primary
        self.fallback = fallback
        self.name = f"{primary.name}+{fallback.name}"

    def pin(self, data: bytes, name: str) -> PinRecord:
        try:
            return self.primary.pin(data, name)
        except PinningUnavailableError as exc:
            log.warning(
                "%s unavailable, pinning %r on %s: %s",
                self.primary.name,
                name,
                self.fallback.name,
                exc,
            )
            return self.fallback.pin(
                data, name
            )  # its record names the fallback service

    def _is_pinned(self, cid: CID, *, count_failures: bool) -> bool:
        try:
            if self.primary._is_pinned(cid, count_failures=count_failures):
                return True
        except PinningUnavailableError:
            pass
        return self.fallback._is_pinned(cid, count_failures=count_failures)

    def _upload(self, imported: ImportedFile, data: bytes, name: str) -> Upload:
        raise AssertionError(
            "FallbackPinningService.pin delegates; it never uploads itself"
        )

    def fetch(self, cid: CID | str) -> bytes:
        cid = as_cid(cid)
        try:
            return self.primary.fetch(cid)
        except (PinningUnavailableError, ContentNotFoundError, NotImplementedError):
            return self.fallback.fetch(cid)

    def health(self) -> dict:
        primary, fallback = self.primary.health(), self.fallback.health()
        return {
            "service": self.name,
            "ok": primary["ok"] or fallback["ok"],
            "primary": primary,
            "fallback": fallback,
        }
