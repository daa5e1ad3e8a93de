"""The three patch types kube-apiserver accepts: JSON merge, JSON patch, strategic merge.

Strategic merge follows the schema's patch strategies and merge keys, which the generated models
carry in their field metadata (``patch_strategy``, ``patch_merge_key``): lists of containers
merge by ``name``, ``finalizers`` merge as a set, everything else replaces. kubectl's directives
(``$patch``, ``$retainKeys``, ``$setElementOrder/...``, ``$deleteFromPrimitiveList/...``) are
honoured as upstream's strategicpatch package does.
"""

from __future__ import annotations

import copy
import functools
import typing
from collections.abc import Mapping
from typing import Any

import attrs

from kframe.apiserver import _errors as errors

__all__ = ["PatchError", "json_patch", "merge_patch", "strategic_merge_patch"]


class PatchError(Exception):
    """A patch that cannot be applied (bad pointer, failed test, malformed operation)."""


def merge_patch(target: Any, patch: Any) -> Any:
    """RFC 7386: objects merge recursively, null deletes, anything else replaces."""
    if not isinstance(patch, dict):
        return copy.deepcopy(patch)
    result = dict(target) if isinstance(target, dict) else {}
    for key, value in patch.items():
        if value is None:
            result.pop(key, None)
        else:
            result[key] = merge_patch(result.get(key), value)
    return result


# -- RFC 6902 ------------------------------------------------------------------------------------


def _pointer(path: str) -> list[str]:
    if path == "":
        return []
    if not path.startswith("/"):
        raise PatchError(f"invalid JSON pointer {path!r}")
    return [p.replace("~1", "/").replace("~0", "~") for p in path[1:].split("/")]


def _index(container: list[Any], token: str, *, adding: bool) -> int:
    if token == "-" and adding:
        return len(container)
    if not token.isdigit() or (len(token) > 1 and token[0] == "0"):
        raise PatchError(f"invalid array index {token!r}")
    i = int(token)
    if i > len(container) or (i == len(container) and not adding):
        raise PatchError(f"array index {i} out of range")
    return i


def _parent(doc: Any, parts: list[str]) -> Any:
    for token in parts[:-1]:
        if isinstance(doc, dict):
            if token not in doc:
                raise PatchError(f"missing path element {token!r}")
            doc = doc[token]
        elif isinstance(doc, list):
            doc = doc[_index(doc, token, adding=False)]
        else:
            raise PatchError(f"cannot traverse into {type(doc).__name__} at {token!r}")
    return doc


def _get(doc: Any, parts: list[str]) -> Any:
    if not parts:
        return doc
    parent = _parent(doc, parts)
    token = parts[-1]
    if isinstance(parent, dict):
        if token not in parent:
            raise PatchError(f"missing path element {token!r}")
        return parent[token]
    if isinstance(parent, list):
        return parent[_index(parent, token, adding=False)]
    raise PatchError(f"cannot read {token!r} from {type(parent).__name__}")


def _add(doc: Any, parts: list[str], value: Any) -> Any:
    if not parts:
        return value
    parent = _parent(doc, parts)
    token = parts[-1]
    if isinstance(parent, dict):
        parent[token] = value
    elif isinstance(parent, list):
        parent.insert(_index(parent, token, adding=True), value)
    else:
        raise PatchError(f"cannot add {token!r} to {type(parent).__name__}")
    return doc


def _remove(doc: Any, parts: list[str]) -> Any:
    if not parts:
        raise PatchError("cannot remove the whole document")
    parent = _parent(doc, parts)
    token = parts[-1]
    if isinstance(parent, dict):
        if token not in parent:
            raise PatchError(f"cannot remove missing field {token!r}")
        del parent[token]
    elif isinstance(parent, list):
        del parent[_index(parent, token, adding=False)]
    else:
        raise PatchError(f"cannot remove {token!r} from {type(parent).__name__}")
    return doc


def json_patch(document: Any, operations: Any) -> Any:
    """RFC 6902: apply ``operations`` in order to a copy of ``document``."""
    if not isinstance(operations, list):
        raise PatchError("a JSON patch must be an array of operations")
    doc = copy.deepcopy(document)
    for op in operations:
        if not isinstance(op, dict) or "op" not in op or "path" not in op:
            raise PatchError(f"malformed JSON patch operation: {op!r}")
        kind, parts = op["op"], _pointer(op["path"])
        if kind in ("add", "replace", "test") and "value" not in op:
            raise PatchError(f"operation {kind} needs a value")
        if kind == "add":
            doc = _add(doc, parts, copy.deepcopy(op["value"]))
        elif kind == "remove":
            doc = _remove(doc, parts)
        elif kind == "replace":
            _get(doc, parts)  # must exist
            doc = (
                _add(_remove(doc, parts), parts, copy.deepcopy(op["value"]))
                if parts
                else (copy.deepcopy(op["value"]))
            )
        elif kind in ("move", "copy"):
            source = _pointer(op.get("from", ""))
            value = copy.deepcopy(_get(doc, source))
            if kind == "move":
                doc = _remove(doc, source)
            doc = _add(doc, parts, value)
        elif kind == "test":
            if _get(doc, parts) != op["value"]:
                raise PatchError(f"test operation failed at {op['path']}")
        else:
            raise PatchError(f"unknown JSON patch operation {kind!r}")
    return doc


# -- strategic merge -----------------------------------------------------------------------------


@attrs.frozen
class _FieldInfo:
    type: Any
    strategy: str
    merge_key: str | None


@functools.cache
def _fields(cls: type) -> dict[str, _FieldInfo]:
    hints = typing.get_type_hints(cls)
    return {
        a.metadata["json"]: _FieldInfo(
            _strip_optional(hints[a.name]),
            a.metadata.get("patch_strategy", ""),
            a.metadata.get("patch_merge_key"),
        )
        for a in attrs.fields(cls)
        if "json" in a.metadata
    }


def _strip_optional(tp: Any) -> Any:
    args = [a for a in typing.get_args(tp) if a is not type(None)]
    return (
        args[0]
        if typing.get_origin(tp) in (typing.Union, type(int | str)) and len(args) == 1
        else tp
    )


def _model_of(tp: Any) -> type | None:
    return tp if isinstance(tp, type) and attrs.has(tp) else None


def _item_type(tp: Any) -> Any:
    return _strip_optional(typing.get_args(tp)[0]) if typing.get_origin(tp) is tuple else None


def strategic_merge_patch(original: Any, patch: Any, cls: type) -> Any:
    """Apply a strategic merge patch to ``original`` (JSON-shaped) for model ``cls``."""
    if not isinstance(patch, dict):
        raise PatchError("a strategic merge patch must be a JSON object")
    return _merge_map(original if isinstance(original, dict) else {}, patch, cls)


def _merge_map(original: dict[str, Any], patch: dict[str, Any], cls: type | None) -> Any:
    directive = patch.get("$patch")
    if directive == "replace":
        return {k: v for k, v in patch.items() if not k.startswith("$")}
    if directive == "delete":
        return None
    result = copy.deepcopy(original)
    retain = patch.get("$retainKeys")
    if isinstance(retain, list):
        result = {k: v for k, v in result.items() if k in retain}
    fields = _fields(cls) if cls is not None else {}
    for key, value in patch.items():
        if key.startswith("$setElementOrder/") or key in ("$patch", "$retainKeys"):
            continue  # ordering hints; upstream uses them only to order the result
        if key.startswith("$deleteFromPrimitiveList/"):
            name = key.split("/", 1)[1]
            if isinstance(result.get(name), list) and isinstance(value, list):
                result[name] = [v for v in result[name] if v not in value]
            continue
        if value is None:
            result.pop(key, None)
            continue
        info = fields.get(key)
        result[key] = _merge_value(result.get(key), value, info)
    return result


def _merge_value(current: Any, value: Any, info: _FieldInfo | None) -> Any:
    if info is None:
        return merge_patch(current, value) if isinstance(value, dict) else copy.deepcopy(value)
    model = _model_of(info.type)
    if isinstance(value, dict) and model is not None:
        merged = _merge_map(current if isinstance(current, dict) else {}, value, model)
        return merged
    if isinstance(value, dict) and typing.get_origin(info.type) in (Mapping, dict):
        return merge_patch(current, value)
    if isinstance(value, list) and "merge" in info.strategy.split(","):
        return _merge_list(current if isinstance(current, list) else [], value, info)
    return copy.deepcopy(value)


def _merge_list(current: list[Any], patch: list[Any], info: _FieldInfo) -> list[Any]:
    item_model = _model_of(_item_type(info.type))
    if info.merge_key is None or item_model is None:
        # A merged list of scalars is a set union, keeping the original order first.
        result = list(current)
        for item in patch:
            if isinstance(item, dict) and item.get("$patch") == "replace":
                return [v for v in patch if not (isinstance(v, dict) and "$patch" in v)]
            if item not in result:
                result.append(copy.deepcopy(item))
        return result
    key = info.merge_key
    if any(isinstance(i, dict) and i.get("$patch") == "replace" for i in patch):
        return [i for i in patch if not (isinstance(i, dict) and i.get("$patch") == "replace")]
    result = copy.deepcopy(current)
    for item in patch:
        if not isinstance(item, dict) or key not in item:
            raise PatchError(f"map: {item!r} does not contain declared merge key: {key}")
        index = next(
            (i for i, o in enumerate(result) if isinstance(o, dict) and o.get(key) == item[key]),
            None,
        )
        if item.get("$patch") == "delete":
            if index is not None:
                del result[index]
            continue
        if index is None:
            result.append({k: v for k, v in item.items() if not k.startswith("$")})
        else:
            result[index] = _merge_map(result[index], item, item_model)
    return result


def patch_error(exc: PatchError) -> errors.APIError:
    return errors.APIError(
        422, "Invalid", f"the server rejected our request due to an error in our request: {exc}"
    )
