"""A content-addressed blockstore on local disk: the default when no service is configured.

Content is stored as the same blocks ``ipfs add --cid-version 1 --raw-leaves`` would
make (raw leaves plus DAG-PB/UnixFS parents), one file per block, so a later export
to a real node (CAR, ``block/put``) needs no re-chunking. A pin is a small JSON file
written after all its blocks, so a crash mid-write never leaves a pin without blocks.
Every read re-hashes each block against its CID.
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path

from ceramic_pipeline.ceramic.cid import CID
from ceramic_pipeline.ipfs.errors import (
    ContentIntegrityError,
    ContentNotFoundError,
    PinningError,
)
from ceramic_pipeline.ipfs.records import PinRecord
from ceramic_pipeline.ipfs.service import PinningService, Upload, as_cid
from ceramic_pipeline.ipfs.unixfs import ImportedFile, assemble, verify_block
from ceramic_pipeline.metrics import ceramic_ipfs_pin_failures_total


class EmbeddedBlockstore(PinningService):
    name = "embedded"

    def __init__(self, root: Path) -> None:
        self.root = Path(root)
        self.blocks_dir = self.root / "blocks"
        self.pins_dir = self.root / "pins"

    def block_path(self, cid: CID) -> Path:
        text = str(cid)
        return (
            self.blocks_dir / text[-2:] / text
        )  # shard by the last characters (well spread)

    def _pin_path(self, cid: CID) -> Path:
        return self.pins_dir / f"{cid}.json"

    def _is_pinned(self, cid: CID, *, count_failures: bool) -> bool:
        return self._pin_path(cid).is_file()

    def _existing_record(self, imported: ImportedFile) -> PinRecord:
        return PinRecord.from_json(
            json.loads(self._pin_path(imported.root).read_text())
        )

    def pin(self, data: bytes, name: str) -> PinRecord:
        try:
            return super().pin(data, name)
        except OSError as exc:
            ceramic_ipfs_pin_failures_total.labels(service=self.name).inc()
            raise PinningError(f"embedded blockstore at {self.root}: {exc}") from exc

    def _upload(self, imported: ImportedFile, data: bytes, name: str) -> Upload:
        for block in imported.blocks:
            path = self.block_path(block.cid)
            if (
                not path.exists()
            ):  # blocks are immutable: an existing one is the same bytes
                _write_atomically(path, block.data)
        return Upload(cid=imported.root)

    def _record_pin(self, record: PinRecord) -> None:
        _write_atomically(
            self._pin_path(record.cid), json.dumps(record.to_json()).encode()
        )

    def pin_record(self, cid: CID | str) -> PinRecord:
        path = self._pin_path(as_cid(cid))
        if not path.is_file():
            raise ContentNotFoundError(f"{cid} is not pinned in {self.root}")
        return PinRecord.from_json(json.loads(path.read_text()))

    def fetch(self, cid: CID | str) -> bytes:
        return assemble(as_cid(cid), self._read_block)

    def _read_block(self, cid: CID) -> bytes:
        path = self.block_path(cid)
        try:
            data = path.read_bytes()
        except FileNotFoundError:
            raise ContentNotFoundError(
                f"block {cid} is not in {self.blocks_dir}"
            ) from None
        try:
            verify_block(cid, data)
        except ContentIntegrityError as exc:
            raise ContentIntegrityError(f"{exc}; file {path}") from None
        return data

    def health(self) -> dict:
        try:
            self.pins_dir.mkdir(parents=True, exist_ok=True)
            writable = os.access(self.pins_dir, os.W_OK)
            pins = sum(1 for _ in self.pins_dir.glob("*.json"))
        except OSError as exc:
            return {
                "service": self.name,
                "ok": False,
                "path": str(self.root),
                "error": str(exc),
            }
        return {
            "service": self.name,
            "ok": writable,
            "path": str(self.root),
            "pins": pins,
        }


def _write_atomically(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
