"""JSON patches (RFC 6902) between two JSON documents.

``diff`` reproduces fast-json-patch 3.1.1 ``compare`` (what the SDK's ``createDataEvent``
uses) op for op, so our data events are byte-identical to the SDK's for the same contents.
No Python library emits that order (``jsonpatch`` orders differently), hence this port.
Applying patches uses the ``jsonpatch`` library.
"""

from __future__ import annotations

from typing import Any

import jsonpatch


def _escape(key: str) -> str:
    return key.replace("~", "~0").replace("/", "~1") if ("~" in key or "/" in key) else key


def _is_index(key: str) -> bool:
    return key.isdigit() and key.isascii() and (key == "0" or not key.startswith("0")) and int(key) < 2**32 - 1


def _keys(value: dict | list) -> list[str]:
    """JavaScript ``Object.keys`` order: array-index keys ascending, then the rest in insertion order."""
    if isinstance(value, list):
        return [str(i) for i in range(len(value))]
    indices = [k for k in value if _is_index(k)]
    if not indices:
        return list(value)
    return sorted(indices, key=int) + [k for k in value if not _is_index(k)]


def _get(value: dict | list, key: str) -> Any:
    return value[int(key)] if isinstance(value, list) else value[key]


def _has(value: dict | list, key: str) -> bool:
    return int(key) < len(value) if isinstance(value, list) else key in value


def _js_equal(a: Any, b: Any) -> bool:
    """``===`` for JSON scalars (True is not 1 in JavaScript)."""
    return type(a) is type(b) and a == b if isinstance(a, bool) or isinstance(b, bool) else a == b


def _is_container(value: Any) -> bool:
    return isinstance(value, (dict, list))


def _generate(old: dict | list, new: dict | list, ops: list[dict[str, Any]], path: str) -> None:
    old_keys, new_keys = _keys(old), _keys(new)
    deleted = False
    for key in reversed(old_keys):
        old_value = _get(old, key)
        child = f"{path}/{_escape(key)}"
        if _has(new, key):
            new_value = _get(new, key)
            if _is_container(old_value) and _is_container(new_value) and isinstance(old_value, list) == isinstance(new_value, list):
                _generate(old_value, new_value, ops, child)
            elif not (not _is_container(old_value) and not _is_container(new_value) and _js_equal(old_value, new_value)):
                ops.append({"op": "replace", "path": child, "value": new_value})
        elif isinstance(old, list) == isinstance(new, list):
            ops.append({"op": "remove", "path": child})
            deleted = True
        else:
            ops.append({"op": "replace", "path": path, "value": new})
    if not deleted and len(new_keys) == len(old_keys):
        return
    for key in new_keys:
        if not _has(old, key):
            ops.append({"op": "add", "path": f"{path}/{_escape(key)}", "value": _get(new, key)})


def diff(old: dict | None, new: dict | None) -> list[dict[str, Any]]:
    """Ops turning ``old`` into ``new`` (``None`` counts as ``{}``, as in the SDK)."""
    if not old:  # what _generate yields for an empty old document, without the walk
        return [{"op": "add", "path": f"/{_escape(k)}", "value": new[k]} for k in _keys(new or {})]
    ops: list[dict[str, Any]] = []
    _generate(old, new or {}, ops, "")
    return ops


class PatchError(ValueError):
    """A patch that does not apply to the document."""


def apply(document: Any, ops: list[dict[str, Any]]) -> Any:
    try:
        return jsonpatch.apply_patch(document if document is not None else {}, ops, in_place=False)
    except (jsonpatch.JsonPatchException, jsonpatch.JsonPointerException, TypeError, KeyError, IndexError) as exc:
        raise PatchError(f"patch does not apply: {exc}") from None
