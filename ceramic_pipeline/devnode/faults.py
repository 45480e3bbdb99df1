"""Fault injection for tests: latency, a share of 500s, dropped connections, and (in ``runner``) downtime.

``FaultInjector`` is a plain ASGI middleware placed outside the app. Dropping a connection
aborts the TCP transport of uvicorn's request cycle (reached through the bound ``send``),
so the client sees the socket close with no response at all, exactly like a crashed node.
Decisions come from one ``random.Random(seed)`` so a test run is reproducible.
"""

from __future__ import annotations

import asyncio
import json
import random
import threading
from dataclasses import asdict, dataclass, fields
from typing import Any

EXEMPT_PREFIX = "/_devnode"  # the control endpoints themselves never fail


@dataclass
class Faults:
    latency: float = 0.0  # seconds added before each request is handled
    error_rate: float = 0.0  # share of requests answered 500 {"message"} without being handled
    drop_rate: float = 0.0  # share of requests whose connection is closed without a response
    drop_after_handling: bool = False  # drop only after the request took effect (e.g. the event is stored)
    seed: int = 0

    def validate(self) -> None:
        if self.latency < 0:
            raise ValueError("latency must be >= 0")
        for name in ("error_rate", "drop_rate"):
            if not 0.0 <= getattr(self, name) <= 1.0:
                raise ValueError(f"{name} must be between 0 and 1")


class FaultState:
    """The current faults and their seeded random source, shared by the middleware and its controllers."""

    def __init__(self, faults: Faults | None = None) -> None:
        self._lock = threading.Lock()
        self.faults = Faults()
        self._random = random.Random(0)
        self.injected = {"errors": 0, "drops": 0}  # what was injected so far, for tests to check
        self.set(faults or Faults())

    def set(self, faults: Faults) -> None:
        faults.validate()
        with self._lock:
            self.faults = faults
            self._random = random.Random(faults.seed)

    def update(self, changes: dict[str, Any]) -> Faults:
        """Apply a partial update (the JSON of ``POST /_devnode/faults``); unknown keys are an error."""
        known = {f.name for f in fields(Faults)}
        unknown = set(changes) - known
        if unknown:
            raise ValueError(f"unknown fault setting(s): {', '.join(sorted(unknown))}")
        merged = Faults(**{**asdict(self.faults), **changes})
        self.set(merged)
        return merged

    def draw(self) -> tuple[float, bool, bool]:
        """(latency, answer 500?, drop?) for one request."""
        with self._lock:
            f = self.faults
            error = f.error_rate > 0 and self._random.random() < f.error_rate
            drop = not error and f.drop_rate > 0 and self._random.random() < f.drop_rate
            self.injected["errors"] += error
            self.injected["drops"] += drop
            return f.latency, error, drop


def _abort_connection(send: Any) -> None:
    transport = getattr(getattr(send, "__self__", None), "transport", None)
    if transport is None:
        raise RuntimeError("dropping a connection needs uvicorn's request cycle as the ASGI send callable")
    transport.abort()


class FaultInjector:
    def __init__(self, app: Any, state: FaultState) -> None:
        self.app = app
        self.state = state

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        if scope["type"] != "http" or scope["path"].startswith(EXEMPT_PREFIX):
            await self.app(scope, receive, send)
            return
        latency, error, drop = self.state.draw()
        if latency:
            await asyncio.sleep(latency)
        if error:
            body = json.dumps({"message": "devnode injected fault: internal error"}).encode()
            await send({"type": "http.response.start", "status": 500, "headers": [(b"content-type", b"application/json")]})
            await send({"type": "http.response.body", "body": body})
            return
        if not drop:
            await self.app(scope, receive, send)
            return
        if self.state.faults.drop_after_handling:
            async def swallow(_message: dict) -> None:
                return None

            await self.app(scope, receive, swallow)
        _abort_connection(send)
        for _ in range(2):  # let connection_lost run so uvicorn does not try to answer
            await asyncio.sleep(0)
