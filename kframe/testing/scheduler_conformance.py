"""The scheduler plugin conformance suite: run it on any plugin, kframe's or a third party's.

:func:`check_scheduler_plugin` builds a plugin from its :class:`~kframe.scheduler.PluginFactory`
as a profile does and checks the contract every scheduler plugin keeps:

- the factory is a ``PluginFactory``; the plugin builds with its default args
  (``args_type()``, which is also what an empty ``args: {}`` block decodes to, and which
  survives a round trip through JSON); its ``name`` is the name it is registered under; it
  implements at least one extension-point Protocol;
- PreFilter and PreScore accept an empty node list;
- on Hypothesis-generated small clusters (:func:`clusters`), run in framework order
  (PreFilter, Filter, PreScore, Score, NormalizeScore): Filter answers ``None`` or a Success,
  Unschedulable, UnschedulableAndUnresolvable or Pending status, and a rejection has a
  reason; no point answers Error or raises; Score returns an int, and the scores after
  NormalizeScore lie in [0, 100]; two runs, and a repeated Filter within one cycle, agree;
  the pod and each NodeInfo (node, pods, requests, ports, generation) stay as they were;
  PreEnqueue is deterministic and QueueSort never orders two pods both ways.
- a plugin's optional batch fast paths agree with its per-node answers on every cluster:
  ``filter_nodes`` with Filter node by node (on the whole node list, the list reversed and
  every other node), ``score_nodes`` with Score, ``normalize_scores`` with NormalizeScore.

Parametrize a test over every installed scheduler plugin, or check your own with clusters
that carry what your plugin reads::

    import pytest
    from hypothesis import strategies as st
    from kframe.testing.scheduler_conformance import (
        check_scheduler_plugin, clusters, installed_scheduler_plugins)

    @pytest.mark.parametrize(("name", "factory"), installed_scheduler_plugins())
    def test_conformance(name, factory):
        check_scheduler_plugin(name, factory)

    def test_mine():
        annotations = st.fixed_dictionaries({"example.com/load": st.sampled_from(["1", "x"])})
        check_scheduler_plugin("Mine", MY_FACTORY, clusters=clusters(node_annotations=annotations))

The plugin's handle is a real :class:`~kframe.scheduler.Framework` (so a plugin that needs
the framework's side of the handle, as DefaultPreemption does, builds) whose snapshot is the
cluster under test; ``handle.list_objects`` serves the ``objects`` you pass. A failure is an
``AssertionError`` naming the plugin and the check. Hypothesis prints the
failing cluster as a YAML stream that ``kframe scheduler explain -f`` reads (the pod to
schedule is ``default/pending``).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import attrs
import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from kframe.api import dump_yaml, from_dict, load_yaml, to_dict
from kframe.api.models import Node, Pod
from kframe.registry import Registry, build_registry
from kframe.scheduler import (
    CycleState,
    Framework,
    Handle,
    Plugin,
    PluginFactory,
    QueuedPodInfo,
    Snapshot,
    Status,
    parse_config,
)
from kframe.testing._scheduler_checks import (
    EXTENSION_POINTS,
    check_empty_node_lists,
    check_queue_points,
    fingerprint,
    run_cycle,
)

__all__ = [
    "EXTENSION_POINTS",
    "Cluster",
    "check_scheduler_plugin",
    "clusters",
    "installed_scheduler_plugins",
]

# -- small clusters ------------------------------------------------------------------------------

_HOSTNAME, _ZONE = "kubernetes.io/hostname", "topology.kubernetes.io/zone"
_GPU = "example.com/gpu"
_IMAGES = {"registry.k8s.io/pause:3.10": 750_000, "nginx:1.27": 72_000_000}
_TAINTS: tuple[dict[str, str], ...] = (
    {"key": "dedicated", "value": "batch", "effect": "NoSchedule"},
    {"key": "flaky", "effect": "PreferNoSchedule"},
    {"key": "node.kubernetes.io/unreachable", "effect": "NoExecute"},
)
_TOLERATIONS: tuple[list[dict[str, str]], ...] = (
    [{"key": "dedicated", "operator": "Equal", "value": "batch", "effect": "NoSchedule"}],
    [{"operator": "Exists"}],
)


def _term(app: str, topology_key: str) -> dict[str, Any]:
    return {"labelSelector": {"matchLabels": {"app": app}}, "topologyKey": topology_key}


def _match(key: str, value: str) -> dict[str, Any]:
    return {"matchExpressions": [{"key": key, "operator": "In", "values": [value]}]}


# Pieces of spec.affinity, combined freely: node affinity, pod affinity and anti-affinity.
_AFFINITIES: tuple[tuple[str, str, Any], ...] = (
    ("nodeAffinity", "requiredDuringSchedulingIgnoredDuringExecution",
     {"nodeSelectorTerms": [_match("disk", "ssd")]}),
    ("nodeAffinity", "preferredDuringSchedulingIgnoredDuringExecution",
     [{"weight": 5, "preference": _match(_ZONE, "zone-a")}]),
    ("podAffinity", "requiredDuringSchedulingIgnoredDuringExecution", [_term("web", _ZONE)]),
    ("podAffinity", "preferredDuringSchedulingIgnoredDuringExecution",
     [{"weight": 10, "podAffinityTerm": _term("web", _HOSTNAME)}]),
    ("podAntiAffinity", "requiredDuringSchedulingIgnoredDuringExecution",
     [_term("db", _HOSTNAME)]),
    ("podAntiAffinity", "preferredDuringSchedulingIgnoredDuringExecution",
     [{"weight": 50, "podAffinityTerm": _term("web", _HOSTNAME)}]),
)  # fmt: skip


@attrs.frozen(repr=False)
class Cluster:
    """Nodes, the pods bound to them (``spec.nodeName``), and the pending pod to schedule."""

    nodes: tuple[Node, ...]
    bound_pods: tuple[Pod, ...]
    pod: Pod

    def snapshot(self) -> Snapshot:
        return Snapshot.build(self.nodes, self.bound_pods)

    def to_yaml(self) -> str:
        """The cluster as ``kframe scheduler explain -f`` reads it (and :meth:`from_yaml`)."""
        return dump_yaml([*self.nodes, *self.bound_pods, self.pod])

    @classmethod
    def from_yaml(cls, text: str, pod: str = "pending") -> Cluster:
        """A cluster file's Nodes and Pods; ``pod`` names the pending pod (in ``default``)."""
        objects = load_yaml(text)
        pods = [o for o in objects if isinstance(o, Pod)]
        pending = [p for p in pods if p.metadata and p.metadata.name == pod]
        assert pending, f"no pod {pod!r} in the cluster"
        return cls(
            tuple(o for o in objects if isinstance(o, Node)),
            tuple(p for p in pods if p is not pending[0] and p.spec and p.spec.node_name),
            pending[0],
        )

    def __repr__(self) -> str:
        return f"Cluster.from_yaml('''\n{self.to_yaml()}''')"

    def _repr_pretty_(self, printer: Any, cycle: bool) -> None:
        # Hypothesis prints a failing example with this: the YAML, not every field of Node.
        printer.text(repr(self))


def _pick(draw: st.DrawFn, options: Iterable[Any]) -> Any:
    return draw(st.sampled_from(list(options)))


def _subset(draw: st.DrawFn, options: Iterable[Any], max_size: int) -> list[Any]:
    items = list(options)
    indexes = draw(st.lists(st.sampled_from(range(len(items))), max_size=max_size, unique=True))
    return [items[i] for i in sorted(indexes)]


def _node(draw: st.DrawFn, name: str, annotations: Mapping[str, str]) -> Node:
    labels = {_HOSTNAME: name}
    for key, values in ((_ZONE, ("zone-a", "zone-b")), ("disk", ("ssd", "hdd"))):
        if (value := _pick(draw, (None, *values))) is not None:
            labels[key] = value
    # Mostly roomy nodes, so that Filter passes often enough for Score to run.
    allocatable = {
        "cpu": _pick(draw, ("0", "1", "4", "32", "32")),
        "memory": _pick(draw, ("1Gi", "8Gi", "64Gi", "64Gi")),
        "pods": _pick(draw, ("1", "110", "110")),
    }
    if (gpus := _pick(draw, (None, "1", "4"))) is not None:
        allocatable[_GPU] = gpus
    spec: dict[str, Any] = {"taints": _subset(draw, _TAINTS, 2)}
    if draw(st.booleans()):
        spec["unschedulable"] = True
    images = [{"names": [i], "sizeBytes": _IMAGES[i]} for i in _subset(draw, _IMAGES, 2)]
    meta: dict[str, Any] = {"name": name, "labels": labels, "annotations": dict(annotations)}
    status = {"allocatable": allocatable, "capacity": dict(allocatable), "images": images}
    return from_dict({"metadata": meta, "spec": spec, "status": status}, Node)


def _container(draw: st.DrawFn, index: int) -> dict[str, Any]:
    container: dict[str, Any] = {"name": f"c{index}", "image": _pick(draw, _IMAGES)}
    requests = {
        "cpu": _pick(draw, (None, "100m", "1", "3")),
        "memory": _pick(draw, (None, "128Mi", "2Gi")),
        _GPU: _pick(draw, (None, None, None, "1")),
    }
    if requests := {k: v for k, v in requests.items() if v is not None}:
        container["resources"] = {"requests": requests}
    if (host_port := _pick(draw, (None, 8080, 8443))) is not None:
        container["ports"] = [{"containerPort": 80, "hostPort": host_port}]
    return container


def _pod(draw: st.DrawFn, name: str, node_name: str | None) -> Pod:
    containers = [_container(draw, i) for i in range(draw(st.integers(1, 2)))]
    spec: dict[str, Any] = {"containers": containers}
    if node_name is not None:
        spec["nodeName"] = node_name
    if draw(st.booleans()):
        spec["nodeSelector"] = {"disk": "ssd"}
    if (tolerations := _pick(draw, (None, *_TOLERATIONS))) is not None:
        spec["tolerations"] = tolerations
    affinity: dict[str, dict[str, Any]] = {}
    for kind, rule, value in _subset(draw, _AFFINITIES, 3):
        affinity.setdefault(kind, {})[rule] = value
    if affinity:
        spec["affinity"] = affinity
    if (when := _pick(draw, (None, "DoNotSchedule", "ScheduleAnyway"))) is not None:
        spec["topologySpreadConstraints"] = [
            {"maxSkew": 1, "whenUnsatisfiable": when, **_term("web", _ZONE)}
        ]
    if (priority := _pick(draw, (None, 0, 1000))) is not None:
        spec["priority"] = priority
    meta: dict[str, Any] = {"name": name, "namespace": "default", "uid": f"uid-{name}"}
    if (app := _pick(draw, (None, "web", "db"))) is not None:
        meta["labels"] = {"app": app}
    return from_dict({"metadata": meta, "spec": spec}, Pod)


def clusters(
    *,
    max_nodes: int = 4,
    max_bound_pods: int = 5,
    node_annotations: st.SearchStrategy[Mapping[str, str]] | None = None,
) -> st.SearchStrategy[Cluster]:
    """Small clusters: 1 to ``max_nodes`` nodes, up to ``max_bound_pods`` pods bound to them,
    and a pending pod ``default/pending``.

    Nodes vary in allocatable CPU, memory, pods and an extended resource (``example.com/gpu``),
    zone and ``disk`` labels, taints, ``unschedulable`` and images; pods in requests, host
    ports, node selectors, tolerations, node and pod (anti-)affinity, topology spread,
    priority and ``app`` labels. ``node_annotations`` draws each node's annotations (default
    none), for plugins that read them.
    """
    annotations = node_annotations if node_annotations is not None else st.just({})

    @st.composite
    def build(draw: st.DrawFn) -> Cluster:
        count = draw(st.integers(1, max_nodes))
        names = [f"node-{i}" for i in range(count)]
        nodes = tuple(_node(draw, name, draw(annotations)) for name in names)
        bound = tuple(
            _pod(draw, f"pod-{i}", _pick(draw, names))
            for i in range(draw(st.integers(0, max_bound_pods)))
        )
        return Cluster(nodes, bound, _pod(draw, "pending", None))

    return build()


_default_clusters = clusters


# -- the checks ----------------------------------------------------------------------------------

_DEFAULT: Any = object()


def installed_scheduler_plugins(registry: Registry | None = None) -> list[Any]:
    """Every installed scheduler plugin as ``pytest.param(name, factory, id=name)``.

    For ``@pytest.mark.parametrize(("name", "factory"), installed_scheduler_plugins())``;
    ``registry`` defaults to :func:`kframe.registry.build_registry` (the installed entry
    points), in name order.
    """
    registry = registry if registry is not None else build_registry()
    return [
        pytest.param(entry.name, entry.factory, id=entry.name)
        for entry in registry.entries("scheduler-plugin")
    ]


def check_scheduler_plugin(
    name: str,
    factory: object,
    *,
    args: Any = _DEFAULT,
    objects: Iterable[object] = (),
    clusters: st.SearchStrategy[Cluster] | None = None,
    max_examples: int = 30,
) -> None:
    """Check one scheduler plugin against the contract; AssertionError on a violation.

    ``name``: the name it is registered under; ``factory``: what it registered. ``args``: build
    the plugin under test with these instead of its default args (the defaults are checked
    anyway); ``objects``: what the handle's ``list_objects`` serves (Namespaces, Services...);
    ``clusters``: the strategy to draw clusters from (default :func:`clusters`);
    ``max_examples``: how many clusters to run.
    """
    where = f"scheduler plugin {name!r}"
    assert isinstance(factory, PluginFactory), (
        f"{where} is registered with a {type(factory).__name__}, "
        "not a kframe.scheduler.PluginFactory"
    )
    handle = _framework_handle(list(objects))
    default = _build(where, name, factory, _default_args(where, factory), handle)
    plugin = default if args is _DEFAULT else _build(where, name, factory, args, handle)
    check_empty_node_lists(where, plugin)
    strategy = clusters if clusters is not None else _default_clusters()

    @settings(
        max_examples=max_examples,
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
        # Shrink to a small failing cluster, but skip the costly "explain" phase.
        phases=[Phase.explicit, Phase.reuse, Phase.generate, Phase.target, Phase.shrink],
    )
    @given(cluster=strategy)
    def on_clusters(cluster: Cluster) -> None:
        snapshot = cluster.snapshot()
        handle.set_snapshot(snapshot)
        before = fingerprint(cluster.pod, snapshot)
        first = run_cycle(where, plugin, cluster.pod, snapshot)
        assert fingerprint(cluster.pod, snapshot) == before, (
            f"{where} changed the pod or a NodeInfo during a scheduling cycle"
        )
        second = run_cycle(where, plugin, cluster.pod, snapshot)
        assert first == second, f"{where} is not deterministic: {first} != {second}"
        check_queue_points(where, plugin, cluster.pod, cluster.bound_pods)

    on_clusters()


def _default_args(where: str, factory: PluginFactory) -> Any:
    if factory.args_type is None:
        return None
    args = factory.args_type()
    try:
        empty: Any = from_dict({}, factory.args_type, strict=True)
        again: Any = from_dict(to_dict(args), factory.args_type, strict=True)
    except Exception as exc:  # DecodeError, or cattrs finding no way to build the type
        raise AssertionError(f"{where}: its args do not decode from JSON: {exc}") from exc
    assert empty == args, f"{where}: `args: {{}}` decodes to {empty!r}, not the default {args!r}"
    assert again == args, f"{where}: its default args do not round-trip: {again!r} != {args!r}"
    return args


class _FifoSort:
    name = "ConformanceQueueSort"

    def less(self, a: QueuedPodInfo, b: QueuedPodInfo) -> bool:
        return a.timestamp < b.timestamp


class _NoBinder:
    name = "ConformanceBinder"

    async def bind(self, state: CycleState, pod: Pod, node_name: str) -> Status | None:
        raise AssertionError("the conformance suite does not bind")


def _stub(cls: type[_FifoSort | _NoBinder]) -> PluginFactory:
    return PluginFactory(new=lambda args, handle: cls())


_STUBS = {cls.name: _stub(cls) for cls in (_FifoSort, _NoBinder)}


def _framework_handle(objects: list[object]) -> Framework:
    """A real framework as the plugins' handle (preemption needs its FrameworkHandle side),
    with a profile of the two plugins every profile needs: a QueueSort and a Bind plugin."""
    multi_point = {"enabled": [{"name": n} for n in _STUBS], "disabled": [{"name": "*"}]}
    config = parse_config({"profiles": [{"plugins": {"multiPoint": multi_point}}]})
    return Framework(
        config.profiles[0],
        _STUBS.__getitem__,
        objects=lambda cls: [o for o in objects if isinstance(o, cls)],
    )


def _build(where: str, name: str, factory: PluginFactory, args: Any, handle: Handle) -> Plugin:
    plugin = factory.new(args, handle)
    assert isinstance(plugin, Plugin), f"{where}: the factory built {plugin!r}, which has no name"
    assert plugin.name == name, f"{where}: the plugin says its name is {plugin.name!r}"
    if not any(isinstance(plugin, proto) for proto, _ in EXTENSION_POINTS):
        labels = ", ".join(label for _, label in EXTENSION_POINTS)
        raise AssertionError(f"{where} implements no extension point (one of {labels})")
    return plugin
