"""Stream state for ``GET /streams/{id}``: ceramic-one's aggregation, kept up to date per stream.

Mirrors ceramic-one's aggregator (rust-ceramic ``pipeline/src/aggregator``): every event
gets a state = its ``prev``'s state with the JSON patch applied, then the state is validated
(``rules``). The stream's state is the newest event state without validation errors, so an
invalid event is dropped from the state but stays in storage. A MID whose model version is
not stored yet is pending (no state, 404) until the model arrives.

Two roads to the same states, both through :meth:`Aggregator.step`:

- :meth:`Aggregator.event_states` recomputes a stream from scratch, decoding and re-verifying
  every stored event (the reference: the ``/_devnode`` test hook, and the cache's rebuild).
- The cache, per stream: the init's facts, the state of the last delivered event (the *head*)
  and the newest valid state (the *tip*). :meth:`Aggregator.accepted` advances it as each
  event is stored: an event's state depends only on its ``prev``'s state, so when ``prev`` is
  the head that costs one step. Anything else rebuilds the stream from storage on its next
  use: a fork (``prev`` is an older event), a stream not in the cache (after a restart, or
  evicted: the cache is an LRU of ``cache_streams`` streams, so memory stays bounded), and a
  pending MID (its model may have arrived since; pending streams are never cached).
  States are held as the compact JSON text ceramic-one returns, parsed only when the next
  event needs them. ``cache_streams=0`` disables the cache: every GET recomputes (the old,
  slow path, kept for benchmarks and as a cross-check).
"""

from __future__ import annotations

import base64
import json
from collections import OrderedDict
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from ceramic_pipeline.ceramic import patch as json_patch
from ceramic_pipeline.ceramic.cid import CID, CIDError
from ceramic_pipeline.ceramic.identifiers import META_MODEL, StreamID
from ceramic_pipeline.ceramic.verify import DecodedEvent, decode_event
from ceramic_pipeline.devnode import rules
from ceramic_pipeline.devnode.store import EventStore

DEFAULT_CACHE_STREAMS = 100_000  # ~2.5 KB per DoclingChunk stream: ~250 MB at most


_SCALARS = frozenset({str, int, float, bool, type(None)})


def _jsonable(value: Any) -> Any:
    """IPLD content as JSON; links and bytes take their DAG-JSON form."""
    if type(value) in _SCALARS:  # most leaves: skip the isinstance chain
        return value
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_jsonable(v) for v in value]
    if isinstance(value, CID):
        return {"/": str(value)}
    if isinstance(value, bytes):
        return {"/": {"bytes": base64.b64encode(value).decode().rstrip("=")}}
    return value


@lru_cache(maxsize=1024)
def _stream_cid(stream_id: bytes) -> CID:
    return StreamID.from_bytes(stream_id).cid


def _b64url(data: bytes) -> str:
    return "u" + base64.urlsafe_b64encode(data).decode().rstrip("=")


def state_json(data: dict[str, Any]) -> str:
    """``{"metadata", "content"}`` as ceramic-one writes it: serde_json, struct fields in order,
    map keys sorted (BTreeMap), compact."""
    body = {"metadata": dict(sorted(data["metadata"].items())), "content": data["content"]}
    return json.dumps(body, separators=(",", ":"), ensure_ascii=False)


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


@dataclass(frozen=True, slots=True)
class InitFacts:
    """What later events of a stream need from its init event."""

    cid: CID
    controller: str
    model: bytes  # the model dimension: StreamID bytes (the meta-model for a Model stream)
    unique: bytes
    context: bytes

    @classmethod
    def of(cls, init: DecodedEvent) -> InitFacts:
        header = init.header
        return cls(init.cid, header["controllers"][0], header["model"], header.get("unique", b""), header.get("context", b""))

    @property
    def is_model(self) -> bool:
        return self.model == META_MODEL.bytes

    @property
    def model_cid(self) -> CID:
        """The model stream's init CID: the model version a MID follows unless its header names one."""
        return _stream_cid(self.model)

    @property
    def dimensions(self) -> dict[str, bytes]:
        return {"model": self.model, "controller": self.controller.encode(), "context": self.context, "unique": self.unique}


@dataclass(frozen=True)
class StreamState:
    id: StreamID
    event_cid: CID
    controller: str
    dimensions: dict[str, bytes]
    data_json: str  # the state's JSON text (see ``state_json``)

    @property
    def data(self) -> dict[str, Any]:
        return json.loads(self.data_json)

    def to_json(self) -> dict[str, Any]:
        """The body ceramic-one returns: dimensions and data as ``u`` base64url multibase."""
        return {
            "id": str(self.id),
            "event_cid": str(self.event_cid),
            "controller": self.controller,
            "dimensions": {k: _b64url(v) for k, v in self.dimensions.items()},
            "data": _b64url(self.data_json.encode()),
        }


@dataclass(slots=True)
class CachedStream:
    """One stream's cached aggregation: its init, its head (last delivered) and tip (newest valid) states."""

    init: InitFacts
    head_cid: CID
    head_height: int
    head_json: str | None  # the head state's data, None when its patch failed
    tip_cid: CID | None = None
    tip_json: str | None = None
    pending: bool = False  # some state is pending: never kept in the cache

    def advance(self, state: EventState) -> None:
        self.head_cid, self.head_height = state.event_cid, state.height
        self.head_json = None if state.data is None else state_json(state.data)
        self.pending = self.pending or state.pending
        if state.valid and self.head_json is not None:
            self.tip_cid, self.tip_json = state.event_cid, self.head_json

    def head_state(self) -> EventState:
        data = None if self.head_json is None else json.loads(self.head_json)
        return EventState(self.head_cid, self.head_height, data, pending=self.pending)


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
    """Stream states over one :class:`EventStore` (see the module docstring). Not thread-safe by
    itself: callers hold ``store.lock`` (ingest and the server do)."""

    def __init__(self, store: EventStore, *, cache_streams: int = DEFAULT_CACHE_STREAMS) -> None:
        self._store = store
        self._schemas = rules.SchemaCache()
        self.cache_streams = cache_streams
        self._cache: OrderedDict[CID, CachedStream] = OrderedDict()
        # An event's state depends only on its ancestors, so a model version's definition never changes.
        self._models: dict[CID, rules.ModelDefinition | str] = {}

    @property
    def caching(self) -> bool:
        return self.cache_streams > 0

    @property
    def cached_streams(self) -> int:
        """How many streams' states are in memory now."""
        return len(self._cache)

    def forget(self, stream_cid: CID) -> None:
        """Drop one stream's cached state; it is rebuilt from storage on next use."""
        self._cache.pop(stream_cid, None)

    def reset(self) -> None:
        """Forget every cached state (e.g. after a failed commit); streams rebuild from storage on use."""
        self._cache.clear()
        self._models.clear()

    # -- the transition ---------------------------------------------------------------------

    def step(self, init: InitFacts, event: DecodedEvent, previous: EventState | None) -> EventState:
        """The state after ``event``, given its ``prev``'s state (None for the init event)."""
        state = self._apply(event, previous)
        if init.is_model:
            if state.data is not None and not state.pending:
                before = previous.data["content"] if previous and previous.data else None
                state.errors = rules.model_errors(state.data["content"], init.model, before)
        else:
            self._validate_mid(init, event, state)
        return state

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

    def _model(self, version: CID) -> rules.ModelDefinition | str | None:
        """The parsed model as of model event ``version``; an error text if it is not a model definition;
        None when that event is not stored (yet). Cached once found: a version never changes."""
        if version in self._models:
            return self._models[version]
        stored = self._store.get(version)
        if stored is None:
            return None
        for state in self.event_states(stored.stream_cid):
            if state.event_cid == version:
                try:
                    model: rules.ModelDefinition | str = rules.parse_model(None if state.data is None else state.data["content"])
                except rules.ModelDefinitionError as exc:
                    model = f"model definition is not a valid model definition: {exc}"
                self._models[version] = model
                return model
        return None

    def _validate_mid(self, init: InitFacts, event: DecodedEvent, state: EventState) -> None:
        if state.pending or state.errors:
            return
        assert state.data is not None
        metadata = state.data["metadata"]
        try:
            version = CID.from_string(metadata["modelVersion"]) if "modelVersion" in metadata else init.model_cid
        except CIDError:
            state.errors = ["modelVersion must be a valid CID"]
            return
        model = self._model(version)
        if model is None:
            state.pending = True  # ceramic-one parks it until the model arrives
            return
        if isinstance(model, str):
            state.errors = [model]
            return
        state.errors = rules.mid_errors(
            content=state.data["content"],
            patch=event.payload["data"] if event.kind == "data" else None,
            height=state.height,
            unique=init.unique,
            model=model,
            model_key=version.bytes,
            schemas=self._schemas,
        )

    # -- from scratch (the reference) ---------------------------------------------------------

    def _replay(self, stream_cid: CID) -> tuple[InitFacts | None, list[EventState]]:
        events = [decode_event(e.car) for e in self._store.stream_events(stream_cid)]
        if not events or events[0].kind != "init":
            return None, []
        init = InitFacts.of(events[0])
        states: dict[CID, EventState] = {}
        ordered: list[EventState] = []
        for event in events:
            state = self.step(init, event, states.get(event.prev) if event.prev else None)
            states[event.cid] = state
            ordered.append(state)
        return init, ordered

    def event_states(self, stream_cid: CID) -> list[EventState]:
        """Every event's state in delivery order, recomputed from storage ([] for an unknown stream)."""
        return self._replay(stream_cid)[1]

    def recomputed(self, stream_cid: CID) -> CachedStream | None:
        """The stream's aggregation recomputed from storage, in the cache's shape (not cached)."""
        init, states = self._replay(stream_cid)
        if init is None:
            return None
        entry = CachedStream(init, states[0].event_cid, 0, None)
        for state in states:
            entry.advance(state)
        return entry

    # -- the cache ----------------------------------------------------------------------------

    def cached(self, stream_cid: CID) -> CachedStream | None:
        """The stream's cached aggregation, rebuilt from storage when absent; None for an unknown stream."""
        entry = self._cache.get(stream_cid)
        if entry is not None and not entry.pending:
            self._cache.move_to_end(stream_cid)
            return entry
        entry = self.recomputed(stream_cid)
        if entry is not None:
            self._keep(stream_cid, entry)
        return entry

    def _keep(self, stream_cid: CID, entry: CachedStream) -> None:
        if not self.caching or entry.pending:
            self._cache.pop(stream_cid, None)
            return
        self._cache[stream_cid] = entry
        self._cache.move_to_end(stream_cid)
        while len(self._cache) > self.cache_streams:
            self._cache.popitem(last=False)

    def accepted(self, event: DecodedEvent, entry: CachedStream | None) -> None:
        """Advance the cache by an event just stored; ``entry`` is its stream's entry from :meth:`cached`."""
        if not self.caching:
            return
        if event.kind == "init":
            init = InitFacts.of(event)
            state = self.step(init, event, None)
            fresh = CachedStream(init, event.cid, 0, None)
            fresh.advance(state)
            self._keep(event.cid, fresh)
            return
        if entry is None or entry.pending or event.prev != entry.head_cid:
            self.forget(event.init_cid)  # a fork or an unknown head: rebuild on next use
            return
        entry.advance(self.step(entry.init, event, entry.head_state()))
        self._keep(event.init_cid, entry)

    def stream_state(self, stream_id: StreamID) -> StreamState | None:
        """The newest valid state of the stream (by its init CID; like ceramic-one, the type is not checked)."""
        entry = self.cached(stream_id.cid) if self.caching else self.recomputed(stream_id.cid)
        if entry is None or entry.tip_cid is None or entry.tip_json is None:
            return None
        return StreamState(stream_id, entry.tip_cid, entry.init.controller, entry.init.dimensions, entry.tip_json)
