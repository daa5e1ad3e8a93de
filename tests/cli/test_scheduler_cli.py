"""``kframe scheduler explain`` from the command line: the JSON contract and one-line errors."""

from __future__ import annotations

import json
import socket
from pathlib import Path

import pytest

from kframe.scheduler import DEFAULT_PLUGINS
from tests.cli.test_cli import kframe

CLUSTER = """
apiVersion: v1
kind: Node
metadata: {name: small, labels: {kubernetes.io/hostname: small}}
status: {allocatable: {cpu: "1", memory: 1Gi, pods: "110"}}
---
apiVersion: v1
kind: Node
metadata: {name: big, labels: {kubernetes.io/hostname: big}}
status: {allocatable: {cpu: "8", memory: 8Gi, pods: "110"}}
---
apiVersion: v1
kind: Node
metadata: {name: tainted, labels: {kubernetes.io/hostname: tainted}}
spec: {taints: [{key: dedicated, value: gpu, effect: NoSchedule}]}
status: {allocatable: {cpu: "8", memory: 8Gi, pods: "110"}}
---
apiVersion: v1
kind: Pod
metadata: {name: web, namespace: default}
spec:
  containers: [{name: c, image: nginx, resources: {requests: {cpu: "2"}}}]
---
apiVersion: v1
kind: Pod
metadata: {name: running, namespace: default}
spec:
  nodeName: big
  containers: [{name: c, image: nginx, resources: {requests: {cpu: "1"}}}]
"""


@pytest.fixture
def cluster(tmp_path: Path) -> Path:
    path = tmp_path / "cluster.yaml"
    path.write_text(CLUSTER)
    return path


def test_explain_prints_every_nodes_verdict_and_the_choice(cluster: Path) -> None:
    result = kframe("scheduler", "explain", "-f", str(cluster), "--pod", "default/web")
    assert result.returncode == 0, result.stderr
    doc = json.loads(result.stdout)
    assert doc["pod"] == "default/web" and doc["selectedNode"] == "big"
    assert list(doc["nodes"]) == ["small", "big", "tainted"]
    assert doc["nodes"]["small"] == {
        "filter": {
            "code": "Unschedulable",
            "plugin": "NodeResourcesFit",
            "reasons": ["Insufficient cpu"],
        },
        "scores": {},
        "finalScore": None,
    }
    assert doc["nodes"]["tainted"]["filter"] == {
        "code": "UnschedulableAndUnresolvable",
        "plugin": "TaintToleration",
        "reasons": ["node(s) had untolerated taint {dedicated: gpu}"],
    }
    big = doc["nodes"]["big"]
    assert big["filter"]["code"] == "Success"
    scores = big["scores"]
    assert scores["TaintToleration"] == {"raw": 0, "normalized": 100, "weighted": 300}
    weights = {p.name: p.weight or 1 for p in DEFAULT_PLUGINS.multi_point.enabled}
    for plugin, entry in scores.items():
        assert entry["weighted"] == entry["normalized"] * weights[plugin]
    assert big["finalScore"] == sum(s["weighted"] for s in scores.values())


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--pod", "default/missing"), "pod default/missing is not in the cluster file"),
        (("--pod", "default/running"), "pod default/running is already bound to node 'big'"),
        (("--pod", "web", "--config", "/nonexistent.yaml"), "reading /nonexistent.yaml"),
    ],
)
def test_explain_errors_are_one_line(cluster: Path, args: tuple[str, ...], message: str) -> None:
    result = kframe("scheduler", "explain", "-f", str(cluster), *args)
    assert result.returncode == 1
    assert result.stderr.count("\n") == 1 and message in result.stderr, result.stderr
    assert "Traceback" not in result.stderr


def test_explain_rejects_an_unknown_plugin_in_the_config(cluster: Path, tmp_path: Path) -> None:
    config = tmp_path / "config.yaml"
    config.write_text(
        "apiVersion: kubescheduler.config.k8s.io/v1\nkind: KubeSchedulerConfiguration\n"
        "profiles:\n- plugins:\n    multiPoint:\n      enabled: [{name: Nope}]\n"
    )
    result = kframe(
        "scheduler", "explain", "-f", str(cluster), "--pod", "web", "--config", str(config)
    )
    assert result.returncode == 1
    assert "plugin 'Nope' does not exist" in result.stderr
    assert result.stderr.count("\n") == 1


def test_a_taken_metrics_port_is_one_line_and_non_zero() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = kframe("scheduler", "--server", "http://127.0.0.1:1", "--metrics-port", str(port))
    assert result.returncode != 0
    assert result.stderr == (
        f"kframe: error: --metrics-port: cannot serve on 127.0.0.1:{port}: Address already in use\n"
    )
