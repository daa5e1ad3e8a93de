"""The scheduling framework's extension points as typed Protocols (upstream interface.go).

A plugin is a plain object with a ``name`` that implements one or more of these; the framework
finds out which by ``isinstance`` when a profile is built, never per node. The per-node methods
(``filter``, ``score``) are synchronous and called directly on the hot path; the binding-cycle
methods that talk to the API server (``pre_bind``, ``bind``, ``post_filter``) are async.

Success is ``None`` (upstream's nil ``*Status``); any other outcome is a :class:`Status`. A plugin
that raises has answered ``Error`` with the exception as its reason.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, Protocol, TypeVar, runtime_checkable

import attrs

from kframe.api.models import Pod

from ._cycle_state import CycleState
from ._nodeinfo import NodeInfo
from ._podinfo import PodInfo
from ._snapshot import Snapshot
from ._status import Status
from ._waiting import WaitingPod

if TYPE_CHECKING:
    from kframe.client import Client

__all__ = [
    "BatchFilterPlugin",
    "BatchScoreExtensions",
    "BatchScorePlugin",
    "BindPlugin",
    "EnqueueExtensions",
    "FilterPlugin",
    "FrameworkHandle",
    "Handle",
    "MAX_NODE_SCORE",
    "MIN_NODE_SCORE",
    "NodeScore",
    "PermitPlugin",
    "Plugin",
    "PluginFactory",
    "PostBindPlugin",
    "PostFilterPlugin",
    "PostFilterResult",
    "PreBindPlugin",
    "PreEnqueuePlugin",
    "PreFilterExtensions",
    "PreFilterPlugin",
    "PreFilterResult",
    "PreScorePlugin",
    "QueueSortKeyPlugin",
    "QueueSortPlugin",
    "QueuedPodInfo",
    "ReservePlugin",
    "ScoreExtensions",
    "ScorePlugin",
]

MIN_NODE_SCORE, MAX_NODE_SCORE = 0, 100

T = TypeVar("T")


class PreFilterResult:
    """PreFilter's answer that only some nodes can fit (``None`` in ``node_names``: all)."""

    __slots__ = ("node_names",)

    def __init__(self, node_names: frozenset[str] | None) -> None:
        self.node_names = node_names

    @property
    def all_nodes(self) -> bool:
        return self.node_names is None

    def merge(self, other: PreFilterResult | None) -> PreFilterResult:
        """The intersection of two plugins' answers."""
        if other is None or other.node_names is None:
            return self
        if self.node_names is None:
            return other
        return PreFilterResult(self.node_names & other.node_names)

    def __repr__(self) -> str:
        return f"PreFilterResult({None if self.node_names is None else sorted(self.node_names)})"


class NodeScore:
    """One node's score from one plugin; NormalizeScore rewrites ``score`` in place."""

    __slots__ = ("name", "score")

    def __init__(self, name: str, score: int) -> None:
        self.name = name
        self.score = score

    def __repr__(self) -> str:
        return f"NodeScore({self.name!r}, {self.score})"


@attrs.frozen
class PostFilterResult:
    """What PostFilter found: the node the pod was nominated to, if any."""

    nominated_node_name: str | None = None


@attrs.define
class QueuedPodInfo:
    """A pod in the scheduling queue, with what the queue keeps about its attempts."""

    pod_info: PodInfo
    # When the pod entered the queue (seconds on the queue's clock); QueueSort reads it.
    timestamp: float = 0.0
    attempts: int = 0
    initial_attempt_timestamp: float | None = None
    # Plugins that rejected the pod last time; only events they care about move it back.
    unschedulable_plugins: set[str] = attrs.field(factory=set)
    pending_plugins: set[str] = attrs.field(factory=set)
    # The PreEnqueue plugin that is keeping the pod out of the active queue, if any.
    gating_plugin: str | None = None

    @property
    def pod(self) -> Pod:
        return self.pod_info.pod


@runtime_checkable
class Plugin(Protocol):
    @property
    def name(self) -> str: ...


@runtime_checkable
class PreEnqueuePlugin(Plugin, Protocol):
    def pre_enqueue(self, pod: Pod) -> Status | None:
        """Whether the pod may enter the active queue at all (``UnschedulableAndUnresolvable``
        keeps it out until an event lets it in)."""


@runtime_checkable
class QueueSortPlugin(Plugin, Protocol):
    def less(self, a: QueuedPodInfo, b: QueuedPodInfo) -> bool:
        """Whether ``a`` is scheduled before ``b``. Exactly one QueueSort plugin is enabled."""


@runtime_checkable
class QueueSortKeyPlugin(QueueSortPlugin, Protocol):
    """A QueueSort plugin whose order is a key's (optional fast path).

    ``sort_key(a) < sort_key(b)`` must be ``less(a, b)`` for every pair. The queue reads a
    pod's key when the pod enters the active queue and compares keys rather than calling
    ``less``: each pop of a queue of 10,000 pods compares about 25 times.
    """

    def sort_key(self, qpi: QueuedPodInfo) -> Any: ...


@runtime_checkable
class PreFilterPlugin(Plugin, Protocol):
    def pre_filter(
        self, state: CycleState, pod: Pod, nodes: Sequence[NodeInfo]
    ) -> PreFilterResult | Status | None:
        """Once per cycle before Filter: precompute into ``state``, or reject the pod for every
        node, or narrow the nodes to check (a :class:`PreFilterResult`), or ``Skip`` this
        plugin's Filter."""


@runtime_checkable
class PreFilterExtensions(Plugin, Protocol):
    """Implemented by a PreFilter plugin whose state depends on the pods on nodes: preemption
    and nominated pods call these to keep the state in step when pods are added or removed."""

    def add_pod(
        self, state: CycleState, pod: Pod, pod_to_add: PodInfo, node_info: NodeInfo
    ) -> Status | None: ...

    def remove_pod(
        self, state: CycleState, pod: Pod, pod_to_remove: PodInfo, node_info: NodeInfo
    ) -> Status | None: ...


@runtime_checkable
class FilterPlugin(Plugin, Protocol):
    def filter(self, state: CycleState, pod: Pod, node_info: NodeInfo) -> Status | None:
        """Whether the pod can run on this node; called per node, the hot path."""


@runtime_checkable
class BatchFilterPlugin(FilterPlugin, Protocol):
    """A Filter plugin that can also answer for many nodes in one call (optional fast path).

    ``filter_nodes`` must agree with :meth:`FilterPlugin.filter` node by node: the same verdicts
    and reasons, in the order of ``nodes``, or ``None`` when every node passes. It must not
    depend on which other nodes are in ``nodes``: the framework may pass nodes it then does not
    need (past the number of feasible nodes it was looking for) and ignores their answers.
    """

    def filter_nodes(
        self, state: CycleState, pod: Pod, nodes: Sequence[NodeInfo]
    ) -> Sequence[Status | None] | None: ...


@runtime_checkable
class PostFilterPlugin(Plugin, Protocol):
    async def post_filter(
        self, state: CycleState, pod: Pod, statuses: Mapping[str, Status]
    ) -> tuple[PostFilterResult | None, Status | None]:
        """After no node fitted (``statuses``: each rejected node's Filter status): make room,
        as DefaultPreemption does, and nominate a node."""


@runtime_checkable
class PreScorePlugin(Plugin, Protocol):
    def pre_score(self, state: CycleState, pod: Pod, nodes: Sequence[NodeInfo]) -> Status | None:
        """Once per cycle with the feasible nodes, before Score; ``Skip`` skips this plugin's
        Score."""


@runtime_checkable
class ScorePlugin(Plugin, Protocol):
    def score(self, state: CycleState, pod: Pod, node_info: NodeInfo) -> int:
        """The node's raw score for the pod; called per feasible node."""


@runtime_checkable
class BatchScorePlugin(ScorePlugin, Protocol):
    """A Score plugin that can also score many nodes in one call (optional fast path).

    ``score_nodes`` must return exactly ``[score(state, pod, n) for n in nodes]``; the
    framework calls it instead of ``score`` when the plugin has it.
    """

    def score_nodes(self, state: CycleState, pod: Pod, nodes: Sequence[NodeInfo]) -> list[int]: ...


@runtime_checkable
class ScoreExtensions(Plugin, Protocol):
    """Implemented by a Score plugin whose raw scores need rescaling to [0, 100]."""

    def normalize_score(
        self, state: CycleState, pod: Pod, scores: list[NodeScore]
    ) -> Status | None: ...


@runtime_checkable
class BatchScoreExtensions(ScoreExtensions, Protocol):
    """A normalizer that can also rescale the scores alone, without the nodes' names (optional
    fast path): ``normalize_scores`` rewrites the list in place exactly as ``normalize_score``
    rewrites the ``NodeScore`` list's scores; the framework then builds no ``NodeScore``."""

    def normalize_scores(self, state: CycleState, pod: Pod, scores: list[int]) -> Status | None: ...


@runtime_checkable
class ReservePlugin(Plugin, Protocol):
    def reserve(self, state: CycleState, pod: Pod, node_name: str) -> Status | None:
        """The pod is assumed on the node; claim what the plugin tracks."""

    def unreserve(self, state: CycleState, pod: Pod, node_name: str) -> None:
        """A later step failed: give back what :meth:`reserve` claimed. Must be idempotent."""


@runtime_checkable
class PermitPlugin(Plugin, Protocol):
    def permit(self, state: CycleState, pod: Pod, node_name: str) -> tuple[Status | None, float]:
        """Allow (``None``), reject, or ``Wait`` up to the returned number of seconds for
        :meth:`WaitingPod.allow`."""


@runtime_checkable
class PreBindPlugin(Plugin, Protocol):
    async def pre_bind(self, state: CycleState, pod: Pod, node_name: str) -> Status | None: ...


@runtime_checkable
class BindPlugin(Plugin, Protocol):
    async def bind(self, state: CycleState, pod: Pod, node_name: str) -> Status | None:
        """Bind the pod, or answer ``Skip`` to leave it to the next Bind plugin."""


@runtime_checkable
class PostBindPlugin(Plugin, Protocol):
    def post_bind(self, state: CycleState, pod: Pod, node_name: str) -> None: ...


@runtime_checkable
class EnqueueExtensions(Protocol):
    """Implemented by a plugin that can reject pods: which cluster events may make a pod it
    rejected schedulable (queueing hints)."""

    def events_to_register(self) -> Sequence[Any]: ...


class Handle(Protocol):
    """What the framework gives a plugin when building it."""

    def snapshot(self) -> Snapshot:
        """The current cycle's nodes (the same object for every plugin call of the cycle)."""

    def list_objects(self, cls: type[T]) -> Sequence[T]:
        """Cluster objects of one kind from the scheduler's informer cache (Namespaces,
        Services, ReplicaSets, PodDisruptionBudgets, ...); empty if the scheduler does not
        watch that kind."""

    @property
    def client(self) -> Client | None:
        """The API client, for plugins that write (binding, preemption); None offline."""


class FrameworkHandle(Handle, Protocol):
    """The Handle the scheduler's own frameworks give: also what preemption needs to run the
    profile's filters on what-if copies of nodes."""

    def run_filter_plugins_with_nominated_pods(
        self, state: CycleState, pod: Pod, node_info: NodeInfo
    ) -> Status | None: ...

    def run_pre_filter_extension_add_pod(
        self, state: CycleState, pod: Pod, pod_to_add: PodInfo, node_info: NodeInfo
    ) -> Status | None: ...

    def run_pre_filter_extension_remove_pod(
        self, state: CycleState, pod: Pod, pod_to_remove: PodInfo, node_info: NodeInfo
    ) -> Status | None: ...

    def nominated_pods_for_node(self, node_name: str) -> list[PodInfo]:
        """Pods nominated to this node by earlier preemptions, still pending."""

    def get_waiting_pod(self, uid: str) -> WaitingPod | None:
        """The pod held at Permit with this uid, if any."""

    @property
    def rng(self) -> random.Random:
        """The scheduler's random source (seeded by ``--seed``), for reproducible choices."""


@attrs.frozen
class PluginFactory:
    """How a plugin package registers a scheduler plugin under a name.

    ``new(args, handle)`` builds the plugin. ``args`` is an instance of ``args_type``, decoded
    from the profile's ``pluginConfig`` strictly; with no entry, ``args_type()``, so the attrs
    defaults are upstream's v1 defaults. Defaulting that depends on what was given (upstream's
    ``SetDefaults_*Args``) and validation belong in ``new``, which raises ConfigError.
    """

    new: Callable[[Any, Handle], Plugin]
    args_type: type | None = None
