"""The example controller of docs/tutorial-controller.md (examples/controller): it labels pods
with their node in an in-process control plane, as a plugin inside ``kframe up`` (found through
its entry point), and alone with ``run.py`` against that ``kframe up``."""

from __future__ import annotations

import importlib
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from kframe.api.models import Container, Event, ObjectMeta, Pod, PodSpec
from kframe.controller import registered_controllers
from kframe.registry import build_registry
from kframe.testing.controllers import control_plane
from tests.controller.asyncrun import sync

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "controller"
KFRAME = str(Path(sys.executable).with_name("kframe"))
LABEL = "example.kframe.io/node"


@pytest.fixture(scope="module", autouse=True)
def importable() -> Iterator[None]:
    sys.path.insert(0, str(EXAMPLE))
    try:
        yield
    finally:
        sys.path.remove(str(EXAMPLE))


def pod(name: str) -> Pod:
    return Pod(
        metadata=ObjectMeta(name=name, namespace="default"),
        spec=PodSpec(containers=(Container(name="c", image="nginx"),)),
    )


@sync
async def test_the_controller_labels_scheduled_pods_with_their_node() -> None:
    kframe_podnode = importlib.import_module("kframe_podnode")
    specs = registered_controllers(
        build_registry(entry_points=False, plugins=[("podnode", kframe_podnode)])
    )
    assert list(specs) == ["podnode"] and specs["podnode"].workers == 2
    async with control_plane(specs=specs, nodes=2, scheduler=True) as cp:
        await cp.client.create(pod("web"))

        async def labelled() -> Pod | None:
            got = await cp.client.get(Pod, "web", namespace="default")
            assert got.metadata is not None and got.spec is not None
            node = got.spec.node_name
            return got if node and (got.metadata.labels or {}).get(LABEL) == node else None

        got = await cp.wait_for(labelled, what="the node label")
        assert got.spec is not None and got.spec.node_name in ("node-0", "node-1")

        async def event() -> list[Event]:
            items = (await cp.client.list(Event, namespace="default")).items
            return [e for e in items if e.reason == "NodeLabeled"]

        (ev,) = await cp.wait_for(event, what="the NodeLabeled event")
        assert ev.source is not None and ev.source.component == "podnode-controller"


# -- as a plugin of `kframe up`, and alone with run.py ----------------------------------------


def plugin_env(tmp_path: Path) -> dict[str, str]:
    """An environment where the example is "installed": a dist-info with its entry point on
    PYTHONPATH (what `pip install -e examples/controller` would write), without installing."""
    dist = tmp_path / "site" / "kframe_podnode_example-0.1.0.dist-info"
    dist.mkdir(parents=True)
    (dist / "METADATA").write_text(
        "Metadata-Version: 2.1\nName: kframe-podnode-example\nVersion: 0.1.0\n"
    )
    (dist / "entry_points.txt").write_text("[kframe]\npodnode = kframe_podnode\n")
    path = os.pathsep.join([str(dist.parent), str(EXAMPLE), os.environ.get("PYTHONPATH", "")])
    return {**os.environ, "PYTHONPATH": path.rstrip(os.pathsep)}


def kubectl(kubeconfig: Path, *args: str, stdin: str | None = None) -> Any:
    result = subprocess.run(
        ["kubectl", "--kubeconfig", str(kubeconfig), *args],
        input=stdin,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return json.loads(result.stdout) if "json" in args else result.stdout


def wait_for_labels(kubeconfig: Path, labels: list[str], timeout: float = 30) -> dict[str, str]:
    deadline = time.monotonic() + timeout
    while True:
        got = kubectl(kubeconfig, "get", "pod", "web", "-o", "json")
        node = got["spec"].get("nodeName")
        have = got["metadata"].get("labels") or {}
        if node and all(have.get(label) == node for label in labels):
            return dict(have)
        if time.monotonic() > deadline:
            raise AssertionError(f"labels {have} on node {node!r}, wanted {labels}")
        time.sleep(0.2)


def stop(proc: subprocess.Popen[str], sig: int = signal.SIGINT) -> str:
    if proc.poll() is None:
        proc.send_signal(sig)
    _, err = proc.communicate(timeout=30)
    assert proc.returncode == 0, err
    return err


def test_as_a_plugin_in_kframe_up_and_alone_with_run_py(tmp_path: Path) -> None:
    env = plugin_env(tmp_path)
    flags = ["--port", "0", "--scheduler-port", "0", "--nodes", "1", "--controllers", "podnode"]
    # --option and --concurrent-syncs reach the hosted controller.
    flags += [
        "--option",
        "podnode-label=example.kframe.io/in-up",
        "--concurrent-syncs",
        "podnode=3",
    ]
    up = subprocess.Popen(
        [KFRAME, "up", "--data-dir", str(tmp_path / "data"), *flags],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    alone: subprocess.Popen[str] | None = None
    try:
        assert up.stdout is not None
        line = ""
        while "listening on" not in line:
            line = up.stdout.readline()
            if not line and up.poll() is not None:
                raise AssertionError(up.communicate()[1])
        kubeconfig = tmp_path / "data" / "kubeconfig"
        # run.py, not installed, on its own lease, writing a label of its choosing.
        run_py = [str(EXAMPLE / "run.py"), "--kubeconfig", str(kubeconfig)]
        alone = subprocess.Popen(
            [sys.executable, *run_py, "--label", "example.kframe.io/by-run-py"],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        assert alone.stdout is not None and "labelling pods" in alone.stdout.readline()
        kubectl(kubeconfig, "run", "web", "--image", "nginx")
        labels = wait_for_labels(
            kubeconfig, ["example.kframe.io/in-up", "example.kframe.io/by-run-py"]
        )
        assert labels["example.kframe.io/in-up"] == "node-0" and LABEL not in labels
        leases = kubectl(kubeconfig, "get", "leases", "-n", "kube-system", "-o", "json")
        names = {item["metadata"]["name"] for item in leases["items"]}
        assert {"kube-controller-manager", "podnode-controller"} <= names
        stop(alone, signal.SIGTERM)
    finally:
        if alone is not None and alone.poll() is None:
            alone.kill()
            alone.communicate()
        err = stop(up)
    assert "Traceback" not in err
