"""Stream state for ``GET /streams/{id}``, computed on demand from the stored events.

Mirrors ceramic-one's aggregator (rust-ceramic ``pipeline/src/aggregator``): every event
gets a state = its ``prev``'s state with the JSON patch applied, then the state is validated
(``rules``). The stream's state is the newest event state without validation errors, so an
invalid event is dropped from the state but stays in storage. A MID whose model version is
not stored yet is pending (no state, 404) until the model arrives.
"""

from __future__ import annotations

import base64
import copy
import json
from dataclasses import dataclass, field
from typing import Any

from ceramic_pipeline.ceramic import patch as json_patch
from ceramic_pipeline.ceramic.cid import CID, CIDError
from ceramic_pipeline.devnode import rules
from ceramic_pipeline.devnode.store import EventStore, StoredEvent
from ceramic_pipeline.ceramic.identifiers import META_MODEL, StreamID
from ceramic_pipeline.ceramic.verify import DecodedEvent, decode_event


def _jsonable(value: Any) -> Any:
    """IPLD content as JSON; links and bytes take their DAG-JSON form."""
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_jsonable(v) for v in value]
    if isinstance(value, CID):
        return {"/": str(value)}
    if isinstance(value, bytes):
        return {"/": {"bytes": base64.b64encode(value).decode().rstrip("=")}}
    return value


def _b64url(data: bytes) -> str:
    return "u" + base64.urlsafe_b64encode(data).decode().rstrip("=")


@dataclass
class EventState:
    """The state after one event; ``data`` is ``{"metadata", "content"}`` or None if a patch failed."""

    event_cid: CID
    height: int
    data: dict[str, Any] | None
    errors: list[str] = field(default_factory=list)
    pending: bool = False

    @property
    def valid(self) -> bool:
        return not self.errors and not self.pending


@dataclass(frozen=True)
class StreamState:
    id: StreamID
    event_cid: CID
    controller: str
    dimensions: dict[str, bytes]
    data: dict[str, Any]

    def to_json(self) -> dict[str, Any]:
        """The body ceramic-one returns: dimensions and data as ``u`` base64url multibase."""
        # serde_json writes struct fields in order and map keys sorted (BTreeMap), compact.
        body = {"metadata": dict(sorted(self.data["metadata"].items())), "content": self.data["content"]}
        raw = json.dumps(body, separators=(",", ":"), ensure_ascii=False, sort_keys=False)
        return {
            "id": str(self.id),
            "event_cid": str(self.event_cid),
            "controller": self.controller,
            "dimensions": {k: _b64url(v) for k, v in self.dimensions.items()},
            "data": _b64url(raw.encode()),
        }


def _sorted(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _sorted(value[k]) for k in sorted(value)}
    if isinstance(value, list):
        return [_sorted(v) for v in value]
    return value


def _metadata(header: dict[str, Any], *, init: bool) -> dict[str, Any]:
    metadata: dict[str, Any] = {}
    if init or "shouldIndex" in header:
        metadata["shouldIndex"] = header.get("shouldIndex", True)
    if "modelVersion" in header:
        metadata["modelVersion"] = str(header["modelVersion"])
    return metadata


class Aggregator:
    def __init__(self, store: EventStore) -> None:
        self._store = store
        self._schemas = rules.SchemaCache()
        # An event's state depends only on its ancestors, so a model version's definition never changes.
        self._definitions: dict[CID, Any] = {}

    def _decoded(self, stream_cid: CID) -> list[tuple[StoredEvent, DecodedEvent]]:
        return [(e, decode_event(e.car)) for e in self._store.stream_events(stream_cid)]

    def event_states(self, stream_cid: CID) -> list[EventState]:
        """Every event's state in delivery order ([] for an unknown stream)."""
        events = self._decoded(stream_cid)
        if not events or events[0][1].kind != "init":
            return []
        init = events[0][1]
        is_model = init.header["model"] == META_MODEL.bytes
        states: dict[CID, EventState] = {}
        ordered: list[EventState] = []
        for _stored, event in events:
            state = self._apply(event, states.get(event.prev) if event.prev else None)
            if is_model:
                if state.data is not None and not state.pending:
                    previous = states.get(event.prev) if event.prev else None
                    before = previous.data["content"] if previous and previous.data else None
                    state.errors = rules.model_errors(state.data["content"], init.header["model"], before)
            else:
                self._validate_mid(init, event, state)
            states[event.cid] = state
            ordered.append(state)
        return ordered

    def _apply(self, event: DecodedEvent, previous: EventState | None) -> EventState:
        if event.kind == "init":
            data = {"metadata": _metadata(event.header, init=True), "content": _sorted(_jsonable(event.payload["data"]))}
            return EventState(event.cid, 0, data)
        if previous is None:  # cannot happen: POST requires prev to be stored in the same stream
            return EventState(event.cid, 0, None, ["previous event state is unknown"])
        state = EventState(event.cid, previous.height + 1, None, pending=previous.pending)
        if previous.data is None:
            state.errors = ["cannot validate null instance document"]
            return state
        content = previous.data["content"]
        try:
            content = json_patch.apply({} if content is None else content, _jsonable(event.payload["data"]))
        except json_patch.PatchError as exc:
            state.errors = [f"Error applying JSON patch: {exc}"]
            return state
        metadata = {**previous.data["metadata"], **_metadata(event.header, init=False)}
        state.data = {"metadata": metadata, "content": _sorted(content)}
        return state

    def _model_definition(self, version: CID) -> Any:
        """The definition as of model event ``version``; ``...`` (Ellipsis) when that event is not stored."""
        if version in self._definitions:
            return self._definitions[version]
        stored = self._store.get(version)
        if stored is None:
            return ...
        for state in self.event_states(stored.stream_cid):
            if state.event_cid == version:
                definition = None if state.data is None else state.data["content"]
                self._definitions[version] = definition
                return definition
        return ...

    def _validate_mid(self, init: DecodedEvent, event: DecodedEvent, state: EventState) -> None:
        if state.pending or state.errors:
            return
        assert state.data is not None
        model_stream = StreamID.from_bytes(init.header["model"])
        try:
            version = CID.from_string(state.data["metadata"]["modelVersion"]) if "modelVersion" in state.data["metadata"] else model_stream.cid
        except CIDError:
            state.errors = ["modelVersion must be a valid CID"]
            return
        definition = self._model_definition(version)
        if definition is ...:
            state.pending = True  # ceramic-one parks it until the model arrives
            return
        try:
            model = rules.parse_model(definition)
        except rules.ModelDefinitionError as exc:
            state.errors = [f"model definition is not a valid model definition: {exc}"]
            return
        state.errors = rules.mid_errors(
            content=state.data["content"],
            patch=event.payload["data"] if event.kind == "data" else None,
            height=state.height,
            unique=init.header.get("unique", b""),
            model=model,
            model_key=version.bytes,
            schemas=self._schemas,
        )

    def stream_state(self, stream_id: StreamID) -> StreamState | None:
        """The newest valid state of the stream (by its init CID; like ceramic-one, the type is not checked)."""
        states = self.event_states(stream_id.cid)
        valid = [s for s in states if s.valid and s.data is not None]
        if not valid:
            return None
        init = decode_event(self._store.stream_events(stream_id.cid)[0].car)
        header = init.header
        dimensions = {
            "model": header["model"],
            "controller": header["controllers"][0].encode(),
            "context": header.get("context", b""),
            "unique": header.get("unique", b""),
        }
        return StreamState(stream_id, valid[-1].event_cid, header["controllers"][0], dimensions, copy.deepcopy(valid[-1].data))
