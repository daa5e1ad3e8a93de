"""The StatefulSet controller (upstream pkg/controller/statefulset: stateful_set.go,
stateful_set_control.go, stateful_pod_control.go).

One sync: claim the pods named ``<set>-<i>`` and the revisions, find the current and update
revisions, then walk the replicas in ordinal order (create missing ones, recreate failed ones;
OrderedReady stops at the first that is not Running and Ready), delete condemned pods from the
highest ordinal down, roll the update from the highest ordinal down to the partition, and write
the status.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

import attrs

from kframe.api import Selector, selector_from_label_selector, time_now
from kframe.api.models import (
    ControllerRevision,
    OwnerReference,
    PersistentVolumeClaim,
    Pod,
    StatefulSet,
    StatefulSetStatus,
)
from kframe.client import object_key
from kframe.controller import (
    CONTROLLER_UID_INDEX,
    ControllerContext,
    Result,
    claim_objects,
    controller_ref,
    controller_uid_index,
    create_controller_revision,
    done,
    equal_revision,
    is_pod_available,
    is_pod_ready,
    new_controller_revision,
    next_revision,
    requeue_after,
    revision_template,
    slow_start_batch,
    sort_revisions,
    template_patch,
)

from ._identity import (
    claims_for,
    fix_identity,
    identity_matches,
    is_healthy,
    is_running_and_ready,
    new_pod,
    ordinal,
    parent_name,
    phase,
    pod_revision,
    start_ordinal,
    storage_matches,
    terminating,
)

__all__ = ["StatefulSetController"]

log = logging.getLogger("kframe.controller.statefulset")


def _name(obj: Any) -> str:
    return str(obj.metadata.name)


def _ns(obj: Any) -> str:
    return str(obj.metadata.namespace or "default")


class StatefulSetController:
    def __init__(self, ctx: ControllerContext) -> None:
        self.ctx = ctx
        self.client = ctx.client
        self.sets = ctx.watch(StatefulSet)
        self.pods = ctx.informer(Pod, indexers={CONTROLLER_UID_INDEX: controller_uid_index})
        self.pods.add_handler(self._pod_added, self._pod_updated, self._pod_added)
        self.revisions = ctx.informer(
            ControllerRevision, indexers={CONTROLLER_UID_INDEX: controller_uid_index}
        )
        self.claims = ctx.informer(PersistentVolumeClaim)

    # -- handlers -------------------------------------------------------------------------------

    def _keys(self, pod: Pod) -> list[str]:
        ref = controller_ref(pod)
        ns = pod.metadata.namespace if pod.metadata else None
        if ref is not None:
            if ref.kind != "StatefulSet":
                return []
            sts = self.sets.store.get(f"{ns}/{ref.name}")
            ok = sts is not None and sts.metadata is not None and sts.metadata.uid == ref.uid
            return [f"{ns}/{ref.name}"] if ok else []
        labels = (pod.metadata.labels if pod.metadata else None) or {}
        out = []
        for sts in self.sets.store.by_index("namespace", ns or ""):
            selector = _selector(sts)
            if selector is not None and not selector.empty() and selector.matches(labels):
                out.append(object_key(sts))
        return out

    def _pod_added(self, pod: Pod) -> None:
        for key in self._keys(pod):
            self.ctx.queue.add(key)

    def _pod_updated(self, old: Pod, new: Pod) -> None:
        for key in {*self._keys(old), *self._keys(new)}:
            self.ctx.queue.add(key)
            sts = self.sets.store.get(key)
            min_ready = (sts.spec.min_ready_seconds or 0) if sts and sts.spec else 0
            if min_ready > 0 and not is_pod_ready(old) and is_pod_ready(new):
                self.ctx.queue.add_after(key, min_ready)

    # -- sync -----------------------------------------------------------------------------------

    async def reconcile(self, key: str) -> Result | None:
        sts = self.sets.store.get(key)
        if sts is None:
            return done()
        selector = _selector(sts)
        if selector is None:
            return done()  # upstream: a non-transient error, not retried
        assert sts.metadata is not None and sts.spec is not None
        revisions = await self._claim(
            sts, selector, self.revisions.store.by_index("namespace", _ns(sts))
        )
        pods = [
            p
            for p in await self._claim(
                sts,
                selector,
                [
                    p
                    for p in self.pods.store.by_index("namespace", _ns(sts))
                    if parent_name(p) == _name(sts)
                ],
            )
        ]
        revisions = sort_revisions(revisions)
        current, update, collisions = await self._revisions(sts, revisions)
        status, error = await self._update(sts, current, update, collisions, pods)
        await self._write_status(sts, status)
        await self._truncate_history(sts, pods, revisions, current, update)
        if error is not None:
            raise error
        min_ready = sts.spec.min_ready_seconds or 0
        replicas = 1 if sts.spec.replicas is None else sts.spec.replicas
        if min_ready > 0 and status.available_replicas != replicas:
            return requeue_after(float(min_ready))
        return done()

    async def _claim(self, sts: StatefulSet, selector: Selector, objs: list[Any]) -> list[Any]:
        uid = sts.metadata.uid  # type: ignore[union-attr]
        candidates = [o for o in objs if (r := controller_ref(o)) is None or r.uid == uid]
        return await claim_objects(self.client, sts, selector, candidates)

    async def _revisions(
        self, sts: StatefulSet, revisions: list[ControllerRevision]
    ) -> tuple[ControllerRevision, ControllerRevision, int]:
        """getStatefulSetRevisions: the update revision (the last one if the template equals it,
        an older equal one renumbered for a rollback, or a new one) and the current one."""
        assert sts.spec is not None and sts.spec.template is not None
        collisions = (sts.status.collision_count if sts.status else None) or 0
        labels = sts.spec.template.metadata.labels if sts.spec.template.metadata else None
        update = new_controller_revision(
            sts, labels, template_patch(sts.spec.template), next_revision(revisions), collisions
        )
        equal = [r for r in revisions if equal_revision(r, update)]
        if equal and revisions and equal_revision(revisions[-1], equal[-1]):
            update = revisions[-1]
        elif equal:
            update = await self.client.update(attrs.evolve(equal[-1], revision=update.revision))
        else:
            update, collisions = await create_controller_revision(
                self.client, sts, update, collisions
            )
        wanted = sts.status.current_revision if sts.status else None
        current = next((r for r in revisions if _name(r) == wanted), update)
        return current, update, collisions

    def _versioned(
        self, sts: StatefulSet, current: ControllerRevision, update: ControllerRevision, ord_: int
    ) -> Pod:
        """newVersionedStatefulSetPod: below the partition (or, without rollingUpdate, the
        current replica count) at the current revision, else at the update revision."""
        spec = sts.spec
        assert spec is not None
        strategy = spec.update_strategy
        rolling = strategy.rolling_update if strategy else None
        is_rolling = strategy is None or strategy.type in (None, "RollingUpdate")
        start = start_ordinal(sts)
        cur_replicas = (sts.status.current_replicas if sts.status else None) or 0
        # Upstream's condition, precedence included: (rolling && no rollingUpdate && ...) || (...)
        if (is_rolling and rolling is None and ord_ < start + cur_replicas) or (
            rolling is not None and ord_ < start + (rolling.partition or 0)
        ):
            revision = current
        else:
            revision = update
        applied = attrs.evolve(sts, spec=attrs.evolve(spec, template=revision_template(revision)))
        return new_pod(applied, ord_, _name(revision))

    async def _update(
        self,
        sts: StatefulSet,
        current: ControllerRevision,
        update: ControllerRevision,
        collisions: int,
        pods: list[Pod],
    ) -> tuple[StatefulSetStatus, BaseException | None]:
        """updateStatefulSet: the status it reaches, and the error that stopped it."""
        spec = sts.spec
        assert spec is not None and sts.metadata is not None
        count = 1 if spec.replicas is None else spec.replicas
        start = start_ordinal(sts)
        replicas: list[Pod | None] = [None] * count
        condemned: list[Pod] = []
        for pod in pods:
            ord_ = ordinal(pod)
            if start <= ord_ < start + count:
                replicas[ord_ - start] = pod
            elif ord_ >= 0:
                condemned.append(pod)
        reps: list[Pod] = [
            p if p is not None else self._versioned(sts, current, update, start + i)
            for i, p in enumerate(replicas)
        ]
        condemned.sort(key=ordinal, reverse=True)
        first_unhealthy: Pod | None = next((p for p in reps if not is_healthy(p)), None)
        if first_unhealthy is None:
            first_unhealthy = next((p for p in reversed(condemned) if not is_healthy(p)), None)
        base = StatefulSetStatus(
            observed_generation=sts.metadata.generation,
            current_revision=_name(current),
            update_revision=_name(update),
            collision_count=collisions,
        )

        def status() -> StatefulSetStatus:
            return _counts(base, spec.min_ready_seconds or 0, current, update, reps, condemned)

        if sts.metadata.deletion_timestamp is not None:
            return status(), None
        monotonic = spec.pod_management_policy != "Parallel"
        try:
            if await _run_for_all(
                len(reps),
                lambda i: self._process_replica(sts, current, update, monotonic, reps, i),
                monotonic,
            ):
                return status(), None
            if await _run_for_all(
                len(condemned),
                lambda i: self._process_condemned(sts, first_unhealthy, monotonic, condemned, i),
                monotonic,
            ):
                return status(), None
            result = status()
            strategy = spec.update_strategy
            if strategy is not None and strategy.type == "OnDelete":
                return result, None
            rolling = strategy.rolling_update if strategy else None
            update_min = (rolling.partition or 0) if rolling is not None else 0
            for target in range(len(reps) - 1, update_min - 1, -1):
                pod = reps[target]
                if pod_revision(pod) != _name(update) and not terminating(pod):
                    await self._delete_pod(sts, pod)
                    return attrs.evolve(
                        result, current_replicas=(result.current_replicas or 0) - 1
                    ), None
                if not is_healthy(pod):
                    break
            return result, None
        except Exception as exc:
            return status(), exc

    async def _process_replica(
        self,
        sts: StatefulSet,
        current: ControllerRevision,
        update: ControllerRevision,
        monotonic: bool,
        reps: list[Pod],
        i: int,
    ) -> bool:
        """processReplica: True stops the walk (OrderedReady waits on this pod)."""
        pod = reps[i]
        if phase(pod) in ("Failed", "Succeeded"):
            failed = phase(pod) == "Failed"
            self.ctx.event(
                sts,
                "Warning" if failed else "Normal",
                "RecreatingFailedPod" if failed else "RecreatingTerminatedPod",
                f"StatefulSet {_ns(sts)}/{_name(sts)} is recreating "
                f"{'failed' if failed else 'terminated'} Pod {_name(pod)}",
            )
            await self._delete_pod(sts, pod)
            pod = reps[i] = self._versioned(sts, current, update, start_ordinal(sts) + i)
        if not phase(pod):  # not created yet
            await self._create_pod(sts, pod)
            if monotonic:
                return True
        if phase(pod) == "Pending":
            await self._create_claims(sts, pod)
        if terminating(pod) and monotonic:
            return True
        min_ready = sts.spec.min_ready_seconds or 0  # type: ignore[union-attr]
        if monotonic and not (
            is_running_and_ready(pod) and is_pod_available(pod, min_ready, time_now())
        ):
            return True
        if not phase(pod) or (identity_matches(sts, pod) and storage_matches(sts, pod)):
            return False
        await self.client.update(fix_identity(sts, pod))
        return False

    async def _process_condemned(
        self,
        sts: StatefulSet,
        first_unhealthy: Pod | None,
        monotonic: bool,
        condemned: list[Pod],
        i: int,
    ) -> bool:
        pod = condemned[i]
        if terminating(pod):
            return monotonic
        min_ready = sts.spec.min_ready_seconds or 0  # type: ignore[union-attr]
        healthy = is_running_and_ready(pod) and is_pod_available(pod, min_ready, time_now())
        if monotonic and not healthy and pod is not first_unhealthy:
            return True
        await self._delete_pod(sts, pod)
        return True

    # -- pod and claim writes (StatefulPodControl) ----------------------------------------------

    async def _create_claims(self, sts: StatefulSet, pod: Pod) -> None:
        errors = []
        for _, claim in claims_for(sts, ordinal(pod)):
            existing = self.claims.store.get(f"{_ns(claim)}/{_name(claim)}")
            if existing is not None:
                if existing.metadata is not None and existing.metadata.deletion_timestamp:
                    errors.append(f"pvc {_name(claim)} is being deleted")
                continue
            claim = _with_retention_refs(sts, pod, claim)
            try:
                await self.client.create(claim, namespace=_ns(claim))
            except Exception as exc:
                if getattr(exc, "code", None) == 409:
                    continue
                errors.append(f"failed to create PVC {_name(claim)}: {exc}")
                self.ctx.event(
                    sts,
                    "Warning",
                    "FailedCreate",
                    f"create Claim {_name(claim)} for Pod {_name(pod)} in StatefulSet "
                    f"{_name(sts)} failed error: {exc}",
                )
                continue
            self.ctx.event(
                sts,
                "Normal",
                "SuccessfulCreate",
                f"create Claim {_name(claim)} Pod {_name(pod)} in StatefulSet {_name(sts)} success",
            )
        if errors:
            raise RuntimeError("; ".join(errors))

    async def _create_pod(self, sts: StatefulSet, pod: Pod) -> None:
        await self._create_claims(sts, pod)
        try:
            await self.client.create(pod, namespace=_ns(sts))
        except Exception as exc:
            if getattr(exc, "code", None) != 409:
                self.ctx.event(
                    sts,
                    "Warning",
                    "FailedCreate",
                    f"create Pod {_name(pod)} in StatefulSet {_name(sts)} failed error: {exc}",
                )
            raise
        self.ctx.event(
            sts,
            "Normal",
            "SuccessfulCreate",
            f"create Pod {_name(pod)} in StatefulSet {_name(sts)} successful",
        )

    async def _delete_pod(self, sts: StatefulSet, pod: Pod) -> None:
        try:
            await self.client.delete(Pod, _name(pod), namespace=_ns(pod))
        except Exception as exc:
            if getattr(exc, "code", None) == 404:
                return
            self.ctx.event(
                sts,
                "Warning",
                "FailedDelete",
                f"delete Pod {_name(pod)} in StatefulSet {_name(sts)} failed error: {exc}",
            )
            raise
        self.ctx.event(
            sts,
            "Normal",
            "SuccessfulDelete",
            f"delete Pod {_name(pod)} in StatefulSet {_name(sts)} successful",
        )

    # -- status and history ---------------------------------------------------------------------

    async def _write_status(self, sts: StatefulSet, status: StatefulSetStatus) -> None:
        """updateStatefulSetStatus: complete a finished rolling update, write if changed."""
        strategy = sts.spec.update_strategy if sts.spec else None
        rolling = strategy is None or strategy.type in (None, "RollingUpdate")
        if rolling and status.updated_replicas == status.replicas == status.ready_replicas:
            status = attrs.evolve(
                status,
                current_replicas=status.updated_replicas,
                current_revision=status.update_revision,
            )
        old = sts.status or StatefulSetStatus()
        fields = (
            "replicas",
            "current_replicas",
            "ready_replicas",
            "updated_replicas",
            "current_revision",
            "available_replicas",
            "update_revision",
            "collision_count",
        )
        # inconsistentStatus: a newer generation or any count or revision differs.
        if (status.observed_generation or 0) <= (old.observed_generation or 0) and all(
            getattr(status, f) == getattr(old, f) for f in fields
        ):
            return
        new = attrs.evolve(status, conditions=old.conditions)
        await self.client.update(attrs.evolve(sts, status=new), subresource="status")

    async def _truncate_history(
        self,
        sts: StatefulSet,
        pods: list[Pod],
        revisions: list[ControllerRevision],
        current: ControllerRevision,
        update: ControllerRevision,
    ) -> None:
        live = {_name(current), _name(update), *(pod_revision(p) for p in pods)}
        history = [r for r in revisions if _name(r) not in live]
        limit = sts.spec.revision_history_limit if sts.spec else None
        limit = 10 if limit is None else limit
        for revision in history[: max(0, len(history) - limit)]:
            try:
                await self.client.delete(
                    ControllerRevision, _name(revision), namespace=_ns(revision)
                )
            except Exception as exc:
                if getattr(exc, "code", None) != 404:
                    raise


def _counts(
    base: StatefulSetStatus,
    min_ready: int,
    current: ControllerRevision,
    update: ControllerRevision,
    *lists: list[Pod],
) -> StatefulSetStatus:
    """updateStatus / computeReplicaStatus over the replicas and the condemned pods."""
    now = time_now()
    replicas = ready = available = cur = upd = 0
    for pods in lists:
        for pod in pods:
            created = bool(phase(pod))
            replicas += created
            if is_running_and_ready(pod):
                ready += 1
                available += is_pod_available(pod, min_ready, now)
            if created and not terminating(pod):
                cur += pod_revision(pod) == _name(current)
                upd += pod_revision(pod) == _name(update)
    return attrs.evolve(
        base,
        replicas=replicas,
        ready_replicas=ready,
        available_replicas=available,
        current_replicas=cur,
        updated_replicas=upd,
    )


async def _run_for_all(n: int, fn: Callable[[int], Awaitable[bool]], monotonic: bool) -> bool:
    """runForAll: in order, stopping at the first that says so (OrderedReady), or all in
    slow-start batches (Parallel). True when the sync should stop here."""
    if monotonic:
        for i in range(n):
            if await fn(i):
                return True
        return False
    queue = list(range(n))

    async def one() -> None:
        await fn(queue.pop(0))

    _, error = await slow_start_batch(n, one)
    if error is not None:
        raise error
    return False


def _with_retention_refs(
    sts: StatefulSet, pod: Pod, claim: PersistentVolumeClaim
) -> PersistentVolumeClaim:
    """persistentVolumeClaimRetentionPolicy, simplified: whenDeleted=Delete gives a new claim
    an owner reference to the set (the garbage collector deletes it with the set). whenScaled
    is not acted on: claims of scaled-down pods are kept."""
    policy = sts.spec.persistent_volume_claim_retention_policy if sts.spec else None
    if policy is None or policy.when_deleted != "Delete":
        return claim
    ref = OwnerReference(
        api_version="apps/v1",
        kind="StatefulSet",
        name=_name(sts),
        uid=sts.metadata.uid,  # type: ignore[union-attr]
    )
    meta = claim.metadata
    assert meta is not None
    return attrs.evolve(
        claim, metadata=attrs.evolve(meta, owner_references=(*(meta.owner_references or ()), ref))
    )


def _selector(sts: StatefulSet) -> Selector | None:
    sel = sts.spec.selector if sts.spec is not None else None
    if sel is None:
        return None
    try:
        return selector_from_label_selector(sel.match_labels, sel.match_expressions)
    except Exception:
        return None
