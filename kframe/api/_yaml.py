"""Reading and writing Kubernetes YAML: multi-document, with YAML's surprises turned off."""

from __future__ import annotations

from typing import Any

import yaml

from kframe.api._codec import DecodeError
from kframe.api._objects import from_dict, to_dict

__all__ = ["dump_yaml", "load_yaml", "load_yaml_documents"]


class _Loader(yaml.SafeLoader):
    """SafeLoader that leaves timestamps as strings, as Kubernetes' YAML-to-JSON step does."""


_Loader.yaml_implicit_resolvers = {
    first: [(tag, rx) for tag, rx in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


def _json_keys(value: Any) -> Any:
    # JSON has only string keys; YAML's `1: x` or `true: y` become "1" and "true" as in
    # sigs.k8s.io/yaml.
    if isinstance(value, dict):
        return {
            (
                k if isinstance(k, str) else str(k).lower() if isinstance(k, bool) else str(k)
            ): _json_keys(v)
            for k, v in value.items()
        }
    if isinstance(value, list):
        return [_json_keys(v) for v in value]
    return value


def load_yaml_documents(text: str) -> list[dict[str, Any]]:
    """The non-empty documents of a YAML stream as JSON-shaped dicts."""
    try:
        docs = [_json_keys(d) for d in yaml.load_all(text, Loader=_Loader) if d is not None]
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark else ""
        problem = getattr(exc, "problem", None) or str(exc)
        raise DecodeError([("", f"invalid YAML: {where}{problem}")]) from None
    for i, doc in enumerate(docs):
        if not isinstance(doc, dict):
            raise DecodeError(
                [("", f"document {i + 1}: expected an object, got {type(doc).__name__}")]
            )
    return docs


def load_yaml(text: str, *, strict: bool = False) -> list[object]:
    """Decode every document of a (multi-document) YAML stream with :func:`from_dict`.

    A DecodeError from the n-th document says which document it was.
    """
    out = []
    for i, doc in enumerate(load_yaml_documents(text)):
        try:
            out.append(from_dict(doc, strict=strict))
        except DecodeError as exc:
            if len(text.split("\n---")) == 1:
                raise
            raise DecodeError([(p, f"{r} (document {i + 1})") for p, r in exc.errors]) from None
    return out


def dump_yaml(objs: object | list[object]) -> str:
    """Encode one object, or several as a multi-document stream."""
    items = objs if isinstance(objs, list) else [objs]
    return yaml.safe_dump_all(
        [to_dict(o) for o in items], sort_keys=False, default_flow_style=False
    )
