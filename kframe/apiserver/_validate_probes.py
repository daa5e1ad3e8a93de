"""Probe, lifecycle-hook and security-context rules of ``pkg/apis/core/validation``.

Probe thresholds are defaulted upstream (timeout 1s, period 10s, success 1, failure 3), so a
missing one is read as its default.
"""

from __future__ import annotations

import re
from typing import Any

from kframe.apiserver._errors import Cause
from kframe.apiserver._validate_field import (
    Go,
    Obj,
    forbidden,
    invalid,
    nonnegative,
    not_supported,
    required,
)
from kframe.apiserver._validate_formats import port_num_or_name


def local_descending_path(target: str, path: str) -> list[Cause]:
    errs = [invalid(path, target, "must be a relative path")] if target.startswith("/") else []
    if ".." in target.replace("\\", "/").split("/"):
        errs.append(invalid(path, target, "must not contain '..'"))
    return errs


def _handler(handler: Obj, grace: int | None, path: str, keys: tuple[str, ...]) -> list[Cause]:
    errs: list[Cause] = []
    count = 0
    for key in keys:
        action = handler.get(key)
        if action is None:
            continue
        if count:
            errs.append(forbidden(f"{path}.{key}", "may not specify more than 1 handler type"))
            continue
        count += 1
        apath = f"{path}.{key}"
        if key == "exec" and not action.get("command"):
            errs.append(required(f"{apath}.command"))
        elif key == "httpGet":
            if not action.get("path", "/"):
                errs.append(required(f"{apath}.path"))
            errs += port_num_or_name(action.get("port", 0), f"{apath}.port")
            scheme = action.get("scheme", "HTTP")
            if scheme not in ("HTTP", "HTTPS"):
                errs.append(not_supported(f"{apath}.scheme", scheme, ("HTTP", "HTTPS")))
            for header in action.get("httpHeaders") or []:
                hname = header.get("name", "")
                if not re.fullmatch(r"[-A-Za-z0-9]+", hname):
                    detail = (
                        "a valid HTTP header must consist of alphanumeric characters or '-' (e.g. "
                        "'X-Header-Name', regex used for validation is '[-A-Za-z0-9]+')"
                    )
                    errs.append(invalid(f"{apath}.httpHeaders", hname, detail))
        elif key in ("tcpSocket", "grpc"):
            errs += port_num_or_name(action.get("port", 0), f"{apath}.port")
        elif key == "sleep":
            seconds = action.get("seconds", 0)
            if grace is not None and not 0 <= seconds <= grace:
                detail = (
                    f"must be non-negative and less than terminationGracePeriodSeconds ({grace})"
                )
                errs.append(invalid(apath, seconds, detail))
    if count == 0:
        errs.append(required(path, "must specify a handler type"))
    return errs


def probe(p: Obj | None, grace: int | None, path: str, kind: str) -> list[Cause]:
    """``validateLivenessProbe`` / ``validateReadinessProbe`` / ``validateStartupProbe``."""
    if p is None:
        return []
    errs = _handler(p, grace, path, ("exec", "httpGet", "tcpSocket", "grpc"))
    for key, default in (("initialDelaySeconds", 0), ("timeoutSeconds", 1), ("periodSeconds", 10),
                         ("successThreshold", 1), ("failureThreshold", 3)):  # fmt: skip
        errs += nonnegative(p.get(key, default), f"{path}.{key}")
    tgps = p.get("terminationGracePeriodSeconds")
    if tgps is not None and tgps <= 0:
        errs.append(
            invalid(f"{path}.terminationGracePeriodSeconds", tgps, "must be greater than 0")
        )
    if kind != "readiness" and p.get("successThreshold", 1) != 1:
        errs.append(invalid(f"{path}.successThreshold", p.get("successThreshold"), "must be 1"))
    if kind == "readiness" and tgps is not None:
        detail = "must not be set for readinessProbes"
        errs.append(invalid(f"{path}.terminationGracePeriodSeconds", tgps, detail))
    return errs


def lifecycle(lc: Obj, grace: int | None, path: str) -> list[Cause]:
    errs: list[Cause] = []
    for hook in ("postStart", "preStop"):
        if lc.get(hook) is not None:
            keys = ("exec", "httpGet", "tcpSocket", "sleep")
            errs += _handler(lc[hook], grace, f"{path}.{hook}", keys)
    return errs


def id_range(value: Any, path: str) -> list[Cause]:
    if isinstance(value, int) and not 0 <= value <= 0xFFFFFFFF:
        return [invalid(path, value, "must be between 0 and 4294967295, inclusive")]
    return []


def seccomp(profile: Obj | None, path: str) -> list[Cause]:
    if profile is None:
        return []
    kind = profile.get("type", "")
    kinds = ("Localhost", "RuntimeDefault", "Unconfined")
    errs = []
    if not kind:
        errs.append(required(f"{path}.type", "type is required when seccompProfile is set"))
    elif kind not in kinds:
        errs.append(not_supported(f"{path}.type", kind, kinds))
    local = profile.get("localhostProfile")
    if kind == "Localhost":
        detail = "must be set when seccomp type is Localhost"
        errs += (
            local_descending_path(local, f"{path}.localhostProfile")
            if local is not None
            else [required(f"{path}.localhostProfile", detail)]
        )
    elif local is not None:
        shown = Go("core.SeccompProfile{...}")
        errs.append(
            invalid(
                f"{path}.localhostProfile", shown, "can only be set when seccomp type is Localhost"
            )
        )
    return errs


def security_context(sc: Obj | None, path: str) -> list[Cause]:
    """``ValidateSecurityContext`` (container level)."""
    if sc is None:
        return []
    errs = id_range(sc.get("runAsUser"), f"{path}.runAsUser")
    errs += id_range(sc.get("runAsGroup"), f"{path}.runAsGroup")
    proc = sc.get("procMount")
    if proc is not None and proc not in ("Default", "Unmasked"):
        errs.append(not_supported(f"{path}.procMount", proc, ("Default", "Unmasked")))
    errs += seccomp(sc.get("seccompProfile"), f"{path}.seccompProfile")
    if sc.get("allowPrivilegeEscalation") is False and sc.get("privileged"):
        detail = "cannot set `allowPrivilegeEscalation` to false and `privileged` to true"
        errs.append(invalid(path, Go("core.SecurityContext{...}"), detail))
    return errs
