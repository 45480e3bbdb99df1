"""Bench-only stand-in for ceramic-one that stores events WITHOUT validating them (not for tests of correctness).

It serves the subset of the ceramic-one HTTP API the pipeline uses (``POST /ceramic/events``,
``GET /ceramic/events/{cid}``, ``GET /ceramic/streams/{id}``, ``GET /ceramic/feed/events``, ``POST /ceramic/interests``,
``GET /ceramic/liveness``, ``/version``, ``/config/network``) on uvicorn, as the devnode, and keeps
everything in memory; the two requests a run makes by the thousand skip Starlette (``create_app``). It checks nothing: no CID
recomputation, no signature, no controller, no model schema, no ``prev`` order. It only decodes
what the stream state needs (the CAR's root, the envelope's payload, the init header, the JSON
patch) and answers the state ceramic-one would: tip event CID, content with the patches applied,
controller and model dimensions. So ``bench_ingest --scenarios stub`` shows the client side's
ceiling: what the pipeline does per chunk when the node costs (almost) nothing.

Run: python -m ceramic_pipeline_tests.benchmarks.store_only_node [--host 127.0.0.1] [--port 5101]
"""

from __future__ import annotations

import argparse
import base64
import json
import socket
from dataclasses import dataclass
from typing import Any

import libipld
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Mount, Route

from ceramic_pipeline.ceramic import codec
from ceramic_pipeline.ceramic import patch as json_patch
from ceramic_pipeline.ceramic.car import decode_car
from ceramic_pipeline.ceramic.cid import CID, DAG_JOSE
from ceramic_pipeline.ceramic.identifiers import StreamID, StreamIDError

# The state's JSON form is the devnode's (ceramic-one's field order, sorted keys, DAG-JSON links):
# reused so the pipeline's content comparison sees exactly what a real node would return.
from ceramic_pipeline.devnode.aggregator import _jsonable, _metadata, _sorted, state_json
from ceramic_pipeline.devnode.server import CeramicApi

VERSION = "0.58.0+store-only-bench"


@dataclass
class Stream:
    controller: str
    dimensions: dict[str, bytes]
    tip: CID
    metadata: dict[str, Any]
    content: Any


@dataclass(frozen=True)
class FeedEvent:
    seq: int
    cid: CID
    car: bytes


def _b64url(data: bytes) -> str:
    return "u" + base64.urlsafe_b64encode(data).decode().rstrip("=")


def _error(status: int, message: str) -> JSONResponse:
    return JSONResponse({"message": message}, status_code=status)


class StoreOnly:
    """Events by CID (CAR bytes) and each stream's current state, keyed by the init event's CID."""

    def __init__(self, network: str = "inmemory") -> None:
        self.network = network
        self.events: dict[CID, bytes] = {}
        self.streams: dict[CID, Stream] = {}
        self.store = self  # the devnode's feed handler reads ``self.store.since``
        self._order: list[FeedEvent] = []  # the feed: events in the order they were stored

    def since(self, seq: int, limit: int) -> list[FeedEvent]:
        """The feed's page after resume token ``seq`` (as the devnode's store: ``seq`` from 1)."""
        return self._order[max(seq, 1) - 1:max(seq, 1) - 1 + limit]

    def keep(self, car: bytes) -> None:
        # strict=False: no canonical-bytes check (a round-trip re-encode, as the devnode's
        # validation does); it was 40 % of this node's CPU, and this node validates nothing.
        archive = decode_car(car, strict=False)
        root = archive.roots[0]
        if root in self.events:
            return  # a re-post: already applied
        block = codec.decode(archive.blocks[root], strict=False)
        payload = codec.decode(archive.blocks[CID.from_bytes(block["payload"])], strict=False) if root.codec == DAG_JOSE else block
        self.events[root] = car
        self._order.append(FeedEvent(len(self._order) + 1, root, car))
        if "header" in payload and "id" not in payload:  # init event
            header = payload["header"]
            controller = header["controllers"][0]
            self.streams[root] = Stream(
                controller=controller,
                dimensions={"model": header["model"], "controller": controller.encode(),
                            "context": header.get("context", b""), "unique": header.get("unique", b"")},
                tip=root, metadata=_metadata(header, init=True), content=_sorted(_jsonable(payload["data"])),
            )
        elif "proof" not in payload:  # data event: apply its patch to the stream, whatever its prev
            stream = self.streams.get(payload["id"])
            if stream is None:
                return  # its init never came: stored, but there is no stream to advance
            content = json_patch.apply({} if stream.content is None else stream.content, _jsonable(payload["data"]))
            stream.content, stream.tip = _sorted(content), root
            stream.metadata = {**stream.metadata, **_metadata(payload.get("header") or {}, init=False)}

    # -- routes ------------------------------------------------------------------------------
    # Liveness and network answer exactly as the devnode's (they read only ``self.network``).
    liveness = CeramicApi.liveness
    config_network = CeramicApi.config_network
    feed_events = CeramicApi.feed_events  # over ``since`` above

    async def version(self, _request: Request) -> Response:
        return JSONResponse({"version": VERSION})

    async def get_event(self, request: Request) -> Response:
        text = request.path_params["event_id"]
        try:
            car = self.events.get(CID.from_string(text))
        except Exception as exc:
            return _error(400, f"Invalid Cid: {exc}")
        if car is None:
            return PlainTextResponse(f"Event not found : {text}", status_code=404)
        return JSONResponse({"id": text, "data": libipld.encode_multibase("m", car)})

    def post_answer(self, body: bytes) -> tuple[int, bytes]:
        """``POST /events`` with ``body``: (status, body): 204, or 400 saying what broke, as ceramic-one's would."""
        try:
            self.keep(bytes(libipld.decode_multibase(json.loads(body)["data"])[1]))
        except Exception as exc:  # a bench node: any undecodable event is the client's 400
            return 400, json.dumps({"message": f"store-only node could not decode the event: {type(exc).__name__}: {exc}"}).encode()
        return 204, b""

    def stream_answer(self, text: str) -> tuple[int, bytes]:
        """``GET /streams/{text}``: (status, body) as ceramic-one answers it."""
        try:
            stream_id = StreamID.from_string(text)
        except StreamIDError as exc:
            return 400, json.dumps({"message": f"invalid stream id: {exc}"}).encode()
        stream = self.streams.get(stream_id.cid)
        if stream is None:
            return 404, str(stream_id).encode()
        data = state_json({"metadata": stream.metadata, "content": stream.content})
        return 200, json.dumps({
            "id": str(stream_id), "event_cid": str(stream.tip), "controller": stream.controller,
            "dimensions": {k: _b64url(v) for k, v in stream.dimensions.items()}, "data": _b64url(data.encode()),
        }).encode()

    async def post_interests(self, _request: Request) -> Response:
        return Response(status_code=204)


def create_app(node: StoreOnly | None = None):  # noqa: ANN201 - an ASGI callable
    """The node's ASGI app: the two requests a pipeline run makes by the thousand (``POST
    /ceramic/events``, ``GET /ceramic/streams/{id}``) answered by plain ASGI, the rest by Starlette.

    Why not Starlette for those too: its request, routing and middleware layers were 40 % of
    this node's CPU in a 10,000-chunk ingest (py-spy), CPU the client under test then did not
    get on a 2-core machine. This is a bench tool's shortcut; the devnode keeps Starlette.
    """
    node = node or StoreOnly()
    routed = _starlette_app(node)

    async def app(scope, receive, send) -> None:  # noqa: ANN001 - ASGI
        path, method = scope.get("path", ""), scope.get("method")
        if scope["type"] == "http" and method == "POST" and path == "/ceramic/events":
            body = bytearray()
            while True:
                message = await receive()
                body += message.get("body", b"")
                if not message.get("more_body"):
                    break
            await _answer(send, *node.post_answer(bytes(body)))
        elif scope["type"] == "http" and method == "GET" and path.startswith("/ceramic/streams/"):
            status, answer = node.stream_answer(path.removeprefix("/ceramic/streams/"))
            await _answer(send, status, answer)
        else:
            await routed(scope, receive, send)

    return app


async def _answer(send, status: int, body: bytes) -> None:  # noqa: ANN001 - ASGI
    kind = b"text/plain" if status == 404 else b"application/json"  # ceramic-one's 404 names the id in plain text
    headers = [(b"content-type", kind), (b"content-length", str(len(body)).encode())] if body else []
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


def _starlette_app(node: StoreOnly) -> Starlette:
    """The rarely used routes (POST /events and GET /streams/{id} are create_app's)."""
    routes = [
        Route("/liveness", node.liveness, methods=["GET"]),
        Route("/version", node.version, methods=["GET", "POST"]),
        Route("/config/network", node.config_network, methods=["GET"]),
        Route("/events/{event_id}", node.get_event, methods=["GET"]),
        Route("/interests", node.post_interests, methods=["POST"]),
        Route("/feed/events", node.feed_events, methods=["GET"]),
        Route("/interests/{sort_key}/{sort_value}", node.post_interests, methods=["POST"]),
    ]
    app = Starlette(routes=[Mount("/ceramic", routes=routes)])
    app.state.node = node
    return app


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=5101)
    args = parser.parse_args()
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)  # as the devnode: no delayed-ACK stalls
    sock.bind((args.host, args.port))
    sock.listen(128)
    config = uvicorn.Config(create_app(), log_level="warning", lifespan="off", loop="auto", proxy_headers=False)
    print(f"store-only bench node (NO validation) on http://{args.host}:{sock.getsockname()[1]}/ceramic", flush=True)
    uvicorn.Server(config).run(sockets=[sock])


if __name__ == "__main__":
    main()
