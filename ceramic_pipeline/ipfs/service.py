"""The pinning interface every backend implements, and the shared ``pin`` flow.

``pin`` computes the CID locally first, skips the upload when the backend already
holds that CID, and after an upload compares the backend's CID with ours as parsed
values (services answer in different multibases). A mismatch records nothing.
"""

from __future__ import annotations

import logging
from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass

from ceramic_pipeline.ceramic.cid import CID
from ceramic_pipeline.ipfs.errors import (
    CIDMismatchError,
    ContentIntegrityError,
    PinningError,
)
from ceramic_pipeline.ipfs.records import PinRecord, utc_now_iso
from ceramic_pipeline.ipfs.unixfs import ImportedFile, file_cid, import_file
from ceramic_pipeline.metrics import ceramic_ipfs_pin_failures_total

log = logging.getLogger(__name__)


def as_cid(cid: CID | str) -> CID:
    return cid if isinstance(cid, CID) else CID.from_string(cid)


@dataclass(frozen=True)
class Upload:
    """What a backend answered for an upload, and how to undo it if the CID is wrong."""

    cid: CID
    undo: Callable[[], None] | None = None


class PinningService(ABC):
    name: str

    def pin(self, data: bytes, name: str) -> PinRecord:
        """Pin ``data`` (uploading only if not already pinned) and return its record."""
        imported = import_file(data)
        if self._is_pinned(imported.root, count_failures=True):
            return self._existing_record(imported)
        answer = self._upload(imported, data, name)
        if answer.cid != imported.root:
            ceramic_ipfs_pin_failures_total.labels(service=self.name).inc()
            self._undo_quietly(answer)
            raise CIDMismatchError(
                f"{self.name} stored {name!r} as {answer.cid}, but its content is {imported.root}"
            )
        record = PinRecord(
            cid=imported.root,
            service=self.name,
            pinned_at=utc_now_iso(),
            size=len(data),
        )
        self._record_pin(record)
        return record

    def is_pinned(self, cid: CID | str) -> bool:
        return self._is_pinned(as_cid(cid), count_failures=False)

    @abstractmethod
    def fetch(self, cid: CID | str) -> bytes:
        """The content under ``cid``, verified against it."""

    @abstractmethod
    def health(self) -> dict:
        """``{"service": name, "ok": bool, ...}``; never raises for an unreachable service."""

    @abstractmethod
    def _is_pinned(self, cid: CID, *, count_failures: bool) -> bool: ...

    @abstractmethod
    def _upload(self, imported: ImportedFile, data: bytes, name: str) -> Upload: ...

    def _record_pin(self, record: PinRecord) -> None:
        """Hook for backends that keep their own pin records (called after the CID check)."""

    def _existing_record(self, imported: ImportedFile) -> PinRecord:
        return PinRecord(
            cid=imported.root,
            service=self.name,
            pinned_at=utc_now_iso(),
            size=imported.size,
        )

    def _undo_quietly(self, answer: Upload) -> None:
        if answer.undo is None:
            return
        try:
            answer.undo()
        except PinningError as exc:  # best effort: the mismatch error is what matters
            log.warning(
                "%s: could not remove mismatched pin %s: %s", self.name, answer.cid, exc
            )


def upload_filename(name: str) -> str:
    """A flat multipart filename: services read "a/b" as a folder and would wrap the file."""
    flat = name.replace("/", "_").replace("\\", "_").strip()
    return flat or "content"


def verify_fetched(cid: CID, content: bytes) -> bytes:
    """Check content fetched as a whole file (cat, gateway) by re-importing it."""
    if file_cid(content) != cid:
        raise ContentIntegrityError(
            f"content fetched for {cid} does not hash to it under the raw-leaves CIDv1 import"
        )
    return content
