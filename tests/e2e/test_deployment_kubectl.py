"""Deployments under ``kframe up --nodes 3 --runtime fake`` with the real kubectl's rollout
commands: restart, pause and resume, history with change causes, undo to a revision, and the
columns ``kubectl get deployments`` prints. (Create, scale, set image, status and a plain undo
are checked in ``test_controllers_kubectl.py``.)

kubectl does most of this client-side: ``rollout undo`` reads the ReplicaSet of the revision
and JSON-patches the Deployment's template back; ``rollout restart`` and ``pause`` patch the
Deployment; ``rollout status`` watches its status and conditions. So what these checks hold the
controllers to is the revision annotations, the pod-template-hash labels, observedGeneration and
the Progressing and Available conditions.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator

import pytest

from kframe.testing import require
from tests.e2e.test_controllers_kubectl import (
    TIMEOUT,
    Kubectl,
    _available,
    _images,
    _pods,
    _ready_nodes,
    needs,
    until,
)
from tests.e2e.test_up import start, stop

pytestmark = [pytest.mark.e2e, needs("deployment", "replicaset")]


@pytest.fixture(scope="module")
def kubectl(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Kubectl]:
    require(shutil.which("kubectl") is not None, "kubectl not found on PATH")
    proc, kubeconfig = start(tmp_path_factory.mktemp("kframe"), "--nodes", "3", "--runtime", "fake")
    try:
        k = Kubectl(kubeconfig)
        until(lambda: len(_ready_nodes(k)) == 3, "3 ready nodes")
        yield k
    finally:
        stop(proc)


def _status(k: Kubectl, name: str) -> None:
    k.run("rollout", "status", f"deployment/{name}", f"--timeout={int(TIMEOUT)}s")


def _sets(k: Kubectl, name: str) -> list[dict[str, object]]:
    return k.items("replicasets", "-l", f"app={name}")


def _revision(rs: dict[str, object]) -> str:
    meta = rs["metadata"]
    assert isinstance(meta, dict)
    return str((meta.get("annotations") or {}).get("deployment.kubernetes.io/revision", ""))


def test_get_deployments_prints_ready_up_to_date_available(kubectl: Kubectl) -> None:
    kubectl.run("create", "deployment", "listed", "--image=nginx", "--replicas=2")
    until(lambda: _available(kubectl, "listed", 2), "2 available replicas")
    row = kubectl.run("get", "deployment", "listed", "--no-headers").split()
    assert row[:4] == ["listed", "2/2", "2", "2"], row
    rs = _sets(kubectl, "listed")
    assert len(rs) == 1 and _revision(rs[0]) == "1"
    meta = rs[0]["metadata"]
    assert isinstance(meta, dict)
    # The ReplicaSet is named for its template's hash, which also labels its pods.
    hash_ = meta["labels"]["pod-template-hash"]
    assert meta["name"] == f"listed-{hash_}"
    assert all(
        p["metadata"]["labels"]["pod-template-hash"] == hash_ for p in _pods(kubectl, "app=listed")
    )


def test_rollout_restart_replaces_every_pod(kubectl: Kubectl) -> None:
    kubectl.run("create", "deployment", "restarted", "--image=nginx", "--replicas=3")
    until(lambda: _available(kubectl, "restarted", 3), "3 available replicas")
    before = {p["metadata"]["name"] for p in _pods(kubectl, "app=restarted")}
    kubectl.run("rollout", "restart", "deployment/restarted")
    _status(kubectl, "restarted")

    def replaced() -> bool:
        now = {p["metadata"]["name"] for p in _pods(kubectl, "app=restarted")}
        return len(now) == 3 and not now & before

    until(replaced, "three new pods, none of the old")
    assert sorted(_revision(rs) for rs in _sets(kubectl, "restarted")) == ["1", "2"]


def test_a_paused_rollout_waits_for_resume(kubectl: Kubectl) -> None:
    kubectl.run("create", "deployment", "paused", "--image=nginx", "--replicas=2")
    until(lambda: _available(kubectl, "paused", 2), "2 available replicas")
    kubectl.run("rollout", "pause", "deployment/paused")
    kubectl.run("set", "image", "deployment/paused", "nginx=nginx:1.27")

    def observed_paused() -> bool:
        d = kubectl.json("get", "deployment", "paused")
        conditions = {c["type"]: c for c in d.get("status", {}).get("conditions", [])}
        return bool(
            d["status"].get("observedGeneration", 0) >= d["metadata"]["generation"]
            and conditions.get("Progressing", {}).get("reason") == "DeploymentPaused"
        )

    until(observed_paused, "the Progressing condition saying DeploymentPaused")
    assert len(_sets(kubectl, "paused")) == 1  # no new ReplicaSet while paused
    assert _images(kubectl, "app=paused") == {"nginx"}
    kubectl.run("rollout", "resume", "deployment/paused")
    _status(kubectl, "paused")
    until(lambda: _images(kubectl, "app=paused") == {"nginx:1.27"}, "the new image after resume")


def test_history_shows_change_causes_and_undo_goes_to_a_revision(kubectl: Kubectl) -> None:
    kubectl.run("create", "deployment", "historic", "--image=nginx:1.25", "--replicas=2")
    until(lambda: _available(kubectl, "historic", 2), "2 available replicas")
    for image in ("nginx:1.26", "nginx:1.27"):
        kubectl.run("set", "image", "deployment/historic", f"nginx={image}")
        kubectl.run(
            "annotate",
            "deployment/historic",
            f"kubernetes.io/change-cause=to {image}",
            "--overwrite",
        )
        _status(kubectl, "historic")
    until(
        lambda: sorted(_revision(rs) for rs in _sets(kubectl, "historic")) == ["1", "2", "3"],
        "three revisions",
    )
    # The change cause is copied from the Deployment to its newest ReplicaSet on a later sync.
    until(
        lambda: "to nginx:1.27" in kubectl.run("rollout", "history", "deployment/historic"),
        "the change cause in the history",
    )
    detail = kubectl.run("rollout", "history", "deployment/historic", "--revision=1")
    assert "nginx:1.25" in detail, detail
    kubectl.run("rollout", "undo", "deployment/historic", "--to-revision=1")
    _status(kubectl, "historic")
    until(lambda: _images(kubectl, "app=historic") == {"nginx:1.25"}, "revision 1's image back")
    # Rolling back moves revision 1's ReplicaSet to the newest revision (4), as upstream.
    until(
        lambda: sorted(_revision(rs) for rs in _sets(kubectl, "historic")) == ["2", "3", "4"],
        "revision 1 renumbered 4",
    )
    until(lambda: _available(kubectl, "historic", 2), "2 available replicas after the undo")
