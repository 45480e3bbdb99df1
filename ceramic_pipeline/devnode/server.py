"""The ceramic-one HTTP API subset served by the devnode (Starlette routes under ``/ceramic``).

Status codes, bodies and error texts follow rust-ceramic ``api/src/server.rs`` and the
generated ``api-server`` (shared/ceramic-protocol.md §1): JSON errors are ``{"message"}``,
the two "not found" answers are ``text/plain``.

Handlers do their work on the event-loop thread: validating an event or reading a cached
state takes a fraction of a millisecond, and a thread pool would only add hand-offs under
the GIL. ``POST /events`` answers 204 only after its event is committed; the POSTs handled in
one loop turn share that commit (:class:`GroupCommit`).
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from dataclasses import asdict
from typing import Any

import libipld
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Mount, Route

from ceramic_pipeline.ceramic.cid import CID, CIDError
from ceramic_pipeline.devnode import ingest
from ceramic_pipeline.devnode.aggregator import Aggregator
from ceramic_pipeline.devnode.faults import FaultInjector, FaultState
from ceramic_pipeline.devnode.store import EventStore
from ceramic_pipeline.ceramic.identifiers import StreamID, StreamIDError

VERSION = "0.58.0+devnode"  # the ceramic-one API level mimicked; "+devnode" marks the stand-in
MAX_FULL_LIMIT = 10_000


def _error(status: int, message: str) -> JSONResponse:
    return JSONResponse({"message": message}, status_code=status)


def _event_json(cid: CID, car: bytes | None) -> dict[str, str]:
    body = {"id": str(cid)}
    if car is not None:
        body["data"] = libipld.encode_multibase("m", car)  # ceramic-one: Base64 (standard, unpadded)
    return body


async def _json_body(request: Request, schema: str) -> dict[str, Any] | JSONResponse:
    try:
        body = json.loads(await request.body())
    except ValueError as exc:
        return _error(400, f"Couldn't parse body parameter {schema} - doesn't match schema: {exc}")
    if not isinstance(body, dict):
        return _error(400, f"Couldn't parse body parameter {schema} - doesn't match schema: expected an object")
    return body


class GroupCommit:
    """One SQLite commit per event-loop turn for every event accepted in it.

    A handler that stored an event awaits :meth:`durable`; the first one in a turn schedules
    the commit with ``call_soon``, which runs after every request handler already ready in
    that turn. If the commit fails, everything uncommitted is rolled back, the state cache is
    dropped (it may hold those events) and each waiter gets the error.
    """

    def __init__(self, store: EventStore, states: Aggregator) -> None:
        self.store = store
        self.states = states
        self._waiters: list[asyncio.Future[None]] = []
        self.commits = 0  # how many commits were made, for the benchmark

    async def durable(self) -> None:
        loop = asyncio.get_running_loop()
        waiter = loop.create_future()
        if not self._waiters:
            loop.call_soon(self._commit)
        self._waiters.append(waiter)
        await waiter

    def _commit(self) -> None:
        waiters, self._waiters = self._waiters, []
        try:
            self.store.commit()
        except Exception as exc:  # disk full, I/O error: nothing of this turn was stored
            with self.store.lock:
                self.store.rollback()
                self.states.reset()
            for waiter in waiters:
                if not waiter.done():
                    waiter.set_exception(exc)
            return
        self.commits += 1
        for waiter in waiters:
            if not waiter.done():  # a cancelled request (client gone) needs no answer
                waiter.set_result(None)


class CeramicApi:
    def __init__(self, store: EventStore, network: str, states: Aggregator | None = None) -> None:
        self.store = store
        self.network = network
        self.aggregator = states or Aggregator(store)
        self.group_commit = GroupCommit(store, self.aggregator)

    async def liveness(self, _request: Request) -> Response:
        return Response(status_code=200)

    async def version(self, _request: Request) -> Response:
        return JSONResponse({"version": VERSION})

    async def config_network(self, _request: Request) -> Response:
        return JSONResponse({"name": self.network})

    async def post_events(self, request: Request) -> Response:
        body = await _json_body(request, "EventData")
        if isinstance(body, Response):
            return body
        if not isinstance(body.get("data"), str):
            return _error(400, "Couldn't parse body parameter EventData - doesn't match schema: missing field `data`")
        try:
            new = ingest.accept(self.store, self.aggregator, ingest.multibase_bytes(body["data"]))
        except ingest.Rejected as exc:
            return _error(400, str(exc))
        if new or self.store.pending_commit:  # a re-post may race the commit of its first post
            try:
                await self.group_commit.durable()
            except Exception as exc:
                return _error(500, f"Failed to store the event: {exc}")
        return Response(status_code=204)

    async def get_event(self, request: Request) -> Response:
        event_id = request.path_params["event_id"]
        try:
            cid = CID.from_bytes(ingest.multibase_bytes(event_id, "Invalid Cid"))
        except ingest.Rejected as exc:
            return _error(400, str(exc).replace("Invalid Cid: multibase error", "multibase error"))
        except (CIDError, ValueError, IndexError) as exc:
            return _error(400, f"Invalid Cid: {exc}")
        stored = self.store.get(cid)
        if stored is None:
            return PlainTextResponse(f"Event not found : {event_id}", status_code=404)
        return JSONResponse(_event_json(stored.cid, stored.car))

    async def get_stream(self, request: Request) -> Response:
        text = request.path_params["stream_id"]
        try:
            stream_id = StreamID.from_string(text)
        except StreamIDError as exc:
            return _error(400, f"invalid stream id: {exc}")
        with self.store.lock:
            state = self.aggregator.stream_state(stream_id)
        if state is None:
            return PlainTextResponse(str(stream_id), status_code=404)
        return JSONResponse(state.to_json())

    async def feed_events(self, request: Request) -> Response:
        params = request.query_params
        include = params.get("includeData", "none")
        if include not in ("none", "full"):
            return _error(400, f"Invalid value: {include}. must be one of 'none' or 'full'")
        try:
            limit = int(params.get("limit", "100"))
        except ValueError:
            return _error(400, f"Invalid query parameter limit: {params.get('limit')!r} is not an integer")
        if limit > MAX_FULL_LIMIT and include == "full":
            return _error(400, f"The limit value must be less than 10000 when including data ({limit}) ")
        token = params.get("resumeAt", "0")
        try:
            highwater = int(token)
        except ValueError as exc:
            return _error(400, f"Invalid resume token '{token}'. Invalid highwater value (should be an integer): {exc}")
        events = self.store.since(highwater, max(limit, 0))
        next_token = events[-1].seq + 1 if events else highwater
        return JSONResponse(
            {
                "events": [_event_json(e.cid, e.car if include == "full" else None) for e in events],
                "resumeToken": str(next_token),
            }
        )

    async def feed_resume_token(self, _request: Request) -> Response:
        return JSONResponse({"resumeToken": str(self.store.highwater())})

    async def post_interests(self, request: Request) -> Response:
        body = await _json_body(request, "Interest")
        if isinstance(body, Response):
            return body
        sep, sep_value = body.get("sep"), body.get("sepValue")
        if not isinstance(sep, str) or not isinstance(sep_value, str):
            return _error(400, "Couldn't parse body parameter Interest - doesn't match schema: sep and sepValue are required strings")
        return self._add_interest(sep, sep_value, body.get("controller"), body.get("streamId"))

    async def post_interest_path(self, request: Request) -> Response:
        p, q = request.path_params, request.query_params
        return self._add_interest(p["sort_key"], p["sort_value"], q.get("controller"), q.get("streamId"))

    def _add_interest(self, sep: str, sep_value: str, controller: str | None, stream_id: str | None) -> Response:
        if not sep:
            return _error(400, "'sep' cannot be empty")
        if not sep_value:
            return _error(400, "Input cannot be empty. Expected multibase encoded value.")
        if controller is not None and not controller:
            return _error(400, "'controller' cannot be empty if it's included")
        try:
            value = libipld.encode_multibase("k", ingest.multibase_bytes(sep_value, "sepValue"))
            stream = libipld.encode_multibase("k", ingest.multibase_bytes(stream_id, "streamId")) if stream_id else None
        except ingest.Rejected as exc:
            return _error(400, str(exc).split(": ", 1)[1])
        if stream is not None and controller is None:
            return _error(500, "controller is required if stream_id is specified")
        self.store.add_interest(sep, value, controller, stream)
        return Response(status_code=204)

    async def get_interests(self, _request: Request) -> Response:
        return JSONResponse({"interests": [{"data": json.dumps(i, separators=(",", ":"))} for i in self.store.interests()]})


class ControlApi:
    """Test-only endpoints under ``/_devnode``: read/set faults, take the node down for a while."""

    def __init__(self, faults: FaultState, api: CeramicApi, go_down: Callable[[float], None] | None) -> None:
        self.faults = faults
        self.api = api
        self.go_down = go_down

    async def get_faults(self, _request: Request) -> Response:
        return JSONResponse(asdict(self.faults.faults))

    async def set_faults(self, request: Request) -> Response:
        body = await _json_body(request, "Faults")
        if isinstance(body, Response):
            return body
        down = body.pop("down_seconds", None)
        try:
            current = self.faults.update(body)
        except (TypeError, ValueError) as exc:
            return _error(400, str(exc))
        if down is not None:
            if self.go_down is None or not isinstance(down, (int, float)) or down <= 0:
                return _error(400, "down_seconds needs a positive number and a node started by the devnode runner")
            self.go_down(float(down))
        return JSONResponse(asdict(current))

    async def event_states(self, request: Request) -> Response:
        """Per-event aggregation results (height, validity, errors): why an event left the state."""
        try:
            stream_id = StreamID.from_string(request.path_params["stream_id"])
        except StreamIDError as exc:
            return _error(400, f"invalid stream id: {exc}")
        with self.api.store.lock:
            states = self.api.aggregator.event_states(stream_id.cid)
        return JSONResponse(
            [{"event_cid": str(s.event_cid), "height": s.height, "valid": s.valid, "pending": s.pending, "errors": s.errors}
             for s in states]
        )


def create_app(
    store: EventStore,
    *,
    network: str = "inmemory",
    faults: FaultState | None = None,
    test_hooks: bool = False,
    go_down: Callable[[float], None] | None = None,
    states: Aggregator | None = None,
) -> Any:
    """The ASGI app: ceramic API under ``/ceramic``, control endpoints under ``/_devnode`` when ``test_hooks``.

    ``states`` is the stream-state aggregator over ``store`` (a cached one by default).
    """
    api = CeramicApi(store, network, states)
    ceramic = [
        Route("/liveness", api.liveness, methods=["GET"]),
        Route("/version", api.version, methods=["GET", "POST"]),
        Route("/config/network", api.config_network, methods=["GET"]),
        Route("/events", api.post_events, methods=["POST"]),
        Route("/events/{event_id}", api.get_event, methods=["GET"]),
        Route("/streams/{stream_id}", api.get_stream, methods=["GET"]),
        Route("/feed/events", api.feed_events, methods=["GET"]),
        Route("/feed/resumeToken", api.feed_resume_token, methods=["GET"]),
        Route("/interests", api.post_interests, methods=["POST"]),
        Route("/interests/{sort_key}/{sort_value}", api.post_interest_path, methods=["POST"]),
        Route("/experimental/interests", api.get_interests, methods=["GET"]),
    ]
    routes = [Mount("/ceramic", routes=ceramic)]
    faults = faults or FaultState()
    if test_hooks:
        control = ControlApi(faults, api, go_down)
        routes.append(
            Mount(
                "/_devnode",
                routes=[
                    Route("/faults", control.get_faults, methods=["GET"]),
                    Route("/faults", control.set_faults, methods=["POST"]),
                    Route("/streams/{stream_id}/events", control.event_states, methods=["GET"]),
                ],
            )
        )
    app = Starlette(routes=routes)
    app.state.api = api
    return FaultInjector(app, faults)
