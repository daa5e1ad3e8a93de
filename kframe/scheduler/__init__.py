"""The scheduling framework: extension points, the per-cycle machinery, and configuration.

Plugin authors implement the Protocols here (``FilterPlugin``, ``ScorePlugin``, ...) on plain
classes and register a :class:`PluginFactory` under the plugin's name through the
``kframe_scheduler_plugins`` hook. The framework reads :class:`NodeInfo` snapshots built from the
API server's nodes and pods; ``kframe scheduler explain`` runs the same code offline. See
``docs/scheduler.md`` and ``docs/tutorial-scheduler-plugin.md``.
"""

from kframe.scheduler._config import (
    API_VERSION,
    DEFAULT_PLUGINS,
    DEFAULT_SCHEDULER_NAME,
    ConfigError,
    KubeSchedulerConfiguration,
    PluginConfig,
    PluginRef,
    Plugins,
    PluginSet,
    Profile,
    load_config,
    parse_config,
)
from kframe.scheduler._cycle import (
    Diagnosis,
    FitError,
    NoNodesAvailableError,
    ScheduleResult,
    find_nodes_that_fit,
    num_feasible_nodes_to_find,
    prioritize_nodes,
    schedule_pod,
    select_host,
)
from kframe.scheduler._cycle_state import CycleState, StateData
from kframe.scheduler._events import ActionType, ClusterEvent
from kframe.scheduler._explain import explain, explain_objects
from kframe.scheduler._framework import Framework, PluginScores, SchedulingError, registry_factories
from kframe.scheduler._interfaces import (
    MAX_NODE_SCORE,
    MIN_NODE_SCORE,
    BatchFilterPlugin,
    BatchScoreExtensions,
    BatchScorePlugin,
    BindPlugin,
    EnqueueExtensions,
    FilterPlugin,
    FrameworkHandle,
    Handle,
    NodeScore,
    PermitPlugin,
    Plugin,
    PluginFactory,
    PostBindPlugin,
    PostFilterPlugin,
    PostFilterResult,
    PreBindPlugin,
    PreEnqueuePlugin,
    PreFilterExtensions,
    PreFilterPlugin,
    PreFilterResult,
    PreScorePlugin,
    QueuedPodInfo,
    QueueSortKeyPlugin,
    QueueSortPlugin,
    ReservePlugin,
    ScoreExtensions,
    ScorePlugin,
)
from kframe.scheduler._metrics import SchedulerMetrics, metrics_of
from kframe.scheduler._nodeinfo import HostPortInfo, ImageStateSummary, NodeInfo
from kframe.scheduler._nodelist import NodeChanges, NodeList, PerNodeMemo
from kframe.scheduler._nominator import Nominator
from kframe.scheduler._normalize import default_normalize_score, default_normalize_scores
from kframe.scheduler._podinfo import AffinityTerm, PodInfo, WeightedAffinityTerm, pod_key
from kframe.scheduler._queue import SchedulingQueue
from kframe.scheduler._resource import (
    DEFAULT_MEMORY_REQUEST,
    DEFAULT_MILLI_CPU_REQUEST,
    Resource,
)
from kframe.scheduler._scheduler import Scheduler
from kframe.scheduler._serving import METRICS_PORT, MetricsServer
from kframe.scheduler._simulate import Placement, simulate
from kframe.scheduler._snapshot import NodeNotFoundError, Snapshot, zone_key
from kframe.scheduler._status import Code, Status, as_status
from kframe.scheduler._waiting import WaitingPod

__all__ = [
    # outcomes
    "Code",
    "Status",
    "as_status",
    # extension points
    "Plugin",
    "PreEnqueuePlugin",
    "QueueSortPlugin",
    "QueueSortKeyPlugin",
    "PreFilterPlugin",
    "PreFilterExtensions",
    "PreFilterResult",
    "FilterPlugin",
    "BatchFilterPlugin",
    "PostFilterPlugin",
    "PostFilterResult",
    "PreScorePlugin",
    "ScorePlugin",
    "BatchScorePlugin",
    "PerNodeMemo",
    "ScoreExtensions",
    "BatchScoreExtensions",
    "NodeScore",
    "default_normalize_score",
    "default_normalize_scores",
    "MIN_NODE_SCORE",
    "MAX_NODE_SCORE",
    "ReservePlugin",
    "PermitPlugin",
    "PreBindPlugin",
    "BindPlugin",
    "PostBindPlugin",
    "EnqueueExtensions",
    "Handle",
    "FrameworkHandle",
    "PluginFactory",
    "WaitingPod",
    # cycle data
    "CycleState",
    "StateData",
    "PodInfo",
    "AffinityTerm",
    "WeightedAffinityTerm",
    "pod_key",
    "QueuedPodInfo",
    "NodeChanges",
    "NodeInfo",
    "NodeList",
    "HostPortInfo",
    "ImageStateSummary",
    "Resource",
    "DEFAULT_MILLI_CPU_REQUEST",
    "DEFAULT_MEMORY_REQUEST",
    "Snapshot",
    "NodeNotFoundError",
    "zone_key",
    # the scheduler
    "Scheduler",
    "SchedulingQueue",
    "SchedulerMetrics",
    "metrics_of",
    "MetricsServer",
    "METRICS_PORT",
    "Nominator",
    "ClusterEvent",
    "ActionType",
    # running a profile
    "Framework",
    "PluginScores",
    "SchedulingError",
    "registry_factories",
    "Diagnosis",
    "FitError",
    "NoNodesAvailableError",
    "ScheduleResult",
    "schedule_pod",
    "find_nodes_that_fit",
    "num_feasible_nodes_to_find",
    "prioritize_nodes",
    "select_host",
    "explain",
    "simulate",
    "Placement",
    "explain_objects",
    # configuration
    "API_VERSION",
    "DEFAULT_SCHEDULER_NAME",
    "DEFAULT_PLUGINS",
    "ConfigError",
    "KubeSchedulerConfiguration",
    "Profile",
    "Plugins",
    "PluginSet",
    "PluginRef",
    "PluginConfig",
    "load_config",
    "parse_config",
]
