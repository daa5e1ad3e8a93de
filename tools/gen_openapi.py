"""Generate the OpenAPI documents kframe's API server serves at /openapi/v2 and /openapi/v3.

The schemas come from the same Kubernetes JSON schema that tools/gen_models.py reads (the
``kubernetes-validate`` dev dependency), restricted to the definitions reachable from the kinds
kframe models. They are turned back into OpenAPI: nullable unions become plain types, the
``apiVersion``/``kind`` enums the JSON-schema rendering adds are dropped, and references point at
``#/definitions/`` (v2) or ``#/components/schemas/`` (v3, wrapped in ``allOf`` where the
reference has siblings, as upstream does). Run from the repository root:

    python tools/gen_openapi.py            # rewrite kframe/apiserver/openapi/*.json.gz
    python tools/gen_openapi.py --check    # exit 1 if the committed files are stale

The ``paths`` describe the resources in ``kframe.apiserver._resources``: each verb becomes its
operation, with the parameters, request bodies and ``x-kubernetes-*`` extensions clients read,
though with shorter descriptions than upstream's. kubectl needs them: it uses server-side field
validation and OpenAPI-driven strategic merge for a kind only when the kind's PATCH operation
lists the ``fieldValidation`` query parameter and accepts
``application/strategic-merge-patch+json``. Output is deterministic: sorted keys, no whitespace,
gzip mtime 0.
"""

from __future__ import annotations

import argparse
import copy
import gzip
import json
import sys
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any, NamedTuple

sys.path.insert(0, str(Path(__file__).resolve().parent))
from gen_models import ROOTS, SCHEMA_VERSION, load_schema

from kframe.apiserver._resources import RESOURCES, Resource

OUT_DIR = Path(__file__).resolve().parent.parent / "kframe" / "apiserver" / "openapi"

META = "io.k8s.apimachinery.pkg.apis.meta.v1."
PATCH = META + "Patch"
DELETE_OPTIONS = META + "DeleteOptions"
STATUS = META + "Status"
RESOURCE_LIST = META + "APIResourceList"

# The group/versions kframe serves ("" is the core group); one v3 document each.
GROUP_VERSIONS = (
    ("", "v1"),
    ("apps", "v1"),
    ("autoscaling", "v1"),
    ("autoscaling", "v2"),
    ("batch", "v1"),
    ("coordination.k8s.io", "v1"),
    ("discovery.k8s.io", "v1"),
    ("node.k8s.io", "v1"),
    ("policy", "v1"),
    ("rbac.authorization.k8s.io", "v1"),
    ("scheduling.k8s.io", "v1"),
)

# Subresource -> (methods, the kind of its body, or None for the parent's kind).
SUBRESOURCES: dict[str, tuple[tuple[str, ...], tuple[str, str, str] | None]] = {
    "status": (("get", "put", "patch"), None),
    "ephemeralcontainers": (("get", "put", "patch"), None),
    "resize": (("get", "put", "patch"), None),
    "finalize": (("put",), None),
    "scale": (("get", "put", "patch"), ("autoscaling", "v1", "Scale")),
    "binding": (("post",), ("", "v1", "Binding")),
    "eviction": (("post",), ("policy", "v1", "Eviction")),
}
# Subresources without a kframe-modelled body (streams, connections, TokenRequest): no paths.
UNDESCRIBED = {"attach", "exec", "log", "portforward", "proxy", "token"}

PATCH_TYPES = (
    "application/apply-patch+yaml",
    "application/json-patch+json",
    "application/merge-patch+json",
    "application/strategic-merge-patch+json",
)

# Query parameters by operation: (name, type). Path-level parameters are added per path.
LIST_PARAMS = (
    ("allowWatchBookmarks", "boolean"),
    ("continue", "string"),
    ("fieldSelector", "string"),
    ("labelSelector", "string"),
    ("limit", "integer"),
    ("resourceVersion", "string"),
    ("resourceVersionMatch", "string"),
    ("sendInitialEvents", "boolean"),
    ("timeoutSeconds", "integer"),
    ("watch", "boolean"),
)
WRITE_PARAMS = (("dryRun", "string"), ("fieldManager", "string"), ("fieldValidation", "string"))
PATCH_PARAMS = (*WRITE_PARAMS, ("force", "boolean"))
DELETE_PARAMS = (
    ("dryRun", "string"),
    ("gracePeriodSeconds", "integer"),
    ("orphanDependents", "boolean"),
    ("propagationPolicy", "string"),
)
PARAM_DOCS = {
    "dryRun": "When present, indicates that modifications should not be persisted. "
    "Valid values are: - All: all dry run stages will be processed",
    "fieldManager": "fieldManager is a name associated with the actor or entity that is making "
    "these changes.",
    "fieldValidation": "fieldValidation determines how the server should respond to "
    "unknown/duplicate fields in the object in the request. Valid values are: - Ignore - Warn "
    "- Strict",
    "force": 'Force is going to "force" Apply requests.',
    "name": "name of the object",
    "namespace": "object name and auth scope, such as for teams and projects",
    "pretty": "If 'true', then the output is pretty printed.",
}
STATUS_TEXT = {"200": "OK", "201": "Created", "202": "Accepted"}


# --- schemas -----------------------------------------------------------------------------------


def refs_in(node: Any) -> Iterator[str]:
    """Every definition name a ``$ref`` anywhere under ``node`` points at."""
    if isinstance(node, dict):
        ref = node.get("$ref")
        if isinstance(ref, str):
            yield ref.rsplit("/", 1)[1]
        for value in node.values():
            yield from refs_in(value)
    elif isinstance(node, list):
        for value in node:
            yield from refs_in(value)


def closure(defs: dict[str, Any], roots: Iterable[str]) -> set[str]:
    seen: set[str] = set()
    todo = list(roots)
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        if name not in defs:
            raise SystemExit(f"gen_openapi: no definition {name}")
        seen.add(name)
        todo.extend(refs_in(defs[name]))
    return seen


def plain_type(node: dict[str, Any], where: str) -> str:
    """The one non-null type of a JSON-schema ``type``."""
    t = node["type"]
    kinds = [t] if isinstance(t, str) else [k for k in t if k != "null"]
    if len(kinds) != 1 or not isinstance(kinds[0], str):
        raise SystemExit(f"gen_openapi: {where}: cannot reduce type {t!r}")
    return kinds[0]


def convert(node: dict[str, Any], prefix: str, v3: bool, where: str) -> dict[str, Any]:
    """One JSON-schema node as an OpenAPI schema; ``prefix`` is what a ``$ref`` name follows."""
    out: dict[str, Any] = {}
    for key, value in node.items():
        if key.startswith("x-") or key in ("description", "format", "required", "default"):
            out[key] = copy.deepcopy(value)
        elif key == "type":
            out[key] = plain_type(node, where)
        elif key == "$ref":
            out[key] = prefix + value.rsplit("/", 1)[1]
        elif key == "properties":
            out[key] = {
                name: convert(prop, prefix, v3, f"{where}.{name}") for name, prop in value.items()
            }
        elif key == "items":
            out[key] = convert(value, prefix, v3, f"{where}[]")
        elif key == "additionalProperties":
            out[key] = (
                convert(value, prefix, v3, f"{where}{{}}") if isinstance(value, dict) else value
            )
        elif key == "enum":
            # The JSON-schema rendering pins apiVersion and kind; OpenAPI does not.
            if not where.endswith((".apiVersion", ".kind")):
                out[key] = copy.deepcopy(value)
        else:
            raise SystemExit(f"gen_openapi: {where}: unsupported keyword {key}")
    if v3 and "$ref" in out and len(out) > 1:
        # OpenAPI 3.0 ignores a $ref's siblings; upstream wraps the reference in allOf.
        out["allOf"] = [{"$ref": out.pop("$ref")}]
    return out


# IntOrString and Quantity are oneOf unions of nullable scalars in the JSON schema, with their
# descriptions lost. Upstream's v2 describes both as strings; its v3 as a oneOf of plain types.
SCALAR_UNIONS: dict[str, dict[str, Any]] = {
    "io.k8s.apimachinery.pkg.util.intstr.IntOrString": {
        "description": "IntOrString is a type that can hold an int32 or a string.  When used in "
        "JSON or YAML marshalling and unmarshalling, it produces or consumes the inner type.  "
        "This allows you to have, for example, a JSON field that can accept a name or number.",
        "format": "int-or-string",
        "type": "string",
    },
    "io.k8s.apimachinery.pkg.api.resource.Quantity": {
        "description": "Quantity is a fixed-point representation of a number. It provides "
        "convenient marshaling/unmarshaling in JSON and YAML, in addition to String() and "
        "AsInt64() accessors.",
        "type": "string",
    },
}


SCALAR_UNIONS_V3 = {
    "io.k8s.apimachinery.pkg.util.intstr.IntOrString": [{"type": "integer"}, {"type": "string"}],
    "io.k8s.apimachinery.pkg.api.resource.Quantity": [{"type": "string"}, {"type": "number"}],
}


def definition(defs: dict[str, Any], name: str, prefix: str, v3: bool) -> dict[str, Any]:
    if name in SCALAR_UNIONS:
        out = copy.deepcopy(SCALAR_UNIONS[name])
        if v3:
            del out["type"]
            out["oneOf"] = copy.deepcopy(SCALAR_UNIONS_V3[name])
        return out
    return convert(defs[name], prefix, v3, name)


# --- paths -------------------------------------------------------------------------------------


def gv_path(group: str, version: str) -> str:
    """``api/v1`` or ``apis/<group>/<version>``: a document's key in the v3 index."""
    return f"apis/{group}/{version}" if group else f"api/{version}"


def package(group: str) -> str:
    """The Go package of a group in definition names: ``rbac.authorization.k8s.io`` -> ``rbac``."""
    return (group.split(".", 1)[0] if group.endswith(".k8s.io") else group) or "core"


def def_name(group: str, version: str, kind: str) -> str:
    """The definition of a kind kframe models (one of gen_models' ROOTS)."""
    name = f"io.k8s.api.{package(group)}.{version}.{kind}"
    if name not in ROOTS:
        raise SystemExit(f"gen_openapi: kframe does not model {group}/{version} {kind}")
    return name


class Operation(NamedTuple):
    method: str
    action: str  # x-kubernetes-action
    verb: str  # operationId prefix: list, create, read, replace, patch, delete, ...
    summary: str
    params: tuple[tuple[str, str], ...]
    body: str | None  # definition of the request body
    response: str  # definition of the response
    kind: tuple[str, str, str]  # the x-kubernetes-group-version-kind


def operations(r: Resource) -> Iterator[tuple[str, Operation, str]]:
    """(path, operation, operationId suffix) for each verb and subresource of a resource."""
    gv = gv_path(r.group, r.version)
    this = (r.group, r.version, r.kind)
    obj = def_name(*this)
    collection = f"/{gv}{'/namespaces/{namespace}' if r.namespaced else ''}/{r.plural}"
    item = collection + "/{name}"
    verbs = set(r.verbs) - {"watch"}  # watching is a list parameter
    known = {"create", "delete", "deletecollection", "get", "list", "patch", "update"}
    if verbs - known:
        raise SystemExit(f"gen_openapi: {r.plural}: no operation for verbs {verbs - known}")
    if "list" in verbs:
        items = def_name(r.group, r.version, r.list_kind)
        summary = f"list or watch objects of kind {r.kind}"
        listing = Operation("get", "list", "list", summary, LIST_PARAMS, None, items, this)
        yield collection, listing, ""
        if r.namespaced:
            yield f"/{gv}/{r.plural}", listing, "ForAllNamespaces"
    if "create" in verbs:
        summary = f"create {r.kind}"
        yield (
            collection,
            Operation("post", "post", "create", summary, WRITE_PARAMS, obj, obj, this),
            "",
        )
    if "deletecollection" in verbs:
        summary = f"delete collection of {r.kind}"
        params = DELETE_PARAMS + LIST_PARAMS
        action, verb = "deletecollection", "deleteCollection"
        op = Operation("delete", action, verb, summary, params, DELETE_OPTIONS, STATUS, this)
        yield collection, op, ""
    one = f"the specified {r.kind}"
    if "get" in verbs:
        yield item, Operation("get", "get", "read", f"read {one}", (), None, obj, this), ""
    if "update" in verbs:
        op = Operation("put", "put", "replace", f"replace {one}", WRITE_PARAMS, obj, obj, this)
        yield item, op, ""
    if "patch" in verbs:
        summary = f"partially update {one}"
        yield (
            item,
            Operation("patch", "patch", "patch", summary, PATCH_PARAMS, PATCH, obj, this),
            "",
        )
    if "delete" in verbs:
        summary = f"delete {r.kind}"
        op = Operation(
            "delete", "delete", "delete", summary, DELETE_PARAMS, DELETE_OPTIONS, obj, this
        )
        yield item, op, ""
    for sub in r.subresources:
        if sub in UNDESCRIBED:
            continue
        if sub not in SUBRESOURCES:
            raise SystemExit(f"gen_openapi: {r.plural}/{sub}: describe it or list it UNDESCRIBED")
        methods, other = SUBRESOURCES[sub]
        kind = other or this
        name = def_name(*kind)
        title = sub.capitalize()
        for method in methods:
            yield f"{item}/{sub}", sub_operation(method, sub, r.kind, name, kind), title


def sub_operation(
    method: str, sub: str, parent: str, name: str, kind: tuple[str, str, str]
) -> Operation:
    one = f"{sub} of the specified {parent}"
    if method == "get":
        return Operation("get", "get", "read", f"read {one}", (), None, name, kind)
    if method == "put":
        return Operation("put", "put", "replace", f"replace {one}", WRITE_PARAMS, name, name, kind)
    if method == "patch":
        summary = f"partially update {one}"
        return Operation("patch", "patch", "patch", summary, PATCH_PARAMS, PATCH, name, kind)
    summary = f"create {sub} of a {parent}"
    return Operation("post", "post", "create", summary, WRITE_PARAMS, name, name, kind)


def operation_id(op: Operation, r: Resource, suffix: str) -> str:
    """Upstream's shape: ``patchAppsV1NamespacedDeploymentStatus``."""
    group = "".join(p.capitalize() for p in package(r.group).split("-"))
    namespaced = "Namespaced" if r.namespaced and suffix != "ForAllNamespaces" else ""
    return f"{op.verb}{group}{r.version.capitalize()}{namespaced}{r.kind}{suffix}"


def responses_for(op: Operation) -> tuple[str, ...]:
    return {"post": ("200", "201", "202"), "put": ("200", "201"), "patch": ("200", "201")}.get(
        op.method, ("200", "202") if op.method == "delete" else ("200",)
    )


def query_param(name: str, kind: str, v3: bool) -> dict[str, Any]:
    out: dict[str, Any] = {"in": "query", "name": name}
    if name in PARAM_DOCS:
        out["description"] = PARAM_DOCS[name]
    if v3:
        out["schema"] = {"type": kind, "uniqueItems": True}
    else:
        out |= {"type": kind, "uniqueItems": True}
    return out


def v3_operation(op: Operation, op_id: str, tag: str) -> dict[str, Any]:
    ref = "#/components/schemas/"
    media = ["application/json", "application/yaml"]
    if op.action == "list":
        media.append("application/json;stream=watch")
    out: dict[str, Any] = {
        "description": op.summary,
        "operationId": op_id,
        "responses": {
            code: {
                "content": {m: {"schema": {"$ref": ref + op.response}} for m in media},
                "description": STATUS_TEXT[code],
            }
            for code in responses_for(op)
        },
        "tags": [tag],
        "x-kubernetes-action": op.action,
        "x-kubernetes-group-version-kind": gvk(*op.kind),
    }
    if op.params:
        out["parameters"] = [query_param(n, t, v3=True) for n, t in op.params]
    if op.body is not None:
        types = PATCH_TYPES if op.method == "patch" else ("application/json", "application/yaml")
        out["requestBody"] = {
            "content": {t: {"schema": {"$ref": ref + op.body}} for t in types},
            "required": op.method != "delete",
        }
    return out


def v2_operation(op: Operation, op_id: str, tag: str) -> dict[str, Any]:
    ref = "#/definitions/"
    params: list[dict[str, Any]] = []
    if op.body is not None:
        required = op.method != "delete"
        body = {
            "in": "body",
            "name": "body",
            "required": required,
            "schema": {"$ref": ref + op.body},
        }
        params.append(body)
    params += [query_param(n, t, v3=False) for n, t in op.params]
    produces = ["application/json", "application/yaml"]
    if op.action == "list":
        produces.append("application/json;stream=watch")
    out: dict[str, Any] = {
        "consumes": list(PATCH_TYPES) if op.method == "patch" else ["*/*"],
        "description": op.summary,
        "operationId": op_id,
        "produces": produces,
        "responses": {
            **{
                code: {"description": STATUS_TEXT[code], "schema": {"$ref": ref + op.response}}
                for code in responses_for(op)
            },
            "401": {"description": "Unauthorized"},
        },
        "schemes": ["https"],
        "tags": [tag],
        "x-kubernetes-action": op.action,
        "x-kubernetes-group-version-kind": gvk(*op.kind),
    }
    if params:
        out["parameters"] = params
    return out


def gvk(group: str, version: str, kind: str) -> dict[str, str]:
    return {"group": group, "kind": kind, "version": version}


def path_parameters(path: str, v3: bool) -> list[dict[str, Any]]:
    out = []
    names = [p[1:-1] for p in path.split("/") if p.startswith("{")]
    for name in [*names, "pretty"]:
        param: dict[str, Any] = {
            "description": PARAM_DOCS[name],
            "in": "query" if name == "pretty" else "path",
            "name": name,
        }
        if name != "pretty":
            param["required"] = True
        if v3:
            param["schema"] = {"type": "string", "uniqueItems": True}
        else:
            param |= {"type": "string", "uniqueItems": True}
        out.append(param)
    return out


def build_paths(group: str, version: str, v3: bool) -> dict[str, Any]:
    """The paths of one group/version: its resource list and every resource's operations."""
    gv = gv_path(group, version)
    tag = f"{package(group)}_{version}"
    ref = "#/components/schemas/" if v3 else "#/definitions/"
    discovery: dict[str, Any] = {
        "description": "get available resources",
        "operationId": f"get{package(group).capitalize()}{version.capitalize()}APIResources",
        "tags": [tag],
    }
    if v3:
        schema = {"application/json": {"schema": {"$ref": ref + RESOURCE_LIST}}}
        discovery["responses"] = {"200": {"content": schema, "description": "OK"}}
    else:
        discovery |= {
            "consumes": ["application/json", "application/yaml"],
            "produces": ["application/json", "application/yaml"],
            "responses": {
                "200": {"description": "OK", "schema": {"$ref": ref + RESOURCE_LIST}},
                "401": {"description": "Unauthorized"},
            },
            "schemes": ["https"],
        }
    paths: dict[str, Any] = {f"/{gv}/": {"get": discovery}}
    for r in RESOURCES:
        if (r.group, r.version) != (group, version):
            continue
        for path, op, suffix in operations(r):
            item = paths.setdefault(path, {"parameters": path_parameters(path, v3)})
            if op.method in item:
                raise SystemExit(f"gen_openapi: two {op.method} operations on {path}")
            make = v3_operation if v3 else v2_operation
            item[op.method] = make(op, operation_id(op, r, suffix), tag)
    return paths


# --- documents ---------------------------------------------------------------------------------


def group_roots(group: str, version: str) -> list[str]:
    """The modelled kinds a group/version document describes (core also gets the meta kinds)."""
    prefix = f"io.k8s.api.{package(group)}.{version}."
    return [n for n in ROOTS if n.startswith(prefix) or (not group and n.startswith(META))]


def v3_document(defs: dict[str, Any], group: str, version: str) -> dict[str, Any]:
    paths = build_paths(group, version, v3=True)
    names = closure(defs, [*group_roots(group, version), *refs_in(paths)])
    prefix = "#/components/schemas/"
    return {
        "components": {"schemas": {n: definition(defs, n, prefix, True) for n in sorted(names)}},
        "info": {"title": "Kubernetes", "version": f"v{SCHEMA_VERSION}"},
        "openapi": "3.0.0",
        "paths": paths,
    }


def v2_document(defs: dict[str, Any]) -> dict[str, Any]:
    paths: dict[str, Any] = {}
    for group, version in GROUP_VERSIONS:
        paths.update(build_paths(group, version, v3=False))
    names = closure(defs, [*ROOTS, *refs_in(paths)])
    prefix = "#/definitions/"
    return {
        "definitions": {n: definition(defs, n, prefix, False) for n in sorted(names)},
        "info": {"title": "Kubernetes", "version": f"v{SCHEMA_VERSION}"},
        "paths": paths,
        "swagger": "2.0",
    }


def v3_file_name(group: str, version: str) -> str:
    return f"v3-{group or 'core'}-{version}.json.gz"


def compress(doc: dict[str, Any]) -> bytes:
    text = json.dumps(doc, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return gzip.compress(text.encode(), compresslevel=9, mtime=0)


def generate() -> dict[Path, bytes]:
    served = {(r.group, r.version) for r in RESOURCES}
    if missing := served - set(GROUP_VERSIONS):
        raise SystemExit(f"gen_openapi: resources in group/versions {sorted(missing)} not listed")
    defs = load_schema()
    files = {OUT_DIR / "v2.json.gz": compress(v2_document(defs))}
    for group, version in GROUP_VERSIONS:
        files[OUT_DIR / v3_file_name(group, version)] = compress(v3_document(defs, group, version))
    return files


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="fail if generated files are stale")
    args = parser.parse_args()
    files = generate()
    stale = [p for p, data in files.items() if not p.exists() or p.read_bytes() != data]
    stale += sorted(set(OUT_DIR.glob("*.json.gz")) - set(files))
    if args.check:
        for p in stale:
            print(f"stale: {p} (regenerate: python tools/gen_openapi.py)", file=sys.stderr)
        return 1 if stale else 0
    OUT_DIR.mkdir(parents=True, exist_ok=True)
    for path, data in files.items():
        path.write_bytes(data)
    for path in set(OUT_DIR.glob("*.json.gz")) - set(files):
        path.unlink()
    sizes = ", ".join(f"{p.name} {len(d) // 1024} KiB" for p, d in sorted(files.items()))
    print(f"wrote {len(files)} documents: {sizes}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
