"""Pod admission on the node, as upstream's ``lifecycle.predicateAdmitHandler``.

A pod bound to this node is checked before it runs: enough allocatable resources beside the
pods already admitted (``OutOfcpu``, ``OutOfmemory``, ``OutOfpods``, ...), its node selector
and required node affinity (``NodeAffinity``), its ``nodeName`` (``NodeName``), free host
ports (``NodePorts``) and untolerated NoExecute taints (``TaintToleration``). A rejected pod
is failed with that reason and the message ``Pod was rejected: <why>``.
"""

from __future__ import annotations

import functools
import weakref
from collections.abc import Iterable, Mapping, Sequence

import attrs

from kframe.api import (
    Quantity,
    RequiredNodeAffinity,
    compile_tolerations,
    find_untolerated_taint,
    pod_requests,
    to_dict,
)
from kframe.api.models import Pod, PodSpec, Taint

__all__ = ["AdmitResult", "admit_pod"]


_NO_EXECUTE = frozenset({"NoExecute"})


@attrs.frozen
class AdmitResult:
    admit: bool
    reason: str = ""
    message: str = ""


def node_affinity_matches(pod: Pod, node_name: str, labels: Mapping[str, str]) -> bool:
    """nodeSelector and required node affinity (component-helpers' GetRequiredNodeAffinity)."""
    return RequiredNodeAffinity(pod).matches(labels, node_name)


def _host_ports(pod: Pod) -> Iterable[tuple[str, str, int]]:
    spec = pod.spec
    assert spec is not None
    for container in (*spec.init_containers, *spec.containers):
        for port in container.ports:
            if port.host_port:
                yield (port.host_ip or "0.0.0.0", port.protocol or "TCP", port.host_port)


def _ports_conflict(pod: Pod, others: Sequence[Pod]) -> bool:
    used = {p for other in others for p in _host_ports(other)}
    for ip, proto, port in _host_ports(pod):
        for uip, uproto, uport in used:
            if port == uport and proto == uproto and (ip == uip or "0.0.0.0" in (ip, uip)):
                return True
    return False


def _untolerated(pod: Pod, taints: Sequence[Taint]) -> bool:
    # The kubelet only minds NoExecute taints (upstream's generalFilter).
    tolerations = compile_tolerations(pod.spec.tolerations if pod.spec else ())
    return find_untolerated_taint(taints, tolerations, _NO_EXECUTE) is not None


def _amount(name: str, quantity: Quantity) -> int:
    return quantity.milli_value() if name == "cpu" else quantity.value()


# id(spec) -> (the spec, its requests as amounts): every admission sums the requests of every
# pod admitted before it, and encoding each of those specs again made admission O(pods) per
# pod (kframe bench density: 3.6 ms a pod at 15 pods a node). Entries go with their spec.
_REQUESTED: dict[int, tuple[weakref.ref[PodSpec], dict[str, int]]] = {}


def _requested(pod: Pod) -> dict[str, int]:
    spec = pod.spec
    assert spec is not None
    key = id(spec)
    hit = _REQUESTED.get(key)
    if hit is not None and hit[0]() is spec:
        return hit[1]
    amounts = {name: _amount(name, q) for name, q in pod_requests(to_dict(spec)).items()}
    _REQUESTED[key] = (weakref.ref(spec, functools.partial(_forget, key)), amounts)
    return amounts


def _forget(key: int, _gone: object) -> None:
    _REQUESTED.pop(key, None)


def admit_pod(
    pod: Pod,
    *,
    node_name: str,
    labels: Mapping[str, str],
    allocatable: Mapping[str, str],
    admitted: Sequence[Pod],
    taints: Sequence[Taint] = (),
) -> AdmitResult:
    """Whether ``pod`` fits beside the ``admitted`` (non-terminal) pods of this node."""
    spec = pod.spec
    assert spec is not None
    alloc = {k: Quantity.parse(v) for k, v in allocatable.items()}
    # NodeResourcesFit, in upstream's order: pods, cpu, memory, ephemeral-storage, then the rest.
    allowed_pods = alloc["pods"].value() if "pods" in alloc else 110
    if len(admitted) + 1 > allowed_pods:
        return _insufficient("pods", 1, len(admitted), allowed_pods)
    wanted = pod_requests(to_dict(spec))
    used: dict[str, int] = {}
    for other in admitted:
        for name, amount in _requested(other).items():
            used[name] = used.get(name, 0) + amount
    order = ["cpu", "memory", "ephemeral-storage"]
    names = order + sorted(n for n in wanted if n not in order)
    for name in names:
        quantity = wanted.get(name)
        if quantity is None or quantity.is_zero():
            continue
        request = _amount(name, quantity)
        capacity = _amount(name, alloc[name]) if name in alloc else 0
        if name not in alloc and name in order:
            continue  # a resource the node does not report is not limited (upstream: cpu/mem)
        if request > capacity - used.get(name, 0):
            return _insufficient(name, request, used.get(name, 0), capacity)
    if not node_affinity_matches(pod, node_name, labels):
        return _predicate("NodeAffinity", "node(s) didn't match Pod's node affinity/selector")
    if spec.node_name and spec.node_name != node_name:
        return _predicate("NodeName", "node(s) didn't match the requested node name")
    if _ports_conflict(pod, admitted):
        return _predicate("NodePorts", "node(s) didn't have free ports for the requested pod ports")
    if _untolerated(pod, taints):
        return _predicate("TaintToleration", "node(s) had untolerated taint(s)")
    return AdmitResult(True)


def _insufficient(name: str, requested: int, used: int, capacity: int) -> AdmitResult:
    return AdmitResult(
        False,
        f"OutOf{name}",
        "Pod was rejected: Node didn't have enough resource: "
        f"{name}, requested: {requested}, used: {used}, capacity: {capacity}",
    )


def _predicate(name: str, why: str) -> AdmitResult:
    return AdmitResult(False, name, f"Pod was rejected: Predicate {name} failed: {why}")
