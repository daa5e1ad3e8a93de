"""The replicaset controller: ``spec.replicas`` pods of each ReplicaSet (upstream
pkg/controller/replicaset). See ``docs/controllers-replicaset.md``."""

from __future__ import annotations

from collections.abc import Mapping

from kframe.controller import ControllerSpec
from kframe.registry import hookimpl

from ._controller import BURST_REPLICAS, ReplicaSetController
from ._ranking import POD_DELETION_COST, deletion_precedes, pod_facts, pods_to_delete
from ._status import REPLICA_FAILURE, calculate_status

__all__ = [
    "BURST_REPLICAS",
    "POD_DELETION_COST",
    "REPLICA_FAILURE",
    "ReplicaSetController",
    "calculate_status",
    "deletion_precedes",
    "pod_facts",
    "pods_to_delete",
]


@hookimpl
def kframe_controllers() -> Mapping[str, object]:
    # upstream --concurrent-replicaset-syncs=5
    return {
        "replicaset-controller": ControllerSpec(
            ReplicaSetController, workers=5, aliases=("replicaset",)
        )
    }
