"""LimitRanger through the API server, with cases from upstream's
plugin/pkg/admission/limitranger/admission_test.go (test names cited per case)."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

import pytest

from kframe.apiserver import APIError, APIServer, ListOptions
from kframe.store import open_store

NS = "test"


def run(body: Callable[[APIServer], Awaitable[None]]) -> None:
    async def main() -> None:
        server = APIServer(
            await open_store("memory://"), admission_plugins=["LimitRanger"], compaction_interval=0
        )
        await server.bootstrap()
        await server.storage("", "v1", "namespaces").create({"metadata": {"name": NS}}, None)
        try:
            await body(server)
        finally:
            await server.store.close()

    asyncio.run(main())


def res(cpu: str = "", memory: str = "", **more: str) -> dict[str, str]:
    out = {"cpu": cpu, "memory": memory, **{k.replace("_", "-"): v for k, v in more.items()}}
    return {k: v for k, v in out.items() if v}


def container(
    name: str, requests: dict[str, str] | None = None, limits: dict[str, str] | None = None
) -> dict[str, Any]:
    resources: dict[str, Any] = {}
    if requests:
        resources["requests"] = requests
    if limits:
        resources["limits"] = limits
    return {"name": name, "image": "i", "resources": resources}


def pod(
    name: str,
    count: int = 1,
    requests: dict[str, str] | None = None,
    limits: dict[str, str] | None = None,
    init: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    spec: dict[str, Any] = {
        "containers": [container(f"foo-{i}", requests, limits) for i in range(count)]
    }
    if init:
        spec["initContainers"] = init
    return {"metadata": {"name": name}, "spec": spec}


def item(kind: str, **fields: dict[str, str]) -> dict[str, Any]:
    return {"type": kind, **fields}


async def limit_range(server: APIServer, *items: dict[str, Any], name: str = "abc") -> None:
    await server.storage("", "v1", "limitranges").create(
        {"metadata": {"name": name}, "spec": {"limits": list(items)}}, NS
    )


def valid_limit_range_no_defaults() -> list[dict[str, Any]]:
    """Upstream's ``validLimitRangeNoDefaults()``."""
    return [
        item("Pod", max=res("200m", "4Gi"), min=res("50m", "2Mi")),
        item("Container", max=res("100m", "2Gi"), min=res("25m", "1Mi")),
    ]


def valid_limit_range() -> list[dict[str, Any]]:
    """Upstream's ``validLimitRange()``."""
    return [
        item("Pod", max=res("200m", "4Gi"), min=res("50m", "2Mi")),
        item(
            "Container",
            max=res("100m", "2Gi"),
            min=res("25m", "1Mi"),
            default=res("75m", "10Mi"),
            defaultRequest=res("50m", "5Mi"),
        ),
    ]


async def refused(server: APIServer, obj: dict[str, Any], plural: str = "pods") -> APIError:
    storage = server.storage("", "v1", plural)
    with pytest.raises(APIError) as caught:
        await storage.create(obj, NS)
    assert caught.value.code == 403
    assert caught.value.reason == "Forbidden"
    with pytest.raises(APIError) as missing:  # nothing was stored
        await storage.get(NS, obj["metadata"]["name"])
    assert missing.value.code == 404
    return caught.value


def test_defaults_are_applied_and_annotated() -> None:
    # TestPodLimitFuncApplyDefault, TestMergePodResourceRequirements
    async def body(server: APIServer) -> None:
        await limit_range(server, *valid_limit_range())
        pods = server.storage("", "v1", "pods")
        created = await pods.create(pod("foo", init=[container("init-0")]), NS)
        for c in created["spec"]["containers"] + created["spec"]["initContainers"]:
            assert c["resources"] == {
                "requests": {"cpu": "50m", "memory": "5Mi"},
                "limits": {"cpu": "75m", "memory": "10Mi"},
            }
        assert created["metadata"]["annotations"]["kubernetes.io/limit-ranger"] == (
            "LimitRanger plugin set: cpu, memory request for container foo-0; "
            "cpu, memory limit for container foo-0; cpu, memory request for init container "
            "init-0; cpu, memory limit for init container init-0"
        )

        # Only what is missing is filled in ("limit-memory").
        partial = await pods.create(pod("limit-memory", requests=res(memory="8Mi")), NS)
        assert partial["spec"]["containers"][0]["resources"] == {
            "requests": {"memory": "8Mi", "cpu": "50m"},
            "limits": {"cpu": "75m", "memory": "10Mi"},
        }
        assert partial["metadata"]["annotations"]["kubernetes.io/limit-ranger"] == (
            "LimitRanger plugin set: cpu request for container foo-0; "
            "cpu, memory limit for container foo-0"
        )

        # All resources given: nothing merged, no annotation.
        full = await pods.create(
            pod("full", requests=res("60m", "8Mi"), limits=res("90m", "12Mi")), NS
        )
        assert full["spec"]["containers"][0]["resources"] == {
            "requests": {"cpu": "60m", "memory": "8Mi"},
            "limits": {"cpu": "90m", "memory": "12Mi"},
        }
        assert "kubernetes.io/limit-ranger" not in full["metadata"].get("annotations", {})

    run(body)


def test_defaults_are_canonical_quantities() -> None:
    async def body(server: APIServer) -> None:
        await limit_range(
            server, {"type": "Container", "default": {"cpu": 0.5}, "defaultRequest": {"cpu": 0.25}}
        )
        created = await server.storage("", "v1", "pods").create(pod("p"), NS)
        assert created["spec"]["containers"][0]["resources"] == {
            "limits": {"cpu": "500m"},
            "requests": {"cpu": "250m"},
        }

    run(body)


@pytest.mark.parametrize(
    ("items", "obj", "message"),
    [
        pytest.param(
            [item("Container", max=res("2"))],
            pod("p", limits=res("3")),
            "maximum cpu usage per Container is 2, but limit is 3",
            id="ctr-max-cpu-limit",
        ),
        pytest.param(
            [item("Container", max=res("2"))],
            pod("p", requests=res("500m"), limits=res("2500m")),
            "maximum cpu usage per Container is 2, but limit is 2500m",
            id="ctr-max-cpu-request-limit",
        ),
        pytest.param(
            [item("Pod", max=res(memory="1Gi"))],
            pod("p"),
            "maximum memory usage per Pod is 1Gi.  No limit is specified",
            id="pod-max-mem-no-request-limit",
        ),
        pytest.param(
            [item("Container", min=res(memory="64Mi"))],
            pod("p", requests=res(memory="32Mi")),
            "minimum memory usage per Container is 64Mi, but request is 32Mi",
            id="ctr-min-memory-request",
        ),
        pytest.param(
            [item("Pod", min=res("50m"))],
            pod("p"),
            "minimum cpu usage per Pod is 50m.  No request is specified",
            id="pod-min-cpu-no-request-limit",
        ),
        pytest.param(
            [item("Container", maxLimitRequestRatio=res("2"))],
            pod("p", requests=res("250m"), limits=res("1")),
            "cpu max limit to request ratio per Container is 2, but provided ratio is 4.000000",
            id="ctr-max-cpu-ratio",
        ),
        pytest.param(
            [item("Container", maxLimitRequestRatio=res("1"))],
            pod("p", requests=res("100m")),
            "cpu max limit to request ratio per Container is 1, but no limit is specified "
            "or limit is 0",
            id="ctr-ratio-no-limit",
        ),
        pytest.param(
            [item("Container", maxLimitRequestRatio=res("1"))],
            pod("p", requests=res("0"), limits=res("1")),
            "cpu max limit to request ratio per Container is 1, but no request is specified "
            "or request is 0",
            id="ctr-ratio-zero-request",
        ),
        pytest.param(
            [item("Container", max=res("100m"))],
            pod("p", requests=res("50m"), limits=res("50m"), init=[container("i", None, res("1"))]),
            "maximum cpu usage per Container is 100m, but limit is 1",
            id="init-container-max-cpu",
        ),
        pytest.param(
            [item("Pod", max=res("2"))],
            pod("pod-max-cpu-limit", 3, limits=res("1")),
            "maximum cpu usage per Pod is 2, but limit is 3",
            id="pod-max-cpu-limit",
        ),
        pytest.param(
            [item("Pod", min=res(memory="100Mi"))],
            pod("pod-min-memory-request", 1, requests=res(memory="60Mi")),
            "minimum memory usage per Pod is 100Mi, but request is 60Mi",
            id="pod-min-memory-request",
        ),
        pytest.param(
            [item("Pod", max=res(memory="1Gi"))],
            pod(
                "pod-init-max-mem-limit",
                limits=res(memory="500Mi"),
                init=[container("i", None, res(memory="1.5Gi"))],
            ),
            "maximum memory usage per Pod is 1Gi, but limit is 1536Mi",
            id="pod-init-max-mem-limit",
        ),
        pytest.param(
            [item("Pod", max=res(memory="2Gi"), maxLimitRequestRatio=res(memory="1.5"))],
            pod("pod-max-mem-ratio", 3, requests=res(memory="250Mi"), limits=res(memory="500Mi")),
            "memory max limit to request ratio per Pod is 1500m, but provided ratio is 2.000000",
            id="pod-max-mem-ratio",
        ),
        pytest.param(
            [item("Pod", max=res("2"))],
            {
                "metadata": {"name": "ctr-max-cpu-limit-restartable-init-container"},
                "spec": {
                    "containers": [container("c", res("1000m"), res("1500m"))],
                    "initContainers": [
                        {**container("sidecar", res("1500m")), "restartPolicy": "Always"}
                    ],
                },
            },
            "maximum cpu usage per Pod is 2, but request is 2500m",
            id="ctr-max-cpu-limit-restartable-init-container",
        ),
        pytest.param(
            [item("Container", min=res("50m", "1Mi"), max=res("2", "1Gi"))],
            pod("two", requests=res("10m", "2Gi"), limits=res("3", "2Gi")),
            "[minimum cpu usage per Container is 50m, but request is 10m, maximum cpu usage per "
            "Container is 2, but limit is 3, maximum memory usage per Container is 1Gi, but "
            "limit is 2Gi]",
            id="aggregated",
        ),
    ],
)
def test_pod_limit_func_error_cases(
    items: list[dict[str, Any]], obj: dict[str, Any], message: str
) -> None:
    # TestPodLimitFunc (errorCases), with upstream's messages
    async def body(server: APIServer) -> None:
        await limit_range(server, *items)
        error = await refused(server, obj)
        name = obj["metadata"]["name"]
        assert error.message == f'pods "{name}" is forbidden: {message}'

    run(body)


@pytest.mark.parametrize(
    ("items", "obj"),
    [
        pytest.param(
            [item("Container", min=res("50m"))],
            pod("p", requests=res("100m"), limits=res("200m")),
            id="ctr-min-cpu-request-limit",
        ),
        pytest.param(
            [item("Container", maxLimitRequestRatio=res("1.5"))],
            pod("p", requests=res("500m"), limits=res("750m")),
            id="ctr-max-cpu-ratio",
        ),
        pytest.param(
            [item("Pod", max=res("2"))],
            pod(
                "pod-init-max-cpu-request-limit",
                2,
                requests=res("500m"),
                limits=res("1"),
                init=[container("a", res("1"), res("2")), container("b", res("1"), res("1"))],
            ),
            id="pod-init-max-cpu-request-limit",
        ),
        pytest.param(
            [item("Pod", max=res(memory="2Gi"), maxLimitRequestRatio=res(memory="1.5"))],
            pod("pod-max-mem-ratio", 3, requests=res(memory="300Mi"), limits=res(memory="450Mi")),
            id="pod-max-mem-ratio",
        ),
        pytest.param(
            [item("Container", min=res(ephemeral_storage="50Mi"))],
            pod("p", requests=res(ephemeral_storage="60Mi")),
            id="ctr-1-min-local-ephemeral-storage-request",
        ),
        pytest.param(
            valid_limit_range(),
            pod("defaulted"),
            id="defaults-satisfy-their-own-limits",
        ),
    ],
)
def test_pod_limit_func_success_cases(items: list[dict[str, Any]], obj: dict[str, Any]) -> None:
    # TestPodLimitFunc (successCases)
    async def body(server: APIServer) -> None:
        await limit_range(server, *items)
        await server.storage("", "v1", "pods").create(obj, NS)

    run(body)


def test_pod_updates_and_subresources_are_ignored() -> None:
    # TestLimitRangerAdmitPod, TestLimitRangerIgnoresSubresource
    async def body(server: APIServer) -> None:
        pods = server.storage("", "v1", "pods")
        created = await pods.create(pod("testpod"), NS)  # before any LimitRange
        await limit_range(server, valid_limit_range_no_defaults()[0])
        error = await refused(server, pod("other"))  # the same pod cannot be created now
        assert error.message == (
            'pods "other" is forbidden: [minimum cpu usage per Pod is 50m.  No request is '
            "specified, minimum memory usage per Pod is 2Mi.  No request is specified, maximum "
            "cpu usage per Pod is 200m.  No limit is specified, maximum memory usage per Pod is "
            "4Gi.  No limit is specified]"
        )
        # ... but it may still be updated, and its status written.
        created["metadata"]["labels"] = {"a": "b"}
        updated = await pods.update(created, NS, "testpod")
        assert updated["spec"]["containers"][0]["resources"] == {}
        updated["status"] = {"phase": "Running"}
        await pods.update(updated, NS, "testpod", subresource="status")

    run(body)


def test_first_limit_range_defaults_win() -> None:
    async def body(server: APIServer) -> None:
        await limit_range(
            server, item("Container", default=res("1"), defaultRequest=res("500m")), name="a"
        )
        await limit_range(
            server,
            item("Container", default=res("2", "1Gi"), defaultRequest=res("1", "512Mi")),
            name="b",
        )
        created = await server.storage("", "v1", "pods").create(pod("p"), NS)
        assert created["spec"]["containers"][0]["resources"] == {
            "limits": {"cpu": "1", "memory": "1Gi"},
            "requests": {"cpu": "500m", "memory": "512Mi"},
        }
        # The annotation says what the last LimitRange that set anything set.
        assert created["metadata"]["annotations"]["kubernetes.io/limit-ranger"] == (
            "LimitRanger plugin set: memory request for container foo-0; memory limit for "
            "container foo-0"
        )

    run(body)


def claim(name: str, storage: str) -> dict[str, Any]:
    return {
        "metadata": {"name": name},
        "spec": {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": storage}}},
    }


def test_persistent_volume_claim_limit_func() -> None:
    # TestPersistentVolumeClaimLimitFunc
    async def body(server: APIServer) -> None:
        await limit_range(server, item("PersistentVolumeClaim", min=res(storage="1Gi")), name="a")
        await limit_range(server, item("PersistentVolumeClaim", max=res(storage="10Gi")), name="b")
        claims = server.storage("", "v1", "persistentvolumeclaims")
        await claims.create(claim("pvc-is-min-storage-request", "1Gi"), NS)
        await claims.create(claim("pvc-is-max-storage-request", "10Gi"), NS)
        await claims.create(claim("pvc-within-minmax-storage-request", "5Gi"), NS)
        small = claim("pvc-below-min-storage-request", "500Mi")
        with pytest.raises(APIError) as low:
            await claims.create(small, NS)
        assert low.value.message == (
            'persistentvolumeclaims "pvc-below-min-storage-request" is forbidden: minimum '
            "storage usage per PersistentVolumeClaim is 1Gi, but request is 500Mi"
        )
        with pytest.raises(APIError) as high:
            await claims.create(claim("pvc-exceeds-max-storage-request", "20Gi"), NS)
        assert high.value.code == 403
        assert high.value.message == (
            'persistentvolumeclaims "pvc-exceeds-max-storage-request" is forbidden: maximum '
            "storage usage per PersistentVolumeClaim is 10Gi, but request is 20Gi"
        )
        names = [c["metadata"]["name"] for c in (await claims.list(NS, ListOptions()))["items"]]
        assert names == [
            "pvc-is-max-storage-request",
            "pvc-is-min-storage-request",
            "pvc-within-minmax-storage-request",
        ]
        # Updates of claims are checked too: growing past the maximum is refused.
        grown = await claims.get(NS, "pvc-within-minmax-storage-request")
        grown["status"] = {"phase": "Bound"}  # only a bound claim may grow (validation)
        grown = await claims.update(grown, NS, grown["metadata"]["name"], subresource="status")
        grown["spec"]["resources"]["requests"]["storage"] = "11Gi"
        with pytest.raises(APIError) as update:
            await claims.update(grown, NS, "pvc-within-minmax-storage-request")
        assert update.value.message.endswith("but request is 11Gi")
        # ... unless the claim is being deleted (TestLimitRangerAdmitPod's terminating pod).
        held = claim("held", "5Gi")
        held["metadata"]["finalizers"] = ["example.com/hold"]
        await claims.create(held, NS)
        await claims.delete(NS, "held")
        terminating = await claims.get(NS, "held")
        assert terminating["metadata"]["deletionTimestamp"]
        terminating["status"] = {"phase": "Bound"}  # only a bound claim may grow (validation)
        terminating = await claims.update(terminating, NS, "held", subresource="status")
        terminating["spec"]["resources"]["requests"]["storage"] = "11Gi"
        await claims.update(terminating, NS, "held")

    run(body)
