"""The horizontal pod autoscaler controller (upstream pkg/controller/podautoscaler/horizontal.go).

Every ``horizontal-pod-autoscaler-sync-period`` (15 s) each HPA is reconciled: the target's
scale is read, each metric proposes a replica count (:mod:`._replicas`), the highest wins, it is
stabilized and rate-limited (:mod:`._behavior`), the target's ``scale`` subresource is written
when the count changes, and the status (replicas, current metrics, lastScaleTime, the
AbleToScale / ScalingActive / ScalingLimited conditions) is updated. Resource and
ContainerResource metrics are read from a :class:`kframe.controller.MetricsSource`; kframe has no
custom or external metrics API, so Pods, Object and External metrics report that they cannot be
read, as upstream does when those APIs are missing.
"""

import logging

import attrs

from kframe.api import Selector, Time
from kframe.api.models import (
    HorizontalPodAutoscaler,
    HorizontalPodAutoscalerStatus,
    MetricStatus,
    Pod,
)
from kframe.client import object_key
from kframe.controller import ControllerContext, MetricsSource, Result, requeue_after

from ._behavior import (
    ScaleEvent,
    convert_with_behavior,
    convert_with_rules,
    rules_from,
    scale_down_limit,
    scale_up_limit,
    stabilize,
    stabilize_legacy,
)
from ._conditions import Conditions
from ._metric_specs import MetricEvaluator
from ._options import options_from
from ._target import get_scale

__all__ = ["HorizontalController"]

log = logging.getLogger("kframe.controller.podautoscaler")


@attrs.define
class _History:
    recommendations: list[tuple[int, float]] = attrs.field(factory=list)
    up_events: list[ScaleEvent] = attrs.field(factory=list)
    down_events: list[ScaleEvent] = attrs.field(factory=list)


class HorizontalController:
    def __init__(self, ctx: ControllerContext, metrics: MetricsSource) -> None:
        self.ctx = ctx
        self.options = options_from(ctx)
        self.sync_period = self.options.sync_period
        self.downscale_stabilization = self.options.downscale_stabilization
        self.hpas = ctx.informer(HorizontalPodAutoscaler)
        self.pods = ctx.informer(Pod)
        self.history: dict[str, _History] = {}
        #: The pod selector each HPA last scaled by (upstream's hpaSelectors).
        self.selectors: dict[str, Selector] = {}
        self.evaluator = MetricEvaluator(ctx, metrics, self.pods, self.options, self.selectors)
        self.hpas.add_handler(self._on_add, self._on_update, self._on_delete)

    # -- queueing: every request waits one sync period, as upstream's rate limiter makes it ----

    def _on_add(self, hpa: HorizontalPodAutoscaler) -> None:
        self.ctx.queue.add_after(object_key(hpa), self.sync_period)

    def _on_update(self, old: HorizontalPodAutoscaler, new: HorizontalPodAutoscaler) -> None:
        self.ctx.queue.add_after(object_key(new), self.sync_period)

    def _on_delete(self, hpa: HorizontalPodAutoscaler) -> None:
        self.history.pop(object_key(hpa), None)
        self.selectors.pop(object_key(hpa), None)

    # -- reconcile -------------------------------------------------------------------------------

    async def reconcile(self, key: str) -> Result | None:
        hpa = self.hpas.store.get(key)
        if hpa is None:
            self.history.pop(key, None)
            self.selectors.pop(key, None)
            return None
        try:
            await self._reconcile(key, hpa)
        except Exception as exc:
            # Upstream logs the error and tries again next period (no backoff).
            log.info("%s: %s", key, exc)
        return requeue_after(self.sync_period)

    async def _reconcile(self, key: str, hpa: HorizontalPodAutoscaler) -> None:
        assert hpa.spec is not None and hpa.metadata is not None
        original = hpa.status or HorizontalPodAutoscalerStatus()
        sync = Conditions(list(original.conditions), self.ctx.clock.wall())
        ref = hpa.spec.scale_target_ref
        reference = f"{ref.kind if ref else ''}/{hpa.metadata.namespace}/{ref.name if ref else ''}"
        try:
            scale = await get_scale(self.ctx.client, hpa)
        except Exception as exc:
            message = getattr(exc, "message", None) or str(exc)
            self.ctx.event(hpa, "Warning", "FailedGetScale", message)
            sync.set(
                "AbleToScale",
                "False",
                "FailedGetScale",
                f"the HPA controller was unable to get the target's current scale: {message}",
            )
            await self._write_status(
                hpa, original, attrs.evolve(original, conditions=tuple(sync.conditions))
            )
            raise
        sync.set(
            "AbleToScale",
            "True",
            "SucceededGetScale",
            "the HPA controller was able to get the target's current scale",
        )
        current = scale.replicas
        history = self.history.setdefault(key, _History())
        if not history.recommendations:
            # recordInitialRecommendation: the size found first counts as a recommendation.
            history.recommendations.append((current, self.ctx.clock.now()))
        min_replicas = hpa.spec.min_replicas if hpa.spec.min_replicas is not None else 1
        max_replicas = hpa.spec.max_replicas or 0
        statuses: list[MetricStatus] = []
        desired = 0
        reason = ""
        rescale = True
        if scale.replicas == 0 and min_replicas != 0:
            rescale = False
            sync.set(
                "ScalingActive",
                "False",
                "ScalingDisabled",
                "scaling is disabled since the replica count of the target is zero",
            )
        elif current > max_replicas:
            reason = "Current number of replicas above Spec.MaxReplicas"
            desired = max_replicas
        elif current < min_replicas:
            reason = "Current number of replicas below Spec.MinReplicas"
            desired = min_replicas
        else:
            proposal, metric_name, statuses, error = await self.evaluator.compute(sync, hpa, scale)
            if error is not None and proposal == -1:
                status = attrs.evolve(
                    original,
                    current_replicas=current,
                    current_metrics=tuple(statuses),
                    conditions=tuple(sync.conditions),
                )
                await self._write_status(hpa, original, status)
                self.ctx.event(hpa, "Warning", "FailedComputeMetricsReplicas", str(error))
                raise RuntimeError(
                    f"failed to compute desired number of replicas based on listed metrics for "
                    f"{reference}: {error}"
                )
            rescale_metric = ""
            if proposal > desired:
                desired, rescale_metric = proposal, metric_name
            if desired > current:
                reason = f"{rescale_metric} above target"
            if desired < current:
                reason = "All metrics below target"
            desired = self._normalize(sync, hpa, history, current, desired, min_replicas)
            rescale = desired != current
        last_scale_time = original.last_scale_time
        if rescale:
            try:
                await self.ctx.client.patch(
                    scale.cls,
                    (ref.name if ref else "") or "",
                    {"spec": {"replicas": desired}},
                    namespace=hpa.metadata.namespace,
                    patch_type="merge",
                    subresource="scale",
                )
            except Exception as exc:
                message = getattr(exc, "message", None) or str(exc)
                self.ctx.event(
                    hpa,
                    "Warning",
                    "FailedRescale",
                    f"New size: {desired}; reason: {reason}; error: {message}",
                )
                sync.set(
                    "AbleToScale",
                    "False",
                    "FailedUpdateScale",
                    f"the HPA controller was unable to update the target scale: {message}",
                )
                status = attrs.evolve(
                    original,
                    current_replicas=current,
                    current_metrics=tuple(statuses),
                    conditions=tuple(sync.conditions),
                )
                await self._write_status(hpa, original, status)
                raise RuntimeError(f"failed to rescale {reference}: {message}") from None
            sync.set(
                "AbleToScale",
                "True",
                "SucceededRescale",
                f"the HPA controller was able to update the target scale to {desired}",
            )
            self.ctx.event(
                hpa, "Normal", "SuccessfulRescale", f"New size: {desired}; reason: {reason}"
            )
            self._store_scale_event(hpa, history, current, desired)
            last_scale_time = Time(sync.now)
            log.info("%s: scaled %s from %d to %d (%s)", key, reference, current, desired, reason)
        else:
            desired = current
        status = HorizontalPodAutoscalerStatus(
            current_replicas=current,
            desired_replicas=desired,
            last_scale_time=last_scale_time,
            current_metrics=tuple(statuses),
            conditions=tuple(sync.conditions),
            observed_generation=original.observed_generation,
        )
        await self._write_status(hpa, original, status)

    async def _write_status(
        self,
        hpa: HorizontalPodAutoscaler,
        original: HorizontalPodAutoscalerStatus,
        status: HorizontalPodAutoscalerStatus,
    ) -> None:
        """updateStatusIfNeeded: write only a changed status."""
        if status == original:
            return
        try:
            await self.ctx.client.update(attrs.evolve(hpa, status=status), subresource="status")
        except Exception as exc:
            message = getattr(exc, "message", None) or str(exc)
            self.ctx.event(hpa, "Warning", "FailedUpdateStatus", message)
            assert hpa.metadata is not None
            raise RuntimeError(
                f"failed to update status for {hpa.metadata.name}: {message}"
            ) from None

    # -- metrics -----------------------------------------------------------------------------

    # -- normalization -----------------------------------------------------------------------

    def _normalize(
        self,
        sync: Conditions,
        hpa: HorizontalPodAutoscaler,
        history: _History,
        current: int,
        desired: int,
        min_replicas: int,
    ) -> int:
        assert hpa.spec is not None
        max_replicas = hpa.spec.max_replicas or 0
        now = self.ctx.clock.now()
        behavior = hpa.spec.behavior
        if behavior is None:
            # normalizeDesiredReplicas: only the downscale window, and the fixed rate rule.
            stabilized = stabilize_legacy(
                history.recommendations, desired, self.downscale_stabilization, now
            )
            self._record(history, desired, now, self.downscale_stabilization)
            if stabilized != desired:
                sync.set(
                    "AbleToScale",
                    "True",
                    "ScaleDownStabilized",
                    "recent recommendations were higher than current one, applying the highest "
                    "recent recommendation",
                )
            else:
                sync.set(
                    "AbleToScale",
                    "True",
                    "ReadyForNewScale",
                    "recommended size matches current size",
                )
            result, reason, message = convert_with_rules(
                current, stabilized, min_replicas, max_replicas
            )
        else:
            up, down = rules_from(behavior, downscale_stabilization=self.downscale_stabilization)
            stabilized, reason, message = stabilize(
                history.recommendations, desired, current, up, down, now
            )
            self._record(
                history, desired, now, max(up.stabilization_window, down.stabilization_window)
            )
            if stabilized != desired:
                sync.set("AbleToScale", "True", reason, message)
            else:
                sync.set(
                    "AbleToScale",
                    "True",
                    "ReadyForNewScale",
                    "recommended size matches current size",
                )
            result, reason, message = convert_with_behavior(
                current,
                stabilized,
                min_replicas,
                max_replicas,
                scale_up_limit(current, history.up_events, history.down_events, up, now),
                scale_down_limit(current, history.up_events, history.down_events, down, now),
            )
        sync.set("ScalingLimited", "False" if result == stabilized else "True", reason, message)
        return result

    @staticmethod
    def _record(history: _History, desired: int, now: float, keep: float) -> None:
        # Samples older than every window are never read again (upstream reuses their slot).
        history.recommendations = [(r, at) for r, at in history.recommendations if at >= now - keep]
        history.recommendations.append((desired, now))

    def _store_scale_event(
        self, hpa: HorizontalPodAutoscaler, history: _History, before: int, after: int
    ) -> None:
        """storeScaleEvent: only with a behavior, whose policies read the events back."""
        assert hpa.spec is not None
        behavior = hpa.spec.behavior
        if behavior is None:
            return
        up, down = rules_from(behavior, downscale_stabilization=self.downscale_stabilization)
        now = self.ctx.clock.now()
        if after > before:
            keep = max((p.period for p in up.policies), default=0.0)
            history.up_events = [e for e in history.up_events if e.at > now - keep]
            history.up_events.append(ScaleEvent(after - before, now))
        elif after < before:
            keep = max((p.period for p in down.policies), default=0.0)
            history.down_events = [e for e in history.down_events if e.at > now - keep]
            history.down_events.append(ScaleEvent(before - after, now))
