"""Scheduling rules of ``pkg/apis/core/validation``: node and pod affinity, tolerations, taints and
topology spread constraints (shared by pods, persistent volumes, nodes and runtime classes).
"""

from __future__ import annotations

from typing import Any

from kframe.api import is_valid_label_value
from kframe.apiserver._errors import Cause
from kframe.apiserver._validate_field import (
    Go,
    Obj,
    duplicate,
    forbidden,
    go_quote,
    invalid,
    not_supported,
    required,
)
from kframe.apiserver._validate_formats import (
    dns_label,
    dns_subdomain,
    label_selector,
    qualified_name,
)

TAINT_EFFECTS = ("NoSchedule", "PreferNoSchedule", "NoExecute")
_IN_RANGE = "must be in the range 1-100"


def node_selector_requirement(req: Obj, path: str, check_values: bool) -> list[Cause]:
    """``ValidateNodeSelectorRequirement``."""
    op, values = req.get("operator", ""), req.get("values") or []
    errs: list[Cause] = []
    if op in ("In", "NotIn"):
        if not values:
            detail = "must be specified when `operator` is 'In' or 'NotIn'"
            errs.append(required(f"{path}.values", detail))
    elif op in ("Exists", "DoesNotExist"):
        if values:
            detail = "may not be specified when `operator` is 'Exists' or 'DoesNotExist'"
            errs.append(forbidden(f"{path}.values", detail))
    elif op in ("Gt", "Lt"):
        if len(values) != 1:
            detail = "must be specified single value when `operator` is 'Lt' or 'Gt'"
            errs.append(required(f"{path}.values", detail))
    else:
        errs.append(invalid(f"{path}.operator", op, "not a valid selector operator"))
    errs += qualified_name(req.get("key", ""), f"{path}.key")
    if check_values:
        for i, value in enumerate(values):
            errs += [invalid(f"{path}.values[{i}]", value, m) for m in is_valid_label_value(value)]
    return errs


def node_selector_term(term: Obj, path: str, check_values: bool) -> list[Cause]:
    errs: list[Cause] = []
    for j, req in enumerate(term.get("matchExpressions") or []):
        errs += node_selector_requirement(req, f"{path}.matchExpressions[{j}]", check_values)
    for j, req in enumerate(term.get("matchFields") or []):
        fpath = f"{path}.matchFields[{j}]"
        if req.get("operator") in ("In", "NotIn"):
            if len(req.get("values") or []) != 1:
                detail = (
                    "must be only one value when `operator` is 'In' or 'NotIn' for node field "
                    "selector"
                )
                errs.append(required(f"{fpath}.values", detail))
        else:
            errs.append(
                invalid(
                    f"{fpath}.operator", req.get("operator", ""), "not a valid selector operator"
                )
            )
        if req.get("key") != "metadata.name":
            errs.append(
                invalid(f"{fpath}.key", req.get("key", ""), "not a valid field selector key")
            )
        else:
            for i, value in enumerate(req.get("values") or []):
                errs += dns_subdomain(value, f"{fpath}.values[{i}]")
    return errs


def node_selector(sel: Obj, path: str) -> list[Cause]:
    """``ValidateNodeSelector``: at least one term."""
    terms = sel.get("nodeSelectorTerms") or []
    if not terms:
        return [required(f"{path}.nodeSelectorTerms", "must have at least one node selector term")]
    errs: list[Cause] = []
    for i, term in enumerate(terms):
        errs += node_selector_term(term, f"{path}.nodeSelectorTerms[{i}]", True)
    return errs


def _pod_affinity_term(term: Obj, path: str) -> list[Cause]:
    errs = label_selector(term.get("labelSelector"), f"{path}.labelSelector")
    errs += label_selector(term.get("namespaceSelector"), f"{path}.namespaceSelector")
    for name in term.get("namespaces") or []:
        errs += dns_label(name, f"{path}.namespace")
    sel = term.get("labelSelector")
    for key in ("matchLabelKeys", "mismatchLabelKeys"):
        keys = term.get(key) or []
        if keys and sel is None:
            errs.append(
                forbidden(f"{path}.{key}", "must not be specified when labelSelector is not set")
            )
        elif keys:
            for i, k in enumerate(keys):
                errs += qualified_name(k, f"{path}.{key}[{i}]")
    mismatch = set(term.get("mismatchLabelKeys") or [])
    for i, k in enumerate(term.get("matchLabelKeys") or []):
        if k in mismatch:
            detail = "exists in both matchLabelKeys and mismatchLabelKeys"
            errs.append(invalid(f"{path}.matchLabelKeys[{i}]", k, detail))
    topology = term.get("topologyKey") or ""
    if not topology:
        errs.append(required(f"{path}.topologyKey", "can not be empty"))
    return errs + qualified_name(topology, f"{path}.topologyKey")


def _pod_affinity(aff: Obj, path: str) -> list[Cause]:
    errs: list[Cause] = []
    req = "requiredDuringSchedulingIgnoredDuringExecution"
    for i, term in enumerate(aff.get(req) or []):
        errs += _pod_affinity_term(term, f"{path}.{req}[{i}]")
    pref = "preferredDuringSchedulingIgnoredDuringExecution"
    for i, weighted in enumerate(aff.get(pref) or []):
        wpath = f"{path}.{pref}[{i}]"
        weight = weighted.get("weight", 0)
        if not 0 < weight <= 100:
            errs.append(invalid(f"{wpath}.weight", weight, _IN_RANGE))
        errs += _pod_affinity_term(
            weighted.get("podAffinityTerm") or {}, f"{wpath}.podAffinityTerm"
        )
    return errs


def affinity(aff: Obj | None, path: str) -> list[Cause]:
    """``validateAffinity``."""
    if aff is None:
        return []
    errs: list[Cause] = []
    if (node := aff.get("nodeAffinity")) is not None:
        npath = f"{path}.nodeAffinity"
        req = "requiredDuringSchedulingIgnoredDuringExecution"
        if node.get(req) is not None:
            errs += node_selector(node[req], f"{npath}.{req}")
        pref = "preferredDuringSchedulingIgnoredDuringExecution"
        for i, term in enumerate(node.get(pref) or []):
            tpath = f"{npath}.{pref}[{i}]"
            weight = term.get("weight", 0)
            if not 0 < weight <= 100:
                errs.append(invalid(f"{tpath}.weight", weight, _IN_RANGE))
            errs += node_selector_term(term.get("preference") or {}, f"{tpath}.preference", False)
    for key in ("podAffinity", "podAntiAffinity"):
        if aff.get(key) is not None:
            errs += _pod_affinity(aff[key], f"{path}.{key}")
    return errs


def tolerations(items: list[Obj], path: str) -> list[Cause]:
    """``ValidateTolerations``."""
    errs: list[Cause] = []
    for i, tol in enumerate(items):
        ipath = f"{path}[{i}]"
        key, op = tol.get("key") or "", tol.get("operator") or ""
        value, effect = tol.get("value") or "", tol.get("effect") or ""
        if key:
            errs += qualified_name(key, f"{ipath}.key")
        if not key and op != "Exists":
            detail = (
                "operator must be Exists when `key` is empty, which means "
                '"match all values and all keys"'
            )
            errs.append(invalid(f"{ipath}.operator", op, detail))
        if tol.get("tolerationSeconds") is not None and effect != "NoExecute":
            detail = "effect must be 'NoExecute' when `tolerationSeconds` is set"
            errs.append(invalid(f"{ipath}.effect", effect, detail))
        if op in ("Equal", ""):
            if msgs := is_valid_label_value(value):
                errs.append(invalid(f"{ipath}.operator", value, ";".join(msgs)))
        elif op == "Exists":
            if value:
                detail = "value must be empty when `operator` is 'Exists'"
                errs.append(invalid(f"{ipath}.operator", value, detail))
        else:
            errs.append(not_supported(f"{ipath}.operator", op, ("Equal", "Exists")))
        if effect and effect not in TAINT_EFFECTS:
            errs.append(not_supported(f"{ipath}.effect", effect, TAINT_EFFECTS))
    return errs


def taints(items: list[Obj], path: str) -> list[Cause]:
    """``validateNodeTaints``: unique by key and effect."""
    errs: list[Cause] = []
    seen: set[tuple[str, str]] = set()
    for i, taint in enumerate(items):
        ipath = f"{path}[{i}]"
        key, value, effect = (
            taint.get("key", ""),
            taint.get("value") or "",
            taint.get("effect") or "",
        )
        errs += qualified_name(key, f"{ipath}.key")
        if msgs := is_valid_label_value(value):
            errs.append(invalid(f"{ipath}.value", value, ";".join(msgs)))
        if not effect:
            errs.append(required(f"{ipath}.effect"))
        elif effect not in TAINT_EFFECTS:
            errs.append(not_supported(f"{ipath}.effect", effect, TAINT_EFFECTS))
        if (key, effect) in seen:
            fields = f"Key:{go_quote(key)}, Value:{go_quote(value)}, Effect:{go_quote(effect)}"
            shown = Go(f"core.Taint{{{fields}, TimeAdded:(*v1.Time)(nil)}}")
            errs.append(duplicate(ipath, shown, "taints must be unique by key and effect pair"))
            continue
        seen.add((key, effect))
    return errs


def topology_spread(items: list[Obj], path: str) -> list[Cause]:
    """``validateTopologySpreadConstraints``."""
    errs: list[Cause] = []
    for i, con in enumerate(items):
        ipath = f"{path}[{i}]"
        skew, key = con.get("maxSkew", 0), con.get("topologyKey") or ""
        action = con.get("whenUnsatisfiable") or ""
        if skew <= 0:
            errs.append(invalid(f"{ipath}.maxSkew", skew, "must be greater than zero"))
        if not key:
            errs.append(required(f"{ipath}.topologyKey", "can not be empty"))
        if action not in ("DoNotSchedule", "ScheduleAnyway"):
            supported = ("DoNotSchedule", "ScheduleAnyway")
            errs.append(not_supported(f"{ipath}.whenUnsatisfiable", action, supported))
        if any(
            key == (other.get("topologyKey") or "")
            and action == (other.get("whenUnsatisfiable") or "")
            for other in items[i + 1 :]
        ):
            errs.append(
                duplicate(f"{ipath}.{{topologyKey, whenUnsatisfiable}}", f"{{{key}, {action}}}")
            )
        errs += _min_domains(con.get("minDomains"), action, f"{ipath}.minDomains")
        for policy in ("nodeAffinityPolicy", "nodeTaintsPolicy"):
            value = con.get(policy)
            if value is not None and value not in ("Honor", "Ignore"):
                errs.append(not_supported(f"{ipath}.{policy}", value, ("Honor", "Ignore")))
        errs += _match_label_keys(con, f"{ipath}.matchLabelKeys")
        errs += label_selector(con.get("labelSelector"), f"{ipath}.labelSelector")
    return errs


def _min_domains(value: Any, action: str, path: str) -> list[Cause]:
    if value is None:
        return []
    errs = [invalid(path, value, "must be greater than zero")] if value <= 0 else []
    if action != "DoNotSchedule":
        detail = f"can only use minDomains if whenUnsatisfiable=DoNotSchedule, not {action}"
        errs.append(invalid(path, value, detail))
    return errs


def _match_label_keys(con: Obj, path: str) -> list[Cause]:
    keys = con.get("matchLabelKeys") or []
    if not keys:
        return []
    sel = con.get("labelSelector")
    errs: list[Cause] = []
    if sel is None:
        errs.append(forbidden(path, "must not be specified when labelSelector is not set"))
    present = set((sel or {}).get("matchLabels") or {})
    present |= {e.get("key") for e in (sel or {}).get("matchExpressions") or []}
    for i, key in enumerate(keys):
        errs += qualified_name(key, f"{path}[{i}]")
        if key in present:
            errs.append(
                invalid(f"{path}[{i}]", key, "exists in both matchLabelKeys and labelSelector")
            )
    return errs
