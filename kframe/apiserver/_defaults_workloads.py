"""Defaulting of apps/v1, batch/v1 and autoscaling/v2 objects.

Upstream's ``pkg/apis/{apps/v1,batch/v1,autoscaling/v2}/defaults.go``; their generated
``zz_generated.defaults.go`` also runs the core pod template defaulters on every workload's
``spec.template`` (and a CronJob's ``spec.jobTemplate.spec.template``), and the claim defaulters
on a StatefulSet's ``volumeClaimTemplates``. The same rules as in ``_defaults_core`` apply: only
missing (or, for non-pointer fields, zero) values are filled.
"""

from __future__ import annotations

from typing import Any

from kframe.apiserver._defaults_core import (
    JSON,
    fill,
    fill_zero,
    items,
    obj,
    pod_template_spec,
    pvc_template,
    struct,
)

__all__ = [
    "cron_job",
    "daemon_set",
    "deployment",
    "horizontal_pod_autoscaler",
    "job",
    "replica_set",
    "stateful_set",
]

_MAX_INT32 = 2**31 - 1

# -- apps/v1 ------------------------------------------------------------------------------------


def deployment(d: JSON) -> None:
    spec = struct(d, "spec")
    if spec is None:
        return
    fill(spec, "replicas", 1)
    strategy = struct(spec, "strategy")
    if strategy is not None:
        fill_zero(strategy, "type", "RollingUpdate")
        if strategy["type"] == "RollingUpdate":
            rolling = struct(strategy, "rollingUpdate")
            if rolling is not None:
                fill(rolling, "maxUnavailable", "25%")
                fill(rolling, "maxSurge", "25%")
    fill(spec, "revisionHistoryLimit", 10)
    fill(spec, "progressDeadlineSeconds", 600)
    pod_template_spec(spec)


def replica_set(rs: JSON) -> None:
    spec = struct(rs, "spec")
    if spec is None:
        return
    fill(spec, "replicas", 1)
    pod_template_spec(spec)


def daemon_set(ds: JSON) -> None:
    spec = struct(ds, "spec")
    if spec is None:
        return
    strategy = struct(spec, "updateStrategy")
    if strategy is not None:
        fill_zero(strategy, "type", "RollingUpdate")
        if strategy["type"] == "RollingUpdate":
            rolling = struct(strategy, "rollingUpdate")
            if rolling is not None:
                fill(rolling, "maxUnavailable", 1)
                fill(rolling, "maxSurge", 0)
    fill(spec, "revisionHistoryLimit", 10)
    pod_template_spec(spec)


def stateful_set(sts: JSON) -> None:
    spec = struct(sts, "spec")
    if spec is None:
        return
    fill_zero(spec, "podManagementPolicy", "OrderedReady")
    strategy = struct(spec, "updateStrategy")
    if strategy is not None:
        if strategy.get("type") in (None, ""):
            # Only a defaulted type brings a defaulted rollingUpdate along.
            strategy["type"] = "RollingUpdate"
            fill(strategy, "rollingUpdate", {})
        rolling = obj(strategy, "rollingUpdate")
        if strategy["type"] == "RollingUpdate" and rolling is not None:
            fill(rolling, "partition", 0)
    retention = struct(spec, "persistentVolumeClaimRetentionPolicy")  # StatefulSetAutoDeletePVC
    if retention is not None:
        fill_zero(retention, "whenDeleted", "Retain")
        fill_zero(retention, "whenScaled", "Retain")
    fill(spec, "replicas", 1)
    fill(spec, "revisionHistoryLimit", 10)
    pod_template_spec(spec)
    for claim in items(spec, "volumeClaimTemplates"):
        pvc_template(claim)


# -- batch/v1 -----------------------------------------------------------------------------------


def _pod_failure_policy(spec: JSON) -> None:
    """SetDefaults_PodFailurePolicyOnPodConditionsPattern: a pattern's status is True."""
    for rule in items(obj(spec, "podFailurePolicy"), "rules"):
        for pattern in items(rule, "onPodConditions"):
            fill_zero(pattern, "status", "True")


def job(j: JSON) -> None:
    spec = struct(j, "spec")
    if spec is None:
        return
    # A non-parallel job may leave both unset: both become 1.
    if spec.get("completions") is None and spec.get("parallelism") is None:
        spec["completions"] = 1
    fill(spec, "parallelism", 1)
    fill(spec, "backoffLimit", 6 if spec.get("backoffLimitPerIndex") is None else _MAX_INT32)
    template = obj(spec, "template")
    template_meta = obj(template, "metadata") if template is not None else None
    template_labels = obj(template_meta, "labels") if template_meta is not None else None
    meta = struct(j, "metadata")
    if template_labels and meta is not None and not meta.get("labels"):
        meta["labels"] = dict(template_labels)
    fill(spec, "completionMode", "NonIndexed")
    fill(spec, "suspend", False)
    _pod_failure_policy(spec)
    # JobPodReplacementPolicy (beta, on by default).
    fill(
        spec,
        "podReplacementPolicy",
        "TerminatingOrFailed" if spec.get("podFailurePolicy") is None else "Failed",
    )
    fill(spec, "manualSelector", False)
    pod_template_spec(spec)


def cron_job(cj: JSON) -> None:
    spec = struct(cj, "spec")
    if spec is None:
        return
    fill_zero(spec, "concurrencyPolicy", "Allow")
    fill(spec, "suspend", False)
    fill(spec, "successfulJobsHistoryLimit", 3)
    fill(spec, "failedJobsHistoryLimit", 1)
    # SetDefaults_Job is for Jobs only: a job template gets just the nested type defaulters.
    job_template = struct(spec, "jobTemplate")
    job_spec = struct(job_template, "spec") if job_template is not None else None
    if job_spec is not None:
        _pod_failure_policy(job_spec)
        pod_template_spec(job_spec)


# -- autoscaling/v2 -----------------------------------------------------------------------------


def _scale_up_policies() -> list[dict[str, Any]]:
    return [
        {"type": "Pods", "value": 4, "periodSeconds": 15},
        {"type": "Percent", "value": 100, "periodSeconds": 15},
    ]


def _scale_down_policies() -> list[dict[str, Any]]:
    return [{"type": "Percent", "value": 100, "periodSeconds": 15}]


def _scaling_rules(behavior: JSON, key: str) -> None:
    """GenerateHPAScale{Up,Down}Rules: the default rules, overridden by each field that is set."""
    rules = behavior.get(key)
    if rules is None:
        rules = behavior[key] = {}
    if not isinstance(rules, dict):
        return
    fill(rules, "selectPolicy", "Max")
    if key == "scaleUp":
        fill(rules, "stabilizationWindowSeconds", 0)
        fill(rules, "policies", _scale_up_policies())
    else:
        # scaleDown keeps no stabilization window: the controller's flag decides it (300s).
        fill(rules, "policies", _scale_down_policies())


def horizontal_pod_autoscaler(hpa: JSON) -> None:
    spec = struct(hpa, "spec")
    if spec is None:
        return
    fill(spec, "minReplicas", 1)
    if not spec.get("metrics"):
        spec["metrics"] = [
            {
                "type": "Resource",
                "resource": {
                    "name": "cpu",
                    "target": {"type": "Utilization", "averageUtilization": 80},
                },
            }
        ]
    behavior = obj(spec, "behavior")
    if behavior is not None:
        _scaling_rules(behavior, "scaleUp")
        _scaling_rules(behavior, "scaleDown")
