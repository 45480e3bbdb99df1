"""A stand-in for the two HashiCorp Vault endpoints the seed source uses, on loopback.

- ``GET /v1/<mount>/data/<path>`` (KV v2 read): needs an ``X-Vault-Token`` that is allowed
  to read ``<mount>/<path>``; answers as Vault does: 403 ``{"errors": ["permission denied"]}``
  for a missing, unknown or unauthorised token (Vault hides whether the path exists), 404
  ``{"errors": []}`` for a path that holds no secret, else 200 with ``data.data`` and
  ``data.metadata``.
- ``POST /v1/auth/<k8s mount>/login`` (Kubernetes auth): ``{"role", "jwt"}`` for a
  registered pair returns ``auth.client_token``; anything else 403 permission denied.

Every request is recorded (method, path, token header present) for assertions.
"""

from __future__ import annotations

import json
import threading
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Self


class VaultStandIn:
    def __init__(self, kv_mount: str = "secret", k8s_mount: str = "kubernetes") -> None:
        self.kv_mount, self.k8s_mount = kv_mount, k8s_mount
        self.secrets: dict[str, dict[str, str]] = {}  # path under the mount -> fields
        self.grants: dict[str, set[str]] = {}  # token -> readable paths
        self.k8s_roles: dict[tuple[str, str], str] = {}  # (role, jwt) -> token it logs in as
        self.requests: list[tuple[str, str, bool]] = []
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _handler_for(self))
        self._thread = threading.Thread(target=self._server.serve_forever, args=(0.05,), daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def put(self, path: str, fields: dict[str, str]) -> None:
        self.secrets[path] = fields

    def grant(self, token: str, path: str) -> None:
        self.grants.setdefault(token, set()).add(path)

    def add_k8s_role(self, role: str, jwt: str, token: str) -> None:
        self.k8s_roles[(role, jwt)] = token

    def __enter__(self) -> Self:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    def answer(self, method: str, path: str, token: str | None, body: bytes) -> tuple[int, dict]:
        self.requests.append((method, path, token is not None))
        kv_prefix = f"/v1/{self.kv_mount}/data/"
        if method == "GET" and path.startswith(kv_prefix):
            secret_path = path[len(kv_prefix):]
            if token is None or secret_path not in self.grants.get(token, set()):
                return 403, {"errors": ["permission denied"]}
            if secret_path not in self.secrets:
                return 404, {"errors": []}
            data = {"data": self.secrets[secret_path],
                    "metadata": {"created_time": "2026-11-30T00:00:00Z", "custom_metadata": None,
                                 "deletion_time": "", "destroyed": False, "version": 1}}
            return 200, {"request_id": str(uuid.uuid4()), "lease_id": "", "renewable": False,
                         "lease_duration": 0, "data": data, "wrap_info": None, "warnings": None, "auth": None}
        if method == "POST" and path == f"/v1/auth/{self.k8s_mount}/login":
            try:
                login = json.loads(body)
                client_token = self.k8s_roles.get((login["role"], login["jwt"]))
            except (ValueError, KeyError, TypeError):
                return 400, {"errors": ["missing role or jwt"]}
            if client_token is None:
                return 403, {"errors": ["permission denied"]}
            return 200, {"auth": {"client_token": client_token, "accessor": str(uuid.uuid4()), "policies": ["default"],
                                  "lease_duration": 3600, "renewable": True}}
        return 404, {"errors": []}


def _handler_for(standin: VaultStandIn):
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def _serve(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            path = self.path.split("?", 1)[0]
            status, payload = standin.answer(self.command, path, self.headers.get("X-Vault-Token"), body)
            data = json.dumps(payload).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        do_GET = do_POST = _serve

        def log_message(self, *args: object) -> None:  # keep test output clean
            pass

    return Handler
