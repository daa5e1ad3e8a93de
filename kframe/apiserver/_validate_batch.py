"""Jobs and CronJobs: ``pkg/apis/batch/validation``.

The Job strategy (``_strategy.JobStrategy``) generates ``spec.selector`` and the matching template
labels before validation, unless ``manualSelector`` is true; a generated selector is then checked
here as upstream's validateGeneratedSelector does. A Job with neither a selector nor
``manualSelector`` never reaches validation through the API server; it passes here (upstream:
Required), so that a Job stored before the strategy generated selectors stays writable.
"""

from __future__ import annotations

import re

from kframe.api import is_dns1123_label
from kframe.apiserver._errors import Cause
from kframe.apiserver._validate_cron import schedule_error, time_zone_error
from kframe.apiserver._validate_field import (
    OMIT,
    Go,
    Obj,
    duplicate,
    go_label_selector,
    go_map,
    go_quote,
    immutable,
    invalid,
    nonnegative,
    not_supported,
    required,
    same,
    too_long,
    too_many,
)
from kframe.apiserver._validate_formats import as_selector, label_selector, qualified_name
from kframe.apiserver._validate_pods import pod_template

_ACTIONS = ("Count", "FailIndex", "FailJob", "Ignore")
_STATUSES = ("False", "True", "Unknown")
_TEMPLATE = Go("core.PodTemplateSpec{...}")


def _int32s(values: list[int] | None) -> Go:
    return Go("[]int32(nil)" if values is None else "[]int32{" + ", ".join(map(str, values)) + "}")


def _quoted_list(values: tuple[str, ...]) -> str:
    """Go's ``%q`` of a ``[]string``: ``["a" "b"]``."""
    return "[" + " ".join(f'"{v}"' for v in values) + "]"


def _failure_rule(spec: Obj, rule: Obj, path: str, containers: set[str]) -> list[Cause]:
    errs: list[Cause] = []
    action = rule.get("action") or ""
    if not action:
        errs.append(required(f"{path}.action", f"valid values: {_quoted_list(_ACTIONS)}"))
    elif action == "FailIndex":
        if spec.get("backoffLimitPerIndex") is None:
            detail = "requires the backoffLimitPerIndex to be set"
            errs.append(invalid(f"{path}.action", action, detail))
    elif action not in _ACTIONS:
        errs.append(not_supported(f"{path}.action", action, _ACTIONS))
    codes, conditions = rule.get("onExitCodes"), rule.get("onPodConditions") or []
    if codes is not None:
        cpath = f"{path}.onExitCodes"
        op = codes.get("operator") or ""
        if not op:
            errs.append(required(f"{cpath}.operator", 'valid values: ["In" "NotIn"]'))
        elif op not in ("In", "NotIn"):
            errs.append(not_supported(f"{cpath}.operator", op, ("In", "NotIn")))
        name = codes.get("containerName")
        if name is not None and name not in containers:
            detail = "must be one of the container or initContainer names in the pod template"
            errs.append(invalid(f"{cpath}.containerName", name, detail))
        values = codes.get("values")
        if not values:
            errs.append(
                invalid(f"{cpath}.values", _int32s(values), "at least one value is required")
            )
        elif len(values) > 255:
            errs.append(too_many(f"{cpath}.values", len(values), 255))
        for j, code in enumerate(values or []):
            if op == "In" and code == 0:
                errs.append(
                    invalid(f"{cpath}.values[{j}]", code, "must not be 0 for the In operator")
                )
            if code in values[:j]:
                errs.append(duplicate(f"{cpath}.values[{j}]", code))
        if values and values != sorted(values):
            errs.append(invalid(f"{cpath}.values", _int32s(values), "must be ordered"))
    if conditions:
        ppath = f"{path}.onPodConditions"
        if len(conditions) > 20:
            errs.append(too_many(ppath, len(conditions), 20))
        for j, pattern in enumerate(conditions):
            errs += qualified_name(pattern.get("type", ""), f"{ppath}[{j}].type")
            status = pattern.get("status") or ""
            if not status:
                detail = f"valid values: {_quoted_list(_STATUSES)}"
                errs.append(required(f"{ppath}[{j}].status", detail))
            elif status not in _STATUSES:
                errs.append(not_supported(f"{ppath}[{j}].status", status, _STATUSES))
    if codes is not None and conditions:
        detail = "specifying both OnExitCodes and OnPodConditions is not supported"
        errs.append(invalid(path, OMIT, detail))
    if codes is None and not conditions:
        detail = "specifying one of OnExitCodes and OnPodConditions is required"
        errs.append(invalid(path, OMIT, detail))
    return errs


def _atoi(text: str) -> int | None:
    return int(text) if re.fullmatch(r"[+-]?[0-9]+", text) else None


def _interval(text: str, completions: int) -> tuple[int, int]:
    """``parseIndexInterval``; raises ``ValueError`` with upstream's message."""
    limits = text.split("-")
    if len(limits) > 2:
        raise ValueError(
            f"the fragment {go_quote(text)} violates the requirement that an index interval can "
            "have at most two parts separated by '-'"
        )
    bounds: list[int] = []
    for part in limits:
        value = _atoi(part)
        if value is None:
            raise ValueError(f"cannot convert string to integer for index: {go_quote(part)}")
        if value >= completions:
            raise ValueError(f"too large index: {go_quote(part)}")
        bounds.append(value)
    if len(bounds) == 2 and bounds[0] >= bounds[1]:
        raise ValueError(f"non-increasing order, previous: {bounds[0]}, current: {bounds[1]}")
    return bounds[0], bounds[-1]


def indexes_format(text: str, completions: int) -> tuple[int, str | None]:
    """``validateIndexesFormat``: the number of indexes, and the parse error if any."""
    last: int | None = None
    total = 0
    for part in text.split(",") if text else []:
        try:
            low, high = _interval(part, completions)
        except ValueError as err:
            return 0, str(err)
        if last is not None and last >= low:
            return 0, f"non-increasing order, previous: {last}, current: {low}"
        total += high - low + 1
        last = high
    return total, None


def job_spec(spec: Obj, path: str) -> list[Cause]:
    """``validateJobSpec`` (shared by Jobs and CronJob job templates)."""
    errs: list[Cause] = []
    for key in ("parallelism", "completions", "activeDeadlineSeconds", "backoffLimit",
                "ttlSecondsAfterFinished", "backoffLimitPerIndex", "maxFailedIndexes"):  # fmt: skip
        errs += nonnegative(spec.get(key), f"{path}.{key}")
    if spec.get("maxFailedIndexes") is not None and spec.get("backoffLimitPerIndex") is None:
        errs.append(required(f"{path}.backoffLimitPerIndex", "when maxFailedIndexes is specified"))
    mode = spec.get("completionMode")
    if mode is not None and mode not in ("NonIndexed", "Indexed"):
        errs.append(not_supported(f"{path}.completionMode", mode, ("NonIndexed", "Indexed")))
    if mode == "Indexed":
        if spec.get("completions") is None:
            errs.append(required(f"{path}.completions", "when completion mode is Indexed"))
        if (spec.get("parallelism") or 0) > 100000:
            detail = "must be less than or equal to 100000 when completion mode is Indexed"
            errs.append(invalid(f"{path}.parallelism", spec["parallelism"], detail))
    else:
        for key in ("backoffLimitPerIndex", "maxFailedIndexes"):
            if spec.get(key) is not None:
                errs.append(invalid(f"{path}.{key}", spec[key], "requires indexed completion mode"))
    policy = spec.get("podFailurePolicy")
    tpl_spec = (spec.get("template") or {}).get("spec") or {}
    if policy is not None:
        rules = policy.get("rules") or []
        if len(rules) > 20:
            errs.append(too_many(f"{path}.podFailurePolicy.rules", len(rules), 20))
        names = {
            c.get("name") for k in ("containers", "initContainers") for c in tpl_spec.get(k) or []
        }
        for i, rule in enumerate(rules):
            errs += _failure_rule(spec, rule, f"{path}.podFailurePolicy.rules[{i}]", names)
    if (success := spec.get("successPolicy")) is not None:
        errs += _success_policy(spec, success, f"{path}.successPolicy")
    replacement = spec.get("podReplacementPolicy")
    if replacement is not None:
        allowed = ("Failed",) if policy is not None else ("Failed", "TerminatingOrFailed")
        if replacement not in allowed:
            errs.append(not_supported(f"{path}.podReplacementPolicy", replacement, allowed))
    errs += pod_template(spec.get("template"), f"{path}.template")
    restart, rpath = tpl_spec.get("restartPolicy", "Always"), f"{path}.template.spec.restartPolicy"
    if restart in ("Always", ""):
        errs.append(required(rpath, 'valid values: "OnFailure", "Never"'))
    elif restart not in ("OnFailure", "Never"):
        errs.append(not_supported(rpath, restart, ("OnFailure", "Never")))
    elif policy is not None and restart != "Never":
        detail = 'only "Never" is supported when podFailurePolicy is specified'
        errs.append(invalid(rpath, restart, detail))
    return errs


def _success_policy(spec: Obj, success: Obj, path: str) -> list[Cause]:
    if spec.get("completionMode") != "Indexed":
        return [invalid(path, Go("batch.SuccessPolicy{...}"), "requires indexed completion mode")]
    rules = success.get("rules") or []
    errs: list[Cause] = []
    if not rules:
        detail = "at least one rules must be specified when the successPolicy is specified"
        errs.append(required(f"{path}.rules", detail))
    if len(rules) > 20:
        errs.append(too_many(f"{path}.rules", len(rules), 20))
    completions = spec.get("completions") or 0
    for i, rule in enumerate(rules):
        rpath = f"{path}.rules[{i}]"
        count, indexes = rule.get("succeededCount"), rule.get("succeededIndexes")
        if count is None and indexes is None:
            detail = "at least one of succeededCount or succeededIndexes must be specified"
            errs.append(required(rpath, detail))
        total = 0
        if indexes is not None:
            if len(indexes) > 64 * 1024:
                errs.append(too_long(f"{rpath}.succeededIndexes", 64 * 1024))
            total, problem = indexes_format(indexes, completions)
            if problem:
                detail = f"error parsing succeededIndexes: {problem}"
                errs.append(invalid(f"{rpath}.succeededIndexes", indexes, detail))
        if count is not None:
            cpath = f"{rpath}.succeededCount"
            errs += nonnegative(count, cpath)
            if count > completions:
                detail = f"must be less than or equal to {completions} (the number of specified "
                errs.append(invalid(cpath, count, detail + "completions)"))
            if indexes is not None and count > total:
                detail = f"must be less than or equal to {total} (the number of indexes in the "
                errs.append(invalid(cpath, count, detail + "specified succeededIndexes field)"))
    return errs


def _selector_matches(spec: Obj, path: str) -> list[Cause]:
    sel, tpl_labels = (
        spec.get("selector"),
        ((spec.get("template") or {}).get("metadata") or {}).get("labels"),
    )
    errs: list[Cause] = []
    if sel is None:
        if spec.get("manualSelector"):
            errs.append(required(f"{path}.selector"))
        else:
            return errs  # generated by the strategy, together with matching template labels
    errs += label_selector(sel, f"{path}.selector")
    selector = as_selector(sel)
    if selector is not None and not selector.matches(tpl_labels or {}):
        detail = "`selector` does not match template `labels`"
        errs.append(invalid(f"{path}.template.metadata.labels", Go(go_map(tpl_labels)), detail))
    return errs


_LEGACY_UID, _LEGACY_NAME = "controller-uid", "job-name"
_UID, _NAME = "batch.kubernetes.io/controller-uid", "batch.kubernetes.io/job-name"


def _has_label(labels: Obj | None, key: str, expected: str) -> list[Cause]:
    """``ValidateHasLabel`` on ``spec.template.metadata``."""
    path = f"spec.template.metadata.labels[{key}]"
    if labels is None or key not in labels:
        return [required(path, f"must be '{expected}'")]
    if labels[key] != expected:
        return [invalid(path, Go(go_map(labels)), f"must be '{expected}'")]
    return []


def _generated_selector(obj: Obj, prefixed: bool) -> list[Cause]:
    """``validateGeneratedSelector``: unless ``manualSelector``, the selector and the template
    labels are the ones the strategy generates. ``prefixed`` (RequirePrefixedLabels: on create,
    and on updates of Jobs that have them) also checks the ``batch.kubernetes.io/`` labels."""
    meta, spec = obj.get("metadata") or {}, obj.get("spec") or {}
    sel = spec.get("selector")
    if spec.get("manualSelector") or sel is None:
        return []
    uid, name = meta.get("uid") or "", meta.get("name") or ""
    errs: list[Cause] = []
    if not uid:
        errs.append(required("metadata.uid"))
    labels = ((spec.get("template") or {}).get("metadata") or {}).get("labels")
    errs += _has_label(labels, _LEGACY_UID, uid) + _has_label(labels, _LEGACY_NAME, name)
    expected = {_LEGACY_UID: uid, _LEGACY_NAME: name}
    if prefixed:
        errs += _has_label(labels, _UID, uid) + _has_label(labels, _NAME, name)
        expected |= {_UID: uid, _NAME: name}
    selector = as_selector(sel)
    if selector is not None and not selector.matches(expected):
        errs.append(
            invalid("spec.selector", Go(go_label_selector(sel)), "`selector` not auto-generated")
        )
    return errs


def validate_job(obj: Obj, old: Obj | None) -> list[Cause]:
    meta, spec = obj.get("metadata") or {}, obj.get("spec") or {}
    # validationOptionsForJob: an update requires the prefixed labels only if the old Job had both.
    old_tpl = ((old or {}).get("spec") or {}).get("template") or {}
    old_labels = (old_tpl.get("metadata") or {}).get("labels") or {}
    prefixed = old is None or (_UID in old_labels and _NAME in old_labels)
    errs = _generated_selector(obj, prefixed)
    errs += job_spec(spec, "spec") + _selector_matches(spec, "spec")
    completions = spec.get("completions") or 0
    if old is None and spec.get("completionMode") == "Indexed" and completions > 0:
        host = f"{meta.get('name', '')}-{completions - 1}"
        if is_dns1123_label(host):
            detail = f"will not able to create pod with invalid DNS label: {host}"
            errs.append(invalid("metadata.name", meta.get("name", ""), detail))
    if old is None:
        return errs
    return errs + _job_update(spec, old.get("spec") or {}, old.get("status") or {})


def _job_update(spec: Obj, old: Obj, old_status: Obj) -> list[Cause]:
    errs: list[Cause] = []
    completions = spec.get("completions")
    changed = completions != old.get("completions")
    if spec.get("completionMode") != "Indexed" and changed:
        errs.append(immutable("spec.completions", completions))
    elif changed and completions is not None and completions != spec.get("parallelism"):
        detail = "can only be modified in tandem with spec.parallelism"
        errs.append(invalid("spec.completions", completions, detail))
    if not same(spec.get("selector"), old.get("selector")):
        errs.append(immutable("spec.selector", Go(go_label_selector(spec.get("selector")))))
    template, old_template = spec.get("template") or {}, old.get("template") or {}
    if spec.get("suspend") and old_status.get("startTime") is None:
        template, old_template = _scheduling_directives_dropped(template, old_template)
    if not same(template, old_template):
        errs.append(immutable("spec.template", _TEMPLATE))
    for key in (
        "completionMode",
        "podFailurePolicy",
        "backoffLimitPerIndex",
        "managedBy",
        "successPolicy",
    ):
        default = "NonIndexed" if key == "completionMode" else None  # defaulted upstream
        if not same(spec.get(key, default), old.get(key, default)):
            value = spec.get(key)
            shown = value if isinstance(value, str | int) or value is None else Go("{...}")
            errs.append(immutable(f"spec.{key}", shown))
    return errs


def _scheduling_directives_dropped(new: Obj, old: Obj) -> tuple[Obj, Obj]:
    """A suspended Job that never started may change its pods' scheduling directives."""

    def strip(t: Obj) -> Obj:
        meta = {
            k: v for k, v in (t.get("metadata") or {}).items() if k not in ("labels", "annotations")
        }
        spec = {k: v for k, v in (t.get("spec") or {}).items()
                if k not in ("nodeSelector", "tolerations", "schedulingGates")}  # fmt: skip
        aff = {k: v for k, v in (spec.get("affinity") or {}).items() if k != "nodeAffinity"}
        spec["affinity"] = aff or None
        return {**t, "metadata": meta, "spec": spec}

    return strip(new), strip(old)


def validate_cronjob(obj: Obj, old: Obj | None) -> list[Cause]:
    meta, spec = obj.get("metadata") or {}, obj.get("spec") or {}
    old_spec = (old or {}).get("spec") or {}
    schedule = spec.get("schedule") or ""
    errs: list[Cause] = []
    if not schedule:
        errs.append(required("spec.schedule"))
    else:
        if problem := schedule_error(schedule):
            errs.append(invalid("spec.schedule", schedule, problem))
        allow_tz = old is not None and "TZ" in (old_spec.get("schedule") or "")
        if allow_tz and "TZ" in schedule and spec.get("timeZone") is not None:
            detail = "cannot use both timeZone field and TZ or CRON_TZ in schedule"
            errs.append(invalid("spec.schedule", schedule, detail))
        elif not allow_tz and "TZ" in schedule:
            detail = "cannot use TZ or CRON_TZ in schedule, use timeZone field instead"
            errs.append(invalid("spec.schedule", schedule, detail))
    errs += nonnegative(spec.get("startingDeadlineSeconds"), "spec.startingDeadlineSeconds")
    zone = spec.get("timeZone")
    if zone is not None and (old is None or zone != old_spec.get("timeZone")):
        errs += _time_zone(zone)
    policy = spec.get("concurrencyPolicy", "Allow")
    if not policy:
        errs.append(required("spec.concurrencyPolicy"))
    elif policy not in ("Allow", "Forbid", "Replace"):
        errs.append(not_supported("spec.concurrencyPolicy", policy, ("Allow", "Forbid", "Replace")))
    job = (spec.get("jobTemplate") or {}).get("spec") or {}
    errs += job_spec(job, "spec.jobTemplate.spec")
    if job.get("selector") is not None:
        shown = Go(go_label_selector(job["selector"]))
        errs.append(
            invalid("spec.jobTemplate.spec.selector", shown, "`selector` will be auto-generated")
        )
    if job.get("manualSelector"):
        errs.append(not_supported("spec.jobTemplate.spec.manualSelector", True, ("nil", "false")))
    for key in ("successfulJobsHistoryLimit", "failedJobsHistoryLimit"):
        errs += nonnegative(spec.get(key), f"spec.{key}")
    name = meta.get("name") or ""
    if old is None and len(name) > 52:
        errs.append(invalid("metadata.name", name, "must be no more than 52 characters"))
    return errs


def _time_zone(zone: str) -> list[Cause]:
    if not zone:
        return [invalid("spec.timeZone", zone, "timeZone must be nil or non-empty string")]
    for part in zone.split("/"):
        if (
            part in (".", "..")
            or part.startswith("-")
            or not re.fullmatch(r"[A-Za-z.\-_0-9+]{1,14}", part)
        ):
            return [invalid("spec.timeZone", zone, f"unknown time zone {zone}")]
    errs: list[Cause] = []
    if zone.lower() == "local":
        detail = (
            "timeZone must be an explicit time zone as defined in https://www.iana.org/time-zones"
        )
        errs.append(invalid("spec.timeZone", zone, detail))
    if problem := time_zone_error(zone):
        errs.append(invalid("spec.timeZone", zone, problem))
    return errs
