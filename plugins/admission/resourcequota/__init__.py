"""ResourceQuota: writes that would take a namespace past one of its ResourceQuotas are refused,
and admitted ones are charged to the quotas' ``status.used`` (upstream
apiserver/pkg/admission/plugin/resourcequota with the evaluators of pkg/quota/v1).

On create (and on the updates that can change usage: services, persistent volume claims, pods
moving between Terminating and NotTerminating) every ResourceQuota of the namespace whose
``status.hard`` names a resource the object uses and whose scopes match is checked:

- a quota on cpu or memory (requests or limits) needs every container to set that value:
  403 ``failed quota: <name>: must specify <resource> for: <containers>; ...``;
- a quota whose ``status.used`` lacks a constrained resource: 403 ``status unknown for quota``;
- ``status.used`` plus the object's usage must stay within ``status.hard``: 403 ``exceeded
  quota: <name>, requested: ..., used: ..., limited: ...``.

Then each charged quota's ``status.used`` is raised by an optimistic status update, retried up
to three times on conflict with the quotas re-read. Dry runs are checked but charge nothing.

As upstream, only ``status.hard`` counts: a quota the quota controller has not synced yet (it
clears ``status`` on create) constrains nothing. Giving usage back when objects are deleted or
finish, and recomputing ``status``, is the resource quota controller's job, not admission's.
Upstream's admission configuration (``limitedResources``) is not supported.
"""

from __future__ import annotations

import asyncio
import copy
from collections.abc import Mapping

from kframe.apiserver import AdmissionContext, AdmissionRequest, APIError, ListOptions
from kframe.registry import hookimpl

from ._check import check_request
from ._evaluators import Evaluator, evaluator_for

__all__ = ["NAME", "ResourceQuota", "kframe_admission_plugins"]

NAME = "ResourceQuota"
#: Upstream's ``checkQuotas(..., 3)``: status updates retried this many times on conflict.
RETRIES = 3


class ResourceQuota:
    def __init__(self) -> None:
        # Upstream evaluates one namespace's writes one batch at a time; so do we, per server.
        self._locks: dict[str, asyncio.Lock] = {}

    async def validate(self, request: AdmissionRequest, context: AdmissionContext) -> None:
        if (
            request.subresource
            or not request.namespace
            or request.object is None
            or request.operation not in ("CREATE", "UPDATE")
        ):
            return
        evaluator = evaluator_for(request.group, request.resource)
        if evaluator is None or not evaluator.handles(request):
            return
        lock = self._locks.setdefault(request.namespace, asyncio.Lock())
        async with lock:
            await self._evaluate(request, context, evaluator)

    async def _evaluate(
        self, request: AdmissionRequest, context: AdmissionContext, evaluator: Evaluator
    ) -> None:
        namespace = request.namespace
        storage = context.storage("", "v1", "resourcequotas")
        quotas = (await storage.list(namespace, ListOptions()))["items"]
        retries = RETRIES
        while quotas:
            charges = check_request(
                quotas, request, evaluator, lambda why: _forbidden(request, why)
            )
            if request.dry_run or not charges:
                return
            failed: set[str] = set()
            error: APIError | None = None
            for charge in charges:
                quota = copy.deepcopy(charge.quota)
                status = quota.get("status")
                status = dict(status) if isinstance(status, dict) else {}
                status["used"] = {name: str(charge.used[name]) for name in sorted(charge.used)}
                quota["status"] = status
                try:
                    await storage.update(quota, namespace, charge.name, subresource="status")
                except APIError as exc:
                    failed.add(charge.name)
                    error = exc
            if error is None:
                return
            if retries <= 0:
                raise error
            retries -= 1
            # Only the quotas whose update failed are checked again: the others are charged.
            fresh = (await storage.list(namespace, ListOptions()))["items"]
            quotas = [q for q in fresh if (q.get("metadata") or {}).get("name") in failed]


def _forbidden(request: AdmissionRequest, why: str) -> APIError:
    # admission.NewForbidden: `pods "web" is forbidden: <why>`, the resource with its group.
    what = f"{request.resource}.{request.group}" if request.group else request.resource
    return APIError(
        403,
        "Forbidden",
        f'{what} "{request.name}" is forbidden: {why}',
        name=request.name,
        group=request.group,
        kind=request.resource,
    )


@hookimpl
def kframe_admission_plugins() -> Mapping[str, object]:
    return {NAME: ResourceQuota}
