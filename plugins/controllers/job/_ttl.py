"""The TTL-after-finished controller (upstream pkg/controller/ttlafterfinished).

A finished Job (Complete or Failed) with ``spec.ttlSecondsAfterFinished`` is deleted that many
seconds after its terminal condition's ``lastTransitionTime``, in the foreground (its pods go
first) and only if its uid is still the one seen. Before deleting, the Job is read again from
the server, so a TTL changed meanwhile is honoured.
"""

from __future__ import annotations

import datetime as _dt
import logging

from kframe.api.models import Job
from kframe.controller import ControllerContext, Result, done, requeue_after

__all__ = ["TTLAfterFinishedController", "expire_time"]

log = logging.getLogger("kframe.controllers.ttlafterfinished")


def expire_time(job: Job) -> _dt.datetime | None:
    """When a finished Job with a TTL is due for deletion (getFinishAndExpireTime), else None
    (no TTL, not finished, already being deleted)."""
    spec, meta = job.spec, job.metadata
    if spec is None or spec.ttl_seconds_after_finished is None:
        return None
    if meta is not None and meta.deletion_timestamp is not None:
        return None
    for cond in (job.status.conditions if job.status is not None else None) or ():
        if cond.type in ("Complete", "Failed") and cond.status == "True":
            if cond.last_transition_time is None:
                return None  # upstream: an error, "unable to find the time when the Job finished"
            return cond.last_transition_time + _dt.timedelta(
                seconds=spec.ttl_seconds_after_finished
            )
    return None


class TTLAfterFinishedController:
    """The ``ttl-after-finished-controller``."""

    def __init__(self, ctx: ControllerContext) -> None:
        self.ctx = ctx
        self.jobs = ctx.watch(Job, keys=lambda j: () if expire_time(j) is None else (_key(j),))

    def _left(self, job: Job) -> float | None:
        expire = expire_time(job)
        if expire is None:
            return None
        return (expire - self.ctx.clock.wall()).total_seconds()

    async def reconcile(self, key: str) -> Result | None:
        job = self.jobs.store.get(key)
        if job is None:
            return done()
        left = self._left(job)
        if left is None:
            return done()
        if left > 0:
            return requeue_after(left)
        # The cached TTL may be stale: check the server's copy before deleting.
        meta = job.metadata
        assert meta is not None
        try:
            fresh = await self.ctx.client.get(Job, meta.name or "", namespace=meta.namespace)
        except Exception as exc:
            if getattr(exc, "code", None) == 404:
                return done()
            raise
        left = self._left(fresh)
        if left is None:
            return done()
        if left > 0:
            return requeue_after(left)
        fmeta = fresh.metadata
        assert fmeta is not None
        try:
            await self.ctx.client.delete(
                Job,
                fmeta.name or "",
                namespace=fmeta.namespace,
                propagation_policy="Foreground",
                preconditions={"uid": fmeta.uid or ""},
            )
        except Exception as exc:
            if getattr(exc, "code", None) not in (404, 409):
                raise
        log.info("deleted expired job %s", key)
        return done()


def _key(job: Job) -> str:
    meta = job.metadata
    assert meta is not None
    return f"{meta.namespace}/{meta.name}"
