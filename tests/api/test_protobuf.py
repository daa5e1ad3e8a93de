"""The protobuf wire form: real kubectl bodies decode to the JSON kubectl sends, for every kind.

Fixtures (``protobuf_fixtures/<name>.bin``) are request bodies kubectl v1.33.1 sent, captured by a
recording proxy in front of a kframe API server; ``<name>.json`` next to each is the body
kubectl v1.31 (which still sends JSON) sent for the same command, the oracle. The exception is
``horizontalpodautoscaler``: 1.31's ``kubectl autoscale`` sends autoscaling/v1, 1.33's sends
autoscaling/v2, so its JSON was written from the decoded body and checked by hand against the
Go types (``desiredReplicas`` has no omitempty, ``minReplicas`` is a pointer).

Not every write of kubectl 1.33 is protobuf: ``scale`` (the scale client), ``drain`` (evictions),
``delete``, ``run``, ``expose``, ``apply`` and ``create -f`` send JSON.
"""

from __future__ import annotations

import base64
import contextlib
import json
import typing
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import attrs
import pytest
from hypothesis import given
from hypothesis import strategies as st

from kframe.api import DecodeError, from_dict, models, to_dict
from kframe.api._protobuf import MAGIC, decode_protobuf, encode_protobuf
from kframe.api._types import IntOrString, MicroTime, Quantity, Time
from kframe.testing import objects

FIXTURES = Path(__file__).parent / "protobuf_fixtures"

# The command behind each fixture (run with --dry-run=server).
COMMANDS = {
    "configmap": "create configmap cm1 --from-literal=a=b --from-literal=empty= "
    "--from-file=bin=<7 non-UTF-8 bytes> --from-file=text.txt=<two lines>",
    "secret": "create secret generic s1 --from-literal=user=admin "
    "--from-literal=pw='p@ss w0rd' --from-literal=empty= --type=Opaque",
    "secret-docker-registry": "create secret docker-registry reg --docker-server=r.example "
    "--docker-username=u --docker-password=p",
    "deployment": "create deployment web --image=nginx:1.27 --replicas=3 --port=8080",
    "deployment-replicas-0": "create deployment zero --image=busybox --replicas=0 -- sleep 3600",
    "service-clusterip": "create service clusterip svc1 --tcp=80:8080 --tcp=443:https",
    "service-nodeport": "create service nodeport svc2 --tcp=5678:8080 --node-port=30080",
    "namespace": "create namespace ns1",
    "job": "create job job1 --image=busybox -- echo hi",
    "job-from-cronjob": "create job manual-1 --from=cronjob/rich (a CronJob whose pod template "
    "has volumes, probes, env, envFrom, ports, resources, security contexts, tolerations)",
    "cronjob": "create cronjob cj1 --image=busybox --schedule='*/5 * * * *' -- date",
    "serviceaccount": "create serviceaccount sa1",
    "role": "create role r1 --verb=get,list --resource=pods,deployments.apps --resource-name=a",
    "rolebinding": "create rolebinding rb1 --role=r1 --user=alice --serviceaccount=default:sa1",
    "clusterrole": "create clusterrole cr1 --verb=get --non-resource-url=/healthz",
    "poddisruptionbudget": "create poddisruptionbudget pdb1 --selector=app=web --min-available=50%",
    "resourcequota": "create quota q1 --hard=cpu=1,memory=1Gi,pods=10",
    "priorityclass": "create priorityclass pc1 --value=1000 --description=hi",
    "horizontalpodautoscaler": "autoscale deployment web --min=2 --max=5 --cpu-percent=80",
}

KINDS = sorted(models.KINDS.values(), key=lambda c: c.__qualname__)


def _without_nulls(value: Any) -> Any:
    # JSON's null (creationTimestamp: null) is an unset field, as from_dict reads it.
    if isinstance(value, dict):
        return {k: _without_nulls(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [_without_nulls(v) for v in value]
    return value


def test_every_fixture_has_a_command() -> None:
    assert sorted(p.stem for p in FIXTURES.glob("*.bin")) == sorted(COMMANDS)
    assert sorted(p.stem for p in FIXTURES.glob("*.json")) == sorted(COMMANDS)


@pytest.mark.parametrize("name", sorted(COMMANDS))
def test_kubectl_body_decodes_to_what_kubectl_sends_as_json(name: str) -> None:
    body = (FIXTURES / f"{name}.bin").read_bytes()
    expected = _without_nulls(json.loads((FIXTURES / f"{name}.json").read_text()))
    decoded = decode_protobuf(body)
    assert decoded == expected
    assert list(decoded)[:2] == ["apiVersion", "kind"]
    assert from_dict(decoded, strict=True) == from_dict(expected)
    # Our encoding of it reads back the same (Go's also carries the zero values we drop).
    cls = type(from_dict(decoded))
    assert decode_protobuf(encode_protobuf(decoded, cls)) == decoded


def test_kubectl_details() -> None:
    def body(name: str) -> dict[str, Any]:
        return decode_protobuf((FIXTURES / f"{name}.bin").read_bytes())

    assert body("configmap")["binaryData"] == {
        "bin": base64.b64encode(b"\0\1\xff\xfebinary\n").decode()
    }
    assert body("configmap")["data"]["empty"] == ""  # map values are kept, empty or not
    assert body("secret")["data"]["user"] == base64.b64encode(b"admin").decode()
    ports = body("service-clusterip")["spec"]["ports"]
    assert [p["targetPort"] for p in ports] == [8080, "https"]
    assert body("deployment-replicas-0")["spec"]["replicas"] == 0  # *int32: zero is a value
    assert body("deployment")["status"] == {}  # a struct: Go's JSON writes {}
    assert "creationTimestamp" not in body("deployment")["metadata"]  # zero Time: null
    assert body("poddisruptionbudget")["spec"]["minAvailable"] == "50%"
    assert body("resourcequota")["spec"]["hard"] == {"cpu": "1", "memory": "1Gi", "pods": "10"}
    container = body("job-from-cronjob")["spec"]["template"]["spec"]["containers"][0]
    assert container["resources"]["limits"]["cpu"] == "1500m"  # canonical
    assert container["livenessProbe"]["httpGet"]["port"] == "http"  # inlined ProbeHandler
    assert {"name": "EMPTY"} in container["env"]  # "" value dropped: omitempty
    assert {"containerPort": 9090} in container["ports"]  # hostPort 0 dropped


# ------------------------------------------------------------------------ Hypothesis round trip


def _strip_optional(tp: Any) -> Any:
    args = [a for a in typing.get_args(tp) if a is not type(None)]
    if type(None) in typing.get_args(tp):
        return args[0] if len(args) == 1 else typing.Union[tuple(args)]  # noqa: UP007
    return tp


def _as_wire(value: Any, tp: Any, *, is_bytes: bool = False) -> Any:
    """Make Hypothesis' data fit the wire: bytes fields hold base64, as their JSON does."""
    tp = _strip_optional(tp)
    origin = typing.get_origin(tp)
    if isinstance(tp, type) and attrs.has(tp):
        hints = typing.get_type_hints(tp)
        fields = {a.metadata["json"]: a for a in attrs.fields(tp)}
        return {
            k: _as_wire(
                v, hints[fields[k].name], is_bytes=bool(fields[k].metadata.get("proto_bytes"))
            )
            if k in fields
            else v
            for k, v in value.items()
        }
    if origin is tuple:
        return [_as_wire(v, typing.get_args(tp)[0]) for v in value]
    if origin in (Mapping, dict) and tp != Mapping[str, Any]:
        return {k: _as_wire(v, typing.get_args(tp)[1], is_bytes=is_bytes) for k, v in value.items()}
    if is_bytes:
        return base64.b64encode(value.encode()).decode()
    return value


def _json_like(value: Any, tp: Any) -> Any:
    """What Go's JSON holds for ``value``: zero scalars of omitempty fields gone, and so on."""
    tp = _strip_optional(tp)
    origin = typing.get_origin(tp)
    if isinstance(tp, type) and attrs.has(tp):
        hints = typing.get_type_hints(tp)
        out = {}
        for a in attrs.fields(tp):
            key = a.metadata["json"]
            if key not in value or "proto" not in a.metadata:
                continue  # apiVersion/kind of an embedded kind: not on the wire, as in Go JSON
            item = _json_like(value[key], hints[a.name])
            field_tp = _strip_optional(hints[a.name])
            scalar = (
                field_tp in (str, int, float, bool) or typing.get_origin(field_tp) is typing.Literal
            )
            keep_zero = a.metadata.get("proto_pointer") or a.metadata.get("required")
            collection = typing.get_origin(field_tp) in (tuple, Mapping)
            if item in ([], {}) and collection and field_tp != Mapping[str, Any]:
                continue  # empty lists and maps: nothing on the wire, omitempty in JSON
            if scalar and not keep_zero and not item:
                continue
            out[key] = item
        return out
    if origin is tuple:
        return [_json_like(v, typing.get_args(tp)[0]) for v in value]
    if origin in (Mapping, dict) and tp != Mapping[str, Any]:
        return {k: _json_like(v, typing.get_args(tp)[1]) for k, v in value.items()}
    if tp is Quantity:
        return str(Quantity.parse(value))
    assert tp in (str, int, float, bool, Time, MicroTime, IntOrString, Mapping[str, Any]) or (
        typing.get_origin(tp) is typing.Literal
    )
    return value


@pytest.mark.parametrize("cls", KINDS, ids=lambda c: f"{c.API_VERSION}/{c.KIND}")
@given(data=st.data())
def test_encode_decode_roundtrip(cls: type, data: st.DataObject) -> None:
    obj = _as_wire(to_dict(data.draw(objects(cls))), cls)
    decoded = decode_protobuf(encode_protobuf(obj, cls))
    expected = {"apiVersion": obj["apiVersion"], "kind": obj["kind"], **_json_like(obj, cls)}
    assert decoded == expected
    # And it is an object of the kind again.
    assert isinstance(from_dict(decoded), cls)


def test_scale_roundtrip() -> None:
    # kubectl 1.33 sends Scale as JSON; a protobuf client still may.
    scale = {
        "apiVersion": "autoscaling/v1",
        "kind": "Scale",
        "metadata": {"name": "web", "namespace": "default", "resourceVersion": "7"},
        "spec": {"replicas": 0},
        "status": {"replicas": 3, "selector": "app=web"},
    }
    decoded = decode_protobuf(encode_protobuf(scale, models.Scale))
    # ScaleSpec.replicas is a plain int32 with omitempty: JSON has no zero either.
    assert decoded == {**scale, "spec": {}}
    assert from_dict(decoded, models.Scale).spec == models.ScaleSpec()


def test_times() -> None:
    event = {
        "apiVersion": "v1",
        "kind": "Event",
        "metadata": {"name": "e", "creationTimestamp": "2024-05-01T10:00:00Z"},
        "involvedObject": {},
        "eventTime": "2024-05-01T10:00:00.123456Z",
        "firstTimestamp": "1970-01-01T00:00:00Z",
    }
    assert decode_protobuf(encode_protobuf(event, models.Event)) == event


# ------------------------------------------------------------------------------------- errors


def _varint(n: int) -> bytes:
    out = bytearray()
    while n >= 0x80:
        out.append(n & 0x7F | 0x80)
        n >>= 7
    out.append(n)
    return bytes(out)


def _envelope(api_version: str, kind: str, raw: bytes, content_type: str = "") -> bytes:
    def ld(number: int, payload: bytes) -> bytes:
        return bytes([number << 3 | 2]) + _varint(len(payload)) + payload

    type_meta = ld(1, api_version.encode()) + ld(2, kind.encode())
    return MAGIC + ld(1, type_meta) + ld(2, raw) + ld(4, content_type.encode())


@pytest.mark.parametrize(
    ("body", "path", "reason"),
    [
        (b'{"kind": "Pod"}', "", "missing the k8s\\x00 prefix"),
        (_envelope("v1", "Nope", b""), "", "no protobuf model for v1 Nope"),
        (_envelope("", "", b""), "", "names no apiVersion and kind"),
        (_envelope("v1", "Pod", b"", "application/json"), "", "unsupported contentType"),
        (MAGIC + b"\x0a\x05\x0a", "", "length past the end"),
        (MAGIC + b"\x08\xff", "", "truncated varint"),
        (_envelope("v1", "Pod", b"\x0b"), "", "unsupported wire type 3"),
        # metadata (1) as a varint
        (_envelope("v1", "Pod", b"\x08\x01"), "metadata", "wire type 0"),
        # metadata.name (1) as a varint
        (_envelope("v1", "Pod", b"\x0a\x02\x08\x01"), "metadata.name", "wire type 0"),
        # spec.containers[0].name (1) as a varint
        (
            _envelope("v1", "Pod", b"\x12\x04\x12\x02\x08\x01"),
            "spec.containers[0].name",
            "wire",
        ),
        # metadata.labels[a] = 5: a varint where a string belongs
        (
            _envelope("v1", "Pod", b"\x0a\x07\x5a\x05\x0a\x01a\x10\x05"),
            "metadata.labels[a]",
            "wire type 0",
        ),
        # ResourceQuota spec.hard[cpu] = Quantity "x"
        (
            _envelope("v1", "ResourceQuota", b"\x12\x0c\x0a\x0a\x0a\x03cpu\x12\x03\x0a\x01x"),
            "spec.hard[cpu]",
            "quantities must match",
        ),
    ],
    ids=lambda v: repr(v)[:40] if isinstance(v, bytes) else None,
)
def test_malformed_bodies(body: bytes, path: str, reason: str) -> None:
    with pytest.raises(DecodeError) as info:
        decode_protobuf(body)
    assert info.value.path == path
    assert reason in info.value.reason


def _decodes_or_refuses(body: bytes) -> None:
    # Either outcome is fine; any other exception fails the test.
    with contextlib.suppress(DecodeError):
        decode_protobuf(body)


@given(st.binary(max_size=200))
def test_random_bytes_after_the_magic(data: bytes) -> None:
    _decodes_or_refuses(MAGIC + data)


@pytest.mark.parametrize("cls", KINDS, ids=lambda c: f"{c.API_VERSION}/{c.KIND}")
@given(raw=st.binary(max_size=120))
def test_random_object_bytes(cls: type, raw: bytes) -> None:
    _decodes_or_refuses(_envelope(cls.API_VERSION, cls.KIND, raw))  # type: ignore[attr-defined]


@given(data=st.data())
def test_damaged_real_bodies(data: st.DataObject) -> None:
    name = data.draw(st.sampled_from(sorted(COMMANDS)))
    body = bytearray((FIXTURES / f"{name}.bin").read_bytes())
    for _ in range(data.draw(st.integers(1, 4))):
        at = data.draw(st.integers(len(MAGIC), len(body) - 1))
        action = data.draw(st.sampled_from(["flip", "cut", "insert", "truncate"]))
        if action == "flip":
            body[at] ^= 1 << data.draw(st.integers(0, 7))
        elif action == "cut":
            del body[at]
        elif action == "insert":
            body.insert(at, data.draw(st.integers(0, 255)))
        else:
            del body[at:]
        if len(body) <= len(MAGIC) + 1:
            break
    _decodes_or_refuses(bytes(body))


def _wire_messages() -> st.SearchStrategy[bytes]:
    """Well-formed protobuf of random shape, so decoding gets past the wire into every type."""
    varints = st.one_of(
        st.integers(0, 3), st.integers(0, 2**64 - 1), st.sampled_from([2**31, 2**63, 2**64 - 1])
    )
    leaves = st.one_of(
        st.tuples(st.integers(1, 20), st.just(0), varints),
        st.tuples(st.integers(1, 20), st.just(2), st.binary(max_size=12)),
        st.tuples(st.integers(1, 20), st.sampled_from([1, 5]), st.binary(min_size=8, max_size=8)),
    )

    def encode(fields: list[tuple[int, int, Any]]) -> bytes:
        out = bytearray()
        for number, wire, value in fields:
            out += _varint(number << 3 | wire)
            if wire == 0:
                out += _varint(value)
            elif wire == 2:
                out += _varint(len(value)) + value
            else:
                out += value[: 8 if wire == 1 else 4]
        return bytes(out)

    return st.recursive(
        st.lists(leaves, max_size=4).map(encode),
        lambda inner: st.lists(
            st.one_of(leaves, st.tuples(st.integers(1, 20), st.just(2), inner)), max_size=4
        ).map(encode),
        max_leaves=12,
    )


@pytest.mark.parametrize("cls", KINDS, ids=lambda c: f"{c.API_VERSION}/{c.KIND}")
@given(raw=_wire_messages())
def test_random_wellformed_messages(cls: type, raw: bytes) -> None:
    _decodes_or_refuses(_envelope(cls.API_VERSION, cls.KIND, raw))  # type: ignore[attr-defined]
