"""``kframe kubelet`` against a running ``kframe apiserver``, and its one-line errors."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from pathlib import Path

from kframe.testing.cluster import running_apiserver
from tests.cli.test_cli import kframe


def _get(server: str, path: str) -> dict:  # type: ignore[type-arg]
    import urllib.request

    with urllib.request.urlopen(server + path, timeout=10) as response:
        return json.loads(response.read())


def _server(kubeconfig: Path) -> str:
    import yaml

    data = yaml.safe_load(kubeconfig.read_text())
    return str(data["clusters"][0]["cluster"]["server"])


def test_kubelet_registers_a_node_and_runs_a_pod(tmp_path: Path) -> None:
    with running_apiserver(tmp_path / "api") as kubeconfig:
        server = _server(kubeconfig)
        exe = str(Path(sys.executable).with_name("kframe"))
        proc = subprocess.Popen(
            [
                exe,
                "kubelet",
                "--kubeconfig",
                str(kubeconfig),
                "--node-name",
                "worker-1",
                "--runtime",
                "fake",
                "--port",
                "0",
                "--pod-cidr",
                "10.244.7.0/24",
                "--capacity",
                "cpu=16,memory=64Gi,pods=50",
            ],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        try:
            node = _wait(lambda: _try(server, "/api/v1/nodes/worker-1"))
            ready = {c["type"]: c["status"] for c in node["status"]["conditions"]}
            assert ready["Ready"] == "True"
            assert node["spec"]["podCIDR"] == "10.244.7.0/24"
            assert node["status"]["capacity"] == {"cpu": "16", "memory": "64Gi", "pods": "50"}
            pod = {
                "apiVersion": "v1",
                "kind": "Pod",
                "metadata": {"name": "web", "namespace": "default"},
                "spec": {
                    "nodeName": "worker-1",
                    "containers": [{"name": "c", "image": "nginx:1.27"}],
                },
            }
            _post(server, "/api/v1/namespaces/default/pods", pod)
            running = _wait(lambda: _running(server))
            assert running["status"]["podIP"].startswith("10.244.7.")
        finally:
            proc.send_signal(signal.SIGTERM)
            out, err = proc.communicate(timeout=30)
        assert proc.returncode == 0, err
        assert "kframe kubelet: node worker-1" in out


def _try(server: str, path: str) -> dict | None:  # type: ignore[type-arg]
    try:
        return _get(server, path)
    except Exception:
        return None


def _running(server: str) -> dict | None:  # type: ignore[type-arg]
    pod = _try(server, "/api/v1/namespaces/default/pods/web")
    return pod if pod and pod.get("status", {}).get("phase") == "Running" else None


def _post(server: str, path: str, body: dict) -> None:  # type: ignore[type-arg]
    import urllib.request

    request = urllib.request.Request(
        server + path,
        data=json.dumps(body).encode(),
        method="POST",
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=10):
        pass


def _wait(check, timeout: float = 30):  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        assert time.monotonic() < deadline, "condition not reached"
        time.sleep(0.1)


def test_an_unknown_runtime_is_one_line(tmp_path: Path) -> None:
    result = kframe("kubelet", "--server", "http://127.0.0.1:1", "--runtime", "nope")
    assert result.returncode != 0
    assert "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert "nope" in result.stderr


def test_a_bad_runtime_config_is_one_line(tmp_path: Path) -> None:
    bad = tmp_path / "rt.yaml"
    bad.write_text("no_such_knob: 1\n")
    result = kframe("kubelet", "--server", "http://127.0.0.1:1", "--runtime-config", str(bad))
    assert result.returncode != 0
    assert "Traceback" not in result.stderr
    assert "no_such_knob" in result.stderr
    missing = kframe("kubelet", "--server", "http://127.0.0.1:1", "--runtime-config", "/nope.yaml")
    assert missing.returncode != 0 and "Traceback" not in missing.stderr
    assert "/nope.yaml" in missing.stderr
    bad_capacity = kframe("kubelet", "--server", "http://127.0.0.1:1", "--capacity", "cpu")
    assert bad_capacity.returncode == 1
    assert bad_capacity.stderr.strip() == "kframe: error: --capacity: 'cpu' is not key=value"


def test_up_hosts_nodes_that_run_pods(tmp_path: Path) -> None:
    exe = str(Path(sys.executable).with_name("kframe"))
    proc = subprocess.Popen(
        [
            exe,
            "up",
            "--data-dir",
            str(tmp_path),
            "--store",
            "memory://",
            "--port",
            "0",
            "--nodes",
            "2",
            "--runtime",
            "fake",
            "--scheduler-port",
            "0",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        kubeconfig = tmp_path / "kubeconfig"
        _wait(lambda: kubeconfig.exists() and _try(_server(kubeconfig), "/version"))
        server = _server(kubeconfig)

        def nodes_ready() -> list | None:  # type: ignore[type-arg]
            nodes = (_try(server, "/api/v1/nodes") or {}).get("items", [])
            ready = [
                n["metadata"]["name"]
                for n in nodes
                if any(
                    c["type"] == "Ready" and c["status"] == "True"
                    for c in n["status"]["conditions"]
                )
            ]
            return sorted(ready) if len(ready) == 2 else None

        assert nodes_ready() in (None, ["node-0", "node-1"])
        assert _wait(nodes_ready) == ["node-0", "node-1"]
        node = _get(server, "/api/v1/nodes/node-1")
        assert node["spec"]["podCIDR"] == "10.244.1.0/24"
        pod = {
            "apiVersion": "v1",
            "kind": "Pod",
            "metadata": {"name": "web", "namespace": "default"},
            "spec": {"containers": [{"name": "c", "image": "nginx:1.27"}]},
        }
        _post(server, "/api/v1/namespaces/default/pods", pod)  # the hosted scheduler places it
        running = _wait(lambda: _running(server))
        assert running["spec"]["nodeName"] in ("node-0", "node-1")
    finally:
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=30)
    assert proc.returncode == 0, err


def test_up_refuses_an_unknown_runtime(tmp_path: Path) -> None:
    result = kframe(
        "up",
        "--data-dir",
        str(tmp_path),
        "--store",
        "memory://",
        "--port",
        "0",
        "--nodes",
        "1",
        "--runtime",
        "nope",
    )
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert "--runtime 'nope': no such container runtime" in result.stderr
