"""The verbs over HTTP with Kubernetes' status codes, messages and metadata semantics."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:  # the fixtures' types; pytest imports conftest itself
    from tests.apiserver.conftest import Api, Scenario

CM = "/api/v1/namespaces/default/configmaps"


def configmap(name: str, **data: str) -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name}, "data": data}


def test_create_get_update_delete(run_api: Callable[[Scenario], None]) -> None:
    async def scenario(api: Api) -> None:
        code, created = await api.call("POST", CM, configmap("a", k="v"))
        assert code == 201
        meta = created["metadata"]
        assert meta["namespace"] == "default" and meta["uid"] and meta["creationTimestamp"]
        assert int(meta["resourceVersion"]) > 0
        code, got = await api.call("GET", f"{CM}/a")
        assert code == 200 and got == created
        got["data"] = {"k": "v2"}
        code, updated = await api.call("PUT", f"{CM}/a", got)
        assert code == 200 and updated["data"] == {"k": "v2"}
        assert int(updated["metadata"]["resourceVersion"]) > int(meta["resourceVersion"])
        assert updated["metadata"]["uid"] == meta["uid"]
        code, deleted = await api.call("DELETE", f"{CM}/a")
        assert code == 200 and deleted["metadata"]["name"] == "a"
        code, status = await api.call("GET", f"{CM}/a")
        assert code == 404
        assert status["kind"] == "Status" and status["reason"] == "NotFound"
        assert status["message"] == 'configmaps "a" not found'
        assert status["details"] == {"name": "a", "kind": "configmaps"}

    run_api(scenario)


def test_errors_users_see(run_api: Callable[[Scenario], None]) -> None:
    async def scenario(api: Api) -> None:
        await api.call("POST", CM, configmap("a"))
        code, status = await api.call("POST", CM, configmap("a"))
        assert (code, status["reason"], status["message"]) == (
            409,
            "AlreadyExists",
            'configmaps "a" already exists',
        )
        code, status = await api.call(
            "POST", "/api/v1/namespaces/missing/configmaps", configmap("b")
        )
        assert (code, status["message"]) == (404, 'namespaces "missing" not found')
        code, status = await api.call("POST", CM, configmap("Bad_Name"))
        assert code == 422 and status["reason"] == "Invalid"
        assert status["message"].startswith(
            'ConfigMap "Bad_Name" is invalid: metadata.name: '
            'Invalid value: "Bad_Name": a lowercase RFC 1123'
        )
        assert status["details"]["causes"][0]["field"] == "metadata.name"
        code, status = await api.call(
            "POST",
            CM,
            {"kind": "ConfigMap", "apiVersion": "v1", "metadata": {"name": "c"}, "data": 5},
        )
        assert code == 400 and status["reason"] == "BadRequest"
        assert "data: expected object, got int" in status["message"]
        code, status = await api.call(
            "POST", CM, {**configmap("d"), "bogus": 1}, params={"fieldValidation": "Strict"}
        )
        assert (code, status["message"]) == (400, 'strict decoding error: unknown field "bogus"')
        code, status = await api.call("POST", CM, "{not json")
        assert code == 400
        code, status = await api.call("POST", CM, b"\x00", content_type="application/cbor")
        assert code == 415 and status["reason"] == "UnsupportedMediaType"
        code, status = await api.call("GET", "/api/v1/namespaces/default/widgets")
        assert code == 404
        code, listed = await api.call("GET", CM)
        assert [i["metadata"]["name"] for i in listed["items"]] == ["a"]  # nothing else stored

    run_api(scenario)


def test_stale_update_conflicts(run_api: Callable[[Scenario], None]) -> None:
    async def scenario(api: Api) -> None:
        _, first = await api.call("POST", CM, configmap("a"))
        await api.call("PUT", f"{CM}/a", {**first, "data": {"x": "1"}})
        code, status = await api.call("PUT", f"{CM}/a", {**first, "data": {"x": "2"}})
        assert code == 409 and status["reason"] == "Conflict"
        assert status["message"] == (
            'Operation cannot be fulfilled on configmaps "a": the object has been modified; '
            "please apply your changes to the latest version and try again"
        )

    run_api(scenario)


def test_generate_name_and_generation(run_api: Callable[[Scenario], None]) -> None:
    async def scenario(api: Api) -> None:
        deploy = {
            "apiVersion": "apps/v1",
            "kind": "Deployment",
            "metadata": {"generateName": "web-"},
            "spec": {
                "replicas": 1,
                "selector": {"matchLabels": {"a": "b"}},
                "template": {
                    "metadata": {"labels": {"a": "b"}},
                    "spec": {"containers": [{"name": "c", "image": "i"}]},
                },
            },
        }
        path = "/apis/apps/v1/namespaces/default/deployments"
        code, created = await api.call("POST", path, deploy)
        assert code == 201
        name = created["metadata"]["name"]
        assert name.startswith("web-") and len(name) == len("web-") + 5
        assert created["metadata"]["generation"] == 1
        code, patched = await api.call(
            "PATCH",
            f"{path}/{name}",
            {"metadata": {"labels": {"x": "y"}}},
            content_type="application/merge-patch+json",
        )
        assert patched["metadata"]["generation"] == 1  # metadata only: no new generation
        code, patched = await api.call(
            "PATCH",
            f"{path}/{name}",
            {"spec": {"replicas": 3}},
            content_type="application/merge-patch+json",
        )
        assert patched["metadata"]["generation"] == 2

    run_api(scenario)


def test_status_subresource_is_separate(run_api: Callable[[Scenario], None]) -> None:
    async def scenario(api: Api) -> None:
        path = "/apis/apps/v1/namespaces/default/replicasets"
        rs = {
            "apiVersion": "apps/v1",
            "kind": "ReplicaSet",
            "metadata": {"name": "r"},
            "spec": {
                "replicas": 1,
                "selector": {"matchLabels": {"a": "b"}},
                "template": {
                    "metadata": {"labels": {"a": "b"}},
                    "spec": {"containers": [{"name": "c", "image": "i"}]},
                },
            },
            "status": {"replicas": 9},
        }
        _, created = await api.call("POST", path, rs)
        assert "status" not in created  # status is not settable on create
        code, with_status = await api.call(
            "PUT",
            f"{path}/r/status",
            {**created, "spec": {"replicas": 5}, "status": {"replicas": 1}},
        )
        assert code == 200
        assert with_status["status"] == {"replicas": 1} and with_status["spec"]["replicas"] == 1
        _, main = await api.call("PUT", f"{path}/r", {**with_status, "status": {"replicas": 7}})
        assert main["status"] == {"replicas": 1}  # the main resource cannot change status

    run_api(scenario)


def test_a_node_keeps_the_status_it_is_created_with(run_api: Callable[[Scenario], None]) -> None:
    # Upstream's node strategy lets a kubelet register with its capacity in one write.
    async def scenario(api: Api) -> None:
        node = {
            "apiVersion": "v1",
            "kind": "Node",
            "metadata": {"name": "n1"},
            "status": {"capacity": {"cpu": "4"}, "allocatable": {"cpu": "4"}},
        }
        code, created = await api.call("POST", "/api/v1/nodes", node)
        assert code == 201
        assert created["status"]["allocatable"] == {"cpu": "4"}
        _, main = await api.call(
            "PUT", "/api/v1/nodes/n1", {**created, "status": {"allocatable": {"cpu": "1"}}}
        )
        assert main["status"]["allocatable"] == {"cpu": "4"}  # updates still need /status

    run_api(scenario)


def test_finalizers_delay_deletion(run_api: Callable[[Scenario], None]) -> None:
    async def scenario(api: Api) -> None:
        cm = configmap("f")
        cm["metadata"]["finalizers"] = ["example.com/hold"]
        await api.call("POST", CM, cm)
        code, marked = await api.call("DELETE", f"{CM}/f")
        assert code == 200 and marked["metadata"]["deletionTimestamp"]
        code, still = await api.call("GET", f"{CM}/f")
        assert code == 200
        released = {**still, "metadata": {**still["metadata"], "finalizers": []}}
        code, _ = await api.call("PUT", f"{CM}/f", released)
        assert code == 200
        code, _ = await api.call("GET", f"{CM}/f")
        assert code == 404

    run_api(scenario)


def test_new_pods_are_pending_with_their_qos_class(run_api: Callable[[Scenario], None]) -> None:
    def pod(name: str, resources: dict[str, Any]) -> dict[str, Any]:
        return {
            "apiVersion": "v1",
            "kind": "Pod",
            "metadata": {"name": name},
            "spec": {"containers": [{"name": "c", "image": "i", "resources": resources}]},
        }

    async def scenario(api: Api) -> None:
        path = "/api/v1/namespaces/default/pods"
        cases = {
            "best": ({}, "BestEffort"),
            "burst": ({"requests": {"cpu": "100m"}}, "Burstable"),
            "guaranteed": ({"limits": {"cpu": "1", "memory": "1Gi"}}, "Guaranteed"),
            "unequal": (
                {"limits": {"cpu": "1", "memory": "1Gi"}, "requests": {"cpu": "500m"}},
                "Burstable",
            ),
        }
        for name, (resources, qos) in cases.items():
            code, created = await api.call("POST", path, pod(name, resources))
            assert code == 201
            assert created["status"] == {"phase": "Pending", "qosClass": qos}, name

    run_api(scenario)


def test_pods_on_a_node_are_deleted_gracefully(run_api: Callable[[Scenario], None]) -> None:
    async def scenario(api: Api) -> None:
        path = "/api/v1/namespaces/default/pods"
        pod = {
            "apiVersion": "v1",
            "kind": "Pod",
            "metadata": {"name": "p"},
            "spec": {
                "containers": [{"name": "c", "image": "i"}],
                "terminationGracePeriodSeconds": 20,
            },
        }
        await api.call("POST", path, pod)
        code, _ = await api.call("DELETE", f"{path}/p")  # not on a node: deleted at once
        assert code == 200 and (await api.call("GET", f"{path}/p"))[0] == 404
        await api.call("POST", path, pod)
        await api.call(
            "POST",
            f"{path}/p/binding",
            {
                "apiVersion": "v1",
                "kind": "Binding",
                "metadata": {"name": "p"},
                "target": {"kind": "Node", "name": "n1"},
            },
        )
        code, marked = await api.call("DELETE", f"{path}/p")
        assert code == 200
        assert marked["metadata"]["deletionGracePeriodSeconds"] == 20
        assert marked["metadata"]["deletionTimestamp"] > marked["metadata"]["creationTimestamp"]
        assert (await api.call("GET", f"{path}/p"))[0] == 200  # the kubelet's to finish
        code, shorter = await api.call("DELETE", f"{path}/p", {"gracePeriodSeconds": 5})
        assert shorter["metadata"]["deletionGracePeriodSeconds"] == 5
        code, _ = await api.call("DELETE", f"{path}/p", params={"gracePeriodSeconds": "0"})
        assert code == 200 and (await api.call("GET", f"{path}/p"))[0] == 404

    run_api(scenario)


def test_a_generated_name_that_is_taken_is_generated_again(
    run_api: Callable[[Scenario], None], monkeypatch: pytest.MonkeyPatch
) -> None:
    import kframe.apiserver._storage as storage

    names = iter(["cm-taken", "cm-taken", "cm-free"])
    monkeypatch.setattr(storage, "generate_name", lambda prefix: next(names))

    async def scenario(api: Api) -> None:
        body = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"generateName": "cm-"}}
        code, first = await api.call("POST", CM, body)
        assert code == 201 and first["metadata"]["name"] == "cm-taken"
        code, second = await api.call("POST", CM, body)  # "cm-taken" again, then "cm-free"
        assert code == 201 and second["metadata"]["name"] == "cm-free"
        # A name the client chose is never replaced: taken is 409 AlreadyExists.
        code, status = await api.call("POST", CM, {**body, "metadata": {"name": "cm-free"}})
        assert code == 409 and status["reason"] == "AlreadyExists"

    run_api(scenario)
