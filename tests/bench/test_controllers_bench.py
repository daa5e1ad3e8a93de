"""``kframe bench controllers``: the harness with a stand-in controller, and the real run
with the installed deployment and replicaset controllers."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import attrs
import pytest

from kframe.api.models import Deployment, DeploymentStatus, Pod
from kframe.bench._controllers import Params, run_bench
from kframe.controller import (
    ControllerContext,
    ControllerSpec,
    Result,
    controller_ref,
    controller_uid_index,
    enabled_controllers,
    is_pod_active,
    is_pod_ready,
    pod_from_template,
    registered_controllers,
    slow_start_batch,
)
from tests.cli.test_cli import kframe


class _PodsDirectly:
    """A stand-in for the deployment controller: pods owned by the Deployment itself (no
    ReplicaSets), read from the informer by controller uid with expectations, created in
    slow-start batches; those of another image deleted."""

    def __init__(self, ctx: ControllerContext) -> None:
        self.ctx = ctx
        self.expectations = ctx.expectations()
        self.deployments = ctx.watch(Deployment)
        self.pods = ctx.watch(Pod, keys=self._owner, indexers={"uid": controller_uid_index})
        self.pods.add_handler(self._added, None, self._deleted)

    @staticmethod
    def _owner(pod: Pod) -> list[str]:
        ref = controller_ref(pod)
        assert pod.metadata is not None
        return [f"{pod.metadata.namespace}/{ref.name}"] if ref and ref.kind == "Deployment" else []

    def _added(self, pod: Pod) -> None:
        for key in self._owner(pod):
            self.expectations.creation_observed(key)

    def _deleted(self, pod: Pod) -> None:
        for key in self._owner(pod):
            self.expectations.deletion_observed(key)

    async def reconcile(self, key: str) -> Result | None:
        d = self.deployments.store.get(key)
        if d is None or d.metadata is None or d.spec is None:
            return None
        template = d.spec.template
        if template is None or template.spec is None or d.metadata.uid is None:
            return None
        client, ns = self.ctx.client, d.metadata.namespace
        image = template.spec.containers[0].image
        pods = [p for p in self.pods.store.by_index("uid", d.metadata.uid) if is_pod_active(p)]
        current: list[Pod] = []
        stale: list[Pod] = []
        for p in pods:
            fresh = p.spec is not None and p.spec.containers[0].image == image
            (current if fresh else stale).append(p)
        want = d.spec.replicas if d.spec.replicas is not None else 1
        if self.expectations.satisfied(key):
            self.expectations.expect(key, adds=max(want - len(current), 0), deletes=len(stale))
            for p in stale:
                assert p.metadata is not None and p.metadata.name is not None
                await client.delete(Pod, p.metadata.name, namespace=ns)
            await slow_start_batch(
                want - len(current), lambda: client.create(pod_from_template(template, d))
            )
        ready = len([q for q in current if is_pod_ready(q)])
        status = DeploymentStatus(
            observed_generation=d.metadata.generation,
            replicas=len(pods),
            updated_replicas=len(current),
            ready_replicas=ready,
            available_replicas=ready,
        )
        if status != d.status:
            await client.update(attrs.evolve(d, status=status), subresource="status")
        return None


SPECS = {"deployment": ControllerSpec(_PodsDirectly)}


def _check(results: list[dict[str, Any]], replicas: int) -> None:
    assert [r["name"] for r in results] == ["available", "rollout"]
    for r in results:
        assert r["timed_out"] is False and r["replicas"] == replicas
        for key in ("elapsed_s", "cpu_s", "pods_per_s", "rss_mib", "total_s"):
            assert isinstance(r[key], int | float)


def test_the_harness_times_a_deployment_up_and_rolled() -> None:
    results = asyncio.run(run_bench(Params(nodes=2, replicas=4, timeout=60), specs=SPECS))
    _check(results, 4)


def _installed(*names: str) -> bool:
    specs = registered_controllers()
    try:
        return len(enabled_controllers(names, specs)) == len(names)
    except ValueError:  # a name no installed controller answers to
        return False


@pytest.mark.skipif(
    not _installed("deployment", "replicaset"),
    reason="the deployment and replicaset controllers are not installed",
)
def test_bench_controllers_runs_small() -> None:
    result = kframe("bench", "controllers", "--nodes", "3", "--replicas", "10", "--timeout", "60")
    assert result.returncode == 0, result.stderr
    docs = [json.loads(line) for line in result.stdout.strip().splitlines()]
    _check(docs, 10)
    assert _installed(*docs[0]["controllers"])
    assert set(docs[0]["gc"]) == {"collections", "full", "total_ms", "max_ms"}


def test_bench_controllers_refuses_bad_input() -> None:
    result = kframe("bench", "controllers", "--replicas", "0")
    assert result.returncode == 2 and "must be at least 1" in result.stderr
    result = kframe("bench", "controllers", "--controllers", "nope")
    assert result.returncode != 0 and "nope" in result.stderr
    assert "Traceback" not in result.stderr
