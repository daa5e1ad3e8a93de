"""The Deployment controller (upstream pkg/controller/deployment: deployment_controller.go,
sync.go, rolling.go, recreate.go, progress.go).

One sync: claim the ReplicaSets (adopt matching orphans, release the ones that stopped
matching), then, by priority: a Deployment being deleted only gets its status; a paused one or
a scaling event is scaled proportionally (``sync``); otherwise it rolls out by its strategy
(RollingUpdate or Recreate) and ends with the rollout status and conditions.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Sequence

import attrs

from kframe.api import Selector, go_quote, time_now
from kframe.api.models import Deployment, DeploymentStatus, Pod, ReplicaSet
from kframe.controller import (
    CONTROLLER_UID_INDEX,
    Result,
    claim_objects,
    controller_ref,
    done,
    requeue_after,
)

from ._annotations import (
    REVISION_ANNOTATION,
    max_revision,
    new_replica_set_annotations,
    replicas_annotations,
    replicas_annotations_need_update,
)
from ._handlers import DeploymentInformers, deployment_selector
from ._hash import equal_ignore_hash
from ._plan import (
    ScaleStep,
    cleanup_candidates,
    is_scaling_event,
    old_pods_running,
    plan_proportional_scale,
    plan_rolling,
    with_replicas,
)
from ._replicas import (
    deployment_replicas,
    filter_active,
    max_surge,
    rs_replicas,
    strategy_type,
)
from ._replicasets import find_new_replica_set, find_old_replica_sets, make_new_replica_set
from ._status import (
    FAILED_RS_CREATE_REASON,
    FOUND_NEW_RS_REASON,
    NEW_RS_REASON,
    PROGRESSING,
    calculate_status,
    deployment_complete,
    get_condition,
    has_progress_deadline,
    new_condition,
    paused_condition,
    rollout_status,
    set_condition,
    stuck_requeue_after,
)

__all__ = ["DeploymentController"]

log = logging.getLogger("kframe.controller.deployment")


def _code(exc: BaseException) -> int | None:
    return getattr(exc, "code", None)


def _namespace_terminating(exc: BaseException) -> bool:
    causes = getattr(exc, "causes", ()) or ()
    return any(getattr(c, "reason", "") == "NamespaceTerminating" for c in causes)


@attrs.define
class _State:
    """The Deployment as last written during this sync (each write returns a newer one)."""

    d: Deployment

    @property
    def status(self) -> DeploymentStatus:
        return self.d.status or DeploymentStatus()


class DeploymentController(DeploymentInformers):
    """The sync of one Deployment; the informers and handlers are :class:`DeploymentInformers`."""

    async def reconcile(self, key: str) -> Result | None:
        try:
            return await self._sync_deployment(key)
        except Exception as exc:
            if _namespace_terminating(exc):
                return done()  # every later create fails too: handleErr forgets the key
            if _code(exc) != 409:
                raise
            # A write over a cached object that changed meanwhile (a ReplicaSet's status, most
            # often): retried through the rate limiter, as any error, without a warning.
            log.debug("deployment %s: %s; retrying", key, exc)
            return Result(requeue_after=0)

    async def _sync_deployment(self, key: str) -> Result | None:
        """syncDeployment."""
        d = self.deployments.store.get(key)
        if d is None or d.metadata is None or d.spec is None:
            return done()
        sel = d.spec.selector
        if sel is None or (not sel.match_labels and not sel.match_expressions):
            self.ctx.event(
                d,
                "Warning",
                "SelectingAll",
                "This deployment is selecting all pods. A non-empty selector is required.",
            )
            generation = d.metadata.generation or 0
            if ((d.status.observed_generation if d.status else None) or 0) < generation:
                status = attrs.evolve(
                    d.status or DeploymentStatus(), observed_generation=generation
                )
                await self.client.update(attrs.evolve(d, status=status), subresource="status")
            return done()
        selector = deployment_selector(d)
        if selector is None:
            log.warning("deployment %s has an invalid label selector", key)
            return done()
        rs_list = await self._claim(d, selector)
        state = _State(d)
        if d.metadata.deletion_timestamp is not None:
            new_rs, old_rss = await self._get_all(state, rs_list, create=False)
            await self._sync_status(state, [*old_rss, new_rs], new_rs)
            return done()
        await self._check_paused(state)
        if d.spec.paused:
            return await self._sync(state, rs_list)
        new_rs, old_rss = await self._get_all(state, rs_list, create=False)
        if is_scaling_event(state.d, new_rs, old_rss):
            return await self._sync(state, rs_list)
        if strategy_type(d) == "Recreate":
            return await self._rollout_recreate(state, rs_list)
        if strategy_type(d) == "RollingUpdate":
            return await self._rollout_rolling(state, rs_list)
        raise ValueError(f"unexpected deployment strategy type: {strategy_type(d)}")

    async def _claim(self, d: Deployment, selector: Selector) -> list[ReplicaSet]:
        """getReplicaSetsForDeployment: adopt matching orphans, release owned ones that no
        longer match; what is left is this Deployment's."""
        assert d.metadata is not None
        candidates = [
            rs
            for rs in self.replica_sets.store.by_index("namespace", d.metadata.namespace or "")
            if (ref := controller_ref(rs)) is None or ref.uid == d.metadata.uid
        ]
        return await claim_objects(self.client, d, selector, candidates)

    def _pods_by_rs(self, rss: Sequence[ReplicaSet]) -> dict[str, list[Pod]]:
        """getPodMapForDeployment: each owned ReplicaSet's pods (finished ones included)."""
        out: dict[str, list[Pod]] = {}
        for rs in rss:
            uid = (rs.metadata.uid if rs.metadata is not None else None) or ""
            out[uid] = self.pods.store.by_index(CONTROLLER_UID_INDEX, uid)
        return out

    async def _sync(self, state: _State, rs_list: list[ReplicaSet]) -> Result:
        """sync: scale proportionally (a scaling event, or paused), clean up old ReplicaSets
        while paused, then the plain status."""
        new_rs, old_rss = await self._get_all(state, rs_list, create=False)
        await self._apply(state, plan_proportional_scale(state.d, new_rs, old_rss))
        if state.d.spec is not None and state.d.spec.paused:
            await self._cleanup(state, old_rss)
        await self._sync_status(state, [*old_rss, new_rs], new_rs)
        return done()

    async def _rollout_rolling(self, state: _State, rs_list: list[ReplicaSet]) -> Result:
        """rolloutRolling: grow the new ReplicaSet if the surge allows, else shrink old ones if
        availability allows; a complete rollout cleans up history."""
        new_rs, old_rss = await self._get_all(state, rs_list, create=True)
        assert new_rs is not None
        all_rss: list[ReplicaSet | None] = [*old_rss, new_rs]
        _, steps = plan_rolling(state.d, new_rs, old_rss)
        if steps:
            await self._apply(state, steps)
            return await self._sync_rollout_status(state, all_rss, new_rs)
        if deployment_complete(state.d, state.status):
            await self._cleanup(state, old_rss)
        return await self._sync_rollout_status(state, all_rss, new_rs)

    async def _rollout_recreate(self, state: _State, rs_list: list[ReplicaSet]) -> Result:
        """rolloutRecreate: old ReplicaSets to 0; once none of their pods runs, make (or find)
        the new one and scale it to spec.replicas."""
        new_rs, old_rss = await self._get_all(state, rs_list, create=False)
        all_rss: list[ReplicaSet | None] = [*old_rss, new_rs]
        steps = [ScaleStep(rs, 0) for rs in filter_active(old_rss)]
        if steps:
            await self._apply(state, steps)
            return await self._sync_rollout_status(state, all_rss, new_rs)
        if old_pods_running(new_rs, old_rss, self._pods_by_rs(rs_list)):
            return await self._sync_rollout_status(state, all_rss, new_rs)
        if new_rs is None:
            new_rs, old_rss = await self._get_all(state, rs_list, create=True)
            all_rss = [*old_rss, new_rs]
        assert new_rs is not None
        await self._apply(state, [ScaleStep(new_rs, deployment_replicas(state.d))])
        if deployment_complete(state.d, state.status):
            await self._cleanup(state, old_rss)
        return await self._sync_rollout_status(state, all_rss, new_rs)

    # -- the new replica set --------------------------------------------------------------------

    async def _get_all(
        self, state: _State, rs_list: list[ReplicaSet], *, create: bool
    ) -> tuple[ReplicaSet | None, list[ReplicaSet]]:
        """getAllReplicaSetsAndSyncRevision: (the new ReplicaSet, made if ``create``; every
        old one)."""
        old_rss = find_old_replica_sets(state.d, rs_list)
        return await self._get_new(state, rs_list, old_rss, create), old_rss

    async def _get_new(
        self,
        state: _State,
        rs_list: list[ReplicaSet],
        old_rss: list[ReplicaSet],
        create: bool,
    ) -> ReplicaSet | None:
        """getNewReplicaSet: the existing new ReplicaSet with its annotations, revision and
        minReadySeconds brought up to date (and the Deployment's revision copied from it), or a
        new one when ``create``."""
        d = state.d
        assert d.metadata is not None and d.spec is not None
        existing = find_new_replica_set(d, rs_list)
        new_revision = max_revision(old_rss) + 1
        desired = deployment_replicas(d)
        if existing is not None:
            assert existing.metadata is not None and existing.spec is not None
            annotations, changed = new_replica_set_annotations(
                d.metadata.annotations or {},
                existing.metadata.annotations or {},
                new_revision,
                exists=True,
                desired=desired,
                max_replicas=desired + max_surge(d),
            )
            min_ready = d.spec.min_ready_seconds or 0
            if changed or (existing.spec.min_ready_seconds or 0) != min_ready:
                updated = attrs.evolve(
                    existing,
                    metadata=attrs.evolve(existing.metadata, annotations=annotations),
                    spec=attrs.evolve(existing.spec, min_ready_seconds=min_ready or None),
                )
                # Upstream returns here; the Deployment's revision follows on the next sync.
                written = await self.client.update(updated)
                rs_list[rs_list.index(existing)] = written  # later reads in this sync see it
                return written
            revision = (existing.metadata.annotations or {}).get(REVISION_ANNOTATION)
            status = state.status
            if has_progress_deadline(d) and get_condition(status, PROGRESSING) is None:
                name = go_quote(existing.metadata.name or "")
                cond = new_condition(
                    PROGRESSING, "True", FOUND_NEW_RS_REASON, f"Found new replica set {name}"
                )
                status = set_condition(status, cond)
            await self._write(state, revision, status)
            return existing
        if not create:
            return None
        rs = make_new_replica_set(d, old_rss, new_revision)
        assert rs.metadata is not None
        name = rs.metadata.name or ""
        already = False
        try:
            created = await self.client.create(rs, namespace=d.metadata.namespace)
        except Exception as exc:
            if _code(exc) == 409 and getattr(exc, "reason", "") == "AlreadyExists":
                found = await self._existing(d, name)
                ref = controller_ref(found)
                template = found.spec.template if found.spec is not None else None
                if (
                    ref is not None
                    and ref.uid == d.metadata.uid
                    and equal_ignore_hash(d.spec.template, template)
                ):
                    created, already = found, True
                else:
                    # A hash collision: count it, so the next sync hashes to another name.
                    count = (state.status.collision_count or 0) + 1
                    await self._write(
                        state, None, attrs.evolve(state.status, collision_count=count)
                    )
                    raise
            elif _namespace_terminating(exc):
                raise
            else:
                msg = f"Failed to create new replica set {go_quote(name)}: {exc}"
                if has_progress_deadline(d):
                    cond = new_condition(PROGRESSING, "False", FAILED_RS_CREATE_REASON, msg)
                    # The bigger problem is reported below, whatever this write does.
                    with contextlib.suppress(Exception):
                        await self._write(state, None, set_condition(state.status, cond))
                self.ctx.event(d, "Warning", FAILED_RS_CREATE_REASON, msg)
                raise
        replicas = rs_replicas(rs)
        if not already and replicas > 0:
            self.ctx.event(
                d,
                "Normal",
                "ScalingReplicaSet",
                f"Scaled up replica set {name} from 0 to {replicas}",
            )
        status = state.status
        if not already and has_progress_deadline(d):
            cond = new_condition(
                PROGRESSING, "True", NEW_RS_REASON, f"Created new replica set {go_quote(name)}"
            )
            status = set_condition(status, cond)
        await self._write(state, str(new_revision), status)
        return created

    async def _existing(self, d: Deployment, name: str) -> ReplicaSet:
        namespace = d.metadata.namespace if d.metadata is not None else None
        cached = self.replica_sets.store.get(f"{namespace}/{name}")
        if cached is not None:
            return cached
        return await self.client.get(ReplicaSet, name, namespace=namespace)

    # -- writes ---------------------------------------------------------------------------------

    async def _write(
        self, state: _State, revision: str | None, status: DeploymentStatus | None
    ) -> None:
        """The Deployment's revision annotation (a metadata patch: kframe's status subresource,
        unlike upstream's Deployment status strategy, keeps metadata as it was) and its
        status, each only if it changes."""
        d = state.d
        assert d.metadata is not None
        annotations = d.metadata.annotations or {}
        if revision is not None and annotations.get(REVISION_ANNOTATION) != revision:
            patch = {
                "metadata": {
                    "annotations": {REVISION_ANNOTATION: revision},
                    "uid": d.metadata.uid,
                    "resourceVersion": d.metadata.resource_version,
                }
            }
            state.d = d = await self.client.patch(
                Deployment,
                d.metadata.name or "",
                patch,
                namespace=d.metadata.namespace,
                patch_type="merge",
            )
        if status is not None and status != state.status:
            state.d = await self.client.update(attrs.evolve(d, status=status), subresource="status")

    async def _apply(self, state: _State, steps: Sequence[ScaleStep]) -> None:
        """Apply scale steps in order; a later step of the same ReplicaSet starts from what the
        earlier one wrote."""
        latest: dict[str, ReplicaSet] = {}
        for step in steps:
            rs = step.rs
            uid = (rs.metadata.uid if rs.metadata is not None else None) or ""
            if uid in latest:
                rs = latest[uid]
            latest[uid] = await self._scale(state.d, rs, step.replicas, step.operation)

    async def _scale(
        self, d: Deployment, rs: ReplicaSet, replicas: int, operation: str | None
    ) -> ReplicaSet:
        """scaleReplicaSet(AndRecordEvent): the new size and the replicas annotations, with a
        ScalingReplicaSet event when the size changed."""
        old = rs_replicas(rs)
        if operation is None:
            if old == replicas:
                return rs
            operation = "up" if old < replicas else "down"
        desired = deployment_replicas(d)
        max_replicas = desired + max_surge(d)
        size_changes = old != replicas
        if not size_changes and not replicas_annotations_need_update(rs, desired, max_replicas):
            return rs
        assert rs.metadata is not None
        scaled = with_replicas(rs, replicas)
        annotations = replicas_annotations(rs.metadata.annotations or {}, desired, max_replicas)
        scaled = attrs.evolve(scaled, metadata=attrs.evolve(rs.metadata, annotations=annotations))
        updated = await self.client.update(scaled)
        if size_changes:
            self.ctx.event(
                d,
                "Normal",
                "ScalingReplicaSet",
                f"Scaled {operation} replica set {rs.metadata.name} from {old} to {replicas}",
            )
        return updated

    async def _cleanup(self, state: _State, old_rss: Sequence[ReplicaSet]) -> None:
        """cleanupDeployment: delete the old ReplicaSets past revisionHistoryLimit."""
        for rs in cleanup_candidates(state.d, old_rss):
            assert rs.metadata is not None
            try:
                await self.client.delete(
                    ReplicaSet, rs.metadata.name or "", namespace=rs.metadata.namespace
                )
            except Exception as exc:
                if _code(exc) != 404:
                    raise

    async def _check_paused(self, state: _State) -> None:
        cond = paused_condition(state.d)
        if cond is not None:
            await self._write(state, None, set_condition(state.status, cond))

    async def _sync_status(
        self, state: _State, all_rss: Sequence[ReplicaSet | None], new_rs: ReplicaSet | None
    ) -> None:
        """syncDeploymentStatus: the counts and Available, no progress estimate."""
        await self._write(state, None, calculate_status(all_rss, new_rs, state.d))

    async def _sync_rollout_status(
        self, state: _State, all_rss: Sequence[ReplicaSet | None], new_rs: ReplicaSet | None
    ) -> Result:
        """syncRolloutStatus, and the progress check of a rollout that is not moving."""
        now = time_now()
        status = rollout_status(all_rss, new_rs, state.d, now)
        if status != state.status:
            await self._write(state, None, status)
            return done()
        after = stuck_requeue_after(state.d, status, now)
        return done() if after is None else requeue_after(after)
