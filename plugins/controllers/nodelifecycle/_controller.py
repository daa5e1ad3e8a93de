"""The node lifecycle controller's loops (upstream pkg/controller/nodelifecycle
node_lifecycle_controller.go, with the taint eviction of pkg/controller/tainteviction).

* Every ``node-monitor-period`` a background pass checks every node's health
  (:mod:`._health`): past the grace period its conditions become Unknown; its NoExecute taint
  follows its Ready status (not-ready for False, unreachable for Unknown, none for True); when
  it stops being Ready its pods are marked not ready.
* Work-queue key ``node/<name>``: the NoSchedule taints its conditions call for
  (TaintNodesByCondition); NoExecute taint changes enqueue its pods.
* Work-queue key ``pod/<namespace>/<name>``: taint eviction. A pod that does not tolerate one of
  its node's NoExecute taints is deleted now; one that tolerates them all for a while
  (``tolerationSeconds``, the least of the tolerations used) is deleted that long after the
  taints were first seen; a pod on a not-ready node is marked not ready.
"""

from __future__ import annotations

import logging

import attrs

from kframe.api import Time, toleration_tolerates_taint
from kframe.api.models import Lease, Node, NodeStatus, Pod, PodCondition, Taint, Toleration
from kframe.client import object_key
from kframe.controller import ControllerContext, Result, done, requeue_after

from ._health import NodeHealth, observe, ready_condition, unknown_conditions
from ._options import options_from
from ._taints import TaintId, no_execute_taints_for, no_schedule_taints_for, swap_taints

__all__ = ["NodeLifecycleController"]

log = logging.getLogger("kframe.controller.nodelifecycle")

LEASE_NAMESPACE = "kube-node-lease"
_NODE_INDEX = "nodelifecycle/node-name"


def _node_index(pod: Pod) -> list[str]:
    name = pod.spec.node_name if pod.spec is not None else None
    return [name] if name else []


def _no_execute(node: Node | None) -> tuple[Taint, ...]:
    taints = node.spec.taints if node is not None and node.spec is not None else ()
    return tuple(t for t in taints if t.effect == "NoExecute")


def min_toleration_seconds(
    taints: tuple[Taint, ...], tolerations: tuple[Toleration, ...]
) -> float | None:
    """How long ``tolerations`` let a pod stay with ``taints`` (GetMatchingTolerations and
    getMinTolerationTime): 0 when one taint is not tolerated, None when all are tolerated
    forever, else the least ``tolerationSeconds`` of the tolerations used (negative as 0)."""
    least: float | None = None
    for taint in taints:
        used = next((t for t in tolerations if toleration_tolerates_taint(t, taint)), None)
        if used is None:
            return 0.0
        if used.toleration_seconds is not None:
            seconds = max(0.0, float(used.toleration_seconds))
            least = seconds if least is None else min(least, seconds)
    return least


def _pod_ready(pod: Pod) -> PodCondition | None:
    for cond in (pod.status.conditions if pod.status is not None else ()) or ():
        if cond.type == "Ready":
            return cond
    return None


class NodeLifecycleController:
    def __init__(self, ctx: ControllerContext) -> None:
        self.ctx = ctx
        self.options = options_from(ctx)
        self.health: dict[str, NodeHealth] = {}
        #: pod key -> (pod uid, monotonic time its eviction was first scheduled)
        self.scheduled: dict[str, tuple[str, float]] = {}
        self.nodes = ctx.informer(Node)
        self.nodes.add_handler(self._node_added, self._node_updated, self._node_deleted)
        self.pods = ctx.informer(Pod, indexers={_NODE_INDEX: _node_index})
        self.pods.add_handler(self._pod_changed, lambda _o, new: self._pod_changed(new), None)
        self.leases = ctx.informer(Lease)
        ctx.add_background(self._monitor_loop)

    # -- event handlers ------------------------------------------------------------------------

    def _node_added(self, node: Node) -> None:
        self.ctx.queue.add(f"node/{object_key(node)}")
        self._enqueue_pods(object_key(node))

    def _node_updated(self, old: Node, new: Node) -> None:
        self.ctx.queue.add(f"node/{object_key(new)}")
        if _no_execute(old) != _no_execute(new):
            self._enqueue_pods(object_key(new))

    def _node_deleted(self, node: Node) -> None:
        self.health.pop(object_key(node), None)
        self._enqueue_pods(object_key(node))

    def _enqueue_pods(self, node_name: str) -> None:
        for pod in self.pods.store.by_index(_NODE_INDEX, node_name):
            self.ctx.queue.add(f"pod/{object_key(pod)}")

    def _pod_changed(self, pod: Pod) -> None:
        if pod.spec is not None and pod.spec.node_name:
            self.ctx.queue.add(f"pod/{object_key(pod)}")

    # -- node health ---------------------------------------------------------------------------

    async def _monitor_loop(self) -> None:
        while True:
            await self.ctx.clock.sleep(self.options.monitor_period)
            try:
                await self.monitor()
            except Exception:
                log.exception("node health pass failed")

    async def monitor(self) -> None:
        """One monitorNodeHealth pass over every node."""
        for node in self.nodes.store.list():
            try:
                await self._monitor_node(node)
            except Exception as exc:
                log.warning("node %s: health check: %r", object_key(node), exc)

    async def _monitor_node(self, node: Node) -> None:
        name = object_key(node)
        clock = self.ctx.clock
        now, wall = clock.now(), clock.wall()
        lease = self.leases.store.get(f"{LEASE_NAMESPACE}/{name}")
        health = observe(self.health.get(name), node, lease, now, wall)
        self.health[name] = health
        current = ready_condition(node)
        observed_status = (current.status if current is not None else None) or "Unknown"
        grace = (
            self.options.monitor_grace_period
            if current is not None
            else self.options.startup_grace_period
        )
        current_status = observed_status
        if now > health.probe + grace:
            conditions = unknown_conditions(node, wall)
            ready = next(c for c in conditions if c.type == "Ready")
            if ready != current:
                base = node.status if node.status is not None else NodeStatus()
                status = attrs.evolve(base, conditions=conditions)
                updated = await self.ctx.client.update(
                    attrs.evolve(node, status=status), subresource="status"
                )
                self.health[name] = attrs.evolve(
                    health, ready=ready_condition(updated), ready_transition=now
                )
                current_status = "Unknown"
                log.info("node %s: kubelet stopped posting node status", name)
        if current is None and current_status == observed_status:
            return  # never posted, still within the startup grace period
        # upstream passes the Ready status observed at the start of this pass: a node just
        # marked Unknown gets its unreachable taint on the next pass.
        await self._taint_for_eviction(name, node, observed_status)
        if current_status != "True" and observed_status == "True":
            self.ctx.event(
                node, "Normal", "NodeNotReady", f"Node {name} status is now: NodeNotReady"
            )
            await self._mark_pods_not_ready(name)

    async def _taint_for_eviction(self, name: str, node: Node, ready_status: str) -> None:
        want, have = no_execute_taints_for(ready_status, node)
        if want != have:
            # Simplified: upstream rate-limits this per zone (--node-eviction-rate).
            await swap_taints(
                self.ctx.client,
                name,
                sorted(want - have),
                sorted(have - want),
                self.ctx.clock.wall(),
            )

    async def _swap(self, name: str, want: set[TaintId], have: set[TaintId]) -> None:
        wall = self.ctx.clock.wall()
        await swap_taints(self.ctx.client, name, sorted(want - have), sorted(have - want), wall)

    async def _mark_pods_not_ready(self, node_name: str) -> None:
        for pod in self.pods.store.by_index(_NODE_INDEX, node_name):
            await self._mark_pod_not_ready(pod)

    async def _mark_pod_not_ready(self, pod: Pod) -> None:
        """controllerutil.MarkPodsNotReady for one pod: its Ready condition False."""
        cond = _pod_ready(pod)
        if cond is None or cond.status == "False" or pod.status is None:
            return
        conditions = tuple(
            attrs.evolve(c, status="False", last_transition_time=Time(self.ctx.clock.wall()))
            if c.type == "Ready"
            else c
            for c in pod.status.conditions
        )
        try:
            await self.ctx.client.update(
                attrs.evolve(pod, status=attrs.evolve(pod.status, conditions=conditions)),
                subresource="status",
            )
        except Exception as exc:
            if getattr(exc, "code", None) == 404:
                return
            raise
        self.ctx.event(pod, "Warning", "NodeNotReady", "Node is not ready")

    # -- the work queue ------------------------------------------------------------------------

    async def reconcile(self, key: str) -> Result | None:
        kind, _, rest = key.partition("/")
        if kind == "node":
            return await self._sync_node(rest)
        if kind == "pod":
            return await self._sync_pod(rest)
        return done()

    async def _sync_node(self, name: str) -> Result | None:
        node = self.nodes.store.get(name)
        if node is None:
            return done()
        want, have = no_schedule_taints_for(node)
        if want != have:
            await swap_taints(
                self.ctx.client,
                name,
                sorted(want - have),
                sorted(have - want),
                self.ctx.clock.wall(),
            )
        return done()

    def _cancel(self, key: str, pod: Pod | None) -> None:
        if self.scheduled.pop(key, None) is not None and pod is not None:
            self.ctx.event(
                pod, "Normal", "TaintManagerEviction", f"Cancelling deletion of Pod {key}"
            )

    async def _sync_pod(self, key: str) -> Result | None:
        pod = self.pods.store.get(key)
        node_name = pod.spec.node_name if pod is not None and pod.spec is not None else None
        if pod is None or not node_name:
            self.scheduled.pop(key, None)
            return done()
        node = self.nodes.store.get(node_name)
        health = self.health.get(node_name)
        if health is not None and health.ready is not None and health.ready.status != "True":
            await self._mark_pod_not_ready(pod)  # upstream processPod
        taints = _no_execute(node)
        if not taints or (pod.metadata is not None and pod.metadata.deletion_timestamp):
            self._cancel(key, pod)
            return done()
        tolerations = pod.spec.tolerations if pod.spec is not None else ()
        seconds = min_toleration_seconds(taints, tolerations)
        if seconds is None:
            self._cancel(key, pod)  # tolerated forever
            return done()
        uid = (pod.metadata.uid if pod.metadata is not None else None) or ""
        now = self.ctx.clock.now()
        first = self.scheduled.get(key)
        start = first[1] if first is not None and first[0] == uid and seconds > 0 else now
        self.scheduled[key] = (uid, start)
        remaining = start + seconds - now
        if remaining > 0:
            return requeue_after(remaining)
        await self._evict(pod)
        self.scheduled.pop(key, None)
        return done()

    async def _evict(self, pod: Pod) -> None:
        """addConditionAndDeletePod: a DisruptionTarget condition, then the deletion."""
        meta, status = pod.metadata, pod.status
        assert meta is not None and meta.name is not None
        key = object_key(pod)
        self.ctx.event(pod, "Normal", "TaintManagerEviction", f"Marking for deletion Pod {key}")
        client = self.ctx.client
        if status is not None:
            target = PodCondition(
                type="DisruptionTarget",
                status="True",
                reason="DeletionByTaintManager",
                message="Taint manager: deleting due to NoExecute taint",
                last_transition_time=Time(self.ctx.clock.wall()),
            )
            others = tuple(c for c in status.conditions if c.type != "DisruptionTarget")
            try:
                await client.update(
                    attrs.evolve(pod, status=attrs.evolve(status, conditions=(*others, target))),
                    subresource="status",
                )
            except Exception as exc:
                code = getattr(exc, "code", None)
                if code == 404:
                    return
                if code != 409:
                    raise
                # A newer pod status: delete anyway, as upstream does when the patch fails.
        try:
            await client.delete(Pod, meta.name, namespace=meta.namespace)
        except Exception as exc:
            if getattr(exc, "code", None) != 404:
                raise
        log.info("pod %s: deleted by taint eviction", key)
