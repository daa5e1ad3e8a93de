"""The pod garbage collector (upstream pkg/controller/podgc, gc_controller.go).

No work queue: every ``pod-gc-check-period`` (20 s) a background pass reads the pod and node
informers and, in upstream's order,

1. deletes terminated pods (phase Succeeded or Failed) beyond ``terminated-pod-gc-threshold``,
   evicted pods first, then oldest first (names break ties);
2. force-deletes terminating pods on nodes that are not Ready and carry the
   ``node.kubernetes.io/out-of-service`` taint;
3. force-deletes pods bound to nodes that do not exist: a node missing from the informer is
   quarantined for ``pod-gc-quarantine-time`` (40 s), then a live GET must answer 404; those
   pods get ``DisruptionTarget`` (reason ``DeletionByPodGC``) as they are marked Failed;
4. force-deletes terminating pods that were never scheduled.

A pod still running is patched to phase Failed before its deletion (upstream
markFailedAndDeletePod: with no kubelet left to do it, it would stay Running forever).
"""

from __future__ import annotations

import asyncio
import datetime as _dt
import logging
from collections.abc import Awaitable, Iterable, Sequence
from typing import Any

from kframe.api import format_time
from kframe.api.models import Node, Pod
from kframe.client import object_key
from kframe.controller import ControllerContext, Result, done

from ._options import Options, options_from

__all__ = [
    "DELETION_BY_POD_GC",
    "OUT_OF_SERVICE_TAINT",
    "PodGCController",
    "deletion_order",
    "is_terminated",
    "terminated_to_delete",
]

log = logging.getLogger("kframe.controller.podgc")

#: v1.TaintNodeOutOfService.
OUT_OF_SERVICE_TAINT = "node.kubernetes.io/out-of-service"
#: The reason of the DisruptionTarget condition an orphaned pod gets.
DELETION_BY_POD_GC = "DeletionByPodGC"
#: How many deletions one step of a pass has in flight (upstream: one goroutine per pod,
#: throttled by the client's QPS).
_CONCURRENCY = 50

_EPOCH = _dt.datetime(1970, 1, 1, tzinfo=_dt.UTC)


def _phase(pod: Pod) -> str:
    return (pod.status.phase if pod.status is not None else None) or ""


def _node_name(pod: Pod) -> str:
    return (pod.spec.node_name if pod.spec is not None else None) or ""


def _terminating(pod: Pod) -> bool:
    return pod.metadata is not None and pod.metadata.deletion_timestamp is not None


def is_terminated(pod: Pod) -> bool:
    """Upstream isPodTerminated: any phase but Pending, Running and Unknown (an empty phase
    counts as terminated, as upstream's comparison makes it)."""
    return _phase(pod) not in ("Pending", "Running", "Unknown")


def _evicted(pod: Pod) -> bool:
    # eviction.PodIsEvicted: Failed with reason Evicted.
    return (
        pod.status is not None and pod.status.phase == "Failed" and pod.status.reason == "Evicted"
    )


def deletion_order(pod: Pod) -> tuple[bool, _dt.datetime, str]:
    """Upstream byEvictionAndCreationTimestamp as a sort key: evicted pods first (so that the
    terminated pods of controllers, whose results people read, go last), then by creation
    time, then by name."""
    meta = pod.metadata
    created = (meta.creation_timestamp if meta is not None else None) or _EPOCH
    return (not _evicted(pod), created, (meta.name if meta is not None else None) or "")


def terminated_to_delete(pods: Iterable[Pod], threshold: int) -> list[Pod]:
    """The terminated pods beyond ``threshold``, in the order they are deleted (none when
    the threshold is 0 or less: collection off)."""
    if threshold <= 0:
        return []
    terminated = [p for p in pods if is_terminated(p)]
    excess = len(terminated) - threshold
    if excess <= 0:
        return []
    return sorted(terminated, key=deletion_order)[:excess]


def _node_ready(node: Node) -> bool:
    for cond in (node.status.conditions if node.status is not None else ()) or ():
        if cond.type == "Ready":
            return cond.status == "True"
    return False


def _out_of_service(node: Node) -> bool:
    taints = (node.spec.taints if node.spec is not None else ()) or ()
    return any(t.key == OUT_OF_SERVICE_TAINT for t in taints)


def _api_code(exc: BaseException) -> int | None:
    code = getattr(exc, "code", None)
    return code if isinstance(code, int) else None


class PodGCController:
    def __init__(self, ctx: ControllerContext) -> None:
        self.ctx = ctx
        self.options: Options = options_from(ctx)
        self.pods = ctx.informer(Pod)
        self.nodes = ctx.informer(Node)
        #: node name -> monotonic time its quarantine ends (upstream's delaying nodeQueue:
        #: adding a name that is already waiting keeps the earlier time).
        self.quarantine: dict[str, float] = {}
        self._limit = asyncio.Semaphore(_CONCURRENCY)
        ctx.add_background(self._loop)

    async def reconcile(self, key: str) -> Result | None:
        return done()  # nothing is queued: the work is the periodic pass

    async def _loop(self) -> None:
        # wait.UntilWithContext: a pass at once (the manager starts this after the informers
        # synced), then one every period.
        while True:
            try:
                await self.gc()
            except Exception:
                log.exception("pod garbage collection pass failed")
            await self.ctx.clock.sleep(self.options.check_period)

    async def gc(self) -> None:
        """One pass over the informers' pods and nodes (upstream ``gc``)."""
        pods = self.pods.store.list()
        nodes = self.nodes.store.list()
        if self.options.terminated_pod_gc_threshold > 0:
            await self.gc_terminated(pods)
        await self.gc_terminating(pods)
        await self.gc_orphaned(pods, nodes)
        await self.gc_unscheduled_terminating(pods)

    # -- the four steps -------------------------------------------------------------------------

    async def gc_terminated(self, pods: Sequence[Pod]) -> None:
        doomed = terminated_to_delete(pods, self.options.terminated_pod_gc_threshold)
        if doomed:
            log.info("garbage collecting %d terminated pods", len(doomed))
            await self._all(self.mark_failed_and_delete(p) for p in doomed)

    async def gc_terminating(self, pods: Sequence[Pod]) -> None:
        doomed = []
        for pod in pods:
            if not _terminating(pod):
                continue
            node = self.nodes.store.get(_node_name(pod)) if _node_name(pod) else None
            if node is not None and not _node_ready(node) and _out_of_service(node):
                doomed.append(pod)
        if doomed:
            log.info("garbage collecting %d terminating pods on out-of-service nodes", len(doomed))
            doomed.sort(key=deletion_order)
            await self._all(self.mark_failed_and_delete(p) for p in doomed)

    async def gc_orphaned(self, pods: Sequence[Pod], nodes: Sequence[Node]) -> None:
        existing = {object_key(n) for n in nodes}
        until = self.ctx.clock.now() + self.options.quarantine_time
        for pod in pods:
            name = _node_name(pod)
            if name and name not in existing:
                self.quarantine.setdefault(name, until)
        deleted = await self._discover_deleted_nodes(existing)
        for pod in pods:
            if _node_name(pod) not in deleted:
                continue
            log.info(
                "pod %s: its node %s no longer exists; deleting", object_key(pod), _node_name(pod)
            )
            condition = {
                "type": "DisruptionTarget",
                "status": "True",
                "reason": DELETION_BY_POD_GC,
                "message": "PodGC: node no longer exists",
            }
            await self._logged(self.mark_failed_and_delete(pod, condition))

    async def _discover_deleted_nodes(self, existing: set[str]) -> set[str]:
        """The quarantined nodes whose time is up and that a live GET does not find (an
        error leaves a node out, to be quarantined again by a later pass)."""
        now = self.ctx.clock.now()
        due = [name for name, until in self.quarantine.items() if until <= now]
        deleted: set[str] = set()
        for name in due:
            del self.quarantine[name]
            if name in existing:
                continue
            try:
                await self.ctx.client.get(Node, name)
            except Exception as exc:
                if _api_code(exc) == 404:
                    deleted.add(name)
                else:
                    log.warning("node %s: checking whether it exists: %s", name, exc)
        return deleted

    async def gc_unscheduled_terminating(self, pods: Sequence[Pod]) -> None:
        for pod in pods:
            if _terminating(pod) and not _node_name(pod):
                log.info("pod %s: terminating and never scheduled; deleting", object_key(pod))
                await self._logged(self.mark_failed_and_delete(pod))

    # -- deleting -------------------------------------------------------------------------------

    async def mark_failed_and_delete(
        self, pod: Pod, condition: dict[str, Any] | None = None
    ) -> None:
        """Upstream markFailedAndDeletePodWithCondition: a pod not yet finished is patched to
        phase Failed (with ``condition``, if given), then deleted with no grace period. A pod
        already gone (or replaced under its name) is not an error."""
        meta = pod.metadata
        assert meta is not None and meta.name is not None
        uid = meta.uid or ""
        client = self.ctx.client
        try:
            if _phase(pod) not in ("Succeeded", "Failed"):
                status: dict[str, Any] = {"phase": "Failed"}
                if condition is not None:
                    status["conditions"] = [self._condition(pod, condition)]
                await client.patch(
                    Pod,
                    meta.name,
                    {"metadata": {"uid": uid}, "status": status},
                    namespace=meta.namespace,
                    patch_type="strategic",
                    subresource="status",
                )
            # The API server deletes a pod in a terminal phase at once (CheckGracefulDelete
            # gives it grace 0): the force deletion upstream asks for with gracePeriodSeconds=0.
            await client.delete(
                Pod, meta.name, namespace=meta.namespace, preconditions={"uid": uid}
            )
        except Exception as exc:
            if _api_code(exc) in (404, 409):
                return
            raise
        log.info("pod %s: force deleted", object_key(pod))

    def _condition(self, pod: Pod, condition: dict[str, Any]) -> dict[str, Any]:
        # apipod.UpdatePodCondition: the transition time moves only when the status changes.
        now = format_time(self.ctx.clock.wall())
        for cond in (pod.status.conditions if pod.status is not None else ()) or ():
            same = cond.type == condition["type"] and cond.status == condition["status"]
            if same and cond.last_transition_time is not None:
                now = format_time(cond.last_transition_time)
        return {**condition, "lastTransitionTime": now}

    async def _logged(self, deletion: Awaitable[None]) -> None:
        async with self._limit:
            try:
                await deletion
            except Exception as exc:
                log.warning("pod garbage collection: %s", exc)

    async def _all(self, deletions: Iterable[Awaitable[None]]) -> None:
        await asyncio.gather(*(self._logged(d) for d in deletions))
