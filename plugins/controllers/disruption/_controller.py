"""The disruption controller (upstream pkg/controller/disruption/disruption.go).

It keeps every PodDisruptionBudget's status current: the pods it expects, the healthy ones,
how many it wants healthy, how many voluntary disruptions it allows now, the DisruptionAllowed
condition, and ``disruptedPods`` (evictions the API server granted and that have not yet
deleted their pod). The API server's ``pods/eviction`` reads ``disruptionsAllowed`` and
``observedGeneration`` from that status and grants an eviction only while both are current and
positive. A second loop resets a pod's ``DisruptionTarget`` condition when no deletion followed
it within two minutes (upstream's stale pod disruption cleanup).
"""

from __future__ import annotations

import datetime as _dt
import logging
from collections.abc import Iterable
from typing import Any

import attrs

from kframe.api import Selector, SelectorError, class_for, selector_from_label_selector
from kframe.api.models import (
    Deployment,
    Pod,
    PodDisruptionBudget,
    PodDisruptionBudgetSpec,
    PodDisruptionBudgetStatus,
    ReplicaSet,
    StatefulSet,
)
from kframe.client import ShutDown, WorkQueue, object_key
from kframe.controller import ControllerContext, Result, controller_ref, requeue_after

from ._budget import (
    BudgetError,
    allowed_condition,
    count_healthy,
    desired_healthy,
    disrupted_pod_map,
    disruptions_allowed,
    needs_controller_scale,
    set_condition,
)

__all__ = ["DisruptionController"]

log = logging.getLogger("kframe.controller.disruption")

#: How long a DisruptionTarget condition may stand on a pod that is not being deleted.
STALE_POD_DISRUPTION_TIMEOUT = 2 * 60.0


def _selector(pdb: PodDisruptionBudget) -> Selector | None:
    """The budget's selector; None selects nothing (a missing one is labels.Nothing), and in
    policy/v1 an empty one selects every pod of the namespace."""
    sel = pdb.spec.selector if pdb.spec is not None else None
    if sel is None:
        return None
    try:
        return selector_from_label_selector(sel.match_labels, sel.match_expressions)
    except SelectorError:
        return None


def _go_selector(pdb: PodDisruptionBudget) -> str:
    """The selector as Go's ``%v`` of a ``*metav1.LabelSelector`` prints it (the generated
    String(): labels sorted by key), for the UnmanagedPods event."""
    sel = pdb.spec.selector if pdb.spec is not None else None
    if sel is None:
        return "nil"
    labels = "".join(f"{k}: {v}," for k, v in sorted((sel.match_labels or {}).items()))
    exprs = "".join(
        f"LabelSelectorRequirement{{Key:{e.key},Operator:{e.operator},"
        f"Values:[{' '.join(e.values or ())}],}},"
        for e in sel.match_expressions or ()
    )
    return (
        f"&LabelSelector{{MatchLabels:map[string]string{{{labels}}},"
        f"MatchExpressions:[]LabelSelectorRequirement{{{exprs}}},}}"
    )


def _stale_condition(pod: Pod, now: _dt.datetime) -> float | None:
    """Seconds until the pod's DisruptionTarget=True condition is stale (0: now), or None when
    there is nothing to clean (nonTerminatingPodHasStaleDisruptionCondition)."""
    if pod.metadata is None or pod.metadata.deletion_timestamp is not None:
        return None
    if pod.status is not None and pod.status.phase in ("Succeeded", "Failed"):
        return None  # a terminal pod's condition is left alone (no needless writes)
    for cond in (pod.status.conditions if pod.status is not None else ()) or ():
        if cond.type == "DisruptionTarget":
            # The kubelet's may stand arbitrarily long before the pod terminates.
            if cond.status != "True" or cond.reason == "TerminationByKubelet":
                return None
            since = cond.last_transition_time or now
            return max(0.0, STALE_POD_DISRUPTION_TIMEOUT - (now - since).total_seconds())
    return None


@attrs.frozen
class _Scale:
    uid: str
    replicas: int


class DisruptionController:
    def __init__(self, ctx: ControllerContext) -> None:
        self.ctx = ctx
        self.pdbs = ctx.watch(PodDisruptionBudget)
        self.pods = ctx.watch(Pod, keys=self._budgets_of)
        self.replica_sets = ctx.informer(ReplicaSet)
        self.deployments = ctx.informer(Deployment)
        self.stateful_sets = ctx.informer(StatefulSet)
        self.stale: WorkQueue[str] = WorkQueue(clock=ctx.clock, name=f"{ctx.name}-stale-pods")
        self.pods.add_handler(self._check_stale, lambda _old, new: self._check_stale(new))
        ctx.add_background(self._run_stale)

    def _budgets_of(self, pod: Pod) -> Iterable[str]:
        """getPdbForPod: the budgets in the pod's namespace that select it."""
        meta = pod.metadata
        if meta is None:
            return ()
        labels = meta.labels or {}
        keys = []
        for pdb in self.pdbs.store.by_index("namespace", meta.namespace or ""):
            sel = _selector(pdb)
            if sel is not None and sel.matches(labels):
                keys.append(object_key(pdb))
        return keys

    # -- the budget's status -------------------------------------------------------------------

    async def reconcile(self, key: str) -> Result | None:
        pdb = self.pdbs.store.get(key)
        if pdb is None:
            return None
        try:
            recheck = await self._try_sync(pdb)
        except Exception as exc:
            if getattr(exc, "code", None) == 409:
                raise  # a stale read: retry with backoff, the next read is fresh
            # Upstream: the fail-safe status is the outcome; only its own failure retries.
            log.info("%s: %s", key, exc)
            await self._fail_safe(pdb, exc)
            return None
        return requeue_after(recheck) if recheck is not None else None

    def _pods_for(self, pdb: PodDisruptionBudget) -> list[Pod]:
        sel = _selector(pdb)
        if sel is None or pdb.metadata is None:
            return []
        return [
            p
            for p in self.pods.store.by_index("namespace", pdb.metadata.namespace or "")
            if p.metadata is not None and sel.matches(p.metadata.labels or {})
        ]

    async def _try_sync(self, pdb: PodDisruptionBudget) -> float | None:
        assert pdb.metadata is not None
        pods = self._pods_for(pdb)
        if not pods:
            self.ctx.event(pdb, "Normal", "NoPods", "No matching pods found")
        spec = pdb.spec or PodDisruptionBudgetSpec()
        try:
            if needs_controller_scale(spec.min_available, spec.max_unavailable):
                expected, unmanaged = await self._expected_scale(pods)
            else:
                expected, unmanaged = len(pods), []
            desired = desired_healthy(spec.min_available, spec.max_unavailable, expected)
        except Exception as exc:
            self.ctx.event(
                pdb,
                "Warning",
                "CalculateExpectedPodCountFailed",
                f"Failed to calculate the number of expected pods: {exc}",
            )
            raise
        if unmanaged:
            self.ctx.event(
                pdb,
                "Warning",
                "UnmanagedPods",
                f"Pods selected by this PodDisruptionBudget (selector: {_go_selector(pdb)}) were "
                "found to be unmanaged. As a result, the status of the PDB cannot be calculated "
                "correctly, which may result in undefined behavior. To account for these pods "
                'please set ".spec.minAvailable" field of the PDB to an integer value.',
            )
        now = self.ctx.clock.wall()
        status = pdb.status or PodDisruptionBudgetStatus()
        disrupted, recheck, expired = disrupted_pod_map(pods, dict(status.disrupted_pods), now)
        for pod in expired:
            self.ctx.event(
                pod,
                "Warning",
                "NotDeleted",
                f"Pod was expected by PDB {pdb.metadata.namespace}/{pdb.metadata.name} to be "
                "deleted but it wasn't",
            )
        healthy = count_healthy(pods, disrupted, now)
        allowed = disruptions_allowed(healthy, desired, expected)
        generation = pdb.metadata.generation
        new = attrs.evolve(
            status,
            current_healthy=healthy,
            desired_healthy=desired,
            expected_pods=expected,
            disruptions_allowed=allowed,
            disrupted_pods=disrupted,
            observed_generation=generation,
        )
        new = attrs.evolve(
            new,
            conditions=set_condition(
                status.conditions, allowed_condition(pdb, allowed, generation), now
            ),
        )
        if new != status:
            await self.ctx.client.update(attrs.evolve(pdb, status=new), subresource="status")
        if recheck is None:
            return None
        return max(0.0, (recheck - now).total_seconds())

    async def _fail_safe(self, pdb: PodDisruptionBudget, error: Exception) -> None:
        """failSafe: when the status cannot be computed, allow no disruptions."""
        status = pdb.status or PodDisruptionBudgetStatus()
        condition = attrs.evolve(
            allowed_condition(pdb, 0, status.observed_generation),
            reason="SyncFailed",
            message=str(error),
        )
        new = attrs.evolve(
            status,
            disruptions_allowed=0,
            conditions=set_condition(status.conditions, condition, self.ctx.clock.wall()),
        )
        if new != status:
            await self.ctx.client.update(attrs.evolve(pdb, status=new), subresource="status")

    # -- the controllers' scale ------------------------------------------------------------------

    async def _expected_scale(self, pods: list[Pod]) -> tuple[int, list[str]]:
        """getExpectedScale: the sum of the scales of the pods' controllers, and the pods that
        have none (unmanaged, counted as 0)."""
        scales: dict[str, int] = {}
        unmanaged: list[str] = []
        for pod in pods:
            assert pod.metadata is not None
            ref = controller_ref(pod)
            if ref is None:
                unmanaged.append(pod.metadata.name or "")
                continue
            if ref.uid in scales:
                continue
            found = await self._find_scale(ref, pod.metadata.namespace or "")
            if found is None:
                raise BudgetError(f'found no controllers for pod "{pod.metadata.name}"')
            scales[found.uid] = found.replicas
        return sum(scales.values()), unmanaged

    async def _find_scale(self, ref: Any, namespace: str) -> _Scale | None:
        """The finders in upstream's order: Deployment (through its ReplicaSet), ReplicaSet,
        StatefulSet, then any other kind with ``spec.replicas`` (its scale)."""
        group = (ref.api_version or "").rpartition("/")[0]
        if ref.kind == "ReplicaSet" and group == "apps":
            rs = self.replica_sets.store.get(f"{namespace}/{ref.name}")
            if rs is None or rs.metadata is None or rs.metadata.uid != ref.uid:
                return None
            owner = controller_ref(rs)
            if owner is not None and owner.kind == "Deployment":
                d_group = (owner.api_version or "").rpartition("/")[0]
                if d_group != "apps":
                    return None
                deployment = self.deployments.store.get(f"{namespace}/{owner.name}")
                if (
                    deployment is None
                    or deployment.metadata is None
                    or deployment.metadata.uid != owner.uid
                ):
                    return None
                replicas = deployment.spec.replicas if deployment.spec else None
                return _Scale(owner.uid or "", replicas if replicas is not None else 1)
            replicas = rs.spec.replicas if rs.spec else None
            return _Scale(ref.uid or "", replicas if replicas is not None else 1)
        if ref.kind == "StatefulSet" and group == "apps":
            sts = self.stateful_sets.store.get(f"{namespace}/{ref.name}")
            if sts is None or sts.metadata is None or sts.metadata.uid != ref.uid:
                return None
            replicas = sts.spec.replicas if sts.spec else None
            return _Scale(ref.uid or "", replicas if replicas is not None else 1)
        return await self._generic_scale(ref, namespace, group)

    async def _generic_scale(self, ref: Any, namespace: str, group: str) -> _Scale | None:
        """getScaleController: any other kind, read through the client."""
        cls = class_for(ref.api_version or "", ref.kind or "")
        if cls is None:
            raise BudgetError(f'no matches for kind "{ref.kind}" in group "{group}"')
        try:
            owner: Any = await self.ctx.client.get(cls, ref.name or "", namespace=namespace)
        except TypeError as exc:
            raise BudgetError(str(exc)) from None
        except Exception as exc:
            if getattr(exc, "code", None) == 404:
                return None
            raise
        spec = getattr(owner, "spec", None)
        if spec is None or not hasattr(spec, "replicas"):
            raise BudgetError(f"{ref.kind} does not implement the scale subresource")
        if owner.metadata is None or owner.metadata.uid != ref.uid:
            return None
        return _Scale(ref.uid or "", spec.replicas if spec.replicas is not None else 1)

    # -- stale DisruptionTarget conditions --------------------------------------------------------

    def _check_stale(self, pod: Pod) -> None:
        wait = _stale_condition(pod, self.ctx.clock.wall())
        if wait is not None:
            self.stale.add_after(object_key(pod), wait)

    async def _run_stale(self) -> None:
        try:
            while True:
                try:
                    key = await self.stale.get()
                except ShutDown:
                    return
                try:
                    await self._clean_stale(key)
                except Exception as exc:
                    log.info("%s: resetting DisruptionTarget failed: %s", key, exc)
                    self.stale.add_rate_limited(key)
                else:
                    self.stale.forget(key)
                finally:
                    self.stale.done(key)
        finally:
            self.stale.shut_down()

    async def _clean_stale(self, key: str) -> None:
        """syncStalePodDisruption: set DisruptionTarget to False once it is stale."""
        pod = self.pods.store.get(key)
        if pod is None or pod.metadata is None:
            return
        wait = _stale_condition(pod, self.ctx.clock.wall())
        if wait is None:
            return
        if wait > 0:
            self.stale.add_after(key, wait)
            return
        now = self.ctx.clock.wall().replace(microsecond=0)
        patch = {
            "status": {
                "conditions": [
                    {
                        "type": "DisruptionTarget",
                        "status": "False",
                        "lastTransitionTime": now.strftime("%Y-%m-%dT%H:%M:%SZ"),
                    }
                ]
            }
        }
        await self.ctx.client.patch(
            Pod,
            pod.metadata.name or "",
            patch,
            namespace=pod.metadata.namespace,
            subresource="status",
        )
