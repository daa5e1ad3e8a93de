"""The three patch types over HTTP, and the strategic merge rules they rely on."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from kframe.api import models
from kframe.apiserver._patch import json_patch, merge_patch, strategic_merge_patch

if TYPE_CHECKING:
    from tests.apiserver.conftest import Api, Scenario

DEPLOY = "/apis/apps/v1/namespaces/default/deployments"


def deployment() -> dict[str, Any]:
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "web"},
        "spec": {
            "selector": {"matchLabels": {"a": "b"}},
            "template": {
                "metadata": {"labels": {"a": "b"}},
                "spec": {
                    "containers": [
                        {"name": "web", "image": "nginx:1", "ports": [{"containerPort": 80}]},
                        {"name": "side", "image": "busybox"},
                    ]
                },
            },
        },
    }


def test_strategic_merge_merges_containers_by_name() -> None:
    pod_spec = deployment()["spec"]["template"]["spec"]
    patched = strategic_merge_patch(
        pod_spec,
        {
            "containers": [{"name": "web", "image": "nginx:2"}],
            "$setElementOrder/containers": [{"name": "web"}, {"name": "side"}],
        },
        models.PodSpec,
    )
    assert [(c["name"], c["image"]) for c in patched["containers"]] == [
        ("web", "nginx:2"),
        ("side", "busybox"),
    ]
    assert patched["containers"][0]["ports"] == [{"containerPort": 80}]
    removed = strategic_merge_patch(
        pod_spec, {"containers": [{"name": "side", "$patch": "delete"}]}, models.PodSpec
    )
    assert [c["name"] for c in removed["containers"]] == ["web"]


def test_strategic_merge_unions_finalizers_and_replaces_atomic_lists() -> None:
    meta = {"finalizers": ["a"], "ownerReferences": []}
    assert strategic_merge_patch(meta, {"finalizers": ["b"]}, models.ObjectMeta)["finalizers"] == [
        "a",
        "b",
    ]
    spec = {"selector": {"matchLabels": {"a": "b", "c": "d"}}}
    patched = strategic_merge_patch(
        spec, {"selector": {"matchLabels": {"c": None}}}, models.DeploymentSpec
    )
    assert patched == {"selector": {"matchLabels": {"a": "b"}}}


def test_merge_and_json_patch() -> None:
    assert merge_patch({"a": {"b": 1, "c": 2}}, {"a": {"b": None, "d": 3}}) == {
        "a": {"c": 2, "d": 3}
    }
    doc = {"spec": {"replicas": 1, "list": [1, 2]}}
    assert json_patch(
        doc,
        [
            {"op": "replace", "path": "/spec/replicas", "value": 4},
            {"op": "add", "path": "/spec/list/-", "value": 3},
            {"op": "remove", "path": "/spec/list/0"},
        ],
    ) == {"spec": {"replicas": 4, "list": [2, 3]}}
    assert doc == {"spec": {"replicas": 1, "list": [1, 2]}}  # the original is untouched


def test_patch_types_over_http(run_api: Callable[[Scenario], None]) -> None:
    async def scenario(api: Api) -> None:
        await api.call("POST", DEPLOY, deployment())
        code, obj = await api.call(
            "PATCH",
            f"{DEPLOY}/web",
            {"spec": {"template": {"spec": {"containers": [{"name": "web", "image": "n:2"}]}}}},
            content_type="application/strategic-merge-patch+json",
        )
        assert code == 200
        assert [c["name"] for c in obj["spec"]["template"]["spec"]["containers"]] == ["web", "side"]
        code, obj = await api.call(
            "PATCH",
            f"{DEPLOY}/web",
            [{"op": "add", "path": "/spec/replicas", "value": 2}],
            content_type="application/json-patch+json",
        )
        assert code == 200 and obj["spec"]["replicas"] == 2
        code, status = await api.call(
            "PATCH",
            f"{DEPLOY}/web",
            [{"op": "test", "path": "/spec/replicas", "value": 9}],
            content_type="application/json-patch+json",
        )
        assert code == 422
        code, status = await api.call(
            "PATCH", f"{DEPLOY}/web", "a: b", content_type="application/apply-patch+yaml"
        )
        assert code == 415 and status["reason"] == "UnsupportedMediaType"
        code, _ = await api.call(
            "PATCH", f"{DEPLOY}/nope", {}, content_type="application/merge-patch+json"
        )
        assert code == 404

    run_api(scenario)
