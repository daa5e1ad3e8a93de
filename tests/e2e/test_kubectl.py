"""The real kubectl against ``kframe apiserver``: the workflows users run first."""

from __future__ import annotations

import signal
import subprocess
import time
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from tests.e2e.conftest import Kubectl

pytestmark = pytest.mark.e2e

DEPLOYMENT = """
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  labels: {app: web}
spec:
  replicas: 2
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers:
      - {name: web, image: "nginx:1.27", ports: [{containerPort: 80}]}
"""


def test_discovery_and_version(kubectl: Kubectl) -> None:
    resources = kubectl.run("api-resources", "-o", "name").stdout.split()
    assert {"pods", "deployments.apps", "leases.coordination.k8s.io"} <= set(resources)
    assert "Server Version: v1.33" in kubectl.run("version").stdout
    names = kubectl.run("get", "ns", "-o", "name").stdout.split()
    assert {"namespace/default", "namespace/kube-system"} <= set(names)


def test_create_get_apply_patch_delete(kubectl: Kubectl) -> None:
    kubectl.run("apply", "-f", "-", stdin=DEPLOYMENT)
    assert kubectl.json("get", "deploy", "web")["spec"]["replicas"] == 2
    kubectl.run("apply", "-f", "-", stdin=DEPLOYMENT.replace("replicas: 2", "replicas: 3"))
    assert kubectl.json("get", "deploy", "web")["spec"]["replicas"] == 3
    kubectl.run("label", "deploy", "web", "tier=frontend")
    kubectl.run("annotate", "deploy", "web", "note=hello")
    kubectl.run("patch", "deploy", "web", "--type=merge", "-p", '{"spec":{"replicas":4}}')
    kubectl.run(
        "patch",
        "deploy",
        "web",
        "--type=json",
        "-p",
        '[{"op":"replace","path":"/spec/replicas","value":5}]',
    )
    kubectl.run(
        "patch",
        "deploy",
        "web",
        "-p",
        '{"spec":{"template":{"spec":{"containers":[{"name":"web","image":"nginx:2"}]}}}}',
    )
    kubectl.run("scale", "deploy", "web", "--replicas=5")
    got = kubectl.json("get", "deploy", "-l", "tier=frontend")["items"][0]
    assert got["spec"]["replicas"] == 5
    assert got["metadata"]["annotations"]["note"] == "hello"
    assert got["spec"]["template"]["spec"]["containers"][0]["image"] == "nginx:2"
    assert got["spec"]["template"]["spec"]["containers"][0]["ports"] == [
        {"containerPort": 80, "protocol": "TCP"}
    ]
    table = kubectl.run("get", "deploy", "-o", "wide").stdout
    assert table.splitlines()[0].split()[:4] == ["NAME", "READY", "UP-TO-DATE", "AVAILABLE"]
    kubectl.run("delete", "deploy", "web", "--wait")
    assert "NotFound" in kubectl.run("get", "deploy", "web", check=False).stderr


def test_errors_users_see(kubectl: Kubectl) -> None:
    bad = kubectl.run(
        "apply",
        "-f",
        "-",
        check=False,
        stdin=DEPLOYMENT.replace("name: web\n  labels", "name: Web_1\n  labels"),
    )
    assert bad.returncode != 0 and 'is invalid: metadata.name: Invalid value: "Web_1"' in bad.stderr
    missing = kubectl.run("apply", "-n", "nope", "-f", "-", check=False, stdin=DEPLOYMENT)
    assert 'namespaces "nope" not found' in missing.stderr
    kubectl.run("create", "-f", "-", stdin=DEPLOYMENT)
    dup = kubectl.run("create", "-f", "-", check=False, stdin=DEPLOYMENT)
    assert (
        '(AlreadyExists): error when creating "STDIN": deployments.apps "web" already exists'
        in (dup.stderr)
    )
    kubectl.run("delete", "deploy", "web")


def test_stale_replace_conflicts(kubectl: Kubectl, tmp_path: Path) -> None:
    kubectl.run(
        "apply",
        "-f",
        "-",
        stdin="apiVersion: v1\nkind: ConfigMap\nmetadata: {name: cfg}\ndata: {a: b}\n",
    )
    stale = kubectl.run("get", "cm", "cfg", "-o", "yaml").stdout
    kubectl.run("label", "cm", "cfg", "x=y")
    (tmp_path / "stale.yaml").write_text(stale)
    result = kubectl.run("replace", "-f", str(tmp_path / "stale.yaml"), check=False)
    assert result.returncode != 0
    assert "the object has been modified; please apply your changes to the latest version" in (
        result.stderr
    )


def test_pagination_and_selectors(kubectl: Kubectl) -> None:
    kubectl.run(
        "apply", "-f", "-", stdin="apiVersion: v1\nkind: Namespace\nmetadata: {name: pages}\n"
    )
    manifest = "".join(
        "---\napiVersion: v1\nkind: ConfigMap\n"
        f'metadata: {{name: c{i}, labels: {{parity: "{i % 2}"}}}}\n'
        for i in range(12)
    )
    kubectl.run("apply", "-n", "pages", "-f", "-", stdin=manifest)
    chunked = kubectl.run("get", "cm", "-n", "pages", "--chunk-size=5", "-o", "name").stdout
    assert len(chunked.split()) == 12
    odd = kubectl.run("get", "cm", "-n", "pages", "-l", "parity=1", "-o", "name").stdout.split()
    assert len(odd) == 6
    one = kubectl.run(
        "get", "cm", "-A", "--field-selector", "metadata.name=c3", "-o", "name"
    ).stdout.split()
    assert one == ["configmap/c3"]


def test_watch_sees_changes(kubectl: Kubectl) -> None:
    watcher = subprocess.Popen(
        [
            "kubectl",
            "--kubeconfig",
            str(kubectl.kubeconfig),
            "get",
            "cm",
            "-n",
            "default",
            "--watch-only",
            "-o",
            "name",
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        time.sleep(1)
        kubectl.run(
            "create",
            "-f",
            "-",
            stdin="apiVersion: v1\nkind: ConfigMap\nmetadata: {name: watched}\n",
        )
        assert watcher.stdout is not None
        assert watcher.stdout.readline().strip() == "configmap/watched"
    finally:
        watcher.send_signal(signal.SIGINT)
        watcher.communicate(timeout=10)


def test_typed_create_commands_send_protobuf_and_work(kubectl: Kubectl) -> None:
    # kubectl 1.32+ encodes these bodies as Kubernetes protobuf.
    kubectl.run("create", "namespace", "typed")
    for args in (
        ("deployment", "web", "--image=nginx:1.27", "--replicas=3"),
        ("configmap", "cfg", "--from-literal=a=b"),
        ("secret", "generic", "pw", "--from-literal=password=x"),
        ("service", "clusterip", "web", "--tcp=80:8080"),
        ("job", "once", "--image=busybox", "--", "echo", "hi"),
        ("serviceaccount", "robot"),
    ):
        kubectl.run("create", *args, "-n", "typed")
    deployment = kubectl.json("get", "deploy", "web", "-n", "typed")
    assert deployment["spec"]["replicas"] == 3
    assert deployment["spec"]["template"]["spec"]["containers"][0]["image"] == "nginx:1.27"
    assert kubectl.json("get", "cm", "cfg", "-n", "typed")["data"] == {"a": "b"}
    service = kubectl.json("get", "svc", "web", "-n", "typed")
    assert service["spec"]["ports"][0]["targetPort"] == 8080
