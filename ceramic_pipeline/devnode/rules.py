"""Validation rules of ceramic-one's aggregator for Model and ModelInstanceDocument (MID) states.

Ported from rust-ceramic ``pipeline/src/aggregator/validation/{model,model_instance}.rs``
(shared/ceramic-protocol.md §4.1, §4.3). A failed rule does not reject the event (POST has
already answered 204); it keeps that event's state out of ``GET /streams``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

import jsonschema_rs

from ceramic_pipeline.ceramic.identifiers import (
    META_MODEL,
    StreamID,
    StreamIDError,
    StreamType,
)

RELATIONS = {"list", "single", "set", "none"}
_SET_NEEDS_UNIQUE = (
    "ModelInstanceDocuments for models with SET accountRelations must be created with a unique field"
    " containing data from the fields providing the set semantics"
)


class ModelDefinitionError(ValueError):
    """Content that is not a Model definition at all."""


@dataclass(frozen=True)
class ModelDefinition:
    version: str
    name: str
    interface: bool
    relation: str  # list | single | set | none
    set_fields: tuple[str, ...]
    immutable_fields: tuple[str, ...]
    schema: dict[str, Any]
    relations: dict[str, Any] = field(default_factory=dict)
    views: dict[str, Any] = field(default_factory=dict)
    implements: tuple[str, ...] = ()

    @property
    def locked_height(self) -> int:
        """Above this height set/immutable fields may not change: one data event may set the first content."""
        return 1 if self.relation in ("single", "set") else 0

    @property
    def deterministic(self) -> bool:
        return self.relation in ("single", "set")


def parse_model(definition: Any) -> ModelDefinition:
    if not isinstance(definition, dict):
        raise ModelDefinitionError("model definition must be an object")
    version = definition.get("version")
    if version not in ("1.0", "2.0"):
        raise ModelDefinitionError(f"unknown model definition version {version!r}")
    relation = definition.get("accountRelation")
    if not isinstance(relation, dict) or relation.get("type") not in RELATIONS:
        raise ModelDefinitionError("accountRelation must be {type: list|single|set|none}")
    if version == "1.0" and relation["type"] not in ("list", "single"):
        raise ModelDefinitionError("version 1.0 models only know list and single account relations")
    required = {"name": str, "schema": dict} | ({"interface": bool, "implements": list} if version == "2.0" else {})
    for key, kind in required.items():
        if not isinstance(definition.get(key), kind):
            raise ModelDefinitionError(f"model definition needs {key} ({kind.__name__})")
    fields = relation.get("fields", []) if relation["type"] == "set" else []
    if not isinstance(fields, list) or not all(isinstance(f, str) for f in fields):
        raise ModelDefinitionError("set account relation fields must be a list of strings")
    return ModelDefinition(
        version=version,
        name=definition["name"],
        interface=definition.get("interface", False),
        relation=relation["type"],
        set_fields=tuple(fields),
        immutable_fields=tuple(definition.get("immutableFields") or ()),
        schema=definition["schema"],
        relations=definition.get("relations") or {},
        views=definition.get("views") or {},
        implements=tuple(definition.get("implements") or ()),
    )


def _objects_disable_additional_properties(schema: dict[str, Any]) -> bool:
    # Faithful to the Rust check: it descends only through the values of maps that are
    # themselves ``"type": "object"``, so e.g. schemas nested under ``properties`` are not reached.
    if schema.get("type") == "object":
        if schema.get("additionalProperties") is not False:
            return False
        return all(_objects_disable_additional_properties(v) for v in schema.values() if isinstance(v, dict))
    return True


def model_errors(content: Any, model_dimension: bytes, previous: Any = None) -> list[str]:
    """Why a Model stream state is invalid ([] when valid). ``previous`` is the prior definition on updates."""
    if model_dimension != META_MODEL.bytes:
        return ["a model's model dimension must be the meta model"]
    try:
        model = parse_model(content)
    except ModelDefinitionError as exc:
        return [f"model definition is not a valid model definition: {exc}"]
    if not _objects_disable_additional_properties(model.schema):
        return ["All objects in schema need to have additional properties disabled"]
    if model.relation == "set" and not model.set_fields:
        return ["Account relation of type Set must include at least one field"]
    props = model.schema.get("properties") or {}
    for key in model.views:
        if key in props:
            return [f"view definition used with a property also present in schema ({key})"]
    if model.interface and not props and not model.views:
        return ["Invalid interface: a least one propery or view must be present"]
    if previous is not None:
        return _update_errors(model, content, previous)
    return []


def _update_errors(model: ModelDefinition, content: dict, previous: Any) -> list[str]:
    # Schema compatibility (json_schema_diff in Rust) is not checked: the devnode accepts any schema change.
    try:
        before = parse_model(previous)
    except ModelDefinitionError:
        return []
    if before.version == "1.0":
        return ["cannot update version 1 models"] if model.version == "1.0" else ["cannot change model version from 1 to 2"]
    if before.interface:
        return ["cannot update interface models"]
    if model.interface:
        return ["cannot change model to an interface"]
    for key, what in (("immutableFields", "immutable fields"), ("accountRelation", "account relation"),
                      ("relations", "relations"), ("views", "views")):
        if content.get(key) != previous.get(key):
            return [f"cannot change a model's {what}"]
    return []


def _unique_part(value: Any) -> str:
    """serde_json's rendering of a set field, as the Rust aggregator joins them."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return value
    if isinstance(value, (int, float)):
        return json.dumps(value)
    return ""


def _modified_locked(model: ModelDefinition, fields: tuple[str, ...], patch: list | None, height: int) -> list[str]:
    if height <= model.locked_height or not patch:
        return []
    touched = []
    for op in patch:
        first = op.get("path", "").split("/")[1:2]
        if first:
            name = first[0].replace("~1", "/").replace("~0", "~")
            if name in fields:
                touched.append(name)
    return touched


def _account_relation_errors(model: ModelDefinition, content: Any, patch: list | None, height: int, unique: bytes) -> list[str]:
    if height == 0 and content is not None and model.deterministic:
        return [f"ModelInstanceDocuments with an account relation {model.relation.upper()} must not have initial content"]
    if model.relation == "single" and unique:
        return ["ModelInstanceDocuments for models with SINGLE accountRelations must be created deterministically"]
    if model.relation == "list" and not unique:
        return ["ModelInstanceDocuments for models with LIST accountRelations must be created with a unique field"]
    if model.relation == "set":
        if not unique:
            return [_SET_NEEDS_UNIQUE]
        modified = _modified_locked(model, model.set_fields, patch, height)
        if modified:
            return [f"Set account relation field '{f}' cannot be modified" for f in modified]
        if content is None:
            return ["Missing content for SET account relation"] if height != 0 else []
        if not isinstance(content, dict):
            return ["Content must be an object"]
        expected = unique.decode("utf-8", errors="replace")
        found = "|".join(_unique_part(content.get(f)) for f in model.set_fields)
        if found != expected:
            return [f"Unique content fields value does not match metadata. Expected '{expected}' but found '{found}'"]
    return []


def _relation_errors(model: ModelDefinition, content: Any) -> list[str]:
    errors = []
    for key, relation in model.relations.items():
        if not isinstance(relation, dict) or relation.get("type") != "document":
            continue
        target = content.get(key) if isinstance(content, dict) else None
        if target is None:
            continue
        if not isinstance(target, str):
            errors.append("document relation field must be a string")
            continue
        try:
            stream = StreamID.from_string(target)
        except StreamIDError:
            errors.append("document relation must be a stream id")
            continue
        if stream.type != StreamType.MODEL_INSTANCE_DOCUMENT:
            errors.append(f"Model relation of type Document with a target Stream ID ({target}) must be of stream type 3 (MID)")
    return errors


class SchemaCache:
    """Compiled JSON-schema validators per model version (compiling is the slow part).

    Uses ``jsonschema-rs``, the Python binding of the Rust ``jsonschema`` crate that ceramic-one's
    aggregator validates MIDs with (rust-ceramic ``pipeline/Cargo.toml``): the draft the schema's
    ``$schema`` names, else 2020-12; ``format`` is an annotation only; remote ``$ref``s are never
    fetched. It checks a DoclingChunk in ~1 us, against ~230 us for the pure-Python ``jsonschema``.
    """

    def __init__(self) -> None:
        self._validators: dict[bytes, Any] = {}

    def errors(self, key: bytes, schema: dict[str, Any], content: Any) -> list[str]:
        validator = self._validators.get(key)
        if validator is None:
            try:
                validator = jsonschema_rs.validator_for(schema, offline=True)
            except jsonschema_rs.ValidationError as exc:  # the schema itself is not valid
                validator = f"model schema is not a valid JSON schema: {str(exc).splitlines()[0]}"
            self._validators[key] = validator
        if isinstance(validator, str):
            return [validator]
        try:
            if validator.is_valid(content):
                return []
            failures = list(validator.iter_errors(content))
        except (ValueError, OverflowError, TypeError) as exc:  # a value the validator cannot take in
            return [f"content cannot be validated against the model schema: {exc}"]
        messages = []
        for err in failures:
            where = "/" + "/".join(str(p) for p in err.instance_path)
            messages.append(err.message if where == "/" else f"{err.message} at {where}")
        return messages


def mid_errors(
    *,
    content: Any,
    patch: list | None,
    height: int,
    unique: bytes,
    model: ModelDefinition,
    model_key: bytes,
    schemas: SchemaCache,
) -> list[str]:
    """Why a MID state is invalid ([] when valid); checks run in the Rust order and stop at the first failing group."""
    if model.interface:
        return ["ModelInstanceDocument Streams cannot be created on interface Models"]
    errors = _account_relation_errors(model, content, patch, height, unique)
    if errors:
        return errors
    modified = _modified_locked(model, model.immutable_fields, patch, height)
    if modified:
        return [f"Immutable field '{f}' cannot be modified" for f in modified]
    if content is not None:
        errors = schemas.errors(model_key, model.schema, content)
        if errors:
            return errors
    return _relation_errors(model, content)
