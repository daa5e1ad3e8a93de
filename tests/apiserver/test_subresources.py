"""scale, pods/binding and pods/eviction, as upstream's registries behave."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from hypothesis import given
from hypothesis import strategies as st

from kframe.apiserver._subresources import _selects

if TYPE_CHECKING:
    from tests.apiserver.conftest import Api, Scenario

PODS = "/api/v1/namespaces/default/pods"
DEPLOY = "/apis/apps/v1/namespaces/default/deployments"
PDB = "/apis/policy/v1/namespaces/default/poddisruptionbudgets"


RUNNING_READY = {"phase": "Running", "conditions": [{"type": "Ready", "status": "True"}]}


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


async def _two_ready_pods_one_disruption_allowed(api: Api) -> None:
    """Pods ``a`` and ``b`` (app=db), Running and Ready, under budget ``db`` that allows one."""
    for name in ("a", "b"):
        _, created = await api.call("POST", PODS, pod(name, app="db"))
        created["status"] = RUNNING_READY
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


def test_eviction_honours_the_disruption_budget(run_api: Callable[[Scenario], None]) -> None:
    async def scenario(api: Api) -> None:
        await _two_ready_pods_one_disruption_allowed(api)
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


def test_a_dry_run_eviction_answers_alike_and_changes_nothing(
    run_api: Callable[[Scenario], None],
) -> None:
    async def scenario(api: Api) -> None:
        await _two_ready_pods_one_disruption_allowed(api)
        before_pod = (await api.call("GET", f"{PODS}/a"))[1]
        before_pdb = (await api.call("GET", f"{PDB}/db"))[1]
        eviction = {
            "apiVersion": "policy/v1",
            "kind": "Eviction",
            "metadata": {"name": "a", "namespace": "default"},
        }
        # Both ways of asking (the query, and deleteOptions as kubectl drain --dry-run=server).
        for path, body in [
            (f"{PODS}/a/eviction?dryRun=All", eviction),
            (f"{PODS}/a/eviction", {**eviction, "deleteOptions": {"dryRun": ["All"]}}),
        ]:
            code, _ = await api.call("POST", path, body)
            assert code == 201
            assert (await api.call("GET", f"{PODS}/a"))[1] == before_pod
            assert (await api.call("GET", f"{PDB}/db"))[1] == before_pdb
        # With no disruption left, a dry run is refused as the real one would be.
        pdb = before_pdb
        pdb["status"] = {**pdb["status"], "disruptionsAllowed": 0}
        await api.call("PUT", f"{PDB}/db/status", pdb)
        code, status = await api.call("POST", f"{PODS}/a/eviction?dryRun=All", eviction)
        assert code == 429 and status["reason"] == "TooManyRequests"

    run_api(scenario)


def budget(name: str, selector: dict[str, Any] | None, **status: Any) -> dict[str, Any]:
    spec: dict[str, Any] = {"minAvailable": 1}
    if selector is not None:
        spec["selector"] = selector
    return {
        "apiVersion": "policy/v1",
        "kind": "PodDisruptionBudget",
        "metadata": {"name": name},
        "spec": spec,
        "status": status,
    }


async def make_budget(api: Api, name: str, selector: dict[str, Any] | None, **status: Any) -> None:
    code, created = await api.call("POST", PDB, budget(name, selector))
    assert code == 201, created
    base = {"currentHealthy": 2, "desiredHealthy": 1, "expectedPods": 2, "observedGeneration": 1}
    created["status"] = {**base, **status}
    code, updated = await api.call("PUT", f"{PDB}/{name}/status", created)
    assert code == 200, updated


async def running_pod(api: Api, name: str, *, ready: bool = True, **labels: str) -> None:
    body = pod(name, **labels)
    body["spec"]["nodeName"] = "n1"  # deleted gracefully: the pod stays, marked, until its kubelet
    _, created = await api.call("POST", PODS, body)
    created["status"] = RUNNING_READY if ready else {"phase": "Running"}
    code, _ = await api.call("PUT", f"{PODS}/{name}/status", created)
    assert code == 200


def eviction(name: str, **options: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "apiVersion": "policy/v1",
        "kind": "Eviction",
        "metadata": {"name": name},
    }
    if options:
        body["deleteOptions"] = options
    return body


def test_an_empty_selector_selects_every_pod(run_api: Callable[[Scenario], None]) -> None:
    async def scenario(api: Api) -> None:
        await running_pod(api, "a", app="db")
        await running_pod(api, "b")  # no labels at all
        await make_budget(api, "all", {}, disruptionsAllowed=0)
        await make_budget(api, "none", None, disruptionsAllowed=0)  # nil: selects nothing
        for name in ("a", "b"):
            code, status = await api.call("POST", f"{PODS}/{name}/eviction", eviction(name))
            assert code == 429, status
            assert status["details"]["causes"][0]["message"] == (
                "The disruption budget all needs 1 healthy pods and has 2 currently"
            )
            assert "retryAfterSeconds" not in status["details"]
        # canIgnorePDB: a pending pod is not protected (deleted at once: it is on no node)
        await api.call("POST", PODS, pod("pending", app="db"))
        code, status = await api.call("POST", f"{PODS}/pending/eviction", eviction("pending"))
        assert code == 201, status
        assert (await api.call("GET", f"{PODS}/pending"))[0] == 404

    run_api(scenario)


def test_an_eviction_marks_the_pod_then_deletes_it(run_api: Callable[[Scenario], None]) -> None:
    async def scenario(api: Api) -> None:
        await running_pod(api, "a", app="db")
        await make_budget(api, "db", {"matchLabels": {"app": "db"}}, disruptionsAllowed=1)
        code, status = await api.call("POST", f"{PODS}/a/eviction", eviction("a"))
        assert code == 201, status
        code, got = await api.call("GET", f"{PODS}/a")
        assert code == 200 and got["metadata"]["deletionTimestamp"]  # graceful: on a node
        (target,) = [c for c in got["status"]["conditions"] if c["type"] == "DisruptionTarget"]
        assert target["status"] == "True" and target["lastTransitionTime"]
        assert (target["reason"], target["message"]) == (
            "EvictionByEvictionAPI",
            "Eviction API: evicting",
        )
        _, pdb = await api.call("GET", f"{PDB}/db")
        assert pdb["status"]["disruptionsAllowed"] == 0 and "a" in pdb["status"]["disruptedPods"]
        (allowed,) = pdb["status"]["conditions"]
        assert (allowed["type"], allowed["status"], allowed["reason"]) == (
            "DisruptionAllowed",
            "False",
            "InsufficientPods",
        )
        # without a budget the pod is marked too
        await running_pod(api, "b")
        code, _ = await api.call("POST", f"{PODS}/b/eviction", eviction("b"))
        assert code == 201
        _, got = await api.call("GET", f"{PODS}/b")
        assert "DisruptionTarget" in {c["type"] for c in got["status"]["conditions"]}

    run_api(scenario)


def test_eviction_refusals(run_api: Callable[[Scenario], None]) -> None:
    async def scenario(api: Api) -> None:
        await running_pod(api, "a", app="db", tier="x")
        await make_budget(api, "one", {"matchLabels": {"app": "db"}}, disruptionsAllowed=1)
        await make_budget(api, "two", {"matchLabels": {"tier": "x"}}, disruptionsAllowed=1)
        code, status = await api.call("POST", f"{PODS}/a/eviction", eviction("a"))
        assert code == 500
        assert status == {
            "kind": "Status",
            "apiVersion": "v1",
            "metadata": {},
            "status": "Failure",
            "message": "This pod has more than one PodDisruptionBudget, which the eviction "
            "subresource does not support.",
            "code": 500,
        }
        await api.call("DELETE", f"{PDB}/two")
        # a budget the controller has not seen since its spec changed: retry in 10 s
        _, pdb = await api.call("GET", f"{PDB}/one")
        pdb["spec"]["minAvailable"] = 0
        await api.call("PUT", f"{PDB}/one", pdb)
        code, status = await api.call("POST", f"{PODS}/a/eviction", eviction("a"))
        assert code == 429
        assert (
            status["message"] == "Cannot evict pod as it would violate the pod's disruption budget."
        )
        assert status["details"]["retryAfterSeconds"] == 10
        assert status["details"]["causes"][0]["message"] == (
            "The disruption budget one is still being processed by the server."
        )
        _, pdb = await api.call("GET", f"{PDB}/one")
        pdb["status"]["observedGeneration"] = 2
        pdb["status"]["disruptionsAllowed"] = -1
        await api.call("PUT", f"{PDB}/one/status", pdb)
        code, status = await api.call("POST", f"{PODS}/a/eviction", eviction("a"))
        assert (code, status["message"]) == (
            403,
            'poddisruptionbudget.policy "one" is forbidden: pdb disruptions allowed is negative',
        )
        # a UID precondition that does not hold: the pod is neither marked nor deleted
        _, pdb = await api.call("GET", f"{PDB}/one")
        pdb["status"]["disruptionsAllowed"] = 1
        await api.call("PUT", f"{PDB}/one/status", pdb)
        code, status = await api.call(
            "POST", f"{PODS}/a/eviction", eviction("a", preconditions={"uid": "other"})
        )
        assert code == 409
        assert status["message"].startswith(
            'Operation cannot be fulfilled on Pod "a": the UID in the precondition (other) does '
            "not match the UID in record ("
        )
        _, got = await api.call("GET", f"{PODS}/a")
        assert not got["metadata"].get("deletionTimestamp")
        assert "DisruptionTarget" not in {c["type"] for c in got["status"]["conditions"]}

    run_api(scenario)


def test_unhealthy_pods_may_go_while_the_budget_holds(run_api: Callable[[Scenario], None]) -> None:
    async def scenario(api: Api) -> None:
        await running_pod(api, "sick", ready=False, app="db")
        # IfHealthyBudget (the default): 2 healthy of the 1 desired, so the unready pod may go
        # although no disruption is left, and none is taken
        await make_budget(api, "db", {"matchLabels": {"app": "db"}}, disruptionsAllowed=0)
        code, status = await api.call("POST", f"{PODS}/sick/eviction", eviction("sick"))
        assert code == 201, status
        _, pdb = await api.call("GET", f"{PDB}/db")
        assert pdb["status"]["disruptionsAllowed"] == 0 and not pdb["status"].get("disruptedPods")
        # a budget not met protects its unready pods too, unless AlwaysAllow
        await running_pod(api, "weak", ready=False, app="web")
        await make_budget(
            api, "web", {"matchLabels": {"app": "web"}}, disruptionsAllowed=0, currentHealthy=0
        )
        code, _ = await api.call("POST", f"{PODS}/weak/eviction", eviction("weak"))
        assert code == 429
        _, pdb = await api.call("GET", f"{PDB}/web")
        pdb["spec"]["unhealthyPodEvictionPolicy"] = "AlwaysAllow"
        _, pdb = await api.call("PUT", f"{PDB}/web", pdb)
        pdb["status"]["observedGeneration"] = pdb["metadata"]["generation"]
        await api.call("PUT", f"{PDB}/web/status", pdb)
        code, status = await api.call("POST", f"{PODS}/weak/eviction", eviction("weak"))
        assert code == 201, status

    run_api(scenario)


@given(st.dictionaries(st.from_regex(r"[a-z]{1,8}", fullmatch=True), st.text("abc", max_size=3)))
def test_policy_v1_selectors(labels: dict[str, str]) -> None:
    # An empty selector selects every pod, a missing one none (policy/v1).
    assert _selects(budget("b", {}), labels)
    assert not _selects(budget("b", None), labels)
    assert _selects(budget("b", {"matchLabels": labels}), labels)
