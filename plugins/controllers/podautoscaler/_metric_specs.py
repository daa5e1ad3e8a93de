"""The replica count each of an HPA's metrics proposes (upstream horizontal.go
computeReplicasForMetrics, computeReplicasForMetric, computeStatusForResourceMetricGeneric).

Resource and ContainerResource metrics are computed from a :class:`MetricsSource` with
:mod:`._replicas`; Pods, Object and External metrics fail as they do upstream without a custom or
external metrics API. Every failure records an event; the first one's condition and error are
what the HPA reports when no metric can be used.
"""

from __future__ import annotations

import datetime as _dt
from collections.abc import Sequence
from typing import Any

from kframe.api import Quantity, Selector, SelectorError, parse_label_selector
from kframe.api.models import (
    ContainerResourceMetricStatus,
    HorizontalPodAutoscaler,
    MetricSpec,
    MetricStatus,
    MetricTarget,
    MetricValueStatus,
    Pod,
    ResourceMetricStatus,
)
from kframe.client import Informer, object_key
from kframe.controller import ControllerContext, MetricsSource

from ._conditions import Conditions
from ._options import Options
from ._replicas import MetricsError, Tolerances, raw_resource_replicas, resource_replicas
from ._target import TargetScale

__all__ = ["MetricEvaluator"]

_UNSUPPORTED = {
    "Pods": "FailedGetPodsMetric",
    "Object": "FailedGetObjectMetric",
    "External": "FailedGetExternalMetric",
}


class MetricEvaluator:
    """Proposals for an HPA's metrics, over the pod informer and a metrics source.

    ``selectors`` is shared with the controller: the pod selector each HPA last scaled by, to
    find pods under two HPAs (upstream's hpaSelectors).
    """

    def __init__(
        self,
        ctx: ControllerContext,
        metrics: MetricsSource,
        pods: Informer[Pod],
        options: Options,
        selectors: dict[str, Selector],
    ) -> None:
        self.ctx = ctx
        self.metrics = metrics
        self.pods = pods
        self.options = options
        self.selectors = selectors

    def _selected_pods(self, namespace: str, selector: Selector) -> list[Pod]:
        return [
            p
            for p in self.pods.store.by_index("namespace", namespace)
            if p.metadata is not None and selector.matches(p.metadata.labels or {})
        ]

    async def compute(
        self, sync: Conditions, hpa: HorizontalPodAutoscaler, scale: TargetScale
    ) -> tuple[int, str, list[MetricStatus], Exception | None]:
        """computeReplicasForMetrics: the highest proposal over the valid metrics, the metric
        that made it, each metric's status, and the first metric's error (if any)."""
        assert hpa.spec is not None and hpa.metadata is not None
        if not scale.selector:
            message = "selector is required"
            self.ctx.event(hpa, "Warning", "SelectorRequired", message)
            sync.set(
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
            sync.set("ScalingActive", "False", "InvalidSelector", message)
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
            sync.set("ScalingActive", "False", "AmbiguousSelector", message)
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
                sync.set("ScalingActive", "False", *first_condition)
            return -1, "", statuses, first_error or MetricsError("no metrics are specified")
        sync.set(
            "ScalingActive",
            "True",
            "ValidMetricFound",
            f"the HPA was able to successfully calculate a replica count from {metric_name}",
        )
        return replicas, metric_name, statuses, first_error

    async def _one_metric(
        self,
        spec: MetricSpec,
        scale: TargetScale,
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
            return (
                float(Quantity(value).as_decimal()) if value is not None else self.options.tolerance
            )

        if behavior is None:
            return Tolerances(self.options.tolerance, self.options.tolerance)
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
            "cpu_initialization_period": self.options.cpu_initialization_period,
            "initial_readiness_delay": self.options.initial_readiness_delay,
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


class _MetricFailure(Exception):
    """A metric that gave no proposal: the event/condition ``reason``, the ``error`` they
    report, and the ``wrapped`` words the "invalid metrics" error quotes."""

    def __init__(self, reason: str, error: Exception, wrapped: str) -> None:
        super().__init__(str(error))
        self.reason = reason
        self.error = error
        self.wrapped = wrapped
