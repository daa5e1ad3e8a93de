"""ResourceQuota through the API server, with cases from upstream's
plugin/pkg/admission/resourcequota/admission_test.go and pkg/quota/v1/evaluator/core/pods_test.go
(test names cited per case). Quota status is written here as the quota controller would."""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Awaitable, Callable
from typing import Any

import pytest

from kframe.api import Quantity, format_time
from kframe.apiserver import APIError, APIServer, ListOptions, ObjectStorage
from kframe.store import open_store
from kframe_plugins.admission.resourcequota._evaluators import PodEvaluator

NS = "test"


def run(
    body: Callable[[APIServer], Awaitable[None]], plugins: tuple[str, ...] = ("ResourceQuota",)
) -> None:
    async def main() -> None:
        server = APIServer(
            await open_store("memory://"), admission_plugins=plugins, compaction_interval=0
        )
        await server.bootstrap()
        for name in (NS, "other"):
            await server.storage("", "v1", "namespaces").create({"metadata": {"name": name}}, None)
        try:
            await body(server)
        finally:
            await server.store.close()

    asyncio.run(main())


def quotas(server: APIServer) -> ObjectStorage:
    return server.storage("", "v1", "resourcequotas")


async def quota(
    server: APIServer,
    name: str,
    hard: dict[str, str],
    used: dict[str, str] | None = None,
    namespace: str = NS,
    **spec: Any,
) -> None:
    """A quota whose status the quota controller has synced (unless ``used`` is None)."""
    created = await quotas(server).create(
        {"metadata": {"name": name}, "spec": {"hard": hard, **spec}}, namespace
    )
    if used is not None:
        created["status"] = {"hard": hard, "used": used}
        await quotas(server).update(created, namespace, name, subresource="status")


async def used(server: APIServer, name: str) -> dict[str, str]:
    result: dict[str, str] = (await quotas(server).get(NS, name))["status"]["used"]
    return result


def res(cpu: str = "", memory: str = "") -> dict[str, str]:
    return {k: v for k, v in (("cpu", cpu), ("memory", memory)) if v}


def pod(
    name: str,
    requests: dict[str, str] | None = None,
    limits: dict[str, str] | None = None,
    containers: int = 1,
    **spec: Any,
) -> dict[str, Any]:
    resources: dict[str, Any] = {}
    if requests:
        resources["requests"] = requests
    if limits:
        resources["limits"] = limits
    names = ["c"] if containers == 1 else [f"c{i}" for i in range(containers)]
    return {
        "metadata": {"name": name},
        "spec": {
            "containers": [{"name": n, "image": "i", "resources": resources} for n in names],
            **spec,
        },
    }


async def refused(
    server: APIServer, obj: dict[str, Any], group: str = "", plural: str = "pods"
) -> str:
    """Create ``obj``, expect 403, check nothing was stored; the message."""
    storage = server.storage(group, "v1", plural)
    with pytest.raises(APIError) as caught:
        await storage.create(obj, NS)
    assert (caught.value.code, caught.value.reason) == (403, "Forbidden")
    with pytest.raises(APIError) as missing:
        await storage.get(NS, obj["metadata"]["name"])
    assert missing.value.code == 404
    return caught.value.message


COMPUTE_HARD = {"cpu": "3", "memory": "100Gi", "pods": "5"}
COMPUTE_USED = {"cpu": "1", "memory": "50Gi", "pods": "3"}


def test_admit_below_quota_limit() -> None:
    # TestAdmitBelowQuotaLimit
    async def body(server: APIServer) -> None:
        await quota(server, "quota", COMPUTE_HARD, COMPUTE_USED)
        pods = server.storage("", "v1", "pods")
        await pods.create(pod("allowed-pod", res("100m", "2Gi")), NS)
        assert await used(server, "quota") == {"cpu": "1100m", "memory": "52Gi", "pods": "4"}
        await pods.create(pod("second", res("900m", "48Gi")), NS)
        assert await used(server, "quota") == {"cpu": "2", "memory": "100Gi", "pods": "5"}

    run(body)


def test_admit_exceed_quota_limit() -> None:
    # TestAdmitExceedQuotaLimit
    async def body(server: APIServer) -> None:
        await quota(server, "quota", COMPUTE_HARD, COMPUTE_USED)
        message = await refused(server, pod("not-allowed-pod", res("3", "2Gi")))
        assert message == (
            'pods "not-allowed-pod" is forbidden: exceeded quota: quota, requested: cpu=3, '
            "used: cpu=1, limited: cpu=3"
        )
        assert await used(server, "quota") == COMPUTE_USED

    run(body)


def test_usage_grows_until_the_quota_is_full() -> None:
    async def body(server: APIServer) -> None:
        await quota(server, "compute", {"cpu": "1", "pods": "2"}, {"cpu": "0", "pods": "0"})
        await server.storage("", "v1", "pods").create(pod("first", res("1")), NS)
        assert await used(server, "compute") == {"cpu": "1", "pods": "1"}
        message = await refused(server, pod("second", res("500m")))
        assert message == (
            'pods "second" is forbidden: exceeded quota: compute, requested: cpu=500m, '
            "used: cpu=1, limited: cpu=1"
        )
        await server.storage("", "v1", "pods").create(pod("third", res("0")), NS)
        assert await used(server, "compute") == {"cpu": "1", "pods": "2"}
        # Several resources over: each listed, in name order.
        message = await refused(server, pod("fourth", res("1")))
        assert message.endswith(
            "exceeded quota: compute, requested: cpu=1,pods=1, used: cpu=1,pods=2, "
            "limited: cpu=1,pods=2"
        )

    run(body)


def test_admit_enforce_quota_constraints() -> None:
    # TestAdmitEnforceQuotaConstraints, TestPodConstraintsFunc
    async def body(server: APIServer) -> None:
        hard = {"cpu": "3", "memory": "100Gi", "limits.memory": "200Gi", "pods": "5"}
        await quota(
            server,
            "quota",
            hard,
            {"cpu": "1", "memory": "50Gi", "limits.memory": "100Gi", "pods": "3"},
        )
        message = await refused(server, pod("not-allowed-pod", res("100m", "2Gi"), res("200m")))
        assert message == (
            'pods "not-allowed-pod" is forbidden: failed quota: quota: must specify '
            "limits.memory for: c"
        )
        message = await refused(
            server,
            pod("bare", containers=2, initContainers=[{"name": "init", "image": "i"}]),
        )
        assert message == (
            'pods "bare" is forbidden: failed quota: quota: must specify cpu for: c0,c1,init; '
            "limits.memory for: c0,c1,init; memory for: c0,c1,init"
        )

    run(body)


def test_limit_ranger_defaults_satisfy_quota_constraints() -> None:
    async def body(server: APIServer) -> None:
        await server.storage("", "v1", "limitranges").create(
            {
                "metadata": {"name": "defaults"},
                "spec": {
                    "limits": [
                        {
                            "type": "Container",
                            "default": {"cpu": "500m", "memory": "256Mi"},
                            "defaultRequest": {"cpu": "250m", "memory": "128Mi"},
                        }
                    ]
                },
            },
            NS,
        )
        hard = {"requests.cpu": "1", "limits.cpu": "2", "limits.memory": "1Gi"}
        await quota(server, "compute", hard, dict.fromkeys(hard, "0"))
        await server.storage("", "v1", "pods").create(pod("p"), NS)
        assert await used(server, "compute") == {
            "limits.cpu": "500m",
            "limits.memory": "256Mi",
            "requests.cpu": "250m",
        }

    run(body, ("LimitRanger", "ResourceQuota"))


def test_status_unknown_and_unsynced_quotas() -> None:
    async def body(server: APIServer) -> None:
        # A quota the quota controller has not synced (status.hard empty) constrains nothing,
        # as upstream (kubernetes#73698).
        await quota(server, "unsynced", {"pods": "0"})
        await server.storage("", "v1", "pods").create(pod("free"), NS)
        assert "status" not in await quotas(server).get(NS, "unsynced")
        # status.hard without a matching status.used: usage unknown, so refused.
        await quota(server, "partial", {"cpu": "1", "pods": "2"}, {"pods": "1"})
        message = await refused(server, pod("p", res("100m")))
        assert message == (
            'pods "p" is forbidden: status unknown for quota: partial, resources: cpu,pods'
        )

    run(body)


def test_admit_dry_run() -> None:
    # TestAdmitDryRun
    async def body(server: APIServer) -> None:
        await quota(server, "quota", COMPUTE_HARD, COMPUTE_USED)
        pods = server.storage("", "v1", "pods")
        await pods.create(pod("allowed-pod", res("100m", "2Gi")), NS, dry_run=True)
        assert await used(server, "quota") == COMPUTE_USED
        with pytest.raises(APIError) as too_large:
            await pods.create(pod("too-large-pod", res("100m", "60Gi")), NS, dry_run=True)
        assert too_large.value.code == 403
        assert await used(server, "quota") == COMPUTE_USED

    run(body)


def test_admit_pod_in_namespace_without_quota() -> None:
    # TestAdmitPodInNamespaceWithoutQuota
    async def body(server: APIServer) -> None:
        await quota(server, "quota", COMPUTE_HARD, COMPUTE_USED, namespace="other")
        await server.storage("", "v1", "pods").create(pod("allowed-pod", res("100m", "2Gi")), NS)

    run(body)


def test_admit_below_terminating_quota_limit() -> None:
    # TestAdmitBelowTerminatingQuotaLimit
    async def body(server: APIServer) -> None:
        await quota(
            server, "quota-non-terminating", COMPUTE_HARD, COMPUTE_USED, scopes=["NotTerminating"]
        )
        await quota(server, "quota-terminating", COMPUTE_HARD, COMPUTE_USED, scopes=["Terminating"])
        pods = server.storage("", "v1", "pods")
        await pods.create(pod("allowed-pod", res("100m", "2Gi"), activeDeadlineSeconds=60), NS)
        assert await used(server, "quota-non-terminating") == COMPUTE_USED
        assert await used(server, "quota-terminating") == {
            "cpu": "1100m",
            "memory": "52Gi",
            "pods": "4",
        }
        # A pod that becomes Terminating by an update is charged to the Terminating quota then.
        long_running = await pods.create(pod("long-running", res("1", "1Gi")), NS)
        assert await used(server, "quota-non-terminating") == {
            "cpu": "2",
            "memory": "51Gi",
            "pods": "4",
        }
        long_running["spec"]["activeDeadlineSeconds"] = 30
        await pods.update(long_running, NS, "long-running")
        assert await used(server, "quota-terminating") == {
            "cpu": "2100m",
            "memory": "53Gi",
            "pods": "5",
        }

    run(body)


def test_admit_best_effort_and_priority_class_scopes() -> None:
    # TestAdmitBelowBestEffortQuotaLimit, TestAdmitBestEffortQuotaLimitIgnoresBurstable,
    # TestAdmitLimitedScopeWithCoverQuota (PriorityClass In)
    async def body(server: APIServer) -> None:
        await quota(server, "quota-besteffort", {"pods": "5"}, {"pods": "3"}, scopes=["BestEffort"])
        await quota(
            server, "quota-not-besteffort", {"pods": "5"}, {"pods": "3"}, scopes=["NotBestEffort"]
        )
        await quota(
            server,
            "high",
            {"pods": "1"},
            {"pods": "1"},
            scopeSelector={
                "matchExpressions": [
                    {"scopeName": "PriorityClass", "operator": "In", "values": ["high"]}
                ]
            },
        )
        pods = server.storage("", "v1", "pods")
        await pods.create(pod("besteffort"), NS)
        assert await used(server, "quota-besteffort") == {"pods": "4"}
        assert await used(server, "quota-not-besteffort") == {"pods": "3"}
        await pods.create(pod("burstable", res("100m")), NS)
        assert await used(server, "quota-besteffort") == {"pods": "4"}
        assert await used(server, "quota-not-besteffort") == {"pods": "4"}
        await pods.create(pod("low-priority", priorityClassName="low"), NS)
        message = await refused(server, pod("high-priority", priorityClassName="high"))
        assert message.endswith(
            "exceeded quota: high, requested: pods=1, used: pods=1, limited: pods=1"
        )

    run(body)


def test_admit_handles_old_objects() -> None:
    # TestAdmitHandlesOldObjects: a LoadBalancer service updated to a NodePort one
    async def body(server: APIServer) -> None:
        hard = {"services": "10", "services.loadbalancers": "10", "services.nodeports": "10"}
        services = server.storage("", "v1", "services")
        existing = await services.create(
            {
                "metadata": {"name": "service"},
                "spec": {"type": "LoadBalancer", "ports": [{"port": 80}]},
            },
            NS,
        )
        await quota(
            server,
            "quota",
            hard,
            {"services": "1", "services.loadbalancers": "1", "services.nodeports": "0"},
        )
        existing["spec"] = {
            "type": "NodePort",
            "ports": [{"name": "http", "port": 80}, {"name": "other", "port": 1234}],
        }
        await services.update(existing, NS, "service")
        # Only the growth is charged (one more node port), and usage never shrinks at admission:
        # the load balancer stays charged until the quota controller recalculates.
        assert await used(server, "quota") == {
            "services": "1",
            "services.loadbalancers": "1",
            "services.nodeports": "1",
        }

    run(body)


def test_services_and_load_balancers() -> None:
    async def body(server: APIServer) -> None:
        await quota(
            server,
            "quota",
            {"services": "5", "services.loadbalancers": "1", "count/services": "5"},
            {"services": "0", "services.loadbalancers": "0", "count/services": "0"},
        )
        services = server.storage("", "v1", "services")
        lb = {"metadata": {"name": "lb"}, "spec": {"type": "LoadBalancer", "ports": [{"port": 80}]}}
        await services.create(lb, NS)
        assert await used(server, "quota") == {
            "count/services": "1",
            "services": "1",
            "services.loadbalancers": "1",
        }
        message = await refused(server, {**lb, "metadata": {"name": "lb2"}}, plural="services")
        assert message == (
            'services "lb2" is forbidden: exceeded quota: quota, requested: '
            "services.loadbalancers=1, used: services.loadbalancers=1, limited: "
            "services.loadbalancers=1"
        )

    run(body)


def claim(name: str, storage: str, **spec: Any) -> dict[str, Any]:
    return {
        "metadata": {"name": name},
        "spec": {
            "accessModes": ["ReadWriteOnce"],
            "resources": {"requests": {"storage": storage}},
            **spec,
        },
    }


async def bound(claims: Any, claim_obj: dict[str, Any]) -> dict[str, Any]:
    """The claim, bound: only a bound claim may change its storage request (validation)."""
    claim_obj["status"] = {"phase": "Bound"}
    name = claim_obj["metadata"]["name"]
    result: dict[str, Any] = await claims.update(claim_obj, NS, name, subresource="status")
    return result


def test_admit_handles_pvc_updates() -> None:
    # TestAdmitHandlesPVCUpdates, TestAdmitHandlesNegativePVCUpdates
    async def body(server: APIServer) -> None:
        claims = server.storage("", "v1", "persistentvolumeclaims")
        existing = await bound(claims, await claims.create(claim("pvc-to-update", "10Gi"), NS))
        await quota(
            server,
            "quota",
            {"persistentvolumeclaims": "3", "requests.storage": "100Gi"},
            {"persistentvolumeclaims": "1", "requests.storage": "10Gi"},
        )
        existing["spec"]["resources"]["requests"]["storage"] = "15Gi"
        grown = await claims.update(existing, NS, "pvc-to-update")
        assert await used(server, "quota") == {
            "persistentvolumeclaims": "1",
            "requests.storage": "15Gi",
        }
        grown["spec"]["resources"]["requests"]["storage"] = "5Gi"
        await claims.update(grown, NS, "pvc-to-update")
        assert await used(server, "quota") == {
            "persistentvolumeclaims": "1",
            "requests.storage": "15Gi",
        }

    run(body)


def test_claims_by_storage_class() -> None:
    async def body(server: APIServer) -> None:
        gold = "gold.storageclass.storage.k8s.io/"
        await quota(
            server,
            "quota",
            {gold + "requests.storage": "10Gi", gold + "persistentvolumeclaims": "2"},
            {gold + "requests.storage": "0", gold + "persistentvolumeclaims": "0"},
        )
        claims = server.storage("", "v1", "persistentvolumeclaims")
        await claims.create(claim("silver", "50Gi", storageClassName="silver"), NS)
        await claims.create(claim("gold", "8Gi", storageClassName="gold"), NS)
        assert await used(server, "quota") == {
            gold + "persistentvolumeclaims": "1",
            gold + "requests.storage": "8Gi",
        }
        message = await refused(
            server,
            claim("more-gold", "4Gi", storageClassName="gold"),
            plural="persistentvolumeclaims",
        )
        assert message.endswith(
            f"requested: {gold}requests.storage=4Gi, used: {gold}requests.storage=8Gi, "
            f"limited: {gold}requests.storage=10Gi"
        )

    run(body)


def test_object_counts() -> None:
    async def body(server: APIServer) -> None:
        await quota(
            server,
            "quota",
            {"configmaps": "1", "count/configmaps": "5", "count/deployments.apps": "1"},
            {"configmaps": "0", "count/configmaps": "0", "count/deployments.apps": "0"},
        )
        configmaps = server.storage("", "v1", "configmaps")
        await configmaps.create({"metadata": {"name": "one"}}, NS)
        assert (await used(server, "quota"))["configmaps"] == "1"
        assert (await used(server, "quota"))["count/configmaps"] == "1"
        message = await refused(server, {"metadata": {"name": "two"}}, plural="configmaps")
        assert message == (
            'configmaps "two" is forbidden: exceeded quota: quota, requested: configmaps=1, '
            "used: configmaps=1, limited: configmaps=1"
        )
        # Updates do not count again.
        one = await configmaps.get(NS, "one")
        one["data"] = {"k": "v"}
        await configmaps.update(one, NS, "one")

        def deployment(name: str) -> dict[str, Any]:
            labels = {"app": name}
            return {
                "metadata": {"name": name},
                "spec": {
                    "selector": {"matchLabels": labels},
                    "template": {
                        "metadata": {"labels": labels},
                        "spec": {"containers": [{"name": "c", "image": "i"}]},
                    },
                },
            }

        await server.storage("apps", "v1", "deployments").create(deployment("d1"), NS)
        message = await refused(server, deployment("d2"), group="apps", plural="deployments")
        assert message == (
            'deployments.apps "d2" is forbidden: exceeded quota: quota, requested: '
            "count/deployments.apps=1, used: count/deployments.apps=1, limited: "
            "count/deployments.apps=1"
        )

    run(body)


def test_pod_usage_counts_init_containers_and_overhead() -> None:
    # TestPodEvaluatorUsage: "init container maximums override sum of containers",
    # "count pod overhead as usage"
    async def body(server: APIServer) -> None:
        hard = {
            "requests.cpu": "100",
            "limits.cpu": "100",
            "requests.memory": "10G",
            "limits.memory": "10G",
            "requests.example.com/dongle": "10",
            "count/pods": "10",
        }
        await quota(server, "quota", hard, dict.fromkeys(hard, "0"))

        def container(name: str, req: tuple[str, str, str], lim: tuple[str, str, str]) -> Any:
            keys = ("cpu", "memory", "example.com/dongle")
            return {
                "name": name,
                "image": "i",
                "resources": {
                    "requests": dict(zip(keys, req, strict=True)),
                    "limits": dict(zip(keys, lim, strict=True)),
                },
            }

        pods = server.storage("", "v1", "pods")
        await pods.create(
            {
                "metadata": {"name": "init"},
                "spec": {
                    "initContainers": [
                        container("i1", ("4", "100M", "4"), ("8", "200M", "4")),
                        container("i2", ("1", "50M", "2"), ("2", "100M", "2")),
                    ],
                    "containers": [
                        container("c1", ("1", "50M", "1"), ("2", "100M", "1")),
                        container("c2", ("2", "25M", "2"), ("5", "50M", "2")),
                    ],
                },
            },
            NS,
        )
        assert await used(server, "quota") == {
            "count/pods": "1",
            "limits.cpu": "8",
            "limits.memory": "200M",
            "requests.cpu": "4",
            "requests.example.com/dongle": "4",
            "requests.memory": "100M",
        }
        await pods.create(
            pod("overhead", res("1", "1M"), res("2", "1M"), overhead={"cpu": "1"}), NS
        )
        current = await used(server, "quota")
        assert (current["requests.cpu"], current["limits.cpu"]) == ("6", "11")

    run(body)


def test_pod_usage_of_finished_and_deleted_pods() -> None:
    # TestPodEvaluatorUsage: "terminated generic count still appears",
    # "pod deletion timestamp exceeded" / "not exceeded"
    evaluator = PodEvaluator()
    spec = {"containers": [{"name": "c", "resources": {"requests": {"cpu": "1"}}}]}
    assert evaluator.usage({"spec": spec, "status": {"phase": "Succeeded"}}) == {
        "count/pods": Quantity(1)
    }
    past = format_time(dt.datetime.now(dt.UTC) - dt.timedelta(seconds=60))
    gone = {"deletionTimestamp": past, "deletionGracePeriodSeconds": 30}
    assert evaluator.usage({"metadata": gone, "spec": spec}) == {"count/pods": Quantity(1)}
    now = format_time(dt.datetime.now(dt.UTC))
    going = {"deletionTimestamp": now, "deletionGracePeriodSeconds": 30}
    assert evaluator.usage({"metadata": going, "spec": spec}) == {
        "count/pods": Quantity(1),
        "pods": Quantity(1),
        "cpu": Quantity("1"),
        "requests.cpu": Quantity("1"),
    }


def racing(storage: ObjectStorage, monkeypatch: pytest.MonkeyPatch, times: int) -> None:
    """Before each of the next ``times`` status updates of a quota, another writer (a second
    API server, the quota controller) charges one more pod to it, so the update conflicts."""
    original = storage.update
    left = times

    async def update(obj: dict[str, Any], namespace: str | None, name: str, **kw: Any) -> Any:
        nonlocal left
        if left and kw.get("subresource") == "status":
            left -= 1
            current = await storage.get(namespace, name)
            pods = Quantity(current["status"]["used"]["pods"]) + 1
            current["status"]["used"] = {"pods": str(pods)}
            await original(current, namespace, name, subresource="status")
        return await original(obj, namespace, name, **kw)

    monkeypatch.setattr(storage, "update", update)


def test_status_update_conflicts_are_retried(monkeypatch: pytest.MonkeyPatch) -> None:
    async def body(server: APIServer) -> None:
        await quota(server, "quota", {"pods": "3"}, {"pods": "0"})
        racing(quotas(server), monkeypatch, times=1)
        await server.storage("", "v1", "pods").create(pod("p1"), NS)
        assert await used(server, "quota") == {"pods": "2"}  # the other writer's and ours
        # The re-read quota may no longer have room: then the write is refused.
        racing(quotas(server), monkeypatch, times=1)
        message = await refused(server, pod("p2"))
        assert message.endswith("requested: pods=1, used: pods=3, limited: pods=3")

    run(body)


def test_status_update_conflicts_give_up_after_three_retries(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    async def body(server: APIServer) -> None:
        await quota(server, "quota", {"pods": "10"}, {"pods": "0"})
        racing(quotas(server), monkeypatch, times=4)
        with pytest.raises(APIError) as caught:
            await server.storage("", "v1", "pods").create(pod("p"), NS)
        assert caught.value.code == 409
        assert caught.value.message == (
            'Operation cannot be fulfilled on resourcequotas "quota": the object has been '
            "modified; please apply your changes to the latest version and try again"
        )
        assert await used(server, "quota") == {"pods": "4"}  # the other writer's only

    run(body)


def test_concurrent_creates_are_all_charged() -> None:
    async def body(server: APIServer) -> None:
        await quota(server, "quota", {"pods": "5"}, {"pods": "0"})
        pods = server.storage("", "v1", "pods")
        results = await asyncio.gather(
            *(pods.create(pod(f"p{i}"), NS) for i in range(7)), return_exceptions=True
        )
        refusals = [r for r in results if isinstance(r, APIError)]
        assert [r.code for r in refusals] == [403, 403]
        assert await used(server, "quota") == {"pods": "5"}
        assert len((await pods.list(NS, ListOptions()))["items"]) == 5

    run(body)
