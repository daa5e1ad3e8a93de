"""The controller framework: reconcile loops over shared informers and work queues.

A controller plugin registers a :class:`ControllerSpec` under its name through the
``kframe_controllers`` hook; :class:`ControllerManager` builds the enabled ones
(``--controllers``, as kube-controller-manager's), each with its own
:class:`ControllerContext`, and runs their workers. See ``docs/controllers.md``.
"""

from kframe.controller._context import ControllerContext
from kframe.controller._durations import parse_duration
from kframe.controller._endpoints import (
    LAST_CHANGE_TRIGGER_TIME,
    TriggerTimeTracker,
    find_port,
    format_rfc3339_nano,
    ip_family,
    is_headless,
    is_service_ip_set,
    pod_ips,
    service_pods_keys,
    should_pod_be_in_endpoints,
    should_set_hostname,
)
from kframe.controller._expectations import EXPECTATIONS_TIMEOUT, Expectations
from kframe.controller._informers import SharedInformers
from kframe.controller._interface import (
    Controller,
    ControllerFactory,
    ControllerSpec,
    Result,
    done,
    requeue_after,
)
from kframe.controller._kinds import guess_plural, listable_kinds
from kframe.controller._leader import (
    LEASE_NAME,
    LEASE_NAMESPACE,
    LeaderElection,
    LeadershipLost,
    default_identity,
)
from kframe.controller._manager import (
    UPSTREAM_COMPONENTS,
    ControllerManager,
    as_spec,
    enabled_controllers,
    registered_controllers,
)
from kframe.controller._metrics import (
    ContainerUsage,
    FixedMetrics,
    KubeletSummaryMetrics,
    MetricsSource,
    PodUsage,
)
from kframe.controller._owners import (
    CONTROLLER_UID_INDEX,
    OWNER_UID_INDEX,
    claim_objects,
    controller_ref,
    controller_uid_index,
    new_controller_ref,
    owner_uid_index,
)
from kframe.controller._pods import (
    SLOW_START_INITIAL_BATCH_SIZE,
    is_pod_active,
    is_pod_available,
    is_pod_ready,
    pod_from_template,
    pod_ready_since,
    slow_start_batch,
)
from kframe.controller._revisions import (
    CONTROLLER_REVISION_HASH_LABEL,
    create_controller_revision,
    equal_revision,
    hash_revision_data,
    new_controller_revision,
    next_revision,
    revision_template,
    sort_revisions,
    template_patch,
)
from kframe.controller._workers import run_workers

__all__ = [
    "Controller",
    "ControllerFactory",
    "ControllerSpec",
    "ControllerContext",
    "ControllerManager",
    "Result",
    "done",
    "requeue_after",
    "SharedInformers",
    "Expectations",
    "EXPECTATIONS_TIMEOUT",
    "as_spec",
    "enabled_controllers",
    "registered_controllers",
    "run_workers",
    "parse_duration",
    # kinds served
    "guess_plural",
    "listable_kinds",
    # leader election
    "LEASE_NAME",
    "LEASE_NAMESPACE",
    "LeaderElection",
    "LeadershipLost",
    "default_identity",
    "UPSTREAM_COMPONENTS",
    # pod metrics
    "ContainerUsage",
    "FixedMetrics",
    "KubeletSummaryMetrics",
    "MetricsSource",
    "PodUsage",
    # owner references
    "CONTROLLER_UID_INDEX",
    "OWNER_UID_INDEX",
    "claim_objects",
    "controller_ref",
    "controller_uid_index",
    "new_controller_ref",
    "owner_uid_index",
    # pods
    "SLOW_START_INITIAL_BATCH_SIZE",
    "is_pod_active",
    "is_pod_available",
    "is_pod_ready",
    "pod_from_template",
    "pod_ready_since",
    "slow_start_batch",
    # service endpoints
    "LAST_CHANGE_TRIGGER_TIME",
    "TriggerTimeTracker",
    "find_port",
    "format_rfc3339_nano",
    "ip_family",
    "is_headless",
    "is_service_ip_set",
    "pod_ips",
    "service_pods_keys",
    "should_pod_be_in_endpoints",
    "should_set_hostname",
    # controller revisions
    "CONTROLLER_REVISION_HASH_LABEL",
    "create_controller_revision",
    "equal_revision",
    "hash_revision_data",
    "new_controller_revision",
    "next_revision",
    "revision_template",
    "sort_revisions",
    "template_patch",
]
