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

from __future__ import annotations

import datetime as _dt
import logging
from collections.abc import Sequence
from typing import Any

import attrs

from kframe.api import (
    Quantity,
    Selector,
    SelectorError,
    Time,
    class_for,
    parse_label_selector,
    selector_from_label_selector,
)
from kframe.api.models import (
    ContainerResourceMetricStatus,
    HorizontalPodAutoscaler,
    HorizontalPodAutoscalerCondition,
    HorizontalPodAutoscalerStatus,
    MetricSpec,
    MetricStatus,
    MetricTarget,
    MetricValueStatus,
    Pod,
    ResourceMetricStatus,
)
from kframe.client import object_key
from kframe.controller import ControllerContext, MetricsSource, Result, requeue_after

from ._behavior import (
    DOWNSCALE_STABILIZATION,
    ScaleEvent,
    convert_with_behavior,
    convert_with_rules,
    rules_from,
    scale_down_limit,
    scale_up_limit,
    stabilize,
    stabilize_legacy,
)
from ._replicas import (
    CPU_INITIALIZATION_PERIOD,
    INITIAL_READINESS_DELAY,
    TOLERANCE,
    MetricsError,
    Tolerances,
    raw_resource_replicas,
    resource_replicas,
)

__all__ = ["HorizontalController", "parse_duration"]

log = logging.getLogger("kframe.controller.podautoscaler")

SYNC_PERIOD = 15.0

_UNSUPPORTED = {
    "Pods": "FailedGetPodsMetric",
    "Object": "FailedGetObjectMetric",
    "External": "FailedGetExternalMetric",
}


def parse_duration(text: str) -> float:
    """Seconds from ``15``, ``15s``, ``1m30s``, ``500ms``, ``1h`` (a Go duration or a number)."""
    text = text.strip()
    try:
        return float(text)
    except ValueError:
        pass
    units = {"h": 3600.0, "m": 60.0, "s": 1.0, "ms": 0.001}
    total, number, i = 0.0, "", 0
    while i < len(text):
        ch = text[i]
        if ch.isdigit() or ch == ".":
            number += ch
            i += 1
            continue
        unit = "ms" if text.startswith("ms", i) else ch
        if unit not in units or not number:
            raise ValueError(f"invalid duration {text!r}")
        total += float(number) * units[unit]
        number = ""
        i += len(unit)
    if number:
        raise ValueError(f"invalid duration {text!r}: missing unit")
    return total


@attrs.define
class _History:
    recommendations: list[tuple[int, float]] = attrs.field(factory=list)
    up_events: list[ScaleEvent] = attrs.field(factory=list)
    down_events: list[ScaleEvent] = attrs.field(factory=list)


@attrs.frozen
class _Scale:
    cls: type[Any]
    replicas: int
    status_replicas: int
    selector: str


class _ScaleError(Exception):
    pass


@attrs.define
class _Sync:
    """One reconcile's working state: the status being built and the events to record."""

    hpa: HorizontalPodAutoscaler
    conditions: list[HorizontalPodAutoscalerCondition]
    now: _dt.datetime

    def condition(self, type_: str, status: str, reason: str, message: str) -> None:
        """setCondition: a changed status moves lastTransitionTime."""
        for i, cond in enumerate(self.conditions):
            if cond.type == type_:
                moved = cond.status != status or cond.last_transition_time is None
                self.conditions[i] = attrs.evolve(
                    cond,
                    status=status,
                    reason=reason,
                    message=message,
                    last_transition_time=Time(self.now) if moved else cond.last_transition_time,
                )
                return
        self.conditions.append(
            HorizontalPodAutoscalerCondition(
                type=type_,
                status=status,
                reason=reason,
                message=message,
                last_transition_time=Time(self.now),
            )
        )


class HorizontalController:
    def __init__(self, ctx: ControllerContext, metrics: MetricsSource) -> None:
        self.ctx = ctx
        self.metrics = metrics

        def duration(name: str, default: float, *, positive: bool = False) -> float:
            value = ctx.option(name, default, parse_duration)
            if value < 0 or (positive and value == 0):
                must = "positive" if positive else "zero or more"
                raise ValueError(f"--option {name}={ctx.options.get(name)}: must be {must}")
            return value

        self.sync_period = duration(
            "horizontal-pod-autoscaler-sync-period", SYNC_PERIOD, positive=True
        )
        self.tolerance = ctx.option("horizontal-pod-autoscaler-tolerance", TOLERANCE)
        if self.tolerance < 0:
            name = "horizontal-pod-autoscaler-tolerance"
            raise ValueError(f"--option {name}={ctx.options.get(name)}: must be zero or more")
        self.cpu_initialization_period = duration(
            "horizontal-pod-autoscaler-cpu-initialization-period", CPU_INITIALIZATION_PERIOD
        )
        self.initial_readiness_delay = duration(
            "horizontal-pod-autoscaler-initial-readiness-delay", INITIAL_READINESS_DELAY
        )
        self.downscale_stabilization = duration(
            "horizontal-pod-autoscaler-downscale-stabilization", DOWNSCALE_STABILIZATION
        )
        self.hpas = ctx.informer(HorizontalPodAutoscaler)
        self.pods = ctx.informer(Pod)
        self.history: dict[str, _History] = {}
        #: The pod selector each HPA last scaled by (upstream's hpaSelectors).
        self.selectors: dict[str, Selector] = {}
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

    async def _get_scale(self, hpa: HorizontalPodAutoscaler) -> _Scale:
        assert hpa.spec is not None and hpa.metadata is not None
        ref = hpa.spec.scale_target_ref
        if ref is None or not ref.kind or not ref.name:
            raise _ScaleError("the scale target reference names no kind or name")
        api_version = ref.api_version or "v1"
        cls = class_for(api_version, ref.kind)
        if cls is None:
            group = api_version.rpartition("/")[0]
            raise _ScaleError(f'no matches for kind "{ref.kind}" in group "{group}"')
        try:
            target: Any = await self.ctx.client.get(cls, ref.name, namespace=hpa.metadata.namespace)
        except TypeError as exc:
            raise _ScaleError(str(exc)) from None
        spec, status = getattr(target, "spec", None), getattr(target, "status", None)
        if spec is None or not hasattr(spec, "replicas"):
            raise _ScaleError(f"{ref.kind} {ref.name} has no scale subresource")
        selector = getattr(spec, "selector", None)
        text = ""
        if selector is not None:
            try:
                text = str(
                    selector_from_label_selector(selector.match_labels, selector.match_expressions)
                )
            except SelectorError:
                text = ""
        replicas = spec.replicas if spec.replicas is not None else 1
        status_replicas = getattr(status, "replicas", None) or 0
        return _Scale(cls, replicas, status_replicas, text)

    async def _reconcile(self, key: str, hpa: HorizontalPodAutoscaler) -> None:
        assert hpa.spec is not None and hpa.metadata is not None
        original = hpa.status or HorizontalPodAutoscalerStatus()
        sync = _Sync(hpa, list(original.conditions), self.ctx.clock.wall())
        ref = hpa.spec.scale_target_ref
        reference = f"{ref.kind if ref else ''}/{hpa.metadata.namespace}/{ref.name if ref else ''}"
        try:
            scale = await self._get_scale(hpa)
        except Exception as exc:
            message = getattr(exc, "message", None) or str(exc)
            self.ctx.event(hpa, "Warning", "FailedGetScale", message)
            sync.condition(
                "AbleToScale",
                "False",
                "FailedGetScale",
                f"the HPA controller was unable to get the target's current scale: {message}",
            )
            await self._write_status(
                hpa, original, attrs.evolve(original, conditions=tuple(sync.conditions))
            )
            raise
        sync.condition(
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
            sync.condition(
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
            proposal, metric_name, statuses, error = await self._metrics_replicas(sync, hpa, scale)
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
                sync.condition(
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
            sync.condition(
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

    def _selected_pods(self, namespace: str, selector: Selector) -> list[Pod]:
        return [
            p
            for p in self.pods.store.by_index("namespace", namespace)
            if p.metadata is not None and selector.matches(p.metadata.labels or {})
        ]

    async def _metrics_replicas(
        self, sync: _Sync, hpa: HorizontalPodAutoscaler, scale: _Scale
    ) -> tuple[int, str, list[MetricStatus], Exception | None]:
        """computeReplicasForMetrics: the highest proposal over the valid metrics, the metric
        that made it, each metric's status, and the first metric's error (if any)."""
        assert hpa.spec is not None and hpa.metadata is not None
        if not scale.selector:
            message = "selector is required"
            self.ctx.event(hpa, "Warning", "SelectorRequired", message)
            sync.condition(
                "ScalingActive",
                "False",
                "InvalidSelector",
                "the HPA target's scale is missing a selector",
            )
            return -1, "", [], MetricsError(message)
        try:
            selector = parse_label_selector(scale.selector)
        except SelectorError as exc:
            message = (
                f"couldn't convert selector into a corresponding internal selector object: {exc}"
            )
            self.ctx.event(hpa, "Warning", "InvalidSelector", message)
            sync.condition("ScalingActive", "False", "InvalidSelector", message)
            return -1, "", [], MetricsError(message)
        namespace = hpa.metadata.namespace or "default"
        key = object_key(hpa)
        self.selectors[key] = selector
        pods = self._selected_pods(namespace, selector)
        # validateAndParseSelector: no pod may be under two HPAs.
        others = sorted(
            other
            for other, sel in self.selectors.items()
            if other.startswith(f"{namespace}/")
            and any(p.metadata is not None and sel.matches(p.metadata.labels or {}) for p in pods)
        )
        if len(others) > 1:
            keys = " ".join("{" + k.split("/", 1)[1] + " " + namespace + "}" for k in others)
            message = f"pods by selector {scale.selector} are controlled by multiple HPAs: [{keys}]"
            self.ctx.event(hpa, "Warning", "AmbiguousSelector", message)
            sync.condition("ScalingActive", "False", "AmbiguousSelector", message)
            return -1, "", [], MetricsError(message)
        replicas, metric_name = 0, ""
        statuses: list[MetricStatus] = []
        invalid = 0
        first_error: Exception | None = None
        first_condition: tuple[str, str] | None = None
        metrics_cache: dict[str, Any] = {"tolerances": self._tolerances(hpa)}
        for spec in hpa.spec.metrics:
            try:
                proposal, name, status = await self._one_metric(
                    spec, scale, namespace, selector, pods, sync.now, metrics_cache
                )
            except _MetricFailure as exc:
                # getUnableComputeReplicaCountCondition: an event and a condition per failure.
                self.ctx.event(hpa, "Warning", exc.reason, str(exc.error))
                if invalid == 0:
                    first_error = MetricsError(exc.wrapped)
                    message = f"the HPA was unable to compute the replica count: {exc.error}"
                    first_condition = (exc.reason, message)
                invalid += 1
                # An empty status keeps currentMetrics[i] lined up with metrics[i], which is
                # how kubectl describe pairs them.
                statuses.append(MetricStatus())
                continue
            statuses.append(status)
            if replicas == 0 or proposal > replicas:
                replicas, metric_name = proposal, name
        if first_error is not None:
            first_error = MetricsError(
                f"invalid metrics ({invalid} invalid out of {len(hpa.spec.metrics)}), first error "
                f"is: {first_error}"
            )
        if invalid >= len(hpa.spec.metrics) or (invalid > 0 and replicas < scale.replicas):
            # All metrics are invalid, or some are and the rest would scale down: do nothing.
            if first_condition is not None:
                sync.condition("ScalingActive", "False", *first_condition)
            return -1, "", statuses, first_error or MetricsError("no metrics are specified")
        sync.condition(
            "ScalingActive",
            "True",
            "ValidMetricFound",
            f"the HPA was able to successfully calculate a replica count from {metric_name}",
        )
        return replicas, metric_name, statuses, first_error

    async def _one_metric(
        self,
        spec: MetricSpec,
        scale: _Scale,
        namespace: str,
        selector: Selector,
        pods: Sequence[Pod],
        now: _dt.datetime,
        cache: dict[str, Any],
    ) -> tuple[int, str, MetricStatus]:
        """computeReplicasForMetric for one Resource or ContainerResource metric."""
        if spec.type in _UNSUPPORTED:
            reason = _UNSUPPORTED[spec.type]
            error = MetricsError(
                f"unable to get {spec.type.lower()} metric: kframe serves no custom or external "
                "metrics API (custom.metrics.k8s.io, external.metrics.k8s.io)"
            )
            what = {"Pods": "pods", "Object": "object", "External": "external"}[spec.type]
            raise _MetricFailure(reason, error, f"failed to get {what} metric value: {error}")
        if spec.type == "Resource" and spec.resource is not None:
            resource, container, target = spec.resource.name or "", "", spec.resource.target
            reason, what = "FailedGetResourceMetric", f"{resource} resource"
        elif spec.type == "ContainerResource" and spec.container_resource is not None:
            source = spec.container_resource
            resource, container, target = source.name or "", source.container or "", source.target
            reason, what = "FailedGetContainerResourceMetric", f"{container} container"
        else:
            error = MetricsError(f'unknown metric source type "{spec.type}"')
            raise _MetricFailure("InvalidMetricSourceType", error, str(error))
        try:
            proposal, name, value = await self._resource_proposal(
                scale.replicas, resource, container, target, namespace, selector, pods, now, cache
            )
        except Exception as exc:
            raise _MetricFailure(reason, exc, f"failed to get {what} metric value: {exc}") from None
        if container:
            status = MetricStatus(
                type="ContainerResource",
                container_resource=ContainerResourceMetricStatus(
                    name=resource, container=container, current=value
                ),
            )
            if target is not None and target.average_value is None:
                name = f"{resource} container resource utilization (percentage of request)"
        else:
            status = MetricStatus(
                type="Resource", resource=ResourceMetricStatus(name=resource, current=value)
            )
        return proposal, name, status

    def _tolerances(self, hpa: HorizontalPodAutoscaler) -> Tolerances:
        """The global tolerance, or a behavior's per-direction ``tolerance`` (upstream's
        HPAConfigurableTolerance, alpha in 1.33)."""
        behavior = hpa.spec.behavior if hpa.spec is not None else None

        def one(rules: Any) -> float:
            value = getattr(rules, "tolerance", None)
            return float(Quantity(value).as_decimal()) if value is not None else self.tolerance

        if behavior is None:
            return Tolerances(self.tolerance, self.tolerance)
        return Tolerances(one(behavior.scale_down), one(behavior.scale_up))

    async def _resource_proposal(
        self,
        current: int,
        resource: str,
        container: str,
        target: MetricTarget | None,
        namespace: str,
        selector: Selector,
        pods: Sequence[Pod],
        now: _dt.datetime,
        cache: dict[str, Any],
    ) -> tuple[int, str, MetricValueStatus]:
        """computeStatusForResourceMetricGeneric."""
        if target is None:
            raise MetricsError("the metric has no target")

        async def fetch() -> Any:
            # One read per reconcile serves every resource metric of the HPA.
            if "metrics" not in cache:
                try:
                    cache["metrics"] = await self.metrics.pod_metrics(namespace, selector)
                except Exception as exc:
                    cache["metrics"] = exc
            got = cache["metrics"]
            cause = (
                got
                if isinstance(got, Exception)
                else "no metrics returned from resource metrics API"
                if not got
                else None
            )
            if cause is not None:
                raise MetricsError(f"unable to get metrics for resource {resource}: {cause}")
            return got

        kwargs: dict[str, Any] = {
            "container": container,
            "tolerances": cache["tolerances"],
            "cpu_initialization_period": self.cpu_initialization_period,
            "initial_readiness_delay": self.initial_readiness_delay,
        }
        if target.average_value is not None:
            try:
                replicas, usage = raw_resource_replicas(
                    current,
                    Quantity(target.average_value).milli_value(),
                    resource,
                    pods,
                    await fetch(),
                    now,
                    **kwargs,
                )
            except MetricsError as exc:
                raise MetricsError(f"failed to get {resource} usage: {exc}") from None
            return (
                replicas,
                f"{resource} resource",
                MetricValueStatus(average_value=Quantity.from_milli(usage)),
            )
        if target.average_utilization is None:
            raise MetricsError(
                "invalid resource metric source: neither an average utilization target nor an "
                "average value (usage) target was set"
            )
        try:
            replicas, utilization, raw = resource_replicas(
                current, target.average_utilization, resource, pods, await fetch(), now, **kwargs
            )
        except MetricsError as exc:
            raise MetricsError(f"failed to get {resource} utilization: {exc}") from None
        return (
            replicas,
            f"{resource} resource utilization (percentage of request)",
            MetricValueStatus(
                average_utilization=utilization, average_value=Quantity.from_milli(raw)
            ),
        )

    # -- normalization -----------------------------------------------------------------------

    def _normalize(
        self,
        sync: _Sync,
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
                sync.condition(
                    "AbleToScale",
                    "True",
                    "ScaleDownStabilized",
                    "recent recommendations were higher than current one, applying the highest "
                    "recent recommendation",
                )
            else:
                sync.condition(
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
                sync.condition("AbleToScale", "True", reason, message)
            else:
                sync.condition(
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
        sync.condition(
            "ScalingLimited", "False" if result == stabilized else "True", reason, message
        )
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


class _MetricFailure(Exception):
    """A metric that gave no proposal: the event/condition ``reason``, the ``error`` they
    report, and the ``wrapped`` words the "invalid metrics" error quotes."""

    def __init__(self, reason: str, error: Exception, wrapped: str) -> None:
        super().__init__(str(error))
        self.reason = reason
        self.error = error
        self.wrapped = wrapped
