"""What Filter and Score share: a pod's spread constraints with their selectors parsed, the
default constraints' selector, and counting the matching pods on a node (upstream common.go and
helper.DefaultSelector).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence

from kframe.api import Requirement, Selector, SelectorError, selector_from_label_selector
from kframe.api.models import (
    LabelSelector,
    Node,
    Pod,
    ReplicaSet,
    Service,
    StatefulSet,
    TopologySpreadConstraint,
)
from kframe.scheduler import Handle, PodInfo

__all__ = [
    "HOSTNAME",
    "Constraint",
    "Matcher",
    "build_constraints",
    "compile_selector",
    "count_matching",
    "default_selector",
    "has_all_keys",
    "node_labels",
    "pod_namespace",
]

HOSTNAME = "kubernetes.io/hostname"
_HONOR = "Honor"

#: A selector turned into a plain function of a label map.
Matcher = Callable[[Mapping[str, str]], bool]


def _never(labels: Mapping[str, str]) -> bool:
    return False


def _always(labels: Mapping[str, str]) -> bool:
    return True


def compile_selector(selector: Selector) -> Matcher:
    """A fast equivalent of ``selector.matches``: equality terms become dict lookups."""
    if not selector.selectable:
        return _never
    reqs = selector.requirements
    if not reqs:
        return _always
    if all(r.operator in ("=", "==") or (r.operator == "in" and len(r.values) == 1) for r in reqs):
        pairs = tuple((r.key, r.values[0]) for r in reqs)
        if len(pairs) == 1:
            ((key, value),) = pairs
            return lambda labels: labels.get(key) == value
        return lambda labels: all(labels.get(k) == v for k, v in pairs)
    if all(r.operator == "exists" for r in reqs):
        keys = tuple(r.key for r in reqs)
        return lambda labels: all(k in labels for k in keys)
    return selector.matches


class Constraint:
    """Upstream topologySpreadConstraint: one constraint of the pod with its selector parsed
    (matchLabelKeys merged in) and the API's defaults applied."""

    __slots__ = (
        "counts_pods",
        "honor_affinity",
        "honor_taints",
        "is_hostname",
        "matches",
        "max_skew",
        "min_domains",
        "selector",
        "topology_key",
    )

    def __init__(
        self,
        max_skew: int,
        topology_key: str,
        selector: Selector,
        min_domains: int = 1,
        node_affinity_policy: str = "Honor",
        node_taints_policy: str = "Ignore",
    ) -> None:
        self.max_skew = max_skew
        self.topology_key = topology_key
        self.is_hostname = topology_key == HOSTNAME
        self.min_domains = min_domains
        self.honor_affinity = node_affinity_policy == _HONOR
        self.honor_taints = node_taints_policy == _HONOR
        self.set_selector(selector)

    def set_selector(self, selector: Selector) -> None:
        self.selector = selector
        self.matches = compile_selector(selector)
        # countPodsMatchSelector counts nothing for an empty selector, though the incoming pod
        # still matches it itself.
        self.counts_pods = not selector.empty()

    def __repr__(self) -> str:
        return (
            f"Constraint({self.topology_key!r}, maxSkew={self.max_skew}, "
            f"selector={str(self.selector)!r}, minDomains={self.min_domains})"
        )


def _as_selector(selector: LabelSelector | None) -> Selector:
    # metav1.LabelSelectorAsSelector: a missing selector matches nothing.
    if selector is None:
        return Selector.nothing()
    return selector_from_label_selector(selector.match_labels, selector.match_expressions)


def _merge(match_labels: Mapping[str, str], selector: Selector) -> Selector:
    """mergeLabelSetWithSelector: the pod's values of matchLabelKeys ANDed with the selector;
    a match-nothing selector stays match-nothing."""
    if not selector.selectable:
        return selector
    pinned = tuple(Requirement(k, "=", (v,)) for k, v in match_labels.items())
    return Selector((*pinned, *selector.requirements))


def build_constraints(
    constraints: Iterable[TopologySpreadConstraint], pod_labels: Mapping[str, str], action: str
) -> list[Constraint]:
    """filterTopologySpreadConstraints: the constraints with this whenUnsatisfiable.

    matchLabelKeys are merged into the selector here, as the 1.33 scheduler does (the 1.33 API
    server also merges them at admission; merging twice adds the same terms again, which
    changes nothing). Raises SelectorError for a selector that does not parse.
    """
    out = []
    for c in constraints:
        if c.when_unsatisfiable != action:
            continue
        selector = _as_selector(c.label_selector)
        if c.match_label_keys:
            pinned = {k: pod_labels[k] for k in c.match_label_keys if k in pod_labels}
            if pinned:
                selector = _merge(pinned, selector)
        out.append(
            Constraint(
                c.max_skew or 0,
                c.topology_key or "",
                selector,
                1 if c.min_domains is None else c.min_domains,
                c.node_affinity_policy or "Honor",
                c.node_taints_policy or "Ignore",
            )
        )
    return out


def _controller(pod: Pod) -> tuple[str, str, str] | None:
    """(group, kind, name) of the pod's controller (GetControllerOfNoCopy + ParseGroupVersion)."""
    meta = pod.metadata
    for ref in meta.owner_references if meta else ():
        if ref.controller:
            api_version = ref.api_version or ""
            if api_version.count("/") > 1:
                return None
            group = api_version.split("/")[0] if "/" in api_version else ""
            version = api_version.split("/")[-1]
            if version != "v1":
                return None
            return group, ref.kind or "", ref.name or ""
    return None


def _find(objects: Sequence[ReplicaSet] | Sequence[StatefulSet], ns: str, name: str) -> object:
    for obj in objects:
        meta = obj.metadata
        if meta and meta.name == name and (meta.namespace or "default") == ns:
            return obj
    return None


def default_selector(pod: Pod, handle: Handle) -> Selector:
    """helper.DefaultSelector: the Services selecting the pod, merged, ANDed with the selector of
    the ReplicaSet or StatefulSet that controls it.

    ReplicationControllers are not modelled in kframe.api.models, so a pod controlled by one gets
    only its Services' selector.
    """
    meta = pod.metadata
    ns = pod_namespace(pod)
    labels: Mapping[str, str] = meta.labels if meta else {}
    merged: dict[str, str] = {}
    for svc in handle.list_objects(Service):
        smeta = svc.metadata
        if smeta is None or (smeta.namespace or "default") != ns:
            continue
        wanted = svc.spec.selector if svc.spec else {}
        # A Service without a selector matches no pod; an empty one would add nothing anyway.
        if wanted and all(labels.get(k) == v for k, v in wanted.items()):
            merged.update(wanted)
    reqs = []
    for k, v in merged.items():
        try:
            reqs.append(Requirement(k, "=", (v,)))
        except SelectorError:  # upstream builds this selector unvalidated; skip what cannot parse
            continue
    selector = Selector(tuple(reqs))
    owner = _controller(pod)
    if owner is None:
        return selector
    group, kind, name = owner
    found: object = None
    if (group, kind) == ("apps", "ReplicaSet"):
        found = _find(handle.list_objects(ReplicaSet), ns, name)
    elif (group, kind) == ("apps", "StatefulSet"):
        found = _find(handle.list_objects(StatefulSet), ns, name)
    if isinstance(found, ReplicaSet | StatefulSet) and found.spec is not None:
        try:
            other = _as_selector(found.spec.selector)
        except SelectorError:
            return selector
        if other.selectable:
            selector = selector.add(*other.requirements)
    return selector


def pod_namespace(pod: Pod) -> str:
    return (pod.metadata.namespace if pod.metadata else None) or "default"


def node_labels(node: Node | None) -> Mapping[str, str]:
    meta = node.metadata if node is not None else None
    return meta.labels if meta is not None else {}


def has_all_keys(labels: Mapping[str, str], keys: Sequence[str]) -> bool:
    """nodeLabelsMatchSpreadConstraints: the node has every constraint's topology key."""
    # A plain loop: cheaper than all() over a generator, and this runs for every node.
    for key in keys:  # noqa: SIM110
        if key not in labels:
            return False
    return True


def count_matching(pods: Sequence[PodInfo], c: Constraint, namespace: str) -> int:
    """countPodsMatchSelector: pods on the node in the namespace matching the selector,
    terminating pods left out (#87621)."""
    if not c.counts_pods:
        return 0
    matches = c.matches
    n = 0
    for info in pods:
        meta = info.pod.metadata
        if meta is None or meta.deletion_timestamp is not None:
            continue
        if (meta.namespace or "default") == namespace and matches(meta.labels):
            n += 1
    return n
