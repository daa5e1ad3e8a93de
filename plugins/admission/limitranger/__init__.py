"""LimitRanger: a namespace's LimitRanges default and bound pod and claim resources
(upstream plugin/pkg/admission/limitranger).

Mutating: a new pod's containers and init containers get the ``default`` (limits) and
``defaultRequest`` (requests) of every ``type: Container`` item they lack, and the pod is
annotated ``kubernetes.io/limit-ranger`` with what was filled in. Validating: a new pod must meet
each Container and Pod ``min``, ``max`` and ``maxLimitRequestRatio``, and a created or updated
PersistentVolumeClaim the PersistentVolumeClaim ``min`` and ``max`` of its storage request;
otherwise 403 Forbidden with upstream's messages. Pod updates are left alone (their containers'
resources cannot change), as are subresources and objects already being deleted.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from kframe.apiserver import AdmissionContext, AdmissionRequest, APIError, ListOptions
from kframe.registry import hookimpl

from ._limits import (
    ANNOTATION,
    aggregate,
    apply_defaults,
    claim_violations,
    pod_violations,
)

__all__ = ["ANNOTATION", "NAME", "LimitRanger", "kframe_admission_plugins"]

NAME = "LimitRanger"


def _supported(request: AdmissionRequest) -> bool:
    """``SupportsAttributes``, plus upstream's skip of objects marked for deletion."""
    if request.group or request.object is None or request.namespace is None:
        return False
    if request.operation not in ("CREATE", "UPDATE"):
        return False
    if request.resource == "pods":
        # In-place resize (pods/resize) is checked as upstream does with the feature on; other
        # pod updates cannot change container resources, so they are not checked at all.
        if request.subresource == "resize":
            supported = request.operation == "UPDATE"
        else:
            supported = not request.subresource and request.operation == "CREATE"
    else:
        supported = request.resource == "persistentvolumeclaims" and not request.subresource
    if not supported:
        return False
    old = request.old_object
    return not (old is not None and (old.get("metadata") or {}).get("deletionTimestamp"))


async def _limit_ranges(
    request: AdmissionRequest, context: AdmissionContext
) -> list[dict[str, Any]]:
    listed = await context.storage("", "v1", "limitranges").list(request.namespace, ListOptions())
    items: list[dict[str, Any]] = listed["items"]
    return items


def _forbidden(request: AdmissionRequest, why: str) -> APIError:
    # admission.NewForbidden: `pods "web" is forbidden: <why>`.
    return APIError(
        403,
        "Forbidden",
        f'{request.resource} "{request.name}" is forbidden: {why}',
        name=request.name,
        kind=request.resource,
    )


class LimitRanger:
    def __init__(self) -> None:
        # The LimitRanges the last admit listed, for its request's validate: a pod create
        # lists its namespace's LimitRanges once, as upstream reads both phases from one
        # informer's cache.
        self._admitted: tuple[AdmissionRequest, list[dict[str, Any]]] | None = None

    async def admit(self, request: AdmissionRequest, context: AdmissionContext) -> None:
        if request.resource != "pods" or not _supported(request):
            return
        assert request.object is not None
        limit_ranges = await _limit_ranges(request, context)
        self._admitted = (request, limit_ranges)
        for limit_range in limit_ranges:
            apply_defaults(limit_range, request.object)

    async def validate(self, request: AdmissionRequest, context: AdmissionContext) -> None:
        if not _supported(request):
            return
        assert request.object is not None
        check = pod_violations if request.resource == "pods" else claim_violations
        admitted, self._admitted = self._admitted, None
        if admitted is not None and admitted[0] is request:
            limit_ranges = admitted[1]
        else:  # another request's admit came between (or none ran): list again
            limit_ranges = await _limit_ranges(request, context)
        for limit_range in limit_ranges:
            problems = check(limit_range, request.object)
            if problems:
                raise _forbidden(request, aggregate(problems))


@hookimpl
def kframe_admission_plugins() -> Mapping[str, object]:
    return {NAME: LimitRanger}
