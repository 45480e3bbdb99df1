"""A Pinata stand-in on loopback: the request/response shapes of Pinata's v1 and v3 APIs.

Implements GET /data/testAuthentication, POST /pinning/pinFileToIPFS (multipart, with
stringified-JSON pinataMetadata/pinataOptions, honouring ``cidVersion``; the legacy
default here is 0), GET /data/pinList, DELETE /pinning/unpin/{cid}, POST /v3/files
(``network`` defaults to private, ``cid_version`` v0|v1), GET /v3/files/{network},
DELETE /v3/files/{network}/{id}, and a gateway GET /ipfs/{cid}. It computes the CID of
every upload itself, checks the auth header (Bearer JWT; legacy key + secret headers
on v1 only), and can inject 429 (with or without Retry-After), 5xx, or a service that
ignores the requested CID version.
"""

from __future__ import annotations

import json
import threading
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.message import Message
from email.parser import BytesHeaderParser
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Self
from urllib.parse import parse_qs, urlsplit

from ceramic_pipeline.ceramic.cid import CID, CIDError
from ceramic_pipeline.ipfs.unixfs import import_file


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


@dataclass
class Fault:
    status: int
    times: int
    method: str | None
    path: str | None  # exact path to match; None matches every request
    retry_after: str | None


@dataclass
class Pin:
    cid: CID
    cid_text: str  # the text the service answered with
    content: bytes
    dag_size: int
    name: str
    api: str  # "v1" or "v3:<network>"
    id: str = field(default_factory=lambda: str(uuid.uuid4()))
    date_pinned: str = field(default_factory=_now)
    date_unpinned: str | None = None


class PinataStandIn:
    def __init__(
        self,
        jwt: str = "standin-jwt",
        api_key: str = "standin-key",
        api_secret: str = "standin-secret",
    ):
        self.jwt, self.api_key, self.api_secret = jwt, api_key, api_secret
        self.ignore_cid_version = (
            False  # answer CIDv0 whatever the client asked (a misbehaving service)
        )
        self.pins: list[Pin] = []
        self.requests: list[
            tuple[str, str]
        ] = []  # (method, path) of every request received
        self.upload_forms: list[
            dict[str, str]
        ] = []  # non-file form fields of each upload
        self._faults: list[Fault] = []
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _handler_for(self))
        self._thread = threading.Thread(
            target=self._server.serve_forever, args=(0.05,), daemon=True
        )

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def __enter__(self) -> Self:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    def inject(
        self,
        status: int,
        times: int = 1,
        *,
        method: str | None = None,
        path: str | None = None,
        retry_after: str | None = None,
    ) -> None:
        """Answer the next ``times`` matching requests with ``status``."""
        with self._lock:
            self._faults.append(Fault(status, times, method, path, retry_after))

    def uploads(self) -> list[tuple[str, str]]:
        return [
            r
            for r in self.requests
            if r in (("POST", "/pinning/pinFileToIPFS"), ("POST", "/v3/files"))
        ]

    def active_pins(self, api: str | None = None) -> list[Pin]:
        return [
            p
            for p in self.pins
            if p.date_unpinned is None and (api is None or p.api == api)
        ]

    def _take_fault(self, method: str, path: str) -> Fault | None:
        with self._lock:
            for fault in self._faults:
                if (
                    fault.times > 0
                    and fault.method in (None, method)
                    and fault.path in (None, path)
                ):
                    fault.times -= 1
                    return fault
        return None


def _handler_for(standin: PinataStandIn):
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        # Send header and body in one segment: avoids 40 ms delayed-ACK stalls on keep-alive.
        wbufsize = -1
        disable_nagle_algorithm = True

        def log_message(self, *args) -> None:  # keep test output quiet
            pass

        def do_GET(self) -> None:
            self._dispatch("GET")

        def do_POST(self) -> None:
            self._dispatch("POST")

        def do_DELETE(self) -> None:
            self._dispatch("DELETE")

        def _dispatch(self, method: str) -> None:
            url = urlsplit(self.path)
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            query = {k: v[0] for k, v in parse_qs(url.query).items()}
            standin.requests.append((method, url.path))
            fault = standin._take_fault(method, url.path)
            if fault is not None:
                headers = (
                    {"Retry-After": fault.retry_after} if fault.retry_after else {}
                )
                return self._json(
                    fault.status,
                    {
                        "error": {
                            "reason": "INJECTED",
                            "details": f"HTTP {fault.status}",
                        }
                    },
                    headers,
                )
            parts = url.path.strip("/").split("/")
            if method == "GET" and parts[:1] == ["ipfs"] and len(parts) == 2:
                return self._gateway(parts[1])  # public gateway: no auth
            auth = self._auth()
            if auth is None:
                return self._json(
                    401,
                    {
                        "error": {
                            "reason": "INVALID_CREDENTIALS",
                            "details": "Invalid/expired credentials",
                        }
                    },
                )
            if parts[:1] == ["v3"] and auth != "jwt":
                return self._json(
                    401,
                    {
                        "error": {
                            "reason": "INVALID_CREDENTIALS",
                            "details": "v3 needs a JWT",
                        }
                    },
                )
            route = (method, *parts[:2])
            if route == ("GET", "data", "testAuthentication"):
                return self._json(
                    200,
                    {
                        "message": "Congratulations! You are communicating with the Pinata API!"
                    },
                )
            if route == ("POST", "pinning", "pinFileToIPFS"):
                return self._pin_file_v1(body)
            if route == ("GET", "data", "pinList"):
                return self._pin_list(query)
            if route == ("DELETE", "pinning", "unpin") and len(parts) == 3:
                return self._unpin(parts[2])
            if route == ("POST", "v3", "files") and len(parts) == 2:
                return self._upload_v3(body)
            if route == ("GET", "v3", "files") and len(parts) == 3:
                return self._list_v3(parts[2], query)
            if route == ("DELETE", "v3", "files") and len(parts) == 4:
                return self._delete_v3(parts[2], parts[3])
            return self._json(
                404, {"error": {"reason": "NOT_FOUND", "details": url.path}}
            )

        # --- auth -------------------------------------------------------------------------
        def _auth(self) -> str | None:
            if self.headers.get("Authorization") == f"Bearer {standin.jwt}":
                return "jwt"
            if (
                self.headers.get("pinata_api_key"),
                self.headers.get("pinata_secret_api_key"),
            ) == (
                standin.api_key,
                standin.api_secret,
            ):
                return "keys"
            return None

        # --- v1 ---------------------------------------------------------------------------
        def _pin_file_v1(self, body: bytes) -> None:
            form = self._multipart(body)
            if form is None or "file" not in form:
                return self._json(
                    400,
                    {
                        "error": {
                            "reason": "KEYS_MUST_BE_STRINGS",
                            "details": "file is required",
                        }
                    },
                )
            try:
                options = json.loads(
                    form.get("pinataOptions", (None, b"{}"))[1] or b"{}"
                )
                metadata = json.loads(
                    form.get("pinataMetadata", (None, b"{}"))[1] or b"{}"
                )
            except ValueError:
                return self._json(
                    400,
                    {
                        "error": {
                            "reason": "INVALID_JSON",
                            "details": "pinataOptions/pinataMetadata must be JSON strings",
                        }
                    },
                )
            if options.get("wrapWithDirectory"):
                return self._json(
                    400,
                    {
                        "error": {
                            "reason": "UNSUPPORTED",
                            "details": "stand-in does not wrap directories",
                        }
                    },
                )
            version = options.get("cidVersion", 0)
            if version not in (0, 1, "0", "1"):
                return self._json(
                    400,
                    {
                        "error": {
                            "reason": "INVALID_CID_VERSION",
                            "details": str(version),
                        }
                    },
                )
            filename, content = form["file"]
            pin, duplicate = self._store(
                content, int(version), metadata.get("name") or filename or "", "v1"
            )
            self._json(
                200,
                {
                    "IpfsHash": pin.cid_text,
                    "PinSize": pin.dag_size,
                    "Timestamp": pin.date_pinned,
                    "isDuplicate": duplicate,
                },
            )

        def _pin_list(self, query: dict) -> None:
            rows = (
                standin.active_pins("v1")
                if query.get("status", "all") == "pinned"
                else [p for p in standin.pins if p.api == "v1"]
            )
            if "cid" in query:
                wanted = _parse_cid(query["cid"])
                rows = [p for p in rows if p.cid == wanted]
            limit = min(int(query.get("pageLimit", 10)), 1000)
            offset = int(query.get("pageOffset", 0))
            self._json(
                200,
                {
                    "count": len(rows),
                    "rows": [
                        {
                            "id": p.id,
                            "ipfs_pin_hash": p.cid_text,
                            "size": p.dag_size,
                            "user_id": "standin-user",
                            "date_pinned": p.date_pinned,
                            "date_unpinned": p.date_unpinned,
                            "metadata": {"name": p.name, "keyvalues": None},
                            "regions": [
                                {
                                    "regionId": "FRA1",
                                    "currentReplicationCount": 1,
                                    "desiredReplicationCount": 1,
                                }
                            ],
                            "mime_type": "application/octet-stream",
                            "number_of_files": 1,
                        }
                        for p in rows[offset : offset + limit]
                    ],
                },
            )

        def _unpin(self, cid_text: str) -> None:
            cid = _parse_cid(cid_text)
            for pin in standin.active_pins("v1"):
                if pin.cid == cid:
                    pin.date_unpinned = _now()
                    return self._send(200, b"OK", "text/plain")
            self._json(
                404,
                {
                    "error": {
                        "reason": "CURRENT_USER_HAS_NOT_PINNED_CID",
                        "details": cid_text,
                    }
                },
            )

        # --- v3 ---------------------------------------------------------------------------
        def _upload_v3(self, body: bytes) -> None:
            form = self._multipart(body)
            if form is None or "file" not in form:
                return self._json(400, {"error": {"message": "file is required"}})
            network = form.get("network", (None, b"private"))[1].decode()
            cid_version = form.get("cid_version", (None, b"v1"))[1].decode()
            if network not in ("public", "private") or cid_version not in ("v0", "v1"):
                return self._json(
                    400,
                    {
                        "error": {
                            "message": f"bad network/cid_version: {network}/{cid_version}"
                        }
                    },
                )
            filename, content = form["file"]
            name = form.get("name", (None, filename.encode()))[1].decode()
            pin, duplicate = self._store(
                content, int(cid_version[1]), name, f"v3:{network}"
            )
            self._json(
                200, {"data": {**_file_row(pin, network), "is_duplicate": duplicate}}
            )

        def _list_v3(self, network: str, query: dict) -> None:
            rows = standin.active_pins(f"v3:{network}")
            if "cid" in query:
                wanted = _parse_cid(query["cid"])
                rows = [p for p in rows if p.cid == wanted]
            limit = int(query.get("limit", 10))
            self._json(
                200,
                {
                    "data": {
                        "files": [_file_row(p, network) for p in rows[:limit]],
                        "next_page_token": "",
                    }
                },
            )

        def _delete_v3(self, network: str, file_id: str) -> None:
            for pin in standin.active_pins(f"v3:{network}"):
                if pin.id == file_id:
                    pin.date_unpinned = _now()
                    return self._json(200, {"data": None})
            self._json(404, {"error": {"message": "file not found"}})

        def _gateway(self, cid_text: str) -> None:
            cid = _parse_cid(cid_text)
            for pin in standin.active_pins():
                if pin.cid == cid and pin.api != "v3:private":
                    return self._send(200, pin.content, "application/octet-stream")
            self._send(404, b"not found", "text/plain")

        # --- helpers ----------------------------------------------------------------------
        def _store(
            self, content: bytes, cid_version: int, name: str, api: str
        ) -> tuple[Pin, bool]:
            if standin.ignore_cid_version:
                cid_version = 0
            imported = import_file(content, cid_version=cid_version)
            with standin._lock:
                upload_fields = {
                    k: v for k, v in (self._last_form or {}).items() if k != "file"
                }
                standin.upload_forms.append(upload_fields)
                for pin in standin.active_pins(api):
                    if pin.cid == imported.root:
                        return pin, True
                pin = Pin(
                    cid=imported.root,
                    cid_text=str(imported.root),
                    content=content,
                    dag_size=sum(len(b.data) for b in imported.blocks),
                    name=name,
                    api=api,
                )
                standin.pins.append(pin)
                return pin, False

        _last_form: dict | None = None

        def _multipart(self, body: bytes) -> dict[str, tuple[str, bytes]] | None:
            header = Message()
            header["content-type"] = self.headers.get("Content-Type", "")
            boundary = header.get_param("boundary")
            if header.get_content_type() != "multipart/form-data" or not boundary:
                return None
            form: dict[str, tuple[str, bytes]] = {}
            for chunk in body.split(b"--" + str(boundary).encode())[1:]:
                if chunk.startswith(b"--"):
                    break
                head, _, content = chunk.removeprefix(b"\r\n").partition(b"\r\n\r\n")
                headers = BytesHeaderParser().parsebytes(head + b"\r\n\r\n")
                name = headers.get_param("name", header="content-disposition")
                filename = (
                    headers.get_param("filename", header="content-disposition") or ""
                )
                form[str(name)] = (str(filename), content.removesuffix(b"\r\n"))
            self._last_form = {
                k: v[1].decode(errors="replace") for k, v in form.items() if k != "file"
            }
            return form

        def _json(self, status: int, obj, headers: dict | None = None) -> None:
            self._send(status, json.dumps(obj).encode(), "application/json", headers)

        def _send(
            self,
            status: int,
            body: bytes,
            content_type: str,
            headers: dict | None = None,
        ) -> None:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            for key, value in (headers or {}).items():
                self.send_header(key, value)
            self.end_headers()
            self.wfile.write(body)

    return Handler


def _parse_cid(text: str) -> CID | None:
    try:
        return CID.from_string(text)
    except CIDError:
        return None


def _file_row(pin: Pin, network: str) -> dict:
    return {
        "id": pin.id,
        "name": pin.name,
        "cid": pin.cid_text,
        "created_at": pin.date_pinned,
        "size": len(pin.content),
        "number_of_files": 1,
        "mime_type": "application/octet-stream",
        "user_id": "standin-user",
        "group_id": None,
        "keyvalues": {},
        "vectorized": False,
        "network": network,
    }
