"""The OpenAPI documents served at /openapi/v2 and /openapi/v3 (kframe.apiserver._openapi)."""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, ClassVar

import pytest

from kframe.api.models import KINDS
from kframe.apiserver import _openapi
from kframe.testing import require

ROOT = Path(__file__).resolve().parents[2]


def gv_path(api_version: str) -> str:
    return f"apis/{api_version}" if "/" in api_version else f"api/{api_version}"


GROUP_VERSION_PATHS = sorted({gv_path(api_version) for api_version, _ in KINDS})


def v3(path: str) -> dict[str, Any]:
    data = _openapi.openapi_v3(path)
    assert data is not None, path
    doc: dict[str, Any] = json.loads(data)
    return doc


def v2() -> dict[str, Any]:
    doc: dict[str, Any] = json.loads(_openapi.openapi_v2())
    return doc


def refs(node: Any) -> Iterator[str]:
    if isinstance(node, dict):
        if isinstance(node.get("$ref"), str):
            yield node["$ref"]
        for value in node.values():
            yield from refs(value)
    elif isinstance(node, list):
        for value in node:
            yield from refs(value)


def schemas_of_kind(schemas: dict[str, Any], group: str, version: str, kind: str) -> list[str]:
    want = {"group": group, "version": version, "kind": kind}
    return [
        name
        for name, schema in schemas.items()
        if want in schema.get("x-kubernetes-group-version-kind", [])
    ]


def split(api_version: str) -> tuple[str, str]:
    group, _, version = api_version.rpartition("/")
    return group, version


# --- the documents -----------------------------------------------------------------------------


def test_v2_is_swagger_2() -> None:
    doc = v2()
    assert doc["swagger"] == "2.0"
    assert doc["info"]["title"] == "Kubernetes"
    assert "io.k8s.api.core.v1.Pod" in doc["definitions"]
    assert isinstance(doc["paths"], dict)


@pytest.mark.parametrize("path", GROUP_VERSION_PATHS)
def test_v3_documents_are_openapi_3(path: str) -> None:
    doc = v3(path)
    assert doc["openapi"] == "3.0.0"
    assert doc["info"]["title"] == "Kubernetes"
    assert doc["components"]["schemas"]
    assert f"/{path}/" in doc["paths"]  # the group/version's resource list


def test_unknown_group_version_has_no_document() -> None:
    assert _openapi.openapi_v3("apis/example.com/v1") is None
    assert _openapi.openapi_v3("apis/apps") is None
    assert _openapi.openapi_v3("/apis/apps/v1/") == _openapi.openapi_v3("apis/apps/v1")


@pytest.mark.parametrize(("api_version", "kind"), sorted(KINDS))
def test_every_modelled_kind_has_its_schema(api_version: str, kind: str) -> None:
    group, version = split(api_version)
    v3_names = schemas_of_kind(
        v3(gv_path(api_version))["components"]["schemas"], *split(api_version), kind
    )
    assert v3_names, f"no v3 schema for {api_version} {kind}"
    assert schemas_of_kind(v2()["definitions"], group, version, kind) == v3_names


def test_refs_resolve_inside_each_document() -> None:
    doc = v2()
    for ref in refs(doc):
        assert ref.startswith("#/definitions/"), ref
        assert ref.removeprefix("#/definitions/") in doc["definitions"], ref
    for path in GROUP_VERSION_PATHS:
        doc = v3(path)
        for ref in refs(doc):
            assert ref.startswith("#/components/schemas/"), (path, ref)
            assert ref.removeprefix("#/components/schemas/") in doc["components"]["schemas"], ref


def walk_schemas(node: dict[str, Any]) -> Iterator[dict[str, Any]]:
    yield node
    for sub in node.get("properties", {}).values():
        yield from walk_schemas(sub)
    for key in ("items", "additionalProperties"):
        if isinstance(node.get(key), dict):
            yield from walk_schemas(node[key])
    for sub in node.get("allOf", []):
        yield from walk_schemas(sub)


INT_OR_STRING = "io.k8s.apimachinery.pkg.util.intstr.IntOrString"
QUANTITY = "io.k8s.apimachinery.pkg.api.resource.Quantity"


def test_types_are_plain_openapi() -> None:
    """No JSON-schema nullable unions, and no pinned apiVersion/kind enums."""
    docs = [v2()["definitions"]] + [v3(p)["components"]["schemas"] for p in GROUP_VERSION_PATHS]
    for schemas in docs:
        for name, schema in schemas.items():
            for node in walk_schemas(schema):
                assert isinstance(node.get("type", ""), str), name
                assert "oneOf" not in node or name in (INT_OR_STRING, QUANTITY), name
            for field in ("apiVersion", "kind"):
                assert "enum" not in schema.get("properties", {}).get(field, {}), name
    # The scalar unions, as upstream renders them: strings in v2, oneOf in v3.
    definitions = v2()["definitions"]
    assert definitions[INT_OR_STRING]["type"] == "string"
    assert definitions[INT_OR_STRING]["format"] == "int-or-string"
    assert definitions[QUANTITY]["type"] == "string"
    core = v3("api/v1")["components"]["schemas"]
    assert core[INT_OR_STRING]["oneOf"] == [{"type": "integer"}, {"type": "string"}]
    assert core[INT_OR_STRING]["format"] == "int-or-string"
    assert core[QUANTITY]["oneOf"] == [{"type": "string"}, {"type": "number"}]
    assert "type" not in core[QUANTITY]
    # A reference with siblings is wrapped in allOf in v3, kept bare in v2 (as upstream).
    assert core["io.k8s.api.core.v1.Pod"]["properties"]["spec"]["allOf"] == [
        {"$ref": "#/components/schemas/io.k8s.api.core.v1.PodSpec"}
    ]
    pod = v2()["definitions"]["io.k8s.api.core.v1.Pod"]
    assert pod["properties"]["spec"]["$ref"] == "#/definitions/io.k8s.api.core.v1.PodSpec"


def test_strategic_merge_metadata_is_kept() -> None:
    spec = v3("apis/apps/v1")["components"]["schemas"]["io.k8s.api.core.v1.PodSpec"]
    containers = spec["properties"]["containers"]
    assert containers["x-kubernetes-patch-strategy"] == "merge"
    assert containers["x-kubernetes-patch-merge-key"] == "name"
    assert containers["x-kubernetes-list-type"] == "map"
    assert containers["x-kubernetes-list-map-keys"] == ["name"]


# Kinds without a PATCH operation of their own: lists, discovery documents, create-only kinds,
# and Scale (patched through the scale subresource of another group's resources).
NOT_PATCHED = {"Status", "APIGroup", "APIGroupList", "APIResourceList", "APIVersions"}
NOT_PATCHED |= {"Binding", "Eviction", "Scale"}


@pytest.mark.parametrize(
    ("api_version", "kind"),
    sorted(k for k in KINDS if not k[1].endswith("List") and k[1] not in NOT_PATCHED),
)
def test_patch_operation_is_what_kubectl_looks_for(api_version: str, kind: str) -> None:
    """kubectl's QueryParamVerifierV3 and apply patcher read the kind's PATCH operation."""
    group, version = split(api_version)
    want = {"group": group, "version": version, "kind": kind}
    ops = [
        item["patch"]
        for item in v3(gv_path(api_version))["paths"].values()
        if item.get("patch", {}).get("x-kubernetes-group-version-kind") == want
    ]
    assert ops, f"no PATCH operation for {api_version} {kind}"
    for op in ops:
        query = {p["name"] for p in op["parameters"] if p["in"] == "query"}
        assert {"fieldValidation", "dryRun", "fieldManager", "force"} <= query
        assert "application/strategic-merge-patch+json" in op["requestBody"]["content"]
        assert op["x-kubernetes-action"] == "patch"
    v2_ops = [
        item["patch"]
        for item in v2()["paths"].values()
        if item.get("patch", {}).get("x-kubernetes-group-version-kind") == want
    ]
    assert v2_ops
    assert all("application/strategic-merge-patch+json" in op["consumes"] for op in v2_ops)


# --- the v3 index ------------------------------------------------------------------------------


def test_v3_index_lists_every_group_version_with_its_hash() -> None:
    index = _openapi.openapi_v3_index()
    assert sorted(index["paths"]) == GROUP_VERSION_PATHS
    for path, entry in index["paths"].items():
        data = _openapi.openapi_v3(path)
        assert data is not None
        digest = hashlib.sha512(data).hexdigest().upper()
        assert _openapi.openapi_v3_hash(path) == digest
        assert entry == {"serverRelativeURL": f"/openapi/v3/{path}?hash={digest}"}
    prefixed = _openapi.openapi_v3_index("/proxy/")["paths"]["api/v1"]["serverRelativeURL"]
    assert prefixed.startswith("/proxy/openapi/v3/api/v1?hash=")
    assert _openapi.openapi_v3_hash("apis/example.com/v1") is None


def test_v2_hash() -> None:
    assert _openapi.openapi_v2_hash() == hashlib.sha512(_openapi.openapi_v2()).hexdigest().upper()


# --- the v2 protobuf encoding ------------------------------------------------------------------


def fields(data: bytes) -> Iterator[tuple[int, int | bytes]]:
    """Decode one protobuf message's (field, value) pairs (varint and length-delimited only)."""
    i = 0

    def varint() -> int:
        nonlocal i
        shift = value = 0
        while True:
            byte = data[i]
            i += 1
            value |= (byte & 0x7F) << shift
            shift += 7
            if not byte & 0x80:
                return value

    while i < len(data):
        key = varint()
        field, wire = key >> 3, key & 7
        if wire == 0:
            yield field, varint()
        elif wire == 2:
            size = varint()
            yield field, data[i : i + size]
            i += size
        else:
            raise AssertionError(f"unexpected wire type {wire}")


def message(data: int | bytes) -> dict[int, list[int | bytes]]:
    assert isinstance(data, bytes)
    out: dict[int, list[int | bytes]] = {}
    for field, value in fields(data):
        out.setdefault(field, []).append(value)
    return out


def test_v2_protobuf_encodes_the_json_document() -> None:
    doc = v2()
    top = message(_openapi.openapi_v2_protobuf())
    assert top[1] == [b"2.0"]  # Document.swagger
    definitions = message(top[9][0])[1]  # Definitions.additional_properties: NamedSchema
    named = {message(d)[1][0]: message(message(d)[2][0]) for d in definitions}
    assert sorted(n.decode() for n in named if isinstance(n, bytes)) == sorted(doc["definitions"])
    pod = named[b"io.k8s.api.core.v1.Pod"]
    assert pod[4] == [doc["definitions"]["io.k8s.api.core.v1.Pod"]["description"].encode()]
    assert message(pod[22][0])[1] == [b"object"]  # Schema.type: TypeItem.value
    extension = message(pod[31][0])  # Schema.vendor_extension: NamedAny
    assert extension[1] == [b"x-kubernetes-group-version-kind"]
    yaml = message(extension[2][0])[2][0]  # Any.yaml: JSON, which is valid YAML
    assert isinstance(yaml, bytes)
    assert json.loads(yaml) == [{"group": "", "kind": "Pod", "version": "v1"}]
    paths = message(top[8][0])[2]  # Paths.path: NamedPathItem
    assert len(paths) == len(doc["paths"])


# --- generation --------------------------------------------------------------------------------


def test_generated_documents_are_current() -> None:
    result = subprocess.run(
        [sys.executable, str(ROOT / "tools" / "gen_openapi.py"), "--check"],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stderr


# --- kubectl -----------------------------------------------------------------------------------


class _Stub(BaseHTTPRequestHandler):
    """Just enough of an API server for kubectl to read discovery and the OpenAPI documents."""

    protocol_version = "HTTP/1.1"
    requests: ClassVar[list[str]] = []

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def reply(
        self, code: int, body: bytes | dict[str, Any], ctype: str = "application/json"
    ) -> None:
        data = body if isinstance(body, bytes) else json.dumps(body).encode()
        self.send_response(code)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self) -> None:
        path = self.path.split("?", 1)[0]
        self.requests.append(path)
        resources = {
            "/api/v1": ("v1", [("configmaps", "ConfigMap")]),
            "/apis/apps/v1": ("apps/v1", [("deployments", "Deployment")]),
        }
        if path == "/api":
            self.reply(200, {"kind": "APIVersions", "versions": ["v1"]})
        elif path == "/apis":
            apps = {"groupVersion": "apps/v1", "version": "v1"}
            group = {"name": "apps", "versions": [apps], "preferredVersion": apps}
            self.reply(200, {"kind": "APIGroupList", "apiVersion": "v1", "groups": [group]})
        elif path in resources:
            gv, plurals = resources[path]
            verbs = ["create", "get", "list", "patch"]
            listed = [
                {"name": p, "singularName": "", "namespaced": True, "kind": k, "verbs": verbs}
                for p, k in plurals
            ]
            self.reply(200, {"kind": "APIResourceList", "groupVersion": gv, "resources": listed})
        elif path == "/openapi/v2" and "protobuf" in self.headers.get("Accept", ""):
            ctype = "application/com.github.proto-openapi.spec.v2.v1.0+protobuf"
            self.reply(200, _openapi.openapi_v2_protobuf(), ctype)
        elif path == "/openapi/v3":
            self.reply(200, _openapi.openapi_v3_index())
        elif path.startswith("/openapi/v3/") and (data := _openapi.openapi_v3(path[12:])):
            self.reply(200, data)
        else:
            status = {"kind": "Status", "apiVersion": "v1", "status": "Failure", "code": 404}
            self.reply(404, status | {"reason": "NotFound", "message": "not found"})


@pytest.fixture
def kubectl(tmp_path: Path) -> Iterator[list[str]]:
    exe = shutil.which("kubectl")
    require(exe is not None, "kubectl not found")
    assert exe is not None
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Stub)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    config = tmp_path / "kubeconfig"
    cluster = {"name": "stub", "cluster": {"server": f"http://127.0.0.1:{server.server_port}"}}
    context = {"name": "stub", "context": {"cluster": "stub", "user": "u", "namespace": "ns"}}
    config.write_text(
        json.dumps(
            {
                "apiVersion": "v1",
                "kind": "Config",
                "clusters": [cluster],
                "contexts": [context],
                "current-context": "stub",
                "users": [{"name": "u", "user": {}}],
            }
        )
    )
    _Stub.requests = []
    try:
        yield [exe, f"--kubeconfig={config}", f"--cache-dir={tmp_path / 'cache'}"]
    finally:
        server.shutdown()
        server.server_close()


def run(cmd: list[str], stdin: str = "") -> subprocess.CompletedProcess[str]:
    return subprocess.run(cmd, input=stdin, capture_output=True, text=True, timeout=60, check=False)


@pytest.mark.e2e
def test_kubectl_explain_reads_v3(kubectl: list[str]) -> None:
    result = run([*kubectl, "explain", "deployment.spec.template.spec.containers.ports"])
    assert result.returncode == 0, result.stderr
    assert "FIELD: ports <[]ContainerPort>" in result.stdout
    assert "containerPort\t<integer> -required-" in result.stdout
    assert "/openapi/v3/apis/apps/v1" in _Stub.requests
    # Type names as upstream's documents make kubectl print them.
    result = run([*kubectl, "explain", "deployment.spec.template.spec.containers.resources"])
    assert "limits\t<map[string]Quantity>" in result.stdout
    result = run([*kubectl, "explain", "deployment.spec.strategy.rollingUpdate"])
    assert "maxSurge\t<IntOrString>" in result.stdout


@pytest.mark.e2e
def test_kubectl_validates_a_list_with_v2_protobuf(kubectl: list[str]) -> None:
    manifest = {
        "apiVersion": "v1",
        "kind": "List",
        "items": [
            {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c", "bogus": 1}},
        ],
    }
    result = run([*kubectl, "apply", "--dry-run=client", "-f", "-"], json.dumps(manifest))
    assert result.returncode != 0
    assert 'unknown field "bogus" in io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta' in (
        result.stderr
    )
    assert "/openapi/v2" in _Stub.requests
