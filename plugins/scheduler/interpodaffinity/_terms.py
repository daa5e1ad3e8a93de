"""The incoming pod's affinity terms for one cycle, and the Namespaces they are resolved against.

PreFilter and PreScore call :func:`parse_pod_terms` once per cycle. The incoming pod's terms get
their namespaceSelector unrolled into namespace names, as upstream's
``mergeAffinityTermNamespacesIfNotEmpty`` does, so matching an existing pod against them needs
no namespace lookup. Existing pods' terms (precomputed in their PodInfo) keep their selector and
are matched with the incoming pod's namespace labels (``GetNamespaceLabelsSnapshot``).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import TypeVar

from kframe.api import Selector, SelectorError
from kframe.api.models import Namespace, Pod, PodAffinityTerm, WeightedPodAffinityTerm
from kframe.scheduler import AffinityTerm, Handle, WeightedAffinityTerm

__all__ = [
    "IncomingTerm",
    "Namespaces",
    "PodTerms",
    "TermsError",
    "matches_all",
    "parse_pod_terms",
]

_EMPTY: Mapping[str, str] = {}
T = TypeVar("T")


class TermsError(ValueError):
    """A term of the pod does not parse (upstream NewPodInfo's error)."""


class Namespaces:
    """The cluster's Namespace objects, listed from the handle at most once per cycle."""

    __slots__ = ("_handle", "_items")

    def __init__(self, handle: Handle) -> None:
        self._handle = handle
        self._items: Sequence[Namespace] | None = None

    def _list(self) -> Sequence[Namespace]:
        if self._items is None:
            self._items = self._handle.list_objects(Namespace)
        return self._items

    def select(self, selector: Selector) -> frozenset[str]:
        """The names of the namespaces whose labels the selector matches."""
        return frozenset(
            ns.metadata.name
            for ns in self._list()
            if ns.metadata is not None and ns.metadata.name and selector.matches(ns.metadata.labels)
        )

    def labels_of(self, name: str) -> Mapping[str, str]:
        """The namespace's labels; none when it is unknown (upstream logs and goes on)."""
        for ns in self._list():
            if ns.metadata is not None and ns.metadata.name == name:
                return dict(ns.metadata.labels)
        return _EMPTY


class IncomingTerm:
    """One of the incoming pod's terms with its namespaces resolved for this cycle."""

    __slots__ = ("all_namespaces", "namespaces", "selector", "topology_key")

    def __init__(self, term: AffinityTerm, namespaces: Namespaces) -> None:
        self.selector = term.selector
        self.topology_key = term.topology_key
        ns_selector = term.namespace_selector
        # An empty namespaceSelector ({}) selects every namespace and stays as it is; any other
        # selector is replaced by the names it selects now (labels.Nothing() selects none).
        self.all_namespaces = ns_selector.empty()
        if self.all_namespaces or not ns_selector.selectable:
            self.namespaces = term.namespaces
        else:
            self.namespaces = term.namespaces | namespaces.select(ns_selector)

    def matches(self, pod: Pod) -> bool:
        """``AffinityTerm.Matches(pod, nil)``: is ``pod`` one of the pods this term is about."""
        meta = pod.metadata
        assert meta is not None
        if self.all_namespaces or (meta.namespace or "default") in self.namespaces:
            return self.selector.matches(meta.labels)
        return False


def matches_all(terms: Sequence[IncomingTerm], pod: Pod) -> bool:
    """``podMatchesAllAffinityTerms``: true only for a non-empty list that all match."""
    if not terms:
        return False
    return all(t.matches(pod) for t in terms)


class PodTerms:
    """The incoming pod's four kinds of terms; preferred ones as ``(weight, term)`` pairs."""

    __slots__ = (
        "preferred_affinity",
        "preferred_anti_affinity",
        "required_affinity",
        "required_anti_affinity",
    )

    def __init__(
        self,
        required_affinity: tuple[IncomingTerm, ...],
        required_anti_affinity: tuple[IncomingTerm, ...],
        preferred_affinity: tuple[tuple[int, IncomingTerm], ...],
        preferred_anti_affinity: tuple[tuple[int, IncomingTerm], ...],
    ) -> None:
        self.required_affinity = required_affinity
        self.required_anti_affinity = required_anti_affinity
        self.preferred_affinity = preferred_affinity
        self.preferred_anti_affinity = preferred_anti_affinity


_NO_TERMS = PodTerms((), (), (), ())


def _parse(what: str, build: Iterable[T], errors: list[str]) -> tuple[T, ...]:
    try:
        return tuple(build)
    except SelectorError as err:
        errors.append(f"{what}: {err}")
        return ()


def parse_pod_terms(pod: Pod, namespaces: Namespaces) -> PodTerms:
    """All of the pod's affinity terms, resolved; :class:`TermsError` if any does not parse
    (with upstream's message: the failing kinds, aggregated)."""
    spec = pod.spec
    affinity = spec.affinity if spec is not None else None
    if affinity is None:
        return _NO_TERMS
    meta = pod.metadata
    ns = (meta.namespace if meta is not None else None) or "default"
    pa, paa = affinity.pod_affinity, affinity.pod_anti_affinity
    if pa is None and paa is None:
        return _NO_TERMS

    def required(terms: Iterable[PodAffinityTerm]) -> Iterable[IncomingTerm]:
        return (IncomingTerm(AffinityTerm(ns, t), namespaces) for t in terms)

    def preferred(terms: Iterable[WeightedPodAffinityTerm]) -> Iterable[tuple[int, IncomingTerm]]:
        for t in terms:
            if t.pod_affinity_term is not None:
                w = WeightedAffinityTerm(ns, t)
                yield w.weight, IncomingTerm(w.term, namespaces)

    errors: list[str] = []
    out = PodTerms(
        _parse(
            "requiredAffinityTerms",
            required(pa.required_during_scheduling_ignored_during_execution if pa else ()),
            errors,
        ),
        _parse(
            "requiredAntiAffinityTerms",
            required(paa.required_during_scheduling_ignored_during_execution if paa else ()),
            errors,
        ),
        _parse(
            "preferredAffinityTerms",
            preferred(pa.preferred_during_scheduling_ignored_during_execution if pa else ()),
            errors,
        ),
        _parse(
            "preferredAntiAffinityTerms",
            preferred(paa.preferred_during_scheduling_ignored_during_execution if paa else ()),
            errors,
        ),
    )
    if errors:
        # utilerrors.NewAggregate: one error reads as itself, several as "[a, b]".
        raise TermsError(errors[0] if len(errors) == 1 else "[" + ", ".join(errors) + "]")
    return out
