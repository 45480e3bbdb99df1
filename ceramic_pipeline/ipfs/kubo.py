"""The ``local`` backend: an IPFS node's Kubo RPC API (kubo, or js-ipfs in tests)."""

from __future__ import annotations

import json

import httpx

from ceramic_pipeline.ceramic.cid import CID
from ceramic_pipeline.ipfs.errors import ContentNotFoundError, PinningError
from ceramic_pipeline.ceramic.retry import RetryPolicy
from ceramic_pipeline.ipfs.service import (
    PinningService,
    Upload,
    as_cid,
    upload_filename,
    verify_fetched,
)
from ceramic_pipeline.ipfs.transport import ServiceHTTP
from ceramic_pipeline.ipfs.unixfs import CHUNK_SIZE, ImportedFile

# The import profile our local CID computation mirrors; sent explicitly, never left to defaults.
ADD_PARAMS = {
    "cid-version": "1",
    "raw-leaves": "true",
    "chunker": f"size-{CHUNK_SIZE}",
    "hash": "sha2-256",
    "pin": "true",
}


def _not_pinned(response: httpx.Response) -> bool:
    # Kubo and js-ipfs answer pin/ls for an unpinned CID with 500 "... is not pinned".
    return response.status_code == 500 and "not pinned" in response.text


def _not_found(response: httpx.Response) -> bool:
    # An offline node answers "not found"; an online one searches until the request timeout.
    text = response.text.lower()
    return response.status_code == 500 and ("not found" in text or "timed out" in text)


class KuboPinningService(PinningService):
    name = "local"

    def __init__(
        self,
        api_url: str = "http://localhost:5001",
        *,
        policy: RetryPolicy | None = None,
        client: httpx.Client | None = None,
        timeout: float = 60.0,
        fetch_timeout: str = "30s",
    ) -> None:
        self.api_url = api_url.rstrip("/")
        self.fetch_timeout = (
            fetch_timeout  # node-side limit on finding content we do not hold
        )
        self.client = client or httpx.Client(timeout=timeout)
        self.http = ServiceHTTP(self.name, self.client, policy or RetryPolicy())

    def _rpc(self, command: str) -> str:
        return f"{self.api_url}/api/v0/{command}"

    def _upload(self, imported: ImportedFile, data: bytes, name: str) -> Upload:
        response = self.http.request(
            "POST",
            self._rpc("add"),
            params=ADD_PARAMS,
            files={"file": (upload_filename(name), data, "application/octet-stream")},
            count_failures=True,
        )
        # add streams one JSON object per line; the last one describes the file.
        lines = [line for line in response.text.splitlines() if line.strip()]
        try:
            answered = CID.from_string(json.loads(lines[-1])["Hash"])
        except (IndexError, KeyError, ValueError) as exc:
            raise PinningError(
                f"local: unexpected add response {response.text[:200]!r}"
            ) from exc
        return Upload(cid=answered, undo=lambda: self.unpin(answered))

    def _is_pinned(self, cid: CID, *, count_failures: bool) -> bool:
        response = self.http.request(
            "POST",
            self._rpc("pin/ls"),
            params={"arg": str(cid), "type": "recursive"},
            accept=_not_pinned,
            count_failures=count_failures,
        )
        if response.status_code != 200:
            return False
        keys = response.json().get("Keys") or {}
        return any(CID.from_string(key) == cid for key in keys)

    def unpin(self, cid: CID | str) -> None:
        self.http.request(
            "POST",
            self._rpc("pin/rm"),
            params={"arg": str(as_cid(cid))},
            count_failures=False,
        )

    def fetch(self, cid: CID | str) -> bytes:
        cid = as_cid(cid)
        response = self.http.request(
            "POST",
            self._rpc("cat"),
            params={"arg": str(cid), "timeout": self.fetch_timeout},
            accept=_not_found,
            count_failures=False,
        )
        if response.status_code != 200:
            raise ContentNotFoundError(
                f"local: {cid} not found ({response.text[:200]})"
            )
        return verify_fetched(cid, response.content)

    def health(self) -> dict:
        try:
            response = self.client.post(self._rpc("version"))
            response.raise_for_status()
            return {
                "service": self.name,
                "ok": True,
                "url": self.api_url,
                "version": response.json().get("Version"),
            }
        except (httpx.HTTPError, ValueError) as exc:
            return {
                "service": self.name,
                "ok": False,
                "url": self.api_url,
                "error": str(exc),
            }
