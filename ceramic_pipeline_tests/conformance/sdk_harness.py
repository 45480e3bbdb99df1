"""Client for ``harness.mjs``: one node process running the official @ceramic-sdk, spoken to in JSON lines.

A single long-running process answers hundreds of build/verify requests in well under a
second each, which is what makes property-based conformance against the real SDK affordable.
"""

from __future__ import annotations

import json
import os
import select
import shutil
import subprocess
import tempfile
from pathlib import Path
from typing import Any, Self

HERE = Path(__file__).resolve().parent
HARNESS = HERE / "harness.mjs"
SETUP_HINT = f"run `(cd {HERE} && npm ci)` (needs node >= 20)"
REQUIRED_PACKAGES = ("@ceramic-sdk/events", "@ceramic-sdk/model-instance-client", "@didtools/key-did", "dag-jose", "ajv", "ajv-formats")


class HarnessError(RuntimeError):
    """The node harness is missing, died, or did not answer in time."""


def setup_problem() -> str | None:
    """Why the harness cannot start here (missing node or node_modules), or None."""
    if shutil.which("node") is None:
        return f"`node` is not on PATH; install Node.js 20 and {SETUP_HINT}"
    missing = [p for p in REQUIRED_PACKAGES if not (HERE / "node_modules" / p / "package.json").is_file()]
    if missing:
        return f"node_modules is missing {', '.join(missing)}: {SETUP_HINT}"
    return None


class SDKHarness:
    """A running ``node harness.mjs``; ``request(op, **fields)`` returns the ``result`` or raises."""

    def __init__(self, timeout: float = 60.0) -> None:
        problem = setup_problem()
        if problem:
            raise HarnessError(problem)
        self._timeout = timeout
        self._next_id = 0
        self._buffer = bytearray()
        # node's stderr, kept for error messages; lives as long as the process (closed in close())
        self._stderr = tempfile.TemporaryFile()  # noqa: SIM115
        self._proc = subprocess.Popen(
            ["node", str(HARNESS)], cwd=HERE, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=self._stderr
        )
        try:
            self.node_version = self.request("ping")["node"]
        except BaseException:
            self.close()
            raise

    def call(self, op: str, **fields: Any) -> dict[str, Any]:
        """Send one request and return the whole reply (``ok``, ``result`` or ``error``)."""
        self._next_id += 1
        line = json.dumps({"id": self._next_id, "op": op, **fields}, ensure_ascii=True) + "\n"
        try:
            self._proc.stdin.write(line.encode())
            self._proc.stdin.flush()
        except BrokenPipeError:
            raise HarnessError(f"harness exited: {self._stderr_text()}") from None
        reply = json.loads(self._read_line())
        if reply.get("id") != self._next_id:
            raise HarnessError(f"out-of-order reply {reply.get('id')} for request {self._next_id}")
        return reply

    def request(self, op: str, **fields: Any) -> dict[str, Any]:
        reply = self.call(op, **fields)
        if not reply["ok"]:
            raise HarnessError(f"SDK {op} failed: {reply['error']}")
        return reply["result"]

    def _read_line(self) -> bytes:
        fd = self._proc.stdout.fileno()
        while b"\n" not in self._buffer:
            ready, _, _ = select.select([fd], [], [], self._timeout)
            if not ready:
                raise HarnessError(f"no reply from the harness within {self._timeout} s")
            chunk = os.read(fd, 1 << 16)
            if not chunk:
                raise HarnessError(f"harness exited (code {self._proc.wait()}): {self._stderr_text()}")
            self._buffer += chunk
        line, _, rest = bytes(self._buffer).partition(b"\n")
        self._buffer = bytearray(rest)
        return line

    def _stderr_text(self) -> str:
        self._stderr.seek(0)
        return self._stderr.read().decode(errors="replace")[-2000:]

    def close(self) -> None:
        if self._proc.poll() is None:
            self._proc.stdin.close()  # the harness exits at end of input
            try:
                self._proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self._proc.kill()
                self._proc.wait()
        self._proc.stdout.close()
        self._stderr.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
