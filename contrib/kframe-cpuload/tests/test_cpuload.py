"""NodeCPULoad: load parsing, args, Filter, Score, registration, and its conformance run."""

from __future__ import annotations

import json
import logging
import random
import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import attrs
import pytest
from hypothesis import strategies as st
from kframe_cpuload import (
    DEFAULT_ANNOTATION,
    NAME,
    UNKNOWN_LOAD_SCORE,
    NodeCPULoad,
    NodeCPULoadArgs,
    StaticLoadSource,
    kframe_scheduler_plugins,
    parse_cpu_load,
    plugin_factory,
)

from kframe.api import DecodeError, from_dict, load_yaml
from kframe.api.models import Node, Pod
from kframe.registry import build_registry
from kframe.scheduler import (
    ActionType,
    BindPlugin,
    ClusterEvent,
    Code,
    ConfigError,
    CycleState,
    EnqueueExtensions,
    FilterPlugin,
    FitError,
    Framework,
    Handle,
    NodeInfo,
    PluginFactory,
    PreFilterPlugin,
    PreScorePlugin,
    QueuedPodInfo,
    QueueSortPlugin,
    ScorePlugin,
    Snapshot,
    Status,
    explain,
    explain_objects,
    load_config,
    parse_config,
    registry_factories,
    schedule_pod,
)
from kframe.testing import require
from kframe.testing.scheduler import StaticHandle, make_node, make_pod
from kframe.testing.scheduler_conformance import check_scheduler_plugin, clusters

FACTORY = plugin_factory()
REASON = "node(s) had CPU load above 50%"


def loaded_node(name: str, load: str | None, annotation: str = DEFAULT_ANNOTATION) -> Node:
    """A node whose agent wrote ``load`` into the annotation (None: no annotation)."""
    node = make_node(name)
    if load is None:
        return node
    assert node.metadata is not None
    return attrs.evolve(node, metadata=attrs.evolve(node.metadata, annotations={annotation: load}))


def build(args: NodeCPULoadArgs | None = None, factory: PluginFactory = FACTORY) -> NodeCPULoad:
    plugin = factory.new(args or NodeCPULoadArgs(), StaticHandle())
    assert isinstance(plugin, NodeCPULoad)
    return plugin


def filter_all(plugin: NodeCPULoad, snapshot: Snapshot, pod: Pod) -> dict[str, Status | None]:
    state = CycleState()
    assert plugin.pre_filter(state, pod, snapshot.list()) is None
    return {n.name: plugin.filter(state, pod, n) for n in snapshot.list()}


def score_all(plugin: NodeCPULoad, snapshot: Snapshot, pod: Pod) -> dict[str, int]:
    state = CycleState()
    assert plugin.pre_score(state, pod, snapshot.list()) is None
    return {n.name: plugin.score(state, pod, n) for n in snapshot.list()}


# -- the annotation's value ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "percent"),
    [
        ("0.73", 73.0),
        ("73%", 73.0),
        (" 0.5 ", 50.0),
        ("50 %", 50.0),
        ("0", 0.0),
        ("1", 100.0),
        ("1.0", 100.0),
        ("0.07", 7.0),  # exactly, not 7.000000000000001
        ("0.5%", 0.5),
        ("150%", 150.0),
        ("+0.25", 25.0),
        # malformed: unknown load
        ("73", None),  # percent without %? refused rather than guessed
        ("1.01", None),
        ("-0.1", None),
        ("-5%", None),
        ("", None),
        ("%", None),
        ("high", None),
        ("0.5%%", None),
        ("nan", None),
        ("NaN%", None),
        ("inf", None),
        ("Infinity%", None),
        ("1e400%", None),
    ],
)
def test_parse_cpu_load(value: str, percent: float | None) -> None:
    assert parse_cpu_load(value) == percent


# -- args ------------------------------------------------------------------------------------


def test_default_args() -> None:
    assert NodeCPULoadArgs() == NodeCPULoadArgs(threshold=50, annotation="kframe.io/cpu-load")
    assert from_dict({}, NodeCPULoadArgs, strict=True) == NodeCPULoadArgs()


def test_args_decode_from_plugin_config() -> None:
    body = {"threshold": 70, "annotation": "example.com/load"}
    args = from_dict(body, NodeCPULoadArgs, strict=True)
    assert args == NodeCPULoadArgs(threshold=70, annotation="example.com/load")


@pytest.mark.parametrize(
    ("body", "error"),
    [
        ({"threshold": "70"}, "threshold: expected integer, got string"),
        ({"threshold": 70.5}, "threshold: expected integer, got float"),
        ({"treshold": 70}, "treshold: unknown field"),
    ],
)
def test_args_decoding_errors(body: dict[str, Any], error: str) -> None:
    with pytest.raises(DecodeError, match=error):
        from_dict(body, NodeCPULoadArgs, strict=True)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            NodeCPULoadArgs(threshold=101),
            "threshold: Invalid value: 101: not in valid range [0-100]",
        ),
        (
            NodeCPULoadArgs(threshold=-1),
            "threshold: Invalid value: -1: not in valid range [0-100]",
        ),
        (NodeCPULoadArgs(annotation=""), "annotation: Required value"),
        (
            NodeCPULoadArgs(annotation="cpu load"),
            'annotation: Invalid value: "cpu load": name part must consist of alphanumeric '
            "characters",
        ),
        (
            NodeCPULoadArgs(threshold=200, annotation=""),
            "[threshold: Invalid value: 200: not in valid range [0-100], "
            "annotation: Required value]",
        ),
    ],
)
def test_invalid_args_raise_config_error_from_new(args: NodeCPULoadArgs, message: str) -> None:
    with pytest.raises(ConfigError) as info:
        FACTORY.new(args, StaticHandle())
    assert str(info.value).startswith(message)


@pytest.mark.parametrize("threshold", [0, 100])
def test_threshold_bounds_are_valid(threshold: int) -> None:
    assert build(NodeCPULoadArgs(threshold=threshold)).args.threshold == threshold


# -- Filter ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("load", "threshold", "rejected"),
    [
        ("0.73", 50, True),
        ("73%", 50, True),
        ("0.5", 50, False),  # at the threshold: fits
        ("50%", 50, False),
        ("50.1%", 50, True),
        ("0.07", 7, False),
        ("0", 0, False),
        ("0.01", 0, True),
        ("150%", 100, True),
        ("1", 100, False),
        (None, 0, False),  # no annotation: unknown, never rejected
        ("73", 0, False),  # malformed: unknown
        ("busy", 0, False),
    ],
)
def test_filter(load: str | None, threshold: int, rejected: bool) -> None:
    plugin = build(NodeCPULoadArgs(threshold=threshold))
    snapshot = Snapshot.build([loaded_node("n1", load)])
    status = filter_all(plugin, snapshot, make_pod("p"))["n1"]
    if rejected:
        assert status == Status(
            Code.UNSCHEDULABLE_AND_UNRESOLVABLE, f"node(s) had CPU load above {threshold}%"
        )
    else:
        assert status is None


def test_filter_reads_the_configured_annotation() -> None:
    plugin = build(NodeCPULoadArgs(annotation="example.com/load"))
    nodes = [
        loaded_node("custom", "0.9", annotation="example.com/load"),
        loaded_node("default", "0.9"),  # the default annotation is not read any more
    ]
    verdicts = filter_all(plugin, Snapshot.build(nodes), make_pod("p"))
    assert verdicts == {"custom": Status.unresolvable(REASON), "default": None}


def test_fit_error_counts_loaded_nodes_as_upstream_aggregates_reasons() -> None:
    nodes = [loaded_node(f"n{i}", "0.9") for i in range(3)]
    fwk = framework()
    fwk.set_snapshot(Snapshot.build(nodes))
    with pytest.raises(FitError) as info:
        schedule_pod(fwk, CycleState(), make_pod("p"), fwk.snapshot(), random.Random(0))
    assert info.value.message == "0/3 nodes are available: 3 node(s) had CPU load above 60%."


# -- Score -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("load", "score"),
    [
        ("0", 100),
        ("0.5%", 100),  # 99.5 rounds half up
        ("0.6%", 99),
        ("0.12", 88),
        ("0.734", 27),
        ("26.5%", 74),
        ("0.73", 27),
        ("1", 0),
        ("150%", 0),  # clamped
        (None, UNKNOWN_LOAD_SCORE),
        ("garbage", UNKNOWN_LOAD_SCORE),
    ],
)
def test_score(load: str | None, score: int) -> None:
    snapshot = Snapshot.build([loaded_node("n1", load)])
    assert score_all(build(), snapshot, make_pod("p")) == {"n1": score}


def test_unknown_load_is_neutral() -> None:
    assert UNKNOWN_LOAD_SCORE == 50


def test_score_prefers_the_idle_node() -> None:
    nodes = [loaded_node("busy", "0.45"), loaded_node("idle", "5%"), loaded_node("new", None)]
    assert score_all(build(), Snapshot.build(nodes), make_pod("p")) == {
        "busy": 55,
        "idle": 95,
        "new": 50,
    }


# -- sources ---------------------------------------------------------------------------------


class CountingSource:
    def __init__(self, loads: Mapping[str, float]) -> None:
        self.loads = loads
        self.calls: list[str] = []

    def cpu_load(self, node_info: NodeInfo) -> float | None:
        self.calls.append(node_info.name)
        return self.loads.get(node_info.name)


def test_a_metrics_source_comes_before_the_annotation() -> None:
    factory = plugin_factory(metrics=lambda handle: StaticLoadSource({"n1": 90.0, "n2": 10.0}))
    nodes = [loaded_node("n1", "0.1"), loaded_node("n2", "0.9"), loaded_node("n3", "0.9")]
    verdicts = filter_all(build(factory=factory), Snapshot.build(nodes), make_pod("p"))
    # n3 is not in the metrics: its annotation decides.
    assert verdicts == {
        "n1": Status.unresolvable(REASON),
        "n2": None,
        "n3": Status.unresolvable(REASON),
    }


def test_the_metrics_hook_gets_the_handle() -> None:
    seen: list[Handle] = []

    def metrics(handle: Handle) -> StaticLoadSource:
        seen.append(handle)
        return StaticLoadSource({})

    handle = StaticHandle()
    plugin_factory(metrics=metrics).new(NodeCPULoadArgs(), handle)
    assert seen == [handle]


def test_each_node_is_measured_once_per_cycle() -> None:
    source = CountingSource({"n1": 10.0, "n2": 20.0, "n3": 90.0})
    plugin = NodeCPULoad(NodeCPULoadArgs(), [source])
    snapshot = Snapshot.build([make_node("n1"), make_node("n2"), make_node("n3")])
    pod = make_pod("p")
    state = CycleState()
    plugin.pre_filter(state, pod, snapshot.list())
    feasible = [n for n in snapshot.list() if plugin.filter(state, pod, n) is None]
    plugin.pre_score(state, pod, feasible)
    assert [plugin.score(state, pod, n) for n in feasible] == [90, 80]
    assert sorted(source.calls) == ["n1", "n2", "n3"]
    # A new cycle measures again.
    plugin.pre_filter(CycleState(), pod, snapshot.list())
    plugin.filter(CycleState(), pod, snapshot.get("n1"))
    assert source.calls.count("n1") == 2


def test_without_pre_filter_the_plugin_still_answers() -> None:
    source = CountingSource({"n1": 90.0})
    plugin = NodeCPULoad(NodeCPULoadArgs(), [source])
    node = Snapshot.build([make_node("n1")]).get("n1")
    assert plugin.filter(CycleState(), make_pod("p"), node) == Status.unresolvable(REASON)


def test_a_malformed_annotation_is_logged_once_per_node_and_value(
    caplog: pytest.LogCaptureFixture,
) -> None:
    plugin = build()
    pod = make_pod("p")
    with caplog.at_level(logging.WARNING, logger="kframe_cpuload"):
        for _ in range(3):
            filter_all(plugin, Snapshot.build([loaded_node("n1", "73")]), pod)
        filter_all(plugin, Snapshot.build([loaded_node("n1", "lots")]), pod)
    messages = [r.getMessage() for r in caplog.records]
    assert len(messages) == 2
    assert messages[0].startswith("node n1: ignoring annotation kframe.io/cpu-load='73'")


# -- registration and conformance ------------------------------------------------------------------


def test_conforms_to_the_extension_points_it_claims() -> None:
    plugin = build()
    for proto in (PreFilterPlugin, FilterPlugin, PreScorePlugin, ScorePlugin, EnqueueExtensions):
        assert isinstance(plugin, proto), proto


def test_events_to_register() -> None:
    assert build().events_to_register() == [
        ClusterEvent("Node", ActionType.ADD | ActionType.UPDATE_NODE_ANNOTATION)
    ]


def test_hook_registers_the_plugin() -> None:
    factories = kframe_scheduler_plugins()
    assert list(factories) == [NAME] == ["NodeCPULoad"]
    assert factories[NAME].args_type is NodeCPULoadArgs


def test_installed_through_the_kframe_entry_point() -> None:
    entry = build_registry().get("scheduler-plugin", "NodeCPULoad")
    assert entry.distribution == "kframe-cpuload"
    assert entry.plugin == "cpuload"
    assert isinstance(entry.factory, PluginFactory)


LOADS = st.sampled_from(["0.1", "0.5", "0.9", "73%", "150%", "73", "junk", "", "0"])
ANNOTATED = clusters(
    node_annotations=st.one_of(st.just({}), st.fixed_dictionaries({DEFAULT_ANNOTATION: LOADS}))
)


@pytest.mark.parametrize("threshold", [0, 50, 100])
def test_conformance(threshold: int) -> None:
    check_scheduler_plugin(
        NAME, FACTORY, args=NodeCPULoadArgs(threshold=threshold), clusters=ANNOTATED
    )


def test_conformance_with_a_metrics_source() -> None:
    factory = plugin_factory(metrics=lambda handle: StaticLoadSource({"node-0": 99.0}))
    check_scheduler_plugin(NAME, factory, clusters=ANNOTATED)


# -- in a profile, end to end --------------------------------------------------------------------


class FifoSort:
    name = "FifoSort"

    def less(self, a: QueuedPodInfo, b: QueuedPodInfo) -> bool:
        return a.timestamp < b.timestamp


class NoopBinder:
    name = "NoopBinder"

    async def bind(self, state: CycleState, pod: Pod, node_name: str) -> Status | None:
        return None


_sort: type[QueueSortPlugin] = FifoSort
_bind: type[BindPlugin] = NoopBinder

FACTORIES = {
    NAME: FACTORY,
    "FifoSort": PluginFactory(new=lambda args, handle: FifoSort()),
    "NoopBinder": PluginFactory(new=lambda args, handle: NoopBinder()),
}


def config(args: Mapping[str, Any]) -> dict[str, Any]:
    """A profile of NodeCPULoad (weight 2) and the test's own QueueSort and Bind plugins."""
    multi_point = {
        "enabled": [
            {"name": "FifoSort"},
            {"name": "NodeCPULoad", "weight": 2},
            {"name": "NoopBinder"},
        ],
        "disabled": [{"name": "*"}],
    }
    return {
        "apiVersion": "kubescheduler.config.k8s.io/v1",
        "kind": "KubeSchedulerConfiguration",
        "profiles": [
            {
                "plugins": {"multiPoint": multi_point},
                "pluginConfig": [{"name": "NodeCPULoad", "args": dict(args)}],
            }
        ],
    }


CONFIG = config({"threshold": 60})


def framework(config: Mapping[str, Any] = CONFIG) -> Framework:
    profile = parse_config(config).profiles[0]
    return Framework(profile, FACTORIES.__getitem__)


def test_profile_builds_the_plugin_with_its_plugin_config_args() -> None:
    plugin = framework().plugins[NAME]
    assert isinstance(plugin, NodeCPULoad)
    assert plugin.args == NodeCPULoadArgs(threshold=60)


def test_invalid_plugin_config_args_fail_the_profile() -> None:
    with pytest.raises(ConfigError, match="threshold: Invalid value: 500"):
        framework(config({"threshold": 500}))


def test_explain_shows_the_loaded_node_rejected() -> None:
    nodes: Sequence[Node] = [
        loaded_node("busy", "0.87"),
        loaded_node("idle", "0.12"),
        loaded_node("new", None),
    ]
    doc = explain(
        make_pod("web"), nodes, [], config=parse_config(CONFIG), factories=FACTORIES.__getitem__
    )
    assert doc["selectedNode"] == "idle"
    assert doc["nodes"]["busy"]["filter"] == {
        "code": "UnschedulableAndUnresolvable",
        "plugin": "NodeCPULoad",
        "reasons": ["node(s) had CPU load above 60%"],
    }
    assert doc["nodes"]["idle"]["scores"] == {
        "NodeCPULoad": {"raw": 88, "normalized": 88, "weighted": 176}
    }
    assert doc["nodes"]["new"]["finalScore"] == 100


EXAMPLE = Path(__file__).resolve().parents[3] / "examples" / "scheduler"


def test_the_tutorial_example_with_the_installed_plugins() -> None:
    """docs/tutorial-scheduler-plugin.md: `kframe scheduler explain` on examples/scheduler."""
    require(EXAMPLE.is_dir(), f"{EXAMPLE} not found: run from a kframe checkout")
    doc = explain_objects(
        load_yaml((EXAMPLE / "cluster.yaml").read_text()),
        "default/web",
        config=load_config(EXAMPLE / "config.yaml"),
        factories=registry_factories(build_registry()),
    )
    assert doc["selectedNode"] == "node-idle"
    assert doc["nodes"]["node-busy"]["filter"]["reasons"] == [REASON]
    assert doc["nodes"]["node-idle"]["scores"][NAME] == {
        "raw": 88,
        "normalized": 88,
        "weighted": 176,
    }
    assert doc["nodes"]["node-new"]["scores"][NAME]["raw"] == UNKNOWN_LOAD_SCORE
    # The tutorial shows this output verbatim: keep it true.
    tutorial = (EXAMPLE.parents[1] / "docs" / "tutorial-scheduler-plugin.md").read_text()
    shown = re.search(r'```json\n(\{\n  "pod": "default/web".*?\n\})\n```', tutorial, re.S)
    assert shown is not None, "the tutorial lost its explain output"
    assert json.loads(shown.group(1)) == doc


def test_filter_rejects_a_loaded_node() -> None:
    """The example of docs/tutorial-scheduler-plugin.md, section 8."""
    plugin = plugin_factory().new(NodeCPULoadArgs(threshold=50), StaticHandle())
    assert isinstance(plugin, NodeCPULoad)
    snapshot = Snapshot.build([loaded_node("n1", "0.73"), loaded_node("n2", "50%")])
    pod, state = make_pod("web"), CycleState()
    plugin.pre_filter(state, pod, snapshot.list())
    assert plugin.filter(state, pod, snapshot.get("n1")) == Status(
        Code.UNSCHEDULABLE_AND_UNRESOLVABLE, "node(s) had CPU load above 50%"
    )
    assert plugin.filter(state, pod, snapshot.get("n2")) is None  # at the threshold: fits


def test_a_variant_registers_under_its_own_name() -> None:
    name = "NodeCPULoadMetrics"
    factory = plugin_factory(name=name, metrics=lambda handle: StaticLoadSource({"node-0": 99.0}))
    assert factory.new(NodeCPULoadArgs(), StaticHandle()).name == name
    check_scheduler_plugin(name, factory, clusters=ANNOTATED, max_examples=10)
