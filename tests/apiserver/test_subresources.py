"""scale, pods/binding and pods/eviction, as upstream's registries behave."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from tests.apiserver.conftest import Api, Scenario

PODS = "/api/v1/namespaces/default/pods"
DEPLOY = "/apis/apps/v1/namespaces/default/deployments"
PDB = "/apis/policy/v1/namespaces/default/poddisruptionbudgets"


def pod(name: str, **labels: str) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": name, "labels": labels},
        "spec": {"containers": [{"name": "c", "image": "i"}]},
    }


def test_scale(run_api: Callable[[Scenario], None]) -> None:
    async def scenario(api: Api) -> None:
        await api.call(
            "POST",
            DEPLOY,
            {
                "apiVersion": "apps/v1",
                "kind": "Deployment",
                "metadata": {"name": "web"},
                "spec": {
                    "replicas": 2,
                    "selector": {"matchLabels": {"app": "web"}},
                    "template": {
                        "metadata": {"labels": {"app": "web"}},
                        "spec": {"containers": [{"name": "c", "image": "i"}]},
                    },
                },
            },
        )
        code, scale = await api.call("GET", f"{DEPLOY}/web/scale")
        assert code == 200
        assert scale["kind"] == "Scale" and scale["apiVersion"] == "autoscaling/v1"
        assert scale["spec"] == {"replicas": 2}
        assert scale["status"] == {"replicas": 0, "selector": "app=web"}
        code, scale = await api.call(
            "PATCH",
            f"{DEPLOY}/web/scale",
            {"spec": {"replicas": 5}},
            content_type="application/merge-patch+json",
        )
        assert code == 200 and scale["spec"]["replicas"] == 5
        scale["spec"]["replicas"] = 7
        stale = scale
        code, scale = await api.call("PUT", f"{DEPLOY}/web/scale", stale)
        assert code == 200
        _, deployment = await api.call("GET", f"{DEPLOY}/web")
        assert deployment["spec"]["replicas"] == 7
        assert deployment["metadata"]["generation"] == 3
        code, _ = await api.call("PUT", f"{DEPLOY}/web/scale", stale)  # stale resourceVersion
        assert code == 409
        code, status = await api.call(
            "PATCH",
            f"{DEPLOY}/web/scale",
            {"spec": {"replicas": -1}},
            content_type="application/merge-patch+json",
        )
        assert code == 422 and status["details"]["causes"][0]["field"] == "spec.replicas"

    run_api(scenario)


def test_binding(run_api: Callable[[Scenario], None]) -> None:
    async def scenario(api: Api) -> None:
        await api.call("POST", PODS, pod("p"))
        binding = {
            "apiVersion": "v1",
            "kind": "Binding",
            "metadata": {"name": "p"},
            "target": {"kind": "Node", "name": "n1"},
        }
        code, status = await api.call("POST", f"{PODS}/p/binding", binding)
        assert code == 201 and status["status"] == "Success"
        _, bound = await api.call("GET", f"{PODS}/p")
        assert bound["spec"]["nodeName"] == "n1"
        assert [c["type"] for c in bound["status"]["conditions"]] == ["PodScheduled"]
        code, status = await api.call("POST", f"{PODS}/p/binding", binding)
        assert code == 409
        assert status["message"] == (
            'Operation cannot be fulfilled on pods "p": pod p is already assigned to node "n1"'
        )
        await api.call("POST", PODS, pod("q"))
        code, _ = await api.call(
            "POST", "/api/v1/namespaces/default/bindings", {**binding, "metadata": {"name": "q"}}
        )
        assert code == 201
        code, _ = await api.call("POST", f"{PODS}/nope/binding", binding)
        assert code == 404

    run_api(scenario)


def test_eviction_honours_the_disruption_budget(run_api: Callable[[Scenario], None]) -> None:
    async def scenario(api: Api) -> None:
        for name in ("a", "b"):
            _, created = await api.call("POST", PODS, pod(name, app="db"))
            created["status"] = {"phase": "Running"}
            await api.call("PUT", f"{PODS}/{name}/status", created)
        _, pdb = await api.call(
            "POST",
            PDB,
            {
                "apiVersion": "policy/v1",
                "kind": "PodDisruptionBudget",
                "metadata": {"name": "db"},
                "spec": {"minAvailable": 1, "selector": {"matchLabels": {"app": "db"}}},
            },
        )
        pdb["status"] = {
            "disruptionsAllowed": 1,
            "currentHealthy": 2,
            "desiredHealthy": 1,
            "expectedPods": 2,
            "observedGeneration": 1,
        }
        await api.call("PUT", f"{PDB}/db/status", pdb)
        eviction = {
            "apiVersion": "policy/v1",
            "kind": "Eviction",
            "metadata": {"name": "a", "namespace": "default"},
        }
        code, _ = await api.call("POST", f"{PODS}/a/eviction", eviction)
        assert code == 201
        assert (await api.call("GET", f"{PODS}/a"))[0] == 404
        code, status = await api.call(
            "POST", f"{PODS}/b/eviction", {**eviction, "metadata": {"name": "b"}}
        )
        assert code == 429 and status["reason"] == "TooManyRequests"
        assert status["message"] == (
            "Cannot evict pod as it would violate the pod's disruption budget."
        )
        assert status["details"]["causes"][0]["reason"] == "DisruptionBudget"
        assert (await api.call("GET", f"{PODS}/b"))[0] == 200

    run_api(scenario)
