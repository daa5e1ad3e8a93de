"""``spec.podFailurePolicy``: what a failed pod means for its Job (upstream
pkg/controller/job/pod_failure_policy.go).

The rules are tried in order against a failed pod; the first that matches decides: ``FailJob``
fails the whole Job at once (reason ``PodFailurePolicy``), ``Ignore`` does not count the failure
against ``backoffLimit``, ``Count`` counts it (as without a policy). ``FailIndex`` (allowed
with ``backoffLimitPerIndex`` only) counts the failure and fails the pod's index at once
(see :mod:`._per_index`).
"""

from __future__ import annotations

from typing import Any

from kframe.api.models import Pod, PodFailurePolicy, PodFailurePolicyOnExitCodesRequirement

__all__ = ["match_pod_failure_policy"]


def _exit_code_matches(code: int, req: PodFailurePolicyOnExitCodesRequirement) -> bool:
    if req.operator == "In":
        return code in req.values
    if req.operator == "NotIn":
        return code not in req.values
    return False


def _matching_container(statuses: Any, req: PodFailurePolicyOnExitCodesRequirement) -> Any:
    """The first terminated container with a non-zero exit code the requirement matches."""
    for cs in statuses or ():
        term = cs.state.terminated if cs.state is not None else None
        if term is None:
            continue  # still terminating: no exit code yet
        if req.container_name is not None and req.container_name != cs.name:
            continue
        if term.exit_code and _exit_code_matches(term.exit_code, req):
            return cs
    return None


def match_pod_failure_policy(
    policy: PodFailurePolicy | None, pod: Pod
) -> tuple[str | None, bool, str | None]:
    """(a Job failure message if a FailJob rule matched, whether the failure counts against the
    backoff limit, the matched action) for a failed ``pod`` (matchPodFailurePolicy)."""
    if policy is None:
        return None, True, None
    status = pod.status
    meta = pod.metadata
    where = f"{meta.namespace}/{meta.name}" if meta is not None else ""
    for index, rule in enumerate(policy.rules):
        action = rule.action or ""
        if rule.on_exit_codes is not None:
            if status is None:
                continue
            cs = _matching_container(status.container_statuses, rule.on_exit_codes)
            if cs is None:
                cs = _matching_container(status.init_container_statuses, rule.on_exit_codes)
            if cs is None:
                continue
            if action == "FailJob":
                code = cs.state.terminated.exit_code
                message = (
                    f"Container {cs.name} for pod {where} failed with exit code {code} "
                    f"matching {action} rule at index {index}"
                )
                return message, True, action
        elif rule.on_pod_conditions:
            conds = (status.conditions if status is not None else None) or ()
            matched = next(
                (
                    c
                    for c in conds
                    for p in rule.on_pod_conditions
                    if c.type == p.type and c.status == p.status
                ),
                None,
            )
            if matched is None:
                continue
            if action == "FailJob":
                message = (
                    f"Pod {where} has condition {matched.type} matching {action} rule at "
                    f"index {index}"
                )
                return message, True, action
        else:
            continue
        if action == "Ignore":
            return None, False, action
        return None, True, action  # Count, or FailIndex (its index fails: _per_index)
    return None, True, None
