"""The deployment controller: rolls a Deployment's pod template out through ReplicaSets
(upstream pkg/controller/deployment). See ``docs/controllers-deployment.md``."""

from __future__ import annotations

from collections.abc import Mapping

from kframe.controller import ControllerSpec
from kframe.registry import hookimpl

from ._annotations import (
    DESIRED_REPLICAS_ANNOTATION,
    MAX_REPLICAS_ANNOTATION,
    REVISION_ANNOTATION,
    REVISION_HISTORY_ANNOTATION,
)
from ._controller import DeploymentController
from ._hash import POD_TEMPLATE_HASH_LABEL, compute_hash, safe_encode_string

__all__ = [
    "DESIRED_REPLICAS_ANNOTATION",
    "MAX_REPLICAS_ANNOTATION",
    "POD_TEMPLATE_HASH_LABEL",
    "REVISION_ANNOTATION",
    "REVISION_HISTORY_ANNOTATION",
    "DeploymentController",
    "compute_hash",
    "safe_encode_string",
]


@hookimpl
def kframe_controllers() -> Mapping[str, object]:
    return {
        "deployment-controller": ControllerSpec(
            DeploymentController, workers=5, aliases=("deployment",)
        )
    }
