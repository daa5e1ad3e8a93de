"""``kframe up`` schedules with the real kubectl driving it: binding, FailedScheduling events
with upstream's aggregated message, preemption, and a second profile."""

from __future__ import annotations

import json
import shutil
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from kframe.testing import require
from tests.e2e.test_up import kubectl as _kubectl
from tests.e2e.test_up import start, stop

pytestmark = pytest.mark.e2e

CONFIG = """
apiVersion: kubescheduler.config.k8s.io/v1
kind: KubeSchedulerConfiguration
profiles:
- schedulerName: default-scheduler
- schedulerName: bin-packing
  pluginConfig:
  - name: NodeResourcesFit
    args:
      scoringStrategy:
        type: MostAllocated
        resources: [{name: cpu, weight: 1}, {name: memory, weight: 1}]
"""


def _node(name: str, taint: bool = False) -> str:
    taints = [{"key": "dedicated", "value": "gpu", "effect": "NoSchedule"}] if taint else []
    return json.dumps(
        {
            "apiVersion": "v1",
            "kind": "Node",
            "metadata": {"name": name, "labels": {"kubernetes.io/hostname": name}},
            "spec": {"taints": taints},
        }
    )


def _pod(name: str, cpu: str, **spec: Any) -> str:
    body = {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": name},
        "spec": {
            "terminationGracePeriodSeconds": 0,
            "containers": [
                {"name": "c", "image": "nginx:1.27", "resources": {"requests": {"cpu": cpu}}}
            ],
            **spec,
        },
    }
    return json.dumps(body)


class Cluster:
    def __init__(self, kubeconfig: Path) -> None:
        self.kubeconfig = kubeconfig

    def run(self, *args: str, stdin: str | None = None) -> str:
        return _kubectl(self.kubeconfig, *args, stdin=stdin)

    def apply(self, manifest: str) -> None:
        self.run("apply", "-f", "-", stdin=manifest)

    def node_of(self, pod: str) -> str:
        return self.run("get", "pod", pod, "-o", "jsonpath={.spec.nodeName}").strip()

    def events(self, pod: str, reason: str) -> list[dict[str, Any]]:
        items = json.loads(self.run("get", "events", "-o", "json"))["items"]
        return [e for e in items if e["involvedObject"]["name"] == pod and e["reason"] == reason]


def eventually(check: Callable[[], Any], timeout: float = 30) -> Any:
    """Poll until ``check`` is truthy (a deadline for a real cluster, not a speed assertion)."""
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        assert time.monotonic() < deadline, "condition not reached"
        time.sleep(0.1)


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    require(shutil.which("kubectl") is not None, "kubectl not found on PATH")
    data_dir = tmp_path_factory.mktemp("kframe-up")
    config = data_dir / "scheduler.yaml"
    config.write_text(CONFIG)
    proc, kubeconfig = start(data_dir, "--scheduler-config", str(config))
    try:
        c = Cluster(kubeconfig)
        for name, taint in (("n1", False), ("n2", False), ("gpu", True)):
            c.apply(_node(name, taint))
            status = {"status": {"allocatable": {"cpu": "2", "memory": "8Gi", "pods": "110"}}}
            c.run(
                "patch",
                "node",
                name,
                "--subresource=status",
                "--type=merge",
                "-p",
                json.dumps(status),
            )
        yield c
    finally:
        stop(proc)


def test_a_pod_is_scheduled_and_the_scheduled_event_says_where(cluster: Cluster) -> None:
    cluster.apply(_pod("web", "500m"))
    node = eventually(lambda: cluster.node_of("web"))
    assert node in ("n1", "n2")  # not the tainted node
    (event,) = eventually(lambda: cluster.events("web", "Scheduled"))
    assert event["message"] == f"Successfully assigned default/web to {node}"
    assert event["source"]["component"] == "default-scheduler"
    phase = cluster.run("get", "pod", "web", "-o", "wide")
    assert node in phase


def test_the_second_profile_packs_where_the_default_spreads(cluster: Cluster) -> None:
    web = cluster.node_of("web")
    cluster.apply(_pod("packed", "100m", schedulerName="bin-packing"))
    cluster.apply(_pod("spread", "100m"))
    assert eventually(lambda: cluster.node_of("packed")) == web
    assert eventually(lambda: cluster.node_of("spread")) not in (web, "gpu")
    cluster.apply(_pod("nobody", "100m", schedulerName="no-such-scheduler"))
    time.sleep(1)
    assert cluster.node_of("nobody") == ""


def test_an_unschedulable_pod_gets_the_aggregated_message(cluster: Cluster) -> None:
    cluster.apply(_pod("huge", "8"))
    (event,) = eventually(lambda: cluster.events("huge", "FailedScheduling"))
    assert event["type"] == "Warning"
    assert event["message"].startswith(
        "0/3 nodes are available: 1 node(s) had untolerated taint {dedicated: gpu}, "
        "2 Insufficient cpu. preemption: 0/3 nodes are available: "
    )
    pod = json.loads(cluster.run("get", "pod", "huge", "-o", "json"))
    (condition,) = [c for c in pod["status"]["conditions"] if c["type"] == "PodScheduled"]
    assert (condition["status"], condition["reason"]) == ("False", "Unschedulable")
    described = cluster.run("describe", "pod", "huge")
    assert "FailedScheduling" in described
    cluster.run("delete", "pod", "huge", "--wait=false")


def test_preemption_evicts_a_lower_priority_pod(cluster: Cluster) -> None:
    for name in ("web", "packed", "spread", "nobody"):
        cluster.run("delete", "pod", name, "--ignore-not-found")
    cluster.apply(_pod("low-1", "1500m", priority=0, nodeName="n1"))
    cluster.apply(_pod("low-2", "1500m", priority=0, nodeName="n2"))
    cluster.apply(_pod("high", "1500m", priority=1000))
    node = eventually(lambda: cluster.node_of("high"), timeout=60)
    assert node in ("n1", "n2")
    victim = "low-1" if node == "n1" else "low-2"
    pods = cluster.run("get", "pods", "-o", "name").split()
    assert f"pod/{victim}" not in pods
    assert eventually(lambda: cluster.events(victim, "Preempted"))
