"""The API calls of preemption: evict the victims, clear stale nominations (upstream
preemption.go ``PreemptPod``/``prepareCandidate`` and util ``ClearNominatedNodeName``).

A victim waiting at Permit is rejected instead of deleted. Any other victim first gets the
``DisruptionTarget`` condition (status True, reason ``PreemptionByScheduler``) by a status patch,
then is deleted (already gone counts as done), and a ``Preempted`` event is recorded on it.
Victims are evicted concurrently; the first failure is the result.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
from collections.abc import Sequence

from kframe.api import format_time, time_now
from kframe.api.models import Event, EventSource, ObjectMeta, ObjectReference, Pod
from kframe.client import Client
from kframe.scheduler import Code, FrameworkHandle, Status

from ._victims import DISRUPTION_TARGET, PREEMPTION_BY_SCHEDULER, Candidate

__all__ = ["Executor"]

log = logging.getLogger("kframe.scheduler")


def _not_found(exc: BaseException) -> bool:
    # kframe.apiserver.APIError (either client) carries the HTTP code; no import of the server.
    return getattr(exc, "code", None) == 404


def _scheduler_name(pod: Pod) -> str:
    return (pod.spec.scheduler_name if pod.spec else None) or "default-scheduler"


def _reference(pod: Pod) -> ObjectReference:
    meta = pod.metadata
    assert meta is not None
    return ObjectReference(
        api_version="v1",
        kind="Pod",
        name=meta.name,
        namespace=meta.namespace,
        uid=meta.uid,
        resource_version=meta.resource_version,
    )


class Executor:
    """Evicts victims through the handle's API client."""

    def __init__(self, handle: FrameworkHandle) -> None:
        self.handle = handle

    def _client(self) -> Client:
        client = self.handle.client
        if client is None:
            raise RuntimeError("preemption needs an API client to evict pods")
        return client

    async def preempt_victims(
        self, candidate: Candidate, preemptor: Pod, plugin_name: str
    ) -> Status | None:
        """Evict every victim of the candidate; None, or an Error status for the first
        failure."""
        results = await asyncio.gather(
            *(
                self.preempt_pod(candidate, preemptor, victim, plugin_name)
                for victim in candidate.victims.pods
            ),
            return_exceptions=True,
        )
        for result in results:
            if isinstance(result, Exception):
                return Status(Code.ERROR, str(result), error=result)
            if isinstance(result, BaseException):
                raise result
        return None

    async def preempt_pod(
        self, candidate: Candidate, preemptor: Pod, victim: Pod, plugin_name: str
    ) -> None:
        """``PreemptPod``: reject a waiting victim, or mark and delete it; raises on failure."""
        meta = victim.metadata
        assert meta is not None
        waiting = self.handle.get_waiting_pod(meta.uid or "")
        if waiting is not None:
            waiting.reject(plugin_name, "preempted")
        else:
            client = self._client()
            message = (
                f"{_scheduler_name(preemptor)}: preempting to accommodate a higher priority pod"
            )
            if not _has_condition(victim, message):
                condition = {
                    "type": DISRUPTION_TARGET,
                    "status": "True",
                    "reason": PREEMPTION_BY_SCHEDULER,
                    "message": message,
                    "lastTransitionTime": format_time(time_now()),
                }
                await client.patch(
                    Pod,
                    meta.name or "",
                    {"status": {"conditions": [condition]}},
                    namespace=meta.namespace,
                    patch_type="strategic",
                    subresource="status",
                )
            try:
                await client.delete(Pod, meta.name or "", namespace=meta.namespace)
            except Exception as exc:
                if not _not_found(exc):
                    raise
                log.debug("preemption: victim %s/%s is already deleted", meta.namespace, meta.name)
                return
        await self._event(candidate, preemptor, victim)

    async def _event(self, candidate: Candidate, preemptor: Pod, victim: Pod) -> None:
        client = self.handle.client
        if client is None:
            return
        meta = victim.metadata
        assert meta is not None
        uid = preemptor.metadata.uid if preemptor.metadata else None
        now = time_now()
        event = Event(
            metadata=ObjectMeta(
                name=f"{meta.name}.{secrets.token_hex(8)}", namespace=meta.namespace
            ),
            involved_object=_reference(victim),
            related=_reference(preemptor),
            reason="Preempted",
            action="Preempting",
            message=f"Preempted by pod {uid} on node {candidate.name}",
            type="Normal",
            source=EventSource(component=_scheduler_name(preemptor)),
            reporting_component=_scheduler_name(preemptor),
            first_timestamp=now,
            last_timestamp=now,
            count=1,
        )
        try:
            await client.create(event, namespace=meta.namespace)
        except Exception as exc:  # events are best effort
            log.warning("preemption: recording the Preempted event failed: %s", exc)

    async def clear_nominated_node_name(self, pods: Sequence[Pod]) -> None:
        """``ClearNominatedNodeName``: drop ``status.nominatedNodeName`` of each pod that has
        one; failures are logged, not returned (upstream does not treat them as critical)."""
        client = self.handle.client
        if client is None:
            return
        for pod in pods:
            if not (pod.status and pod.status.nominated_node_name):
                continue
            meta = pod.metadata
            assert meta is not None
            try:
                await client.patch(
                    Pod,
                    meta.name or "",
                    {"status": {"nominatedNodeName": None}},
                    namespace=meta.namespace,
                    patch_type="strategic",
                    subresource="status",
                )
            except Exception as exc:
                log.warning(
                    "preemption: cannot clear the nominatedNodeName of %s/%s: %s",
                    meta.namespace,
                    meta.name,
                    exc,
                )


def _has_condition(pod: Pod, message: str) -> bool:
    """Whether the victim already carries this DisruptionTarget condition (upstream's
    ``UpdatePodCondition`` then reports no change and no patch is sent)."""
    for condition in pod.status.conditions if pod.status else ():
        if condition.type == DISRUPTION_TARGET:
            return (
                condition.status == "True"
                and condition.reason == PREEMPTION_BY_SCHEDULER
                and condition.message == message
            )
    return False
