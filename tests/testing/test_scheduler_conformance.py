"""The scheduler plugin conformance suite: every installed plugin passes it, broken ones fail.

The parametrized test runs over whatever scheduler plugins are installed (the in-tree ones and
contrib packages such as kframe-cpuload); the rest checks that the suite catches each kind of
violation it promises to catch.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import attrs
import pytest
from hypothesis import given, settings

from kframe.api.models import Pod
from kframe.registry import build_registry, hookimpl
from kframe.scheduler import (
    BatchFilterPlugin,
    BatchScoreExtensions,
    BatchScorePlugin,
    Code,
    CycleState,
    FilterPlugin,
    NodeInfo,
    NodeScore,
    PluginFactory,
    PreFilterPlugin,
    QueuedPodInfo,
    QueueSortPlugin,
    ScoreExtensions,
    ScorePlugin,
    Status,
)
from kframe.testing.scheduler_conformance import (
    Cluster,
    check_scheduler_plugin,
    clusters,
    installed_scheduler_plugins,
)

FAST = 10  # examples for plugins that are meant to fail: the first bad cluster is enough


@pytest.mark.parametrize(("name", "factory"), installed_scheduler_plugins())
def test_installed_scheduler_plugin_conforms(name: str, factory: object) -> None:
    check_scheduler_plugin(name, factory)


# -- plugins that break one rule each ------------------------------------------------------------


class Fine:
    """Passes: a Filter and a Score plugin that keeps every rule."""

    name = "Fine"

    def filter(self, state: CycleState, pod: Pod, node_info: NodeInfo) -> Status | None:
        if node_info.allocatable.milli_cpu < 1000:
            return Status.unschedulable("node(s) had less than one CPU")
        return None

    def score(self, state: CycleState, pod: Pod, node_info: NodeInfo) -> int:
        return len(node_info.pods) * 1000

    def normalize_score(self, state: CycleState, pod: Pod, scores: list[NodeScore]) -> None:
        top = max(s.score for s in scores) or 1
        for s in scores:
            s.score = s.score * 100 // top


_fine: tuple[type[FilterPlugin], type[ScorePlugin], type[ScoreExtensions]] = (Fine, Fine, Fine)


def factory(cls: type[Any], args_type: type | None = None) -> PluginFactory:
    return PluginFactory(new=lambda args, handle: cls(), args_type=args_type)


def test_a_conforming_plugin_passes() -> None:
    check_scheduler_plugin("Fine", factory(Fine))


class ErrorFilter(Fine):
    def filter(self, state: CycleState, pod: Pod, node_info: NodeInfo) -> Status | None:
        return Status(Code.ERROR, "boom")


class SilentFilter(Fine):
    def filter(self, state: CycleState, pod: Pod, node_info: NodeInfo) -> Status | None:
        return Status(Code.UNSCHEDULABLE)


class WrongType(Fine):
    def filter(self, state: CycleState, pod: Pod, node_info: NodeInfo) -> Any:
        return False


class Unnormalized(Fine):
    def score(self, state: CycleState, pod: Pod, node_info: NodeInfo) -> int:
        return 1000

    def normalize_score(self, state: CycleState, pod: Pod, scores: list[NodeScore]) -> None:
        pass


class FloatScore(Fine):
    def score(self, state: CycleState, pod: Pod, node_info: NodeInfo) -> Any:
        return 50.0


class Flipping(Fine):
    """Answers differently each time it is asked."""

    def __init__(self) -> None:
        self.calls = 0

    def filter(self, state: CycleState, pod: Pod, node_info: NodeInfo) -> Status | None:
        self.calls += 1
        return Status.unschedulable("odd") if self.calls % 2 else None


class Drifting(Fine):
    """Scores more with every call: two cycles never agree."""

    def __init__(self) -> None:
        self.calls = 0

    def score(self, state: CycleState, pod: Pod, node_info: NodeInfo) -> int:
        self.calls += 1
        return self.calls

    def normalize_score(self, state: CycleState, pod: Pod, scores: list[NodeScore]) -> None:
        for s in scores:
            s.score %= 101


class Assuming(Fine):
    """Adds the pod's CPU to the node's requests, as only the scheduler's cache may."""

    def filter(self, state: CycleState, pod: Pod, node_info: NodeInfo) -> Status | None:
        node_info.requested.milli_cpu += 1
        return None


class Relabeling(Fine):
    def filter(self, state: CycleState, pod: Pod, node_info: NodeInfo) -> Status | None:
        assert pod.metadata is not None
        labels = pod.metadata.labels
        if isinstance(labels, dict):
            labels["seen"] = "yes"
        return None


class NeedsNodes(Fine):
    def pre_filter(self, state: CycleState, pod: Pod, nodes: Sequence[NodeInfo]) -> Status | None:
        state.write("first", nodes[0].name)
        return None


_needs_nodes: type[PreFilterPlugin] = NeedsNodes


class Nothing:
    name = "Nothing"


class BadSort:
    name = "BadSort"

    def less(self, a: QueuedPodInfo, b: QueuedPodInfo) -> bool:
        return True


_bad_sort: type[QueueSortPlugin] = BadSort


class FastButWrongFilter(Fine):
    """Its batch Filter forgets the CPU rule that its per-node Filter keeps."""

    def filter_nodes(
        self, state: CycleState, pod: Pod, nodes: Sequence[NodeInfo]
    ) -> Sequence[Status | None] | None:
        return None


class PositionalFilter(Fine):
    """Its batch Filter answers by position in the list, not by node."""

    def filter_nodes(
        self, state: CycleState, pod: Pod, nodes: Sequence[NodeInfo]
    ) -> Sequence[Status | None] | None:
        first = self.filter(state, pod, nodes[0]) if nodes else None
        return [first] * len(nodes)


class FastButWrongScore(Fine):
    def score_nodes(self, state: CycleState, pod: Pod, nodes: Sequence[NodeInfo]) -> list[int]:
        return [0] * len(nodes)


class FastButWrongNormalizer(Fine):
    def normalize_scores(self, state: CycleState, pod: Pod, scores: list[int]) -> None:
        scores[:] = [100] * len(scores)


_batch: tuple[type[BatchFilterPlugin], type[BatchScorePlugin], type[BatchScoreExtensions]] = (
    FastButWrongFilter,
    FastButWrongScore,
    FastButWrongNormalizer,
)


@pytest.mark.parametrize(
    ("cls", "message"),
    [
        pytest.param(
            ErrorFilter, r"Filter on node 'node-0' answered Error \['boom'\]", id="ErrorFilter"
        ),
        pytest.param(
            SilentFilter, "Filter on node 'node-0' rejected without a reason", id="SilentFilter"
        ),
        pytest.param(
            WrongType, "Filter on node 'node-0' returned False, not a Status", id="WrongType"
        ),
        pytest.param(
            Unnormalized, r"are not within \[0, 100\] after normalizing", id="Unnormalized"
        ),
        pytest.param(FloatScore, "returned 50.0, not an int", id="FloatScore"),
        pytest.param(Flipping, "in the same cycle", id="Flipping"),
        pytest.param(Drifting, "is not deterministic", id="Drifting"),
        pytest.param(Assuming, "changed the pod or a NodeInfo", id="Assuming"),
        pytest.param(Relabeling, "changed the pod or a NodeInfo", id="Relabeling"),
        pytest.param(NeedsNodes, "IndexError|list index out of range", id="NeedsNodes"),
        pytest.param(Nothing, "implements no extension point", id="Nothing"),
        pytest.param(BadSort, "QueueSort puts default/pending before itself", id="BadSort"),
        pytest.param(FastButWrongFilter, r"filter_nodes \(all nodes\) answered None", id="BatchF"),
        pytest.param(
            PositionalFilter,
            r"filter_nodes \(all nodes\) answered \(.Unschedulable",
            id="Positional",
        ),
        pytest.param(FastButWrongScore, "score_nodes answered", id="BatchScore"),
        pytest.param(FastButWrongNormalizer, "normalize_scores made", id="BatchNormalize"),
    ],
)
def test_a_broken_plugin_fails(cls: type[Any], message: str) -> None:
    name = cls.name
    with pytest.raises((AssertionError, IndexError), match=message):
        check_scheduler_plugin(name, factory(cls), max_examples=FAST)


def test_the_registered_name_must_match() -> None:
    with pytest.raises(AssertionError, match="the plugin says its name is 'Fine'"):
        check_scheduler_plugin("Other", factory(Fine))


def test_the_factory_must_be_a_plugin_factory() -> None:
    with pytest.raises(AssertionError, match=r"is registered with a type, not a .*PluginFactory"):
        check_scheduler_plugin("Fine", Fine)


@attrs.frozen(kw_only=True)
class GoodArgs:
    weight: int = attrs.field(default=3, metadata={"json": "weight"})


class PlainArgs:
    """Not an attrs class: a pluginConfig `args:` block cannot decode into it."""


def test_default_args_are_checked() -> None:
    check_scheduler_plugin("Fine", factory(Fine, GoodArgs), max_examples=2)
    with pytest.raises(AssertionError, match="its args do not decode from JSON"):
        check_scheduler_plugin("Fine", factory(Fine, PlainArgs))


def test_explicit_args_build_the_plugin_under_test() -> None:
    built: list[Any] = []

    def new(args: Any, handle: Any) -> Fine:
        built.append(args)
        return Fine()

    check_scheduler_plugin(
        "Fine", PluginFactory(new=new, args_type=GoodArgs), args=GoodArgs(weight=9), max_examples=2
    )
    assert built == [GoodArgs(), GoodArgs(weight=9)]


# -- installed plugins and clusters ------------------------------------------------------------


class _Registering:
    @hookimpl
    def kframe_scheduler_plugins(self) -> dict[str, PluginFactory]:
        return {"Fine": factory(Fine), "Another": factory(Fine)}


def test_installed_scheduler_plugins_lists_the_registry_by_name() -> None:
    registry = build_registry(entry_points=False, plugins=[("test", _Registering())])
    params = installed_scheduler_plugins(registry)
    assert [p.id for p in params] == ["Another", "Fine"]
    assert [p.values[0] for p in params] == ["Another", "Fine"]
    assert all(isinstance(p.values[1], PluginFactory) for p in params)


def test_installed_scheduler_plugins_includes_entry_points() -> None:
    names = [p.id for p in installed_scheduler_plugins()]
    assert names == build_registry().names("scheduler-plugin")


@settings(max_examples=20, deadline=None)
@given(clusters(max_nodes=3, max_bound_pods=2))
def test_clusters_are_small_and_round_trip_through_yaml(cluster: Cluster) -> None:
    assert 1 <= len(cluster.nodes) <= 3
    assert len(cluster.bound_pods) <= 2
    names = {n.metadata.name for n in cluster.nodes if n.metadata}
    assert all(p.spec and p.spec.node_name in names for p in cluster.bound_pods)
    assert cluster.pod.spec is not None and not cluster.pod.spec.node_name
    assert Cluster.from_yaml(cluster.to_yaml()) == cluster
    assert len(cluster.snapshot()) == len(cluster.nodes)
