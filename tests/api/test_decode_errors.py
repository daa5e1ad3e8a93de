"""Bad input gives a DecodeError that names the JSON path of the bad field, never a crash."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kframe.api import DecodeError, Unstructured, from_dict, load_yaml, models, to_dict


def pod(**spec: Any) -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"}, "spec": spec}


@pytest.mark.parametrize(
    ("data", "path", "reason"),
    [
        (
            pod(containers=[{"name": "c", "image": 5}]),
            "spec.containers[0].image",
            "expected string, got int",
        ),
        (pod(containers="x"), "spec.containers", "expected array, got string"),
        (
            pod(containers=[{"name": "c", "ports": [{"containerPort": "80"}]}]),
            "spec.containers[0].ports[0].containerPort",
            "expected integer, got string",
        ),
        (
            pod(containers=[{"name": "c", "ports": [{"containerPort": True}]}]),
            "spec.containers[0].ports[0].containerPort",
            "expected integer, got bool",
        ),
        (
            pod(restartPolicy="Sometimes"),
            "spec.restartPolicy",
            'Unsupported value: "Sometimes": supported values: "Always", "OnFailure", "Never"',
        ),
        (
            pod(containers=[{"name": "c", "resources": {"limits": {"cpu": "1.1.1"}}}]),
            "spec.containers[0].resources.limits[cpu]",
            "quantities must match",
        ),
        (
            pod(containers=[{"name": "c", "resources": {"limits": {"cpu": True}}}]),
            "spec.containers[0].resources.limits[cpu]",
            "expected quantity string, got bool",
        ),
        (pod(hostNetwork="yes"), "spec.hostNetwork", "expected boolean, got string"),
        (pod(nodeSelector=["a"]), "spec.nodeSelector", "expected object, got array"),
        (
            {"apiVersion": "v1", "kind": "Pod", "metadata": {"creationTimestamp": "yesterday"}},
            "metadata.creationTimestamp",
            "RFC 3339",
        ),
        (
            {"apiVersion": "v1", "kind": "Pod", "metadata": "p"},
            "metadata",
            "expected object, got string",
        ),
        (
            {
                "apiVersion": "apps/v1",
                "kind": "Deployment",
                "spec": {"strategy": {"rollingUpdate": {"maxSurge": 1.5}}},
            },
            "spec.strategy.rollingUpdate.maxSurge",
            "expected integer or string, got float",
        ),
        (
            {"apiVersion": "v1", "kind": "Pod", "metadata": {"labels": {"a": 1}}},
            "metadata.labels[a]",
            "expected string, got int",
        ),
        (
            pod(containers=[{"name": "c", "ports": [{"containerPort": 2**64}]}]),
            "spec.containers[0].ports[0].containerPort",
            "overflows int64",
        ),
        ({"kind": "Pod"}, "apiVersion", "Required value"),
        ({"apiVersion": "v1"}, "kind", "Required value"),
    ],
)
def test_decode_error_names_the_path(data: dict[str, Any], path: str, reason: str) -> None:
    with pytest.raises(DecodeError) as info:
        from_dict(data)
    assert info.value.path == path
    assert reason in info.value.reason
    assert str(info.value).startswith(f"{path}: ")


def test_unknown_fields_strict_warn_and_ignore() -> None:
    data = pod(containers=[{"name": "c", "imagee": "x"}], bogus=1)
    with pytest.raises(DecodeError) as info:
        from_dict(data, strict=True)
    assert [p for p, _ in info.value.errors] == ["spec.containers[0].imagee", "spec.bogus"]
    assert all(r == "unknown field" for _, r in info.value.errors)
    warnings: list[str] = []
    obj = from_dict(data, unknown=warnings)
    assert warnings == ["spec.containers[0].imagee", "spec.bogus"]
    assert isinstance(obj, models.Pod)
    assert from_dict(data) == obj


def test_unmodelled_kind_is_unstructured_and_roundtrips() -> None:
    data = {
        "apiVersion": "example.com/v1",
        "kind": "Widget",
        "metadata": {"name": "w"},
        "spec": {"size": 3},
    }
    obj = from_dict(data)
    assert isinstance(obj, Unstructured)
    assert (obj.api_version, obj.kind, obj.name, obj.namespace) == (
        "example.com/v1",
        "Widget",
        "w",
        None,
    )
    assert to_dict(obj) == data


def test_null_means_unset() -> None:
    obj = from_dict(pod(nodeName=None, containers=None))
    assert isinstance(obj, models.Pod) and obj.spec is not None
    assert obj.spec.node_name is None and obj.spec.containers == ()


def test_yaml_errors_name_the_line() -> None:
    with pytest.raises(
        DecodeError, match=r"invalid YAML: line \d+, column \d+: expected ',' or ']'"
    ):
        load_yaml("apiVersion: v1\nkind: [Pod\n")


def test_yaml_document_that_is_not_an_object() -> None:
    with pytest.raises(DecodeError, match="expected an object"):
        load_yaml("- a\n- b\n")


def test_yaml_keeps_timestamps_as_strings() -> None:
    [obj] = load_yaml(
        "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: a\n"
        "  creationTimestamp: 2024-05-01T10:00:00Z\n"
    )
    assert to_dict(obj)["metadata"]["creationTimestamp"] == "2024-05-01T10:00:00Z"


def test_multi_document_error_says_which_document() -> None:
    text = "apiVersion: v1\nkind: Namespace\n---\napiVersion: v1\nkind: Pod\nspec: 3\n"
    with pytest.raises(DecodeError, match=r"spec: expected object, got int \(document 2\)"):
        load_yaml(text)


field_names = st.sampled_from(
    [
        "metadata",
        "spec",
        "status",
        "containers",
        "name",
        "image",
        "labels",
        "replicas",
        "selector",
        "template",
        "ports",
        "resources",
        "limits",
        "cpu",
        "nodeName",
        "items",
    ]
)
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=5),
    lambda inner: (
        st.lists(inner, max_size=3)
        | st.dictionaries(field_names | st.text(max_size=5), inner, max_size=3)
    ),
    max_leaves=12,
)


@given(
    kind=st.sampled_from(sorted(models.KINDS)),
    body=st.dictionaries(field_names, json_values, max_size=4),
)
def test_arbitrary_bodies_decode_or_raise_decode_error(
    kind: tuple[str, str], body: dict[str, Any]
) -> None:
    data = {**body, "apiVersion": kind[0], "kind": kind[1]}
    try:
        obj = from_dict(data)
    except DecodeError as exc:
        assert exc.errors and all(isinstance(p, str) for p, _ in exc.errors)  # noqa: PT017
    else:
        assert from_dict(to_dict(obj)) == obj
