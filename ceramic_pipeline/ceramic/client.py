"""HTTP client for a ceramic-one node (``/ceramic/*``), with bounded retries.

Transient failures (connect errors, timeouts, dropped connections, 5xx) retry with
exponential backoff and full jitter; a 400 is the node's final word and is raised with its
``message``. A node that cannot be connected to at all fails fast: its retries stop once they
would outlast the request timeout, and after one request gave up on it, every later request
makes a single attempt (no backoff) until one gets through. This is remembered per node URL for
a minute across clients of the process, so a run whose steps each open a client against a
stopped node costs about one request's budget, not one per event or step (issue 8, kind 5).
Re-posting a stored event is a 204, so retrying a POST never duplicates.
Events of one stream are posted strictly in order; different streams go in parallel.

Transport: aiohttp on one event loop per process (a daemon thread), behind this synchronous
API; callers' threads wait on their request's future, and the bulk calls (``get_streams``,
``post_streams``) run their requests as one ``asyncio.gather``. Measured on the 2-core CI
machine against the devnode (``python -m ceramic_pipeline_tests.benchmarks.bench_client``,
client CPU per request): httpx's sync client from 50 threads 0.63-0.68 ms (under the GIL:
40 % of a fresh ingest); aiohttp from 50 threads 0.19-0.21 ms; gathered 0.081 ms on asyncio's
loop and 0.068 ms on uvloop's.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import json
import os
import threading
import time
import weakref
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

import aiohttp
import libipld

try:  # uvloop's event loop: ~15 % less client CPU per request than asyncio's (bench_client)
    from uvloop import new_event_loop
except ImportError:  # platforms uvloop does not support
    from asyncio import new_event_loop

from ceramic_pipeline.ceramic.events import car_to_multibase
from ceramic_pipeline.ceramic.retry import RetryPolicy, parse_retry_after

T = TypeVar("T")


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


@dataclass(frozen=True, slots=True)
class Response:
    """One HTTP answer, read whole: status, body bytes and the one header the client uses."""

    status_code: int
    body: bytes
    retry_after: str | None

    def json(self) -> Any:
        return json.loads(self.body)

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", "replace")


# Node URL -> monotonic time a client last gave up connecting to it (shared by the process's clients).
_GAVE_UP: dict[str, float] = {}
_JSON = {"Content-Type": "application/json"}
GAVE_UP_MEMORY_S = 60.0


def _decode_u(text: str) -> bytes:
    return bytes(libipld.decode_multibase(text)[1])


class _EventLoop:
    """The process's asyncio loop for HTTP, on a daemon thread, started on first use (and anew after a fork)."""

    _lock = threading.Lock()
    _loop: asyncio.AbstractEventLoop | None = None
    _pid: int | None = None

    @classmethod
    def get(cls) -> asyncio.AbstractEventLoop:
        with cls._lock:
            if cls._loop is None or cls._pid != os.getpid():
                loop = new_event_loop()
                threading.Thread(target=loop.run_forever, name="ceramic-http", daemon=True).start()
                cls._loop, cls._pid = loop, os.getpid()
            return cls._loop


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
        self._loop = _EventLoop.get()
        self._session: aiohttp.ClientSession = self._run(self._open())
        self._gate = asyncio.Semaphore(max_in_flight)  # requests in flight, whoever sends them
        # A client that is never closed still releases its connections when it is collected.
        self._finalizer = weakref.finalize(self, _close_session, self._loop, self._session)

    async def _open(self) -> aiohttp.ClientSession:
        # sock_connect/sock_read bound each attempt as httpx's connect/read timeouts did; the
        # connection pool never makes a request wait because the gate admits max_in_flight.
        timeout = aiohttp.ClientTimeout(total=None, sock_connect=self.timeout_s, sock_read=self.timeout_s)
        connector = aiohttp.TCPConnector(limit=self.max_in_flight)
        return aiohttp.ClientSession(timeout=timeout, connector=connector, raise_for_status=False)

    def close(self) -> None:
        self._finalizer()

    def __enter__(self) -> CeramicClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _run(self, coroutine: Awaitable[T]) -> T:
        return asyncio.run_coroutine_threadsafe(coroutine, self._loop).result()  # type: ignore[arg-type]

    def _map(self, fn: Callable[[Any], Awaitable[T]], items: Sequence[Any]) -> list[T]:
        """``fn`` over ``items`` concurrently on the loop (the gate bounds requests in flight)."""
        return self._start_map(fn, items).result() if items else []

    def _start_map(self, fn: Callable[[Any], Awaitable[T]], items: Sequence[Any]) -> concurrent.futures.Future[list[T]]:
        """Start ``_map`` and return at once; requests are admitted in the order they were started."""

        async def run_all() -> list[T]:
            return list(await asyncio.gather(*(fn(item) for item in items)))

        return asyncio.run_coroutine_threadsafe(run_all(), self._loop)

    # -- transport ---------------------------------------------------------------------------
    @property
    def unreachable(self) -> bool:
        """True after a request of this client gave up connecting, until a request gets an answer."""
        return self._unreachable

    async def _sleep(self, seconds: float) -> None:
        if self.retry.sleep is time.sleep:
            await asyncio.sleep(seconds)
        else:  # an injected sleep (tests record the backoff instead of waiting it)
            self.retry.sleep(seconds)

    async def _request(self, method: str, path: str, *, params: dict[str, Any] | None = None, body: Any = None,
                       json_bytes: bytes | None = None) -> Response:
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
                await self._sleep(delay)
            retry_after = None
            try:
                async with self._gate:
                    sent = {"data": json_bytes, "headers": _JSON} if json_bytes is not None else {"json": body}
                    async with self._session.request(method, f"{self.url}/ceramic{path}", params=params, **sent) as answer:
                        response = Response(answer.status, await answer.read(), answer.headers.get("retry-after"))
            except (aiohttp.ClientConnectorError, aiohttp.ConnectionTimeoutError) as exc:  # nothing listening / no route
                last, connect_failed = f"{type(exc).__name__}: {exc}", True
                continue
            except (aiohttp.ClientError, asyncio.TimeoutError) as exc:  # read timeout, dropped connection
                last, connect_failed = f"{type(exc).__name__}: {exc}".rstrip(": "), False
                continue
            if self._unreachable:
                self._unreachable = False
                _GAVE_UP.pop(self.url, None)
            connect_failed = False
            if response.status_code >= 500:
                last = f"HTTP {response.status_code}: {_message(response)}"
                retry_after = parse_retry_after(response.retry_after)
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
        async def probe() -> bool:
            try:
                async with self._session.get(f"{self.url}/ceramic/liveness") as answer:
                    return answer.status == 200
            except (aiohttp.ClientError, asyncio.TimeoutError):
                return False

        return self._run(probe())

    def version(self) -> str:
        return self._run(self._request("GET", "/version")).json()["version"]

    def network(self) -> str:
        return self._run(self._request("GET", "/config/network")).json()["name"]

    def post_event(self, car: bytes) -> None:
        """Store one event (204). Raises EventRejected (400) or CeramicUnavailable."""
        self._run(self._post_event(car))

    async def _post_event(self, car: bytes) -> None:
        # The JSON body is written directly: a multibase base64 string needs no JSON escaping, and
        # aiohttp's json= (json.dumps) was a quarter of a POST's client CPU (py-spy, issue 10).
        response = await self._request("POST", "/events", json_bytes=b'{"data":"' + car_to_multibase(car).encode("ascii") + b'"}')
        if response.status_code != 204:
            raise CeramicError(f"unexpected HTTP {response.status_code} from POST /events: {response.text[:200]}")

    def get_event(self, cid: str) -> bytes | None:
        """The event's CAR bytes; None when the node does not have it."""
        response = self._run(self._request("GET", f"/events/{cid}"))
        if response.status_code == 404:
            return None
        return _decode_u(response.json()["data"])

    def get_stream(self, stream_id: str) -> StreamState | None:
        """The node's current state of the stream; None when the node does not know it."""
        return self._run(self._get_stream(stream_id))

    def get_streams(self, stream_ids: Sequence[str]) -> list[StreamState | None | CeramicError]:
        """``get_stream`` of each id, concurrently; a failure is returned in its place, not raised."""
        return self.start_get_streams(stream_ids).result()

    def start_get_streams(self, stream_ids: Sequence[str]) -> concurrent.futures.Future[list[StreamState | None | CeramicError]]:
        """Start ``get_streams`` now and return at once; the future's result is its list.

        Requests are admitted in the order they were started, so starting several batches
        queues them behind each other.
        """
        return self._start_map(self._get_stream_or_error, stream_ids)

    async def _get_stream_or_error(self, stream_id: str) -> StreamState | None | CeramicError:
        try:
            return await self._get_stream(stream_id)
        except CeramicError as exc:
            return exc

    async def _get_stream(self, stream_id: str) -> StreamState | None:
        response = await self._request("GET", f"/streams/{stream_id}")
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
        params: dict[str, Any] = {"limit": str(limit), "includeData": include_data}
        if resume_at is not None:
            params["resumeAt"] = resume_at
        body = self._run(self._request("GET", "/feed/events", params=params)).json()
        return body["events"], body["resumeToken"]

    def feed_cars(self, resume_at: str | None = None, limit: int = 1000) -> tuple[list[tuple[str, bytes]], str]:
        """One page of the node's event feed with data: ([(event CID, CAR bytes)], next resume token)."""
        events, token = self.feed(resume_at, limit=limit, include_data="full")
        return [(e["id"], _decode_u(e["data"])) for e in events], token

    def register_interest(self, model_id: str) -> None:
        self._run(self._request("POST", "/interests", body={"sep": "model", "sepValue": model_id}))

    def post_streams(self, streams: Sequence[Sequence[bytes]]) -> list[BaseException | None]:
        """Post each stream's CARs in order, streams concurrently; one outcome per stream.

        A stream stops at its first failure (later events need it as ``prev``).
        """
        return [error for _posted, error in self.post_chains(streams)]

    def post_chains(self, streams: Sequence[Sequence[bytes]]) -> list[tuple[int, BaseException | None]]:
        """``post_streams`` that also says how far each stream got: (CARs stored, first failure or None)."""

        async def post_all(cars: Sequence[bytes]) -> tuple[int, BaseException | None]:
            for posted, car in enumerate(cars):
                try:
                    await self._post_event(car)
                except CeramicError as exc:
                    return posted, exc
            return len(cars), None

        return self._map(post_all, streams)


def _close_session(loop: asyncio.AbstractEventLoop, session: aiohttp.ClientSession) -> None:
    if not loop.is_closed() and loop.is_running():
        asyncio.run_coroutine_threadsafe(session.close(), loop).result(timeout=10)


def _message(response: Response) -> str:
    try:
        return str(response.json().get("message", response.text))[:2000]
    except (ValueError, AttributeError):
        return response.text[:2000]
