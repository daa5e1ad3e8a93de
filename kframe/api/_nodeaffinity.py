"""Whether a node satisfies node selector terms and a pod's required node affinity.

Upstream k8s.io/component-helpers/scheduling/corev1/nodeaffinity, shared (as there) by the
scheduler's NodeAffinity and PodTopologySpread plugins and by the kubelet's admission: terms are
ORed, a term's requirements ANDed; an empty term matches nothing; ``matchExpressions`` are label
requirements (In, NotIn, Exists, DoesNotExist, Gt, Lt, validated as ``labels.NewRequirement``),
``matchFields`` are field requirements on ``metadata.name`` (In/NotIn with exactly one value). A
term that fails to parse never matches; the errors are kept, with upstream's field paths, for
the callers that report them (NodeAffinityArgs validation, PreScore of a pod with broken
preferred terms). Compiled once (per pod), matched per node with plain comparisons.

For a pod: ``RequiredNodeAffinity(pod).matches_node(node)`` (upstream
``GetRequiredNodeAffinity(pod).Match(node)``).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

from kframe.api._labels import Requirement, SelectorError, _parse_int64
from kframe.api._validation import go_quote
from kframe.api.models import (
    Node,
    NodeSelector,
    NodeSelectorRequirement,
    NodeSelectorTerm,
    Pod,
    PreferredSchedulingTerm,
)

__all__ = [
    "NodeSelectorMatcher",
    "NodeSelectorTermMatcher",
    "PreferredSchedulingTermsMatcher",
    "RequiredNodeAffinity",
    "compile_node_selector",
    "compile_preferred_scheduling_terms",
]


def _go_strings(values: Sequence[str]) -> str:
    """``%#v`` of a ``[]string`` (a missing list prints as ``[]string(nil)``)."""
    if not values:
        return "[]string(nil)"
    return "[]string{" + ", ".join(go_quote(v) for v in values) + "}"


_IN, _NOT_IN, _EXISTS, _NOT_EXISTS, _GT, _LT = range(6)
# NodeSelectorOperator -> (labels selection operator, our opcode), in upstream's listing order.
_LABEL_OPS: dict[str, tuple[Any, int]] = {
    "In": ("in", _IN),
    "NotIn": ("notin", _NOT_IN),
    "Exists": ("exists", _EXISTS),
    "DoesNotExist": ("!", _NOT_EXISTS),
    "Gt": ("gt", _GT),
    "Lt": ("lt", _LT),
}
_LABEL_SUPPORTED = ", ".join(go_quote(op) for op in _LABEL_OPS)
_FIELD_SUPPORTED = ", ".join(go_quote(op) for op in ("In", "NotIn"))
_NAME_FIELD = "metadata.name"

# One label requirement: (opcode, key, values as a frozenset for In/NotIn, an int for Gt/Lt).
LabelReq = tuple[int, str, Any]
# One field requirement: (equal, is metadata.name, value).
FieldReq = tuple[bool, bool, str]

# Splits kframe.api's aggregated Requirement errors back into their parts (paths are relative).
_PART = re.compile(r", (?=(?:key|values|operator)(?:\[[^\]]*\])*: )")


def _requirement_errors(path: str, exc: SelectorError) -> list[str]:
    text = str(exc)
    parts = _PART.split(text[1:-1]) if text.startswith("[") and text.endswith("]") else [text]
    return [f"{path}.{part}" for part in parts]


def _label_requirements(
    exprs: Sequence[NodeSelectorRequirement], path: str, errors: list[str]
) -> tuple[LabelReq, ...]:
    out: list[LabelReq] = []
    for i, expr in enumerate(exprs):
        p = f"{path}[{i}]"
        operator = expr.operator or ""
        mapped = _LABEL_OPS.get(operator)
        if mapped is None:
            errors.append(
                f"{p}.operator: Unsupported value: {go_quote(operator)}: "
                f"supported values: {_LABEL_SUPPORTED}"
            )
            continue
        selection_op, code = mapped
        key, values = expr.key or "", tuple(expr.values)
        try:
            Requirement(key, selection_op, values)
        except SelectorError as exc:
            errors.extend(_requirement_errors(p, exc))
            continue
        arg: Any = None
        if code in (_IN, _NOT_IN):
            arg = frozenset(values)
        elif code in (_GT, _LT):
            arg = _parse_int64(values[0])  # validated above
        out.append((code, key, arg))
    return tuple(out)


def _field_requirements(
    exprs: Sequence[NodeSelectorRequirement], path: str, errors: list[str]
) -> tuple[FieldReq, ...]:
    out: list[FieldReq] = []
    for i, expr in enumerate(exprs):
        p = f"{path}[{i}]"
        operator = expr.operator or ""
        if operator not in ("In", "NotIn"):
            errors.append(
                f"{p}.operator: Unsupported value: {go_quote(operator)}: "
                f"supported values: {_FIELD_SUPPORTED}"
            )
        elif len(expr.values) != 1:
            errors.append(
                f"{p}.values: Invalid value: {_go_strings(expr.values)}: must have one element"
            )
        else:
            key = expr.key or ""
            out.append((operator == "In", key == _NAME_FIELD, expr.values[0]))
    return tuple(out)


def _labels_match(reqs: tuple[LabelReq, ...], labels: Mapping[str, str]) -> bool:
    for code, key, arg in reqs:
        value = labels.get(key)
        if code == _IN:
            if value is None or value not in arg:
                return False
        elif code == _NOT_IN:
            if value is not None and value in arg:
                return False
        elif code == _EXISTS:
            if value is None:
                return False
        elif code == _NOT_EXISTS:
            if value is not None:
                return False
        else:
            # Gt/Lt: the node's value must parse as an int64 too, else the term fails.
            have = _parse_int64(value) if value is not None else None
            if have is None or not (have > arg if code == _GT else have < arg):
                return False
    return True


class NodeSelectorTermMatcher:
    """One NodeSelectorTerm, compiled: its label and field requirements (None: the list was
    empty); ``errors`` are its parse errors, with upstream's field paths."""

    __slots__ = ("errors", "fields", "labels")

    def __init__(self, term: NodeSelectorTerm, path: str) -> None:
        self.errors: list[str] = []
        self.labels: tuple[LabelReq, ...] | None = None
        self.fields: tuple[FieldReq, ...] | None = None
        if term.match_expressions:
            self.labels = _label_requirements(
                term.match_expressions, f"{path}.matchExpressions", self.errors
            )
        if term.match_fields:
            self.fields = _field_requirements(term.match_fields, f"{path}.matchFields", self.errors)

    def matches(self, labels: Mapping[str, str], name: str) -> bool:
        if self.errors:
            return False
        if self.labels is not None and not _labels_match(self.labels, labels):
            return False
        # A node without a name has no fields; then matchFields are not checked at all.
        if self.fields is not None and name:
            for equal, is_name, value in self.fields:
                if ((name if is_name else "") == value) != equal:
                    return False
        return True


def _empty(term: NodeSelectorTerm | None) -> bool:
    return term is None or (not term.match_expressions and not term.match_fields)


class NodeSelectorMatcher:
    """A NodeSelector: matches when any of its non-empty terms does (``LazyErrorNodeSelector``:
    terms that failed to parse are skipped; no terms at all match nothing)."""

    __slots__ = ("errors", "terms")

    def __init__(self, terms: tuple[NodeSelectorTermMatcher, ...]) -> None:
        self.terms = terms
        self.errors = [e for t in terms for e in t.errors]

    def matches(self, labels: Mapping[str, str], name: str) -> bool:
        # A plain loop: any() over a generator costs more on the per-node path.
        for term in self.terms:  # noqa: SIM110
            if term.matches(labels, name):
                return True
        return False


def compile_node_selector(selector: NodeSelector, path: str = "") -> NodeSelectorMatcher:
    """Compile ``selector``; ``path`` prefixes the error paths (``nodeSelectorTerms[i]...``)."""
    base = f"{path}.nodeSelectorTerms" if path else "nodeSelectorTerms"
    return NodeSelectorMatcher(
        tuple(
            NodeSelectorTermMatcher(term, f"{base}[{i}]")
            for i, term in enumerate(selector.node_selector_terms)
            if not _empty(term)
        )
    )


class PreferredSchedulingTermsMatcher:
    """Weighted terms: a node scores the sum of the weights of the terms it matches."""

    __slots__ = ("terms",)

    def __init__(self, terms: tuple[tuple[int, NodeSelectorTermMatcher], ...]) -> None:
        self.terms = terms

    def score(self, labels: Mapping[str, str], name: str) -> int:
        total = 0
        for weight, term in self.terms:
            if term.matches(labels, name):
                total += weight
        return total


def compile_preferred_scheduling_terms(
    terms: Sequence[PreferredSchedulingTerm], path: str = ""
) -> tuple[PreferredSchedulingTermsMatcher, list[str]]:
    """``NewPreferredSchedulingTerms``: the terms that parsed, and the parse errors of the rest
    (upstream fails as a whole when there are any).

    Terms with weight 0 or an empty preference are dropped before parsing (upstream's paths
    are ``[i].matchExpressions...``, without ``preference``).
    """
    parsed: list[tuple[int, NodeSelectorTermMatcher]] = []
    errors: list[str] = []
    for i, term in enumerate(terms):
        if not term.weight or _empty(term.preference):
            continue
        assert term.preference is not None
        compiled = NodeSelectorTermMatcher(term.preference, f"{path}[{i}]")
        if compiled.errors:
            errors.extend(compiled.errors)
        else:
            parsed.append((term.weight, compiled))
    return PreferredSchedulingTermsMatcher(tuple(parsed)), errors


_NO_LABELS: Mapping[str, str] = {}


class RequiredNodeAffinity:
    """A pod's ``spec.nodeSelector`` (every label equal) AND its required node affinity
    (``requiredDuringSchedulingIgnoredDuringExecution``), compiled once; parse errors never
    match (upstream ignores them here for backwards compatibility)."""

    __slots__ = ("affinity", "selector", "trivial")

    def __init__(self, pod: Pod) -> None:
        spec = pod.spec
        node_selector = spec.node_selector if spec is not None else {}
        self.selector: tuple[tuple[str, str], ...] = tuple(node_selector.items())
        affinity = spec.affinity if spec is not None else None
        node_affinity = affinity.node_affinity if affinity is not None else None
        required = (
            node_affinity.required_during_scheduling_ignored_during_execution
            if node_affinity is not None
            else None
        )
        self.affinity: NodeSelectorMatcher | None = (
            compile_node_selector(required) if required is not None else None
        )
        #: Every node matches: no nodeSelector and no required node affinity.
        self.trivial = not self.selector and self.affinity is None

    def matches(self, labels: Mapping[str, str], name: str) -> bool:
        """For a node with these labels and this name (the per-node hot path)."""
        for key, value in self.selector:
            if labels.get(key) != value:
                return False
        if self.affinity is not None:
            return self.affinity.matches(labels, name)
        return True

    def matches_node(self, node: Node) -> bool:
        meta = node.metadata
        if meta is None:
            return self.matches(_NO_LABELS, "")
        return self.matches(meta.labels, meta.name or "")
