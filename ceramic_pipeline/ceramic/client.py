"""HTTP client for a ceramic-one node (``/ceramic/*``), with bounded retries.

Transient failures (connect errors, timeouts, dropped connections, 5xx) retry with
exponential backoff and full jitter; a 400 is the node's final word and is raised with its
``message``. A node that cannot be connected to at all fails fast: its retries stop once they
would outlast the request timeout, and after one request gave up on it, every later request
makes a single attempt (no backoff) until one gets through. This is remembered per node URL for
a minute across clients of the process, so a run whose steps each open a client against a
stopped node costs about one request's budget, not one per event or step (issue 8, kind 5). Re-posting a stored event is a 204, so retrying a POST never duplicates.
Events of one stream are posted strictly in order; different streams go in parallel.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import httpx
import libipld

from ceramic_pipeline.ceramic.events import car_to_multibase
from ceramic_pipeline.ceramic.retry import RetryPolicy, parse_retry_after


class CeramicError(Exception):
    """Base class for node errors."""


class EventRejected(CeramicError):
    """The node refused an event (HTTP 400); retrying will not help."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


class CeramicUnavailable(CeramicError):
    """The node could not be reached (or kept failing) within the retry budget."""


class NodeUnreachable(CeramicUnavailable):
    """No connection could be made to the node at all (refused, no route, connect timeout)."""


@dataclass(frozen=True)
class StreamState:
    id: str
    event_cid: str
    controller: str
    dimensions: dict[str, bytes]
    metadata: dict[str, Any]
    content: Any


# Node URL -> monotonic time a client last gave up connecting to it (shared by the process's clients).
_GAVE_UP: dict[str, float] = {}
GAVE_UP_MEMORY_S = 60.0


def _decode_u(text: str) -> bytes:
    return bytes(libipld.decode_multibase(text)[1])


class CeramicClient:
    def __init__(
        self,
        url: str,
        *,
        timeout_s: float = 60.0,
        max_in_flight: int = 50,
        retry: RetryPolicy = RetryPolicy(max_attempts=6, base_delay=0.2, max_delay=10.0),
    ):
        self.url = url.rstrip("/")
        self.max_in_flight = max_in_flight
        self.retry = retry
        self.timeout_s = timeout_s
        # Set when a request gave up connecting (here or, within a minute, in another client of
        # this process); cleared by any answer.
        self._unreachable = time.monotonic() - _GAVE_UP.get(self.url, -GAVE_UP_MEMORY_S) < GAVE_UP_MEMORY_S
        limits = httpx.Limits(max_connections=max_in_flight, max_keepalive_connections=max_in_flight)
        self._http = httpx.Client(base_url=self.url + "/ceramic", timeout=timeout_s, limits=limits)
        self._gate = threading.BoundedSemaphore(max_in_flight)

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> CeramicClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- transport ---------------------------------------------------------------------------
    @property
    def unreachable(self) -> bool:
        """True after a request of this client gave up connecting, until a request gets an answer."""
        return self._unreachable

    def _request(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        last: str = ""
        retry_after: float | None = None
        connect_failed = False
        started = time.monotonic()
        attempts = 1 if self._unreachable else self.retry.max_attempts
        for attempt in range(attempts):
            if attempt:
                delay = self.retry.delay(attempt, retry_after)
                if connect_failed and time.monotonic() - started + delay > self.timeout_s:
                    break  # an unreachable node: the request timeout bounds all attempts together
                self.retry.sleep(delay)
            retry_after = None
            try:
                with self._gate:
                    response = self._http.request(method, path, **kwargs)
            except (httpx.ConnectError, httpx.ConnectTimeout) as exc:  # nothing listening / no route
                last, connect_failed = f"{type(exc).__name__}: {exc}", True
                continue
            except httpx.TransportError as exc:  # read timeout, dropped connection
                last, connect_failed = f"{type(exc).__name__}: {exc}", False
                continue
            if self._unreachable:
                self._unreachable = False
                _GAVE_UP.pop(self.url, None)
            connect_failed = False
            if response.status_code >= 500:
                last = f"HTTP {response.status_code}: {_message(response)}"
                retry_after = parse_retry_after(response.headers.get("retry-after"))
                continue
            if response.status_code == 400:
                raise EventRejected(_message(response))
            return response
        where = f"{method} {self.url}/ceramic{path}"
        if connect_failed:
            self._unreachable = True
            _GAVE_UP[self.url] = time.monotonic()
            raise NodeUnreachable(f"{where}: node unreachable ({last})")
        raise CeramicUnavailable(f"{where} failed after {self.retry.max_attempts} attempts: {last}")

    # -- API -----------------------------------------------------------------------------------
    def liveness(self) -> bool:
        try:
            return self._http.get("/liveness").status_code == 200
        except httpx.TransportError:
            return False

    def version(self) -> str:
        return self._request("GET", "/version").json()["version"]

    def network(self) -> str:
        return self._request("GET", "/config/network").json()["name"]

    def post_event(self, car: bytes) -> None:
        """Store one event (204). Raises EventRejected (400) or CeramicUnavailable."""
        response = self._request("POST", "/events", json={"data": car_to_multibase(car)})
        if response.status_code != 204:
            raise CeramicError(f"unexpected HTTP {response.status_code} from POST /events: {response.text[:200]}")

    def get_event(self, cid: str) -> bytes | None:
        response = self._request("GET", f"/events/{cid}")
        if response.status_code == 404:
            return None
        return _decode_u(response.json()["data"])

    def get_stream(self, stream_id: str) -> StreamState | None:
        response = self._request("GET", f"/streams/{stream_id}")
        if response.status_code == 404:
            return None
        body = response.json()
        state = json.loads(_decode_u(body["data"])) if body.get("data") else {}
        return StreamState(
            id=body["id"],
            event_cid=body["event_cid"],
            controller=body.get("controller", ""),
            dimensions={k: _decode_u(v) for k, v in (body.get("dimensions") or {}).items()},
            metadata=state.get("metadata", {}),
            content=state.get("content"),
        )

    def feed(self, resume_at: str | None = None, limit: int = 100, include_data: str = "none") -> tuple[list[dict], str]:
        params: dict[str, Any] = {"limit": limit, "includeData": include_data}
        if resume_at is not None:
            params["resumeAt"] = resume_at
        body = self._request("GET", "/feed/events", params=params).json()
        return body["events"], body["resumeToken"]

    def feed_cars(self, resume_at: str | None = None, limit: int = 1000) -> tuple[list[tuple[str, bytes]], str]:
        """One page of the node's event feed with data: ([(event CID, CAR bytes)], next resume token)."""
        events, token = self.feed(resume_at, limit=limit, include_data="full")
        return [(e["id"], _decode_u(e["data"])) for e in events], token

    def register_interest(self, model_id: str) -> None:
        self._request("POST", "/interests", json={"sep": "model", "sepValue": model_id})

    def post_streams(self, streams: Sequence[Sequence[bytes]]) -> list[BaseException | None]:
        """Post each stream's CARs in order, streams in parallel; one outcome per stream.

        A stream stops at its first failure (later events need it as ``prev``).
        """

        def post_all(cars: Sequence[bytes]) -> BaseException | None:
            try:
                for car in cars:
                    self.post_event(car)
            except CeramicError as exc:
                return exc
            return None

        with ThreadPoolExecutor(max_workers=max(1, min(self.max_in_flight, len(streams)))) as pool:
            return list(pool.map(post_all, streams))


def _message(response: httpx.Response) -> str:
    try:
        return str(response.json().get("message", response.text))[:2000]
    except ValueError:
        return response.text[:2000]
