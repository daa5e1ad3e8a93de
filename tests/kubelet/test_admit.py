"""Admission on the node (upstream's predicateAdmitHandler), without a cluster."""

from __future__ import annotations

from typing import Any

from kframe.api import from_dict
from kframe.api.models import Pod, Taint
from kframe.kubelet import admit_pod

ALLOC = {"cpu": "2", "memory": "4Gi", "pods": "110"}


def _pod(**spec: Any) -> Pod:
    containers = spec.pop("containers", [{"name": "c", "image": "i"}])
    return from_dict(
        {
            "metadata": {"name": "p", "namespace": "default"},
            "spec": {"containers": containers, **spec},
        },
        Pod,
    )


def _admit(pod: Pod, admitted: list[Pod] | None = None, **kw: Any) -> Any:
    return admit_pod(
        pod,
        node_name="n1",
        labels=kw.pop("labels", {"zone": "a", "size": "4"}),
        allocatable=kw.pop("allocatable", ALLOC),
        admitted=admitted or [],
        **kw,
    )


def _requesting(cpu: str = "0", memory: str = "0", **spec: Any) -> Pod:
    res = {"requests": {"cpu": cpu, "memory": memory}}
    return _pod(containers=[{"name": "c", "image": "i", "resources": res}], **spec)


def test_resources_count_the_admitted_pods() -> None:
    assert _admit(_requesting("1"), [_requesting("1")]).admit
    result = _admit(_requesting("1"), [_requesting("1500m")])
    assert (result.admit, result.reason) == (False, "OutOfcpu")
    assert result.message.endswith("cpu, requested: 1000, used: 1500, capacity: 2000")
    result = _admit(_requesting(memory="5Gi"))
    assert result.reason == "OutOfmemory"
    assert "memory, requested: 5368709120, used: 0, capacity: 4294967296" in result.message


def test_node_affinity_expressions_and_fields() -> None:
    def affinity(*exprs: dict[str, Any], fields: list[dict[str, Any]] | None = None) -> Pod:
        term: dict[str, Any] = {"matchExpressions": list(exprs)}
        if fields:
            term["matchFields"] = fields
        return _pod(
            affinity={
                "nodeAffinity": {
                    "requiredDuringSchedulingIgnoredDuringExecution": {"nodeSelectorTerms": [term]}
                }
            }
        )

    assert _admit(affinity({"key": "zone", "operator": "In", "values": ["a", "b"]})).admit
    assert _admit(affinity({"key": "size", "operator": "Gt", "values": ["3"]})).admit
    assert not _admit(affinity({"key": "zone", "operator": "NotIn", "values": ["a"]})).admit
    assert not _admit(affinity({"key": "gpu", "operator": "Exists"})).admit
    assert _admit(
        affinity(fields=[{"key": "metadata.name", "operator": "In", "values": ["n1"]}])
    ).admit
    assert _admit(_pod(nodeSelector={"zone": "b"})).reason == "NodeAffinity"


def test_host_ports_taints_and_node_name() -> None:
    def ported(port: int) -> Pod:
        return _pod(
            containers=[
                {"name": "c", "image": "i", "ports": [{"containerPort": 80, "hostPort": port}]}
            ]
        )

    result = _admit(ported(8080), [ported(8080)])
    assert (result.reason, result.message) == (
        "NodePorts",
        "Pod was rejected: Predicate NodePorts failed: node(s) didn't have free ports for the "
        "requested pod ports",
    )
    assert _admit(ported(8081), [ported(8080)]).admit
    taint = Taint(key="dedicated", value="db", effect="NoExecute")
    assert _admit(_pod(), taints=[taint]).reason == "TaintToleration"
    tolerant = _pod(tolerations=[{"key": "dedicated", "operator": "Exists"}])
    assert _admit(tolerant, taints=[taint]).admit
    assert _admit(_pod(), taints=[Taint(key="k", effect="NoSchedule")]).admit  # kubelet ignores it
    assert _admit(_pod(nodeName="n2")).reason == "NodeName"
