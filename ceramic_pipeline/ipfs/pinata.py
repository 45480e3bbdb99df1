"""The ``pinata`` backend: Pinata's v3 Files API with a JWT, the legacy v1 API with key + secret.

A JWT uploads through ``<uploads>/v3/files`` (network=public, cid_version=v1) and looks
pins up through ``<api>/v3/files/public?cid=``; an API key + secret uploads through
``<api>/pinning/pinFileToIPFS`` (pinataOptions ``{"cidVersion": 1}``) and looks pins up
through ``<api>/data/pinList?cid=``. Pinata keeps v1 and v3 files apart, so each mode
only asks the listing its own uploads appear in. Pinata has no content API: ``fetch``
goes through a gateway when one is configured.
"""

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
from ceramic_pipeline.ipfs.unixfs import ImportedFile

DEFAULT_API_URL = "https://api.pinata.cloud"
DEFAULT_UPLOADS_URL = "https://uploads.pinata.cloud"


class PinataPinningService(PinningService):
    name = "pinata"

    def __init__(
        self,
        *,
        jwt: str | None = None,
        api_key: str | None = None,
        api_secret: str | None = None,
        api_url: str = DEFAULT_API_URL,
        uploads_url: str = DEFAULT_UPLOADS_URL,
        gateway_url: str | None = None,
        policy: RetryPolicy | None = None,
        client: httpx.Client | None = None,
        timeout: float = 60.0,
    ) -> None:
        if jwt:
            headers, credential_names, self.api_version = (
                {"Authorization": f"Bearer {jwt}"},
                "PINATA_JWT",
                3,
            )
        elif api_key and api_secret:
            headers = {"pinata_api_key": api_key, "pinata_secret_api_key": api_secret}
            credential_names, self.api_version = "PINATA_API_KEY / PINATA_API_SECRET", 1
        else:
            raise ValueError(
                "Pinata needs a JWT, or an API key together with its secret"
            )
        self.api_url = api_url.rstrip("/")
        self.uploads_url = uploads_url.rstrip("/")
        self.gateway_url = gateway_url.rstrip("/") if gateway_url else None
        self.client = client or httpx.Client(timeout=timeout)
        self._headers = headers  # kept off repr/logs: they carry the secret
        self.http = ServiceHTTP(
            self.name, self.client, policy or RetryPolicy(), credential_names
        )

    def __repr__(self) -> str:
        return f"PinataPinningService(api_version={self.api_version}, api_url={self.api_url!r})"

    def _upload(self, imported: ImportedFile, data: bytes, name: str) -> Upload:
        file_part = {"file": (upload_filename(name), data, "application/octet-stream")}
        if self.api_version == 3:
            response = self.http.request(
                "POST",
                f"{self.uploads_url}/v3/files",
                headers=self._headers,
                files=file_part,
                data={"network": "public", "name": name, "cid_version": "v1"},
                count_failures=True,
            )
            body = _json(response)
            try:
                file_id, answered = (
                    body["data"]["id"],
                    CID.from_string(body["data"]["cid"]),
                )
            except (KeyError, TypeError) as exc:
                raise PinningError(
                    f"pinata: unexpected v3 upload response {body!r:.200}"
                ) from exc
            return Upload(cid=answered, undo=lambda: self._delete_v3(file_id))
        response = self.http.request(
            "POST",
            f"{self.api_url}/pinning/pinFileToIPFS",
            headers=self._headers,
            files=file_part,
            data={
                "pinataMetadata": json.dumps({"name": name}),
                "pinataOptions": json.dumps({"cidVersion": 1}),
            },
            count_failures=True,
        )
        body = _json(response)
        try:
            answered = CID.from_string(body["IpfsHash"])
        except (KeyError, TypeError) as exc:
            raise PinningError(
                f"pinata: unexpected pinFileToIPFS response {body!r:.200}"
            ) from exc
        return Upload(cid=answered, undo=lambda: self._unpin_v1(answered))

    def _is_pinned(self, cid: CID, *, count_failures: bool) -> bool:
        if self.api_version == 3:
            response = self.http.request(
                "GET",
                f"{self.api_url}/v3/files/public",
                headers=self._headers,
                params={"cid": str(cid), "limit": "10"},
                count_failures=count_failures,
            )
            rows = (_json(response).get("data") or {}).get("files") or []
            found = [row.get("cid") for row in rows]
        else:
            response = self.http.request(
                "GET",
                f"{self.api_url}/data/pinList",
                headers=self._headers,
                params={"cid": str(cid), "status": "pinned", "pageLimit": "10"},
                count_failures=count_failures,
            )
            found = [
                row.get("ipfs_pin_hash") for row in _json(response).get("rows") or []
            ]
        return any(
            text and text != "pending" and CID.from_string(text) == cid
            for text in found
        )

    def _unpin_v1(self, cid: CID) -> None:
        self.http.request(
            "DELETE",
            f"{self.api_url}/pinning/unpin/{cid}",
            headers=self._headers,
            count_failures=False,
        )

    def _delete_v3(self, file_id: str) -> None:
        self.http.request(
            "DELETE",
            f"{self.api_url}/v3/files/public/{file_id}",
            headers=self._headers,
            count_failures=False,
        )

    def fetch(self, cid: CID | str) -> bytes:
        cid = as_cid(cid)
        if self.gateway_url is None:
            raise NotImplementedError(
                "Pinata has no API to read content back; set PINATA_GATEWAY_URL to fetch through a gateway"
            )
        response = self.http.request(
            "GET",
            f"{self.gateway_url}/ipfs/{cid}",
            accept=lambda r: r.status_code == 404,
            count_failures=False,
        )
        if response.status_code == 404:
            raise ContentNotFoundError(f"pinata gateway has no {cid}")
        return verify_fetched(cid, response.content)

    def health(self) -> dict:
        report = {
            "service": self.name,
            "api_version": self.api_version,
            "url": self.api_url,
        }
        try:
            response = self.client.get(
                f"{self.api_url}/data/testAuthentication", headers=self._headers
            )
        except httpx.HTTPError as exc:
            return {**report, "ok": False, "error": str(exc)}
        if response.status_code in (401, 403):
            error = f"HTTP {response.status_code}, credentials rejected; check {self.http.credential_names}"
            return {**report, "ok": False, "error": error, "auth_rejected": True}
        if response.status_code != 200:
            return {**report, "ok": False, "error": f"HTTP {response.status_code}"}
        return {**report, "ok": True, "message": _json(response).get("message")}


def _json(response: httpx.Response) -> dict:
    try:
        body = response.json()
    except ValueError:
        raise PinningError(f"pinata: non-JSON answer {response.text[:200]!r}") from None
    if not isinstance(body, dict):
        raise PinningError(f"pinata: unexpected answer {body!r:.200}")
    return body
