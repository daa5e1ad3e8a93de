"""What the scheduler precomputes about a pod once: requests, affinity terms, host ports.

Upstream framework.PodInfo. Built when a pod enters the queue or the cache, so filters and scores
read plain attributes instead of walking the pod's spec for every node.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from kframe.api import (
    Quantity,
    Selector,
    pod_requests,
    selector_from_label_selector,
)
from kframe.api.models import (
    Container,
    LabelSelector,
    Pod,
    PodAffinityTerm,
    PodSpec,
    WeightedPodAffinityTerm,
)

from ._resource import (
    CPU,
    DEFAULT_MEMORY_REQUEST,
    DEFAULT_MILLI_CPU_REQUEST,
    MEMORY,
    Resource,
)

__all__ = ["AffinityTerm", "HostPort", "PodInfo", "WeightedAffinityTerm", "pod_key"]

_NON_ZERO = {
    CPU: Quantity.from_milli(DEFAULT_MILLI_CPU_REQUEST),
    MEMORY: Quantity.from_int(DEFAULT_MEMORY_REQUEST, "BinarySI"),
}

# (hostIP, protocol, hostPort) with upstream's defaults: 0.0.0.0 and TCP.
HostPort = tuple[str, str, int]


def pod_key(pod: Pod) -> str:
    """``namespace/name``, the key pods go by in the queue and in diagnostics."""
    meta = pod.metadata
    assert meta is not None
    return f"{meta.namespace or 'default'}/{meta.name}"


def _selector(selector: LabelSelector | None) -> Selector:
    # A missing selector matches nothing; an empty one matches everything (LabelSelectorAsSelector).
    if selector is None:
        return Selector.nothing()
    return selector_from_label_selector(selector.match_labels, selector.match_expressions)


class AffinityTerm:
    """A pod (anti-)affinity term with its namespaces resolved and its selectors parsed."""

    __slots__ = ("namespace_selector", "namespaces", "selector", "topology_key")

    def __init__(self, namespace: str, term: PodAffinityTerm) -> None:
        # No namespaces and no namespaceSelector means the pod's own namespace.
        if not term.namespaces and term.namespace_selector is None:
            self.namespaces = frozenset((namespace,))
        else:
            self.namespaces = frozenset(term.namespaces)
        self.selector = _selector(term.label_selector)
        self.namespace_selector = _selector(term.namespace_selector)
        self.topology_key = term.topology_key or ""

    def matches(self, pod: Pod, namespace_labels: Mapping[str, str] | None) -> bool:
        """Whether ``pod`` is one of the pods this term is about."""
        meta = pod.metadata
        assert meta is not None
        ns = meta.namespace or "default"
        # Unknown namespace labels are an empty set: an empty namespaceSelector still matches.
        if ns in self.namespaces or self.namespace_selector.matches(namespace_labels or {}):
            return self.selector.matches(meta.labels)
        return False


class WeightedAffinityTerm:
    __slots__ = ("term", "weight")

    def __init__(self, namespace: str, weighted: WeightedPodAffinityTerm) -> None:
        assert weighted.pod_affinity_term is not None
        self.term = AffinityTerm(namespace, weighted.pod_affinity_term)
        self.weight = weighted.weight or 0


def _terms(namespace: str, terms: Iterable[PodAffinityTerm]) -> tuple[AffinityTerm, ...]:
    return tuple(AffinityTerm(namespace, t) for t in terms)


def _weighted(
    namespace: str, terms: Iterable[WeightedPodAffinityTerm]
) -> tuple[WeightedAffinityTerm, ...]:
    return tuple(WeightedAffinityTerm(namespace, t) for t in terms if t.pod_affinity_term)


def _container_view(container: Container) -> dict[str, Any]:
    view: dict[str, Any] = {}
    resources = container.resources
    if resources is not None and resources.requests:
        view["resources"] = {"requests": {k: str(q) for k, q in resources.requests.items()}}
    if container.restart_policy:
        view["restartPolicy"] = container.restart_policy
    return view


def requests_view(spec: PodSpec) -> dict[str, Any]:
    """The part of the spec's JSON that ``pod_requests`` reads (containers' and init
    containers' requests, init containers' restartPolicy, overhead), without encoding the rest
    of the spec: the same totals as ``pod_requests(to_dict(spec))``."""
    view: dict[str, Any] = {"containers": [_container_view(c) for c in spec.containers]}
    if spec.init_containers:
        view["initContainers"] = [_container_view(c) for c in spec.init_containers]
    if spec.overhead:
        view["overhead"] = {k: str(q) for k, q in spec.overhead.items()}
    return view


# id(spec) -> (the spec, the namespace, what PodInfo derived from them); the spec is held, so
# its id is not reused while it is here. Nothing derived is changed after: it is shared.
_DERIVED: dict[int, tuple[PodSpec, str, tuple[Any, ...]]] = {}
_DERIVED_MAX = 256


class PodInfo:
    """A pod with what the scheduler derives from it.

    ``requests`` is upstream's PodRequests (containers, init containers, sidecars, overhead);
    ``non_zero_cpu``/``non_zero_memory`` count a container without a request as 100m / 200Mi,
    for the scorers that must not see empty pods as free.
    """

    __slots__ = (
        "host_ports",
        "key",
        "non_zero_cpu",
        "non_zero_memory",
        "pod",
        "preferred_affinity_terms",
        "preferred_anti_affinity_terms",
        "requests",
        "required_affinity_terms",
        "required_anti_affinity_terms",
    )

    pod: Pod
    key: str
    requests: Resource
    non_zero_cpu: int
    non_zero_memory: int
    required_affinity_terms: tuple[AffinityTerm, ...]
    required_anti_affinity_terms: tuple[AffinityTerm, ...]
    preferred_affinity_terms: tuple[WeightedAffinityTerm, ...]
    preferred_anti_affinity_terms: tuple[WeightedAffinityTerm, ...]
    host_ports: tuple[HostPort, ...]

    def __init__(self, pod: Pod) -> None:
        self.pod = pod
        self.key = pod_key(pod)
        spec = pod.spec
        assert spec is not None, "a pod without a spec cannot be scheduled"
        ns = (pod.metadata.namespace if pod.metadata else None) or "default"
        # What is derived depends only on the spec and the namespace: a workload's pods share
        # one spec model (the API server decodes a spec once), derived once.
        seen = _DERIVED.get(id(spec))
        if seen is not None and seen[0] is spec and seen[1] == ns:
            (
                self.requests,
                self.non_zero_cpu,
                self.non_zero_memory,
                self.required_affinity_terms,
                self.required_anti_affinity_terms,
                self.preferred_affinity_terms,
                self.preferred_anti_affinity_terms,
                self.host_ports,
            ) = seen[2]
            return
        self._derive(spec, ns)
        if len(_DERIVED) >= _DERIVED_MAX:
            del _DERIVED[next(iter(_DERIVED))]
        _DERIVED[id(spec)] = (
            spec,
            ns,
            (
                self.requests,
                self.non_zero_cpu,
                self.non_zero_memory,
                self.required_affinity_terms,
                self.required_anti_affinity_terms,
                self.preferred_affinity_terms,
                self.preferred_anti_affinity_terms,
                self.host_ports,
            ),
        )

    def _derive(self, spec: PodSpec, ns: str) -> None:
        spec_dict = requests_view(spec)
        self.requests = Resource.from_list(pod_requests(spec_dict))
        non_zero = pod_requests(spec_dict, non_missing=_NON_ZERO)
        # A pod without containers requests nothing, not the defaults.
        self.non_zero_cpu = non_zero[CPU].milli_value() if CPU in non_zero else 0
        self.non_zero_memory = non_zero[MEMORY].value() if MEMORY in non_zero else 0
        affinity = spec.affinity
        pa = affinity.pod_affinity if affinity else None
        paa = affinity.pod_anti_affinity if affinity else None
        self.required_affinity_terms = _terms(
            ns, pa.required_during_scheduling_ignored_during_execution if pa else ()
        )
        self.required_anti_affinity_terms = _terms(
            ns, paa.required_during_scheduling_ignored_during_execution if paa else ()
        )
        self.preferred_affinity_terms = _weighted(
            ns, pa.preferred_during_scheduling_ignored_during_execution if pa else ()
        )
        self.preferred_anti_affinity_terms = _weighted(
            ns, paa.preferred_during_scheduling_ignored_during_execution if paa else ()
        )
        self.host_ports = tuple(
            (port.host_ip or "0.0.0.0", port.protocol or "TCP", port.host_port)
            for container in spec.containers  # upstream counts regular containers only
            for port in container.ports
            if port.host_port is not None and port.host_port > 0
        )

    def with_pod(self, pod: Pod) -> PodInfo:
        """This PodInfo for another version of the same pod whose spec differs at most in
        ``nodeName`` (which nothing here derives from): the assumed pod, the bound one."""
        other = PodInfo.__new__(PodInfo)
        for name in PodInfo.__slots__:
            setattr(other, name, getattr(self, name))
        other.pod = pod
        return other

    def same_derivation(self, pod: Pod) -> bool:
        """Whether :meth:`with_pod` may stand for ``PodInfo(pod)``: the same namespace and name,
        and the same spec."""
        mine, theirs = self.pod.metadata, pod.metadata
        if mine is None or theirs is None:
            return False
        return (
            mine.name == theirs.name
            and mine.namespace == theirs.namespace
            and self.pod.spec == pod.spec
        )

    @property
    def has_affinity(self) -> bool:
        """Whether the pod has any pod affinity or anti-affinity term (``PodsWithAffinity``)."""
        return bool(
            self.required_affinity_terms
            or self.required_anti_affinity_terms
            or self.preferred_affinity_terms
            or self.preferred_anti_affinity_terms
        )

    def __repr__(self) -> str:
        return f"PodInfo({self.key})"
