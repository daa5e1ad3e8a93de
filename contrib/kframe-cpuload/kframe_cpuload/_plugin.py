"""The NodeCPULoad plugin, its args, and the factory that kframe's registry hands out.

Filter rejects a node whose CPU load is above ``threshold`` percent; Score prefers less loaded
nodes. A node whose load no source knows is never rejected and scores a neutral
:data:`UNKNOWN_LOAD_SCORE`. The load of each node is looked up once per scheduling cycle: the
first lookup (in Filter, or in Score for nodes Filter did not see) stores it in the cycle state
that PreFilter and PreScore create, and later lookups read it back.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Sequence

import attrs

from kframe.api import is_qualified_name
from kframe.api.models import Node, Pod
from kframe.scheduler import (
    MAX_NODE_SCORE,
    MIN_NODE_SCORE,
    ActionType,
    ClusterEvent,
    Code,
    ConfigError,
    CycleState,
    EnqueueExtensions,
    FilterPlugin,
    Handle,
    NodeInfo,
    PluginFactory,
    PreFilterPlugin,
    PreScorePlugin,
    ScorePlugin,
    Status,
)

from ._load import DEFAULT_ANNOTATION, AnnotationLoadSource, LoadSource

__all__ = [
    "NAME",
    "UNKNOWN_LOAD_SCORE",
    "NodeCPULoad",
    "NodeCPULoadArgs",
    "plugin_factory",
    "validate_args",
]

NAME = "NodeCPULoad"

# The score of a node whose load is unknown: the middle of [0, 100], neither preferred nor
# avoided, so that nodes without a load agent are not starved and not flooded either.
UNKNOWN_LOAD_SCORE = (MIN_NODE_SCORE + MAX_NODE_SCORE) // 2

# The per-cycle load cache, under "<plugin name>/loads" in the cycle state: node name ->
# (the Node it was measured on, its load).
_Loads = dict[str, tuple[Node | None, float | None]]


@attrs.frozen(kw_only=True)
class NodeCPULoadArgs:
    """The plugin's ``pluginConfig`` args (all optional)."""

    #: Nodes whose CPU load is above this percentage are filtered out (0-100).
    threshold: int = attrs.field(default=50, metadata={"json": "threshold"})
    #: The node annotation an agent writes the load into: ``"0.73"`` or ``"73%"``.
    annotation: str = attrs.field(default=DEFAULT_ANNOTATION, metadata={"json": "annotation"})


def validate_args(args: NodeCPULoadArgs) -> None:
    """Raise :class:`kframe.scheduler.ConfigError` for args the plugin cannot work with.

    Messages are worded as Kubernetes' field errors: ``threshold: Invalid value: 150: not in
    valid range [0-100]``; several errors are listed in brackets.
    """
    errors: list[str] = []
    if not 0 <= args.threshold <= 100:
        errors.append(f"threshold: Invalid value: {args.threshold}: not in valid range [0-100]")
    if not args.annotation:
        errors.append("annotation: Required value")
    else:
        quoted = json.dumps(args.annotation)
        errors.extend(
            f"annotation: Invalid value: {quoted}: {msg}"
            for msg in is_qualified_name(args.annotation)
        )
    if len(errors) == 1:
        raise ConfigError(errors[0])
    if errors:
        raise ConfigError(f"[{', '.join(errors)}]")


class NodeCPULoad:
    """Keeps pods off nodes whose CPU load is above a threshold, and prefers idle nodes."""

    def __init__(
        self, args: NodeCPULoadArgs, sources: Sequence[LoadSource], *, name: str = NAME
    ) -> None:
        self.name = name
        self.args = args
        self.sources = tuple(sources)
        self._threshold = args.threshold
        self._state_key = f"{name}/loads"
        # Aggregated per reason in FitError: "3 node(s) had CPU load above 50%".
        self._reason = f"node(s) had CPU load above {args.threshold}%"

    # -- the load of a node, once per cycle ------------------------------------------------

    def measure(self, node_info: NodeInfo) -> float | None:
        """The node's load from the first source that knows it (no caching)."""
        for source in self.sources:
            load = source.cpu_load(node_info)
            if load is not None:
                return load
        return None

    def load(self, state: CycleState, node_info: NodeInfo) -> float | None:
        """The node's load, measured at most once per cycle."""
        try:
            loads: _Loads = state.read(self._state_key)
        except KeyError:  # PreFilter/PreScore not enabled for this plugin: no cache
            return self.measure(node_info)
        cached = loads.get(node_info.name)
        # A cycle sees one Node object per node; a different one means a new snapshot.
        if cached is not None and cached[0] is node_info.node:
            return cached[1]
        load = self.measure(node_info)
        loads[node_info.name] = (node_info.node, load)
        return load

    # -- extension points --------------------------------------------------------------------

    def pre_filter(self, state: CycleState, pod: Pod, nodes: Sequence[NodeInfo]) -> Status | None:
        self._start_cache(state)
        return None

    def filter(self, state: CycleState, pod: Pod, node_info: NodeInfo) -> Status | None:
        load = self.load(state, node_info)
        if load is not None and load > self._threshold:
            # Waiting or preempting pods does not lower a node's load: no preemption.
            return Status(Code.UNSCHEDULABLE_AND_UNRESOLVABLE, self._reason)
        return None

    def pre_score(self, state: CycleState, pod: Pod, nodes: Sequence[NodeInfo]) -> Status | None:
        self._start_cache(state)
        return None

    def score(self, state: CycleState, pod: Pod, node_info: NodeInfo) -> int:
        """100 minus the load (rounded half up), within [0, 100]; unknown: 50."""
        load = self.load(state, node_info)
        if load is None:
            return UNKNOWN_LOAD_SCORE
        return max(MIN_NODE_SCORE, min(MAX_NODE_SCORE, math.floor(MAX_NODE_SCORE + 0.5 - load)))

    def events_to_register(self) -> list[ClusterEvent]:
        """A rejected pod may fit once a node is added or a node's annotations change."""
        return [ClusterEvent("Node", ActionType.ADD | ActionType.UPDATE_NODE_ANNOTATION)]

    def _start_cache(self, state: CycleState) -> None:
        try:
            state.read(self._state_key)
        except KeyError:
            state.write(self._state_key, {})

    def __repr__(self) -> str:
        return (
            f"NodeCPULoad(name={self.name!r}, threshold={self._threshold}, "
            f"sources={list(self.sources)!r})"
        )


# Conformance, as upstream's `var _ framework.FilterPlugin = &NodeCPULoad{}`.
_pre_filter: type[PreFilterPlugin] = NodeCPULoad
_filter: type[FilterPlugin] = NodeCPULoad
_pre_score: type[PreScorePlugin] = NodeCPULoad
_score: type[ScorePlugin] = NodeCPULoad
_enqueue: type[EnqueueExtensions] = NodeCPULoad


MetricsHook = Callable[[Handle], LoadSource]


def plugin_factory(*, name: str = NAME, metrics: MetricsHook | None = None) -> PluginFactory:
    """The factory of NodeCPULoad, with an optional metrics source in front of the annotation.

    ``metrics(handle)`` is called once when a profile builds the plugin and returns the
    :class:`LoadSource` to ask first; nodes it does not know fall back to the annotation.
    ``name`` is the plugin's name: register a variant with a metrics source under a name of
    its own (``kframe_scheduler_plugins`` returns ``{name: plugin_factory(name=name, ...)}``).
    """

    def new(args: NodeCPULoadArgs, handle: Handle) -> NodeCPULoad:
        validate_args(args)
        sources: list[LoadSource] = [] if metrics is None else [metrics(handle)]
        sources.append(AnnotationLoadSource(args.annotation))
        return NodeCPULoad(args, sources, name=name)

    return PluginFactory(new=new, args_type=NodeCPULoadArgs)
