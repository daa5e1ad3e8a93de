"""Pods and pod templates: ``ValidatePodSpec``, ``ValidatePodCreate``, ``ValidatePodUpdate`` and
``ValidatePodTemplateSpec`` of ``pkg/apis/core/validation``.
"""

from __future__ import annotations

import copy
import re
from typing import Any

import orjson

from kframe.apiserver._errors import Cause
from kframe.apiserver._validate_containers import containers, init_containers
from kframe.apiserver._validate_field import (
    Go,
    Obj,
    diff,
    duplicate,
    forbidden,
    go_strings,
    invalid,
    not_supported,
    required,
    same,
)
from kframe.apiserver._validate_formats import (
    check_annotations,
    dns_label,
    dns_subdomain,
    ip_causes,
    labels,
    qualified_name,
)
from kframe.apiserver._validate_probes import id_range, seccomp
from kframe.apiserver._validate_scheduling import affinity, tolerations, topology_spread
from kframe.apiserver._validate_volumes import volumes

RESTART_POLICIES = ("Always", "OnFailure", "Never")
_DNS_POLICIES = ("ClusterFirstWithHostNet", "ClusterFirst", "Default", "None")
_SYSCTL = r"([a-z0-9]([-_a-z0-9]*[a-z0-9])?[\./])*[a-z0-9]([-_a-z0-9]*[a-z0-9])?"
_SEARCH = r"_?[a-z0-9]([-_a-z0-9]*[a-z0-9])?(\._?[a-z0-9]([-_a-z0-9]*[a-z0-9])?)*"
_SEARCH_MSG = (
    "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '_', '-' "
    f"or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex "
    f"used for validation is '{_SEARCH}')"
)
_UPDATABLE = (
    "`spec.containers[*].image`,`spec.initContainers[*].image`,`spec.activeDeadlineSeconds`,"
    "`spec.tolerations` (only additions to existing tolerations),"
    "`spec.terminationGracePeriodSeconds` (allow it to be set to 1 if it was previously negative)"
)
_MAX_INT32 = 2**31 - 1
_PREEMPTION = ("PreemptLowerPriority", "Never")


def _security_context(spec: Obj, path: str) -> list[Cause]:
    """``validatePodSpecSecurityContext`` (hostPID lives on the spec in v1)."""
    sc = spec.get("securityContext")
    if sc is None:
        return []
    errs: list[Cause] = []
    for key in ("fsGroup", "runAsUser", "runAsGroup"):
        errs += id_range(sc.get(key), f"{path}.{key}")
    for i, gid in enumerate(sc.get("supplementalGroups") or []):
        errs += id_range(gid, f"{path}.supplementalGroups[{i}]")
    if spec.get("shareProcessNamespace") and spec.get("hostPID"):
        detail = "ShareProcessNamespace and HostPID cannot both be enabled"
        errs.append(invalid(f"{path}.shareProcessNamespace", True, detail))
    names: set[str] = set()
    for i, sysctl in enumerate(sc.get("sysctls") or []):
        name, spath = sysctl.get("name") or "", f"{path}.sysctls[{i}].name"
        if not name:
            errs.append(required(spath))
        elif len(name) > 253 or not re.fullmatch(_SYSCTL, name):
            detail = f"must have at most 253 characters and match regex ^{_SYSCTL}$"
            errs.append(invalid(spath, name, detail))
        elif name in names:
            errs.append(duplicate(spath, name))
        names.add(name)
    for key, supported in (
        ("fsGroupChangePolicy", ("Always", "OnRootMismatch")),
        ("supplementalGroupsPolicy", ("Merge", "Strict")),
        ("seLinuxChangePolicy", ("MountOption", "Recursive")),
    ):
        if sc.get(key) is not None and sc[key] not in supported:
            errs.append(not_supported(f"{path}.{key}", sc[key], supported))
    return errs + seccomp(sc.get("seccompProfile"), f"{path}.seccompProfile")


def _dns_config(config: Obj | None, policy: str, path: str) -> list[Cause]:
    if policy == "None":
        if config is None:
            return [required(path, "must provide `dnsConfig` when `dnsPolicy` is None")]
        if not config.get("nameservers"):
            detail = "must provide at least one DNS nameserver when `dnsPolicy` is None"
            return [required(f"{path}.nameservers", detail)]
    if config is None:
        return []
    errs: list[Cause] = []
    servers, searches = config.get("nameservers") or [], config.get("searches") or []
    if len(servers) > 3:
        detail = "must not have more than 3 nameservers"
        errs.append(invalid(f"{path}.nameservers", Go(go_strings(servers)), detail))
    for i, server in enumerate(servers):
        errs += ip_causes(f"{path}.nameservers[{i}]", server)
    if len(searches) > 32:
        detail = "must not have more than 32 search paths"
        errs.append(invalid(f"{path}.searches", Go(go_strings(searches)), detail))
    if len(" ".join(searches)) > 2048:
        detail = "must not have more than 2048 characters (including spaces) in the search list"
        errs.append(invalid(f"{path}.searches", Go(go_strings(searches)), detail))
    for i, search in enumerate(searches):
        trimmed = search if search == "." else search.removesuffix(".")
        if search != "." and (len(trimmed) > 253 or not re.fullmatch(_SEARCH, trimmed)):
            msgs = ["must be no more than 253 characters"] if len(trimmed) > 253 else []
            if not re.fullmatch(_SEARCH, trimmed):
                msgs.append(_SEARCH_MSG)
            errs += [invalid(f"{path}.searches[{i}]", trimmed, m) for m in msgs]
    for i, option in enumerate(config.get("options") or []):
        if not option.get("name"):
            errs.append(required(f"{path}.options[{i}]", "must not be empty"))
    return errs


def pod_spec(spec: Obj, path: str, pod_name: str = "", is_pod: bool = False) -> list[Cause]:
    """``ValidatePodSpec``."""
    grace = spec.get("terminationGracePeriodSeconds", 30)
    vols, errs = volumes(spec.get("volumes") or [], pod_name, f"{path}.volumes", is_pod)
    ctrs, inits = spec.get("containers") or [], spec.get("initContainers") or []
    errs += containers(ctrs, vols, grace, f"{path}.containers")
    errs += init_containers(inits, ctrs, vols, grace, f"{path}.initContainers")
    if spec.get("hostNetwork"):
        for i, ctr in enumerate(ctrs):
            for j, port in enumerate(ctr.get("ports") or []):
                cport = port.get("containerPort", 0)
                hport = port.get("hostPort", cport if is_pod else 0)
                if (is_pod or hport) and hport != cport:
                    detail = "must match `containerPort` when `hostNetwork` is true"
                    errs.append(
                        invalid(f"{path}.containers[{i}].ports[{j}].hostPort", hport, detail)
                    )
    for key, supported, default in (
        ("restartPolicy", RESTART_POLICIES, "Always"),
        ("dnsPolicy", _DNS_POLICIES, "ClusterFirst"),
    ):
        value = spec.get(key, default)
        if not value:
            errs.append(required(f"{path}.{key}"))
        elif value not in supported:
            errs.append(not_supported(f"{path}.{key}", value, supported))
    errs += labels(spec.get("nodeSelector"), f"{path}.nodeSelector")
    errs += _security_context(spec, f"{path}.securityContext")
    errs += affinity(spec.get("affinity"), f"{path}.affinity")
    errs += _dns_config(
        spec.get("dnsConfig"), spec.get("dnsPolicy", "ClusterFirst"), f"{path}.dnsConfig"
    )
    for i, gate in enumerate(spec.get("readinessGates") or []):
        ctype = gate.get("conditionType", "")
        errs += qualified_name(ctype, f"{path}.readinessGates[{i}].conditionType")
    seen: set[str] = set()
    for i, gate in enumerate(spec.get("schedulingGates") or []):
        name = gate.get("name", "")
        errs += qualified_name(name, f"{path}.schedulingGates[{i}]")
        if name in seen:
            errs.append(duplicate(f"{path}.schedulingGates[{i}]", name))
        seen.add(name)
    errs += topology_spread(
        spec.get("topologySpreadConstraints") or [], f"{path}.topologySpreadConstraints"
    )
    for key in ("serviceAccountName", "nodeName"):
        if spec.get(key):
            errs += dns_subdomain(spec[key], f"{path}.{key}")
    deadline = spec.get("activeDeadlineSeconds")
    if deadline is not None and not 1 <= deadline <= _MAX_INT32:
        detail = f"must be between 1 and {_MAX_INT32}, inclusive"
        errs.append(invalid(f"{path}.activeDeadlineSeconds", deadline, detail))
    for key in ("hostname", "subdomain"):
        if spec.get(key):
            errs += dns_label(spec[key], f"{path}.{key}")
    errs += tolerations(spec.get("tolerations") or [], f"{path}.tolerations")
    for i, alias in enumerate(spec.get("hostAliases") or []):
        errs += ip_causes(f"{path}.hostAliases[{i}].ip", alias.get("ip") or "")
        for j, host in enumerate(alias.get("hostnames") or []):
            errs += dns_subdomain(host, f"{path}.hostAliases[{i}].hostnames[{j}]")
    for key in ("priorityClassName", "runtimeClassName"):
        if spec.get(key):
            errs += dns_subdomain(spec[key], f"{path}.{key}")
    preemption = spec.get("preemptionPolicy")
    if preemption is not None and preemption not in _PREEMPTION:
        errs.append(not_supported(f"{path}.preemptionPolicy", preemption, _PREEMPTION))
    if (os_ := spec.get("os")) is not None:
        if not os_.get("name"):
            errs.append(required(f"{path}.os.name", "cannot be empty"))
        elif os_["name"] not in ("linux", "windows"):
            errs.append(not_supported(f"{path}.os", os_["name"], ("linux", "windows")))
    return errs


def pod_annotations(annots: dict[str, Any] | None, spec: Obj, path: str) -> list[Cause]:
    """``ValidatePodSpecificAnnotations``: mirror pods, deletion cost."""
    annots = annots or {}
    errs: list[Cause] = []
    mirror = "kubernetes.io/config.mirror"
    if mirror in annots and not spec.get("nodeName"):
        detail = "must set spec.nodeName if mirror pod annotation is set"
        errs.append(invalid(f"{path}[{mirror}]", annots[mirror], detail))
    cost = "controller.kubernetes.io/pod-deletion-cost"
    if cost in annots:
        text = annots[cost]
        if not re.fullmatch(r"[+-]?[0-9]+", text) or not -(2**31) <= int(text) <= _MAX_INT32:
            errs.append(invalid(f"{path}[{cost}]", text, "must be a 32bit integer"))
    return errs


def pod_template(template: Obj | None, path: str) -> list[Cause]:
    """``ValidatePodTemplateSpec`` (a missing template is an empty one)."""
    template = template or {}
    meta, spec = template.get("metadata") or {}, template.get("spec") or {}
    errs = labels(meta.get("labels"), f"{path}.labels")
    errs += check_annotations(meta.get("annotations"), f"{path}.annotations")
    errs += pod_annotations(meta.get("annotations"), spec, f"{path}.annotations")
    errs += pod_spec(spec, f"{path}.spec")
    if spec.get("ephemeralContainers"):
        detail = "ephemeral containers not allowed in pod template"
        errs.append(forbidden(f"{path}.spec.ephemeralContainers", detail))
    return errs


def _pod_only(spec: Obj) -> list[Cause]:
    errs: list[Cause] = []
    for key in ("containers", "initContainers"):
        for i, ctr in enumerate(spec.get(key) or []):
            image = ctr.get("image") or ""
            if image != image.strip():
                detail = "must not have leading or trailing whitespace"
                errs.append(invalid(f"spec.{key}[{i}].image", image, detail))
    return errs


# ``pod_spec`` of a pod's spec by its JSON (and the pod's name, when volumes may derive a
# claim name from it): a workload's pods share one spec, validated once.
_SPEC_CAUSES: dict[tuple[bytes, str], tuple[Cause, ...]] = {}
_SPEC_CAUSES_MAX = 256


def _pod_spec_of_pod(spec: Obj, pod_name: str) -> list[Cause]:
    try:
        key = (orjson.dumps(spec), pod_name if spec.get("volumes") else "")
    except TypeError:  # a value orjson refuses: validated as it is
        return pod_spec(spec, "spec", pod_name, is_pod=True)
    causes = _SPEC_CAUSES.get(key)
    if causes is None:
        causes = tuple(pod_spec(spec, "spec", pod_name, is_pod=True))
        if len(_SPEC_CAUSES) >= _SPEC_CAUSES_MAX:
            del _SPEC_CAUSES[next(iter(_SPEC_CAUSES))]
        _SPEC_CAUSES[key] = causes
    return list(causes)


def validate_pod(obj: Obj, old: Obj | None) -> list[Cause]:
    meta, spec = obj.get("metadata") or {}, obj.get("spec") or {}
    errs = pod_annotations(meta.get("annotations"), spec, "metadata.annotations")
    errs += _pod_spec_of_pod(spec, meta.get("name") or "")
    errs += _pod_only(spec)
    if old is None:
        if spec.get("ephemeralContainers"):
            errs.append(forbidden("spec.ephemeralContainers", "cannot be set on create"))
        if spec.get("nodeName") and spec.get("schedulingGates"):
            detail = "cannot be set until all schedulingGates have been cleared"
            errs.append(forbidden("spec.nodeName", detail))
        return errs
    return errs + _pod_update(spec, old.get("spec") or {})


def _pod_update(spec: Obj, old: Obj) -> list[Cause]:
    """``ValidatePodUpdate``: only images, the deadline, added tolerations and removed gates."""
    errs: list[Cause] = []
    for key in ("containers", "initContainers"):
        new_list, old_list = spec.get(key) or [], old.get(key) or []
        if len(new_list) != len(old_list):
            return [*errs, forbidden(f"spec.{key}", "pod updates may not add or remove containers")]
        for i, ctr in enumerate(new_list):
            if not ctr.get("image"):
                errs.append(required(f"spec.{key}[{i}].image"))
    deadline, old_deadline = spec.get("activeDeadlineSeconds"), old.get("activeDeadlineSeconds")
    if deadline is not None:
        if not 0 <= deadline <= _MAX_INT32:
            detail = f"must be between 0 and {_MAX_INT32}, inclusive"
            return [*errs, invalid("spec.activeDeadlineSeconds", deadline, detail)]
        if old_deadline is not None and old_deadline < deadline:
            detail = "must be less than or equal to previous value"
            return [*errs, invalid("spec.activeDeadlineSeconds", deadline, detail)]
    elif old_deadline is not None:
        detail = "must not update from a positive integer to nil value"
        errs.append(invalid("spec.activeDeadlineSeconds", None, detail))
    new_tols = spec.get("tolerations") or []
    for tol in old.get("tolerations") or []:
        base = {k: v for k, v in tol.items() if k != "tolerationSeconds"}
        if not any(
            same(base, {k: v for k, v in t.items() if k != "tolerationSeconds"}) for t in new_tols
        ):
            detail = "existing toleration can not be modified except its tolerationSeconds"
            errs.append(forbidden("spec.tolerations", detail))
            break
    old_gates = {g.get("name") for g in old.get("schedulingGates") or []}
    for i, gate in enumerate(spec.get("schedulingGates") or []):
        if gate.get("name") not in old_gates:
            detail = f"only deletion is allowed, but found new scheduling gate '{gate.get('name')}'"
            errs.append(forbidden(f"spec.schedulingGates[{i}].name", detail))
    if same(spec, old):
        return errs
    munged = copy.deepcopy(spec)
    for key in ("containers", "initContainers"):
        for ctr, old_ctr in zip(munged.get(key) or [], old.get(key) or [], strict=True):
            ctr["image"] = old_ctr.get("image")
    for key in ("activeDeadlineSeconds", "schedulingGates", "tolerations"):
        munged.pop(key, None)
        if key in old:
            munged[key] = old[key]
    old_grace = old.get("terminationGracePeriodSeconds")
    if old_grace is not None and old_grace < 0 and munged.get("terminationGracePeriodSeconds") == 1:
        munged["terminationGracePeriodSeconds"] = old_grace
    if old.get("schedulingGates"):
        selector, old_selector = munged.get("nodeSelector") or {}, old.get("nodeSelector") or {}
        if all(selector.get(k) == v for k, v in old_selector.items()):
            munged["nodeSelector"] = old.get("nodeSelector")
        else:
            detail = "only additions to spec.nodeSelector are allowed (no mutations or deletions)"
            errs.append(invalid("spec.nodeSelector", selector, detail))
            munged["nodeSelector"] = old.get("nodeSelector")
    if not same(munged, old):
        changes = "\n".join(diff(old, munged, "spec"))
        detail = f"pod updates may not change fields other than {_UPDATABLE}\n{changes}"
        errs.append(forbidden("spec", detail))
    return errs
