"""Which nodes count towards a spread constraint: the pod's required node affinity
(``nodeAffinityPolicy: Honor``) and the node's untolerated taints (``nodeTaintsPolicy: Honor``).

Upstream component-helpers nodeaffinity.GetRequiredNodeAffinity and
v1helper.FindMatchingUntoleratedTaint with helper.DoNotScheduleTaintsFilterFunc. Both are parsed
once per pod, so checking a node is attribute reads and string compares.
"""

from __future__ import annotations

from collections.abc import Mapping

from kframe.api import Requirement, Selector, SelectorError
from kframe.api.models import Node, NodeSelectorRequirement, NodeSelectorTerm, Pod

__all__ = ["RequiredNodeAffinity", "Tolerations"]

# NodeSelectorOperator -> selection.Operator, as nodeSelectorRequirementsAsSelector maps them.
_OPS = {
    "In": "in", "NotIn": "notin", "Exists": "exists", "DoesNotExist": "!", "Gt": "gt", "Lt": "lt",
}  # fmt: skip
_NAME_FIELD = "metadata.name"

# One parsed term: its matchExpressions (None if it has none) and its matchFields as
# (key, wanted-equal, value) triples (None if it has none).
_Term = tuple[Selector | None, tuple[tuple[str, bool, str], ...] | None]


def _label_part(exprs: tuple[NodeSelectorRequirement, ...]) -> Selector:
    reqs = []
    for e in exprs:
        op = _OPS.get(e.operator or "")
        if op is None:
            raise SelectorError(f"unsupported operator {e.operator!r}")
        reqs.append(Requirement(e.key or "", op, e.values))  # type: ignore[arg-type]
    return Selector(tuple(reqs))


def _field_part(exprs: tuple[NodeSelectorRequirement, ...]) -> tuple[tuple[str, bool, str], ...]:
    out = []
    for e in exprs:
        if e.operator not in ("In", "NotIn") or len(e.values) != 1:
            raise SelectorError("matchFields supports In and NotIn with one value")
        out.append((e.key or "", e.operator == "In", e.values[0]))
    return tuple(out)


def _term(term: NodeSelectorTerm) -> _Term | None:
    """The parsed term, or None for one that can never match (empty, or not parseable: upstream
    ignores the parse error and the term matches no node)."""
    if not term.match_expressions and not term.match_fields:
        return None
    try:
        labels = _label_part(term.match_expressions) if term.match_expressions else None
        fields = _field_part(term.match_fields) if term.match_fields else None
    except SelectorError:
        return None
    return labels, fields


class RequiredNodeAffinity:
    """``spec.nodeSelector`` AND ``requiredDuringSchedulingIgnoredDuringExecution`` of a pod."""

    __slots__ = ("_node_selector", "_terms", "trivial")

    def __init__(self, pod: Pod) -> None:
        spec = pod.spec
        self._node_selector = tuple(spec.node_selector.items()) if spec else ()
        affinity = spec.affinity if spec else None
        node_affinity = affinity.node_affinity if affinity else None
        required = (
            node_affinity.required_during_scheduling_ignored_during_execution
            if node_affinity
            else None
        )
        self._terms: tuple[_Term, ...] | None = None
        if required is not None:
            parsed = (_term(t) for t in required.node_selector_terms)
            self._terms = tuple(t for t in parsed if t is not None)
        #: Every node matches: no nodeSelector and no required node affinity.
        self.trivial = not self._node_selector and self._terms is None

    def matches(self, node: Node) -> bool:
        meta = node.metadata
        labels: Mapping[str, str] = meta.labels if meta else {}
        for key, value in self._node_selector:
            if labels.get(key) != value:
                return False
        if self._terms is None:
            return True
        name = (meta.name if meta else None) or ""
        for selector, fields in self._terms:
            if selector is not None and not selector.matches(labels):
                continue
            if fields is not None and not all(
                ((name if key == _NAME_FIELD else "") == value) == equal
                for key, equal, value in fields
            ):
                continue
            return True
        return False


class Tolerations:
    """A pod's tolerations, for finding a NoSchedule or NoExecute taint it does not tolerate."""

    __slots__ = ("_items",)

    def __init__(self, pod: Pod) -> None:
        spec = pod.spec
        self._items = tuple(
            (t.effect or "", t.key or "", t.operator or "", t.value or "")
            for t in (spec.tolerations if spec else ())
        )

    def _tolerates(self, effect: str, key: str, value: str) -> bool:
        for t_effect, t_key, t_op, t_value in self._items:
            if t_effect and t_effect != effect:
                continue
            if t_key and t_key != key:
                continue
            if t_op == "Exists" or (t_op in ("", "Equal") and t_value == value):
                return True
        return False

    def tolerate_all(self, node: Node) -> bool:
        """No NoSchedule/NoExecute taint of the node is left untolerated."""
        spec = node.spec
        for taint in spec.taints if spec else ():
            effect = taint.effect or ""
            if effect not in ("NoSchedule", "NoExecute"):
                continue
            if not self._tolerates(effect, taint.key or "", taint.value or ""):
                return False
        return True
