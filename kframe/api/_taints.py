"""Whether a pod's tolerations tolerate a node's taints.

Upstream ``v1.Toleration.ToleratesTaint`` (k8s.io/api/core/v1/toleration.go) and
``FindMatchingUntoleratedTaint`` (k8s.io/component-helpers/scheduling/corev1), shared (as there)
by the scheduler's TaintToleration and PodTopologySpread plugins and by the kubelet's admission.
Tolerations are compiled once per pod into plain ``(effect, key, operator, value)`` tuples with
a missing field as ``""``, so the per-node loop compares strings only.

For a pod and a node: ``find_untolerated_taint(node.spec.taints,
compile_tolerations(pod.spec.tolerations))`` is the first NoSchedule or NoExecute taint the pod
does not tolerate (the kubelet's admission asks with ``effects=frozenset({"NoExecute"})``).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from kframe.api.models import Taint, Toleration

__all__ = [
    "DO_NOT_SCHEDULE_TAINT_EFFECTS",
    "CompiledToleration",
    "compile_tolerations",
    "compiled_toleration_tolerates",
    "find_untolerated_taint",
    "toleration_tolerates_taint",
]

# (effect, key, operator, value), each "" when unset.
CompiledToleration = tuple[str, str, str, str]

# The effects that keep pods off a node (helper.DoNotScheduleTaintsFilterFunc).
DO_NOT_SCHEDULE_TAINT_EFFECTS = frozenset({"NoSchedule", "NoExecute"})


def compile_tolerations(
    tolerations: Iterable[Toleration], *, effects: frozenset[str] | None = None
) -> tuple[CompiledToleration, ...]:
    """The tolerations as tuples; with ``effects``, only those whose effect is one of them or
    empty (an empty effect matches every taint effect)."""
    out = []
    for t in tolerations:
        effect = t.effect or ""
        if effects is not None and effect and effect not in effects:
            continue
        out.append((effect, t.key or "", t.operator or "", t.value or ""))
    return tuple(out)


def compiled_toleration_tolerates(
    tol: CompiledToleration, key: str, value: str, effect: str
) -> bool:
    """``ToleratesTaint`` for a taint given as its key, value and effect."""
    t_effect, t_key, op, t_value = tol
    # 1. An empty effect matches all effects. 2. An empty key matches all keys (the API only
    # allows that with Exists, but the matcher does not check: with Equal it compares values).
    if t_effect and t_effect != effect:
        return False
    if t_key and t_key != key:
        return False
    # An empty operator means Equal; any other operator (Gt/Lt without their feature gate, or
    # garbage) tolerates nothing.
    if op == "" or op == "Equal":
        return t_value == value
    return op == "Exists"


def toleration_tolerates_taint(toleration: Toleration, taint: Taint) -> bool:
    """Whether one toleration tolerates one taint (the API objects, for callers off the hot
    path)."""
    (compiled,) = compile_tolerations((toleration,))
    return compiled_toleration_tolerates(
        compiled, taint.key or "", taint.value or "", taint.effect or ""
    )


def find_untolerated_taint(
    taints: Sequence[Taint],
    tolerations: Sequence[CompiledToleration],
    effects: frozenset[str] = DO_NOT_SCHEDULE_TAINT_EFFECTS,
) -> Taint | None:
    """The first taint with one of ``effects`` that no toleration tolerates, or None."""
    for taint in taints:
        effect = taint.effect or ""
        if effect not in effects:
            continue
        key, value = taint.key or "", taint.value or ""
        for tol in tolerations:
            if compiled_toleration_tolerates(tol, key, value, effect):
                break
        else:
            return taint
    return None
