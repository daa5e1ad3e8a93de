"""Cells of the workload kinds: upstream's printDeployment, printReplicaSet, printStatefulSet,
printDaemonSet, printJob, printCronJob, printControllerRevision, printHorizontalPodAutoscaler and
printPodDisruptionBudget (``pkg/printers/internalversion/printers.go``)."""

from __future__ import annotations

import datetime as _dt
from typing import Any

from kframe.apiserver._cells_common import (
    CellFn,
    Cells,
    fmt_labels,
    fmt_selector,
    go_int,
    go_str,
    images,
    m,
    names,
    parse,
    ptr_str,
    quantity_ptr,
    selector_string,
    seq,
    since,
    since_until,
)

__all__ = ["WORKLOAD_CELLS"]


def _spec(obj: dict[str, Any]) -> dict[str, Any]:
    return m(obj, "spec")


def _status(obj: dict[str, Any]) -> dict[str, Any]:
    return m(obj, "status")


def _ready_of(obj: dict[str, Any], now: _dt.datetime | None) -> str:
    """``ready/desired`` of a Deployment or StatefulSet."""
    return f"{go_int(_status(obj).get('readyReplicas'))}/{go_int(_spec(obj).get('replicas'))}"


def _status_int(key: str) -> CellFn:
    return lambda o, now: go_int(_status(o).get(key))


# Containers, Images and Selector (``FormatLabelSelector``) of a pod-template workload.
_TEMPLATE: Cells = {
    "Containers": lambda o, now: names(o),
    "Images": lambda o, now: images(o),
    "Selector": lambda o, now: fmt_selector(_spec(o).get("selector")),
}

DEPLOYMENT: Cells = {
    "Ready": _ready_of,
    "Up-to-date": _status_int("updatedReplicas"),
    "Available": _status_int("availableReplicas"),
    **_TEMPLATE,
    # printDeployment shows the selector's own string: "" when empty, "<invalid>" on error.
    "Selector": lambda o, now: selector_string(_spec(o).get("selector")),
}

REPLICA_SET: Cells = {
    "Desired": lambda o, now: go_int(_spec(o).get("replicas")),
    "Current": _status_int("replicas"),
    "Ready": _status_int("readyReplicas"),
    **_TEMPLATE,
}

STATEFUL_SET: Cells = {"Ready": _ready_of, **_TEMPLATE}

DAEMON_SET: Cells = {
    "Desired": _status_int("desiredNumberScheduled"),
    "Current": _status_int("currentNumberScheduled"),
    "Ready": _status_int("numberReady"),
    "Up-to-date": _status_int("updatedNumberScheduled"),
    "Available": _status_int("numberAvailable"),
    "Node Selector": lambda o, now: fmt_labels(
        m(o, "spec", "template", "spec").get("nodeSelector")
    ),
    **_TEMPLATE,
}


def _job_condition(job: dict[str, Any], kind: str) -> bool:
    """``hasJobCondition``: the status of the first condition of that type."""
    for condition in seq(_status(job), "conditions"):
        if m(condition).get("type") == kind:
            return m(condition).get("status") == "True"
    return False


def _job_status(job: dict[str, Any], now: _dt.datetime | None) -> str:
    if _job_condition(job, "Complete"):
        return "Complete"
    if _job_condition(job, "Failed"):
        return "Failed"
    if m(job, "metadata").get("deletionTimestamp"):
        return "Terminating"
    if _job_condition(job, "Suspended"):
        return "Suspended"
    if _job_condition(job, "FailureTarget"):
        return "FailureTarget"
    return "Running"


def _job_completions(job: dict[str, Any], now: _dt.datetime | None) -> str:
    spec, succeeded = _spec(job), go_int(_status(job).get("succeeded"))
    if isinstance(spec.get("completions"), int):
        return f"{succeeded}/{spec['completions']}"
    parallelism = go_int(spec.get("parallelism"))
    return f"{succeeded}/1 of {parallelism}" if parallelism > 1 else f"{succeeded}/1"


def _job_duration(job: dict[str, Any], now: _dt.datetime | None) -> str:
    status = _status(job)
    start = status.get("startTime")
    if parse(start) is None:
        return ""
    completion = parse(status.get("completionTime"))
    if completion is None:
        return since(start, now)
    return since_until(start, completion)


JOB: Cells = {
    "Status": _job_status,
    "Completions": _job_completions,
    "Duration": _job_duration,
    **_TEMPLATE,
}


def _job_template_spec(cronjob: dict[str, Any]) -> dict[str, Any]:
    return m(cronjob, "spec", "jobTemplate", "spec")


def _suspend(cronjob: dict[str, Any], now: _dt.datetime | None) -> str:
    """``printBoolPtr``."""
    value = _spec(cronjob).get("suspend")
    if not isinstance(value, bool):
        return "<unset>"
    return "True" if value else "False"


def _last_schedule(cronjob: dict[str, Any], now: _dt.datetime | None) -> str:
    last = _status(cronjob).get("lastScheduleTime")
    return "<none>" if last is None else since(last, now)


CRON_JOB: Cells = {
    "Schedule": lambda o, now: go_str(_spec(o).get("schedule")),
    "Timezone": lambda o, now: ptr_str(_spec(o).get("timeZone"), "<none>"),
    "Suspend": _suspend,
    "Active": lambda o, now: len(seq(_status(o), "active")),
    "Last Schedule": _last_schedule,
    "Containers": lambda o, now: names({"spec": _job_template_spec(o)}),
    "Images": lambda o, now: images({"spec": _job_template_spec(o)}),
    "Selector": lambda o, now: fmt_selector(_job_template_spec(o).get("selector")),
}


def _controller(revision: dict[str, Any], now: _dt.datetime | None) -> str:
    """``formatResourceName`` of the controller owner reference, as ``kind.group/name``."""
    for ref in seq(m(revision, "metadata"), "ownerReferences"):
        owner = m(ref)
        if owner.get("controller") is not True:
            continue
        api_version = go_str(owner.get("apiVersion"))
        group = api_version.split("/", 1)[0] if api_version.count("/") == 1 else ""
        kind = go_str(owner.get("kind"))
        group_kind = f"{kind}.{group}" if group else kind
        name = go_str(owner.get("name"))
        return f"{group_kind.lower()}/{name}" if group_kind else name
    return "<none>"


CONTROLLER_REVISION: Cells = {
    "Controller": _controller,
    "Revision": lambda o, now: go_int(o.get("revision")),
}


_METRIC_KEYS = {
    "External": "external",
    "Object": "object",
    "Pods": "pods",
    "Resource": "resource",
    "ContainerResource": "containerResource",
}
_NAMED = ("Resource", "ContainerResource")  # shown as "cpu: current/target"


def _metric(spec: dict[str, Any], status: dict[str, Any]) -> str:
    """One metric of ``formatHPAMetrics``: ``current/target``, ``<unknown>`` before a reading."""
    kind = spec.get("type")
    key = _METRIC_KEYS.get(kind) if isinstance(kind, str) else None
    if key is None:
        return "<unknown type>"
    source, reported = m(spec, key), status.get(key)
    target, current = m(source, "target"), m(reported, "current")
    seen = isinstance(reported, dict)  # the status of this metric is there (non-nil)
    prefix = f"{go_str(source.get('name'))}: " if kind in _NAMED else ""
    if kind == "Pods":
        shown = quantity_ptr(current.get("averageValue")) if seen else "<unknown>"
        return f"{shown}/{quantity_ptr(target.get('averageValue'))}"
    if target.get("averageValue") is not None:
        if kind in _NAMED:
            shown = quantity_ptr(current.get("averageValue")) if seen else "<unknown>"
        else:
            value = current.get("averageValue")
            shown = "<unknown>" if value is None else quantity_ptr(value)
        suffix = "" if kind in _NAMED else " (avg)"
        return f"{prefix}{shown}/{quantity_ptr(target['averageValue'])}{suffix}"
    if kind in _NAMED:
        utilization = current.get("averageUtilization")
        shown = f"{utilization}%" if seen and isinstance(utilization, int) else "<unknown>"
        wanted = target.get("averageUtilization")
        return f"{prefix}{shown}/{f'{wanted}%' if isinstance(wanted, int) else '<auto>'}"
    shown = quantity_ptr(current.get("value")) if seen else "<unknown>"
    return f"{shown}/{quantity_ptr(target.get('value'))}"


def _hpa_targets(hpa: dict[str, Any], now: _dt.datetime | None) -> str:
    specs = seq(_spec(hpa), "metrics")
    if not specs:
        return "<none>"
    statuses = seq(_status(hpa), "currentMetrics")
    shown = [
        _metric(m(s), m(statuses[i]) if i < len(statuses) else {}) for i, s in enumerate(specs)
    ]
    if len(shown) > 2:
        return f"{', '.join(shown[:2])} + {len(shown) - 2} more..."
    return ", ".join(shown)


HPA: Cells = {
    "Reference": lambda o, now: (
        f"{go_str(m(o, 'spec', 'scaleTargetRef').get('kind'))}/"
        f"{go_str(m(o, 'spec', 'scaleTargetRef').get('name'))}"
    ),
    "Targets": _hpa_targets,
    "MinPods": lambda o, now: (
        str(_spec(o)["minReplicas"]) if isinstance(_spec(o).get("minReplicas"), int) else "<unset>"
    ),
    "MaxPods": lambda o, now: go_int(_spec(o).get("maxReplicas")),
    "Replicas": _status_int("currentReplicas"),
}


def _int_or_string(value: Any) -> str:
    """``IntOrString.String()``, or ``N/A`` when unset."""
    if value is None:
        return "N/A"
    return str(value) if isinstance(value, (int, str)) else "N/A"


PDB: Cells = {
    "Min Available": lambda o, now: _int_or_string(_spec(o).get("minAvailable")),
    "Max Unavailable": lambda o, now: _int_or_string(_spec(o).get("maxUnavailable")),
    "Allowed Disruptions": _status_int("disruptionsAllowed"),
}

WORKLOAD_CELLS: dict[str, Cells] = {
    "deployments": DEPLOYMENT,
    "replicasets": REPLICA_SET,
    "statefulsets": STATEFUL_SET,
    "daemonsets": DAEMON_SET,
    "jobs": JOB,
    "cronjobs": CRON_JOB,
    "controllerrevisions": CONTROLLER_REVISION,
    "horizontalpodautoscalers": HPA,
    "poddisruptionbudgets": PDB,
}
