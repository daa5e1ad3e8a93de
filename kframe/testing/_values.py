"""Strategies for Kubernetes' scalar types: quantities, times, IntOrString, selectors."""

from __future__ import annotations

import datetime as _dt

from hypothesis import strategies as st

from kframe.api import (
    IntOrString,
    MicroTime,
    Quantity,
    Selector,
    Time,
    parse_label_selector,
)
from kframe.api.models import LabelSelector, LabelSelectorRequirement
from kframe.testing._names import label_keys, label_values, labels

__all__ = [
    "int_or_strings",
    "label_selectors",
    "micro_times",
    "quantities",
    "selectors",
    "times",
]

_SUFFIXES = ("", "m", "k", "M", "G", "Ki", "Mi", "Gi", "n", "u", "e3", "E", "T")


def quantities(*, min_value: int = 0, max_value: int = 10**6) -> st.SearchStrategy[Quantity]:
    """Quantities with every suffix kind; the number before the suffix is within the bounds."""
    if min_value > max_value:
        raise ValueError("min_value must not exceed max_value")
    return st.builds(
        lambda n, suffix: Quantity.parse(f"{n}{suffix}"),
        st.integers(min_value, max_value),
        st.sampled_from(_SUFFIXES),
    )


_EPOCH = _dt.datetime(1970, 1, 1, tzinfo=_dt.UTC)


def times(
    *,
    min_value: _dt.datetime = _EPOCH,
    max_value: _dt.datetime = _dt.datetime(2200, 1, 1, tzinfo=_dt.UTC),
) -> st.SearchStrategy[Time]:
    """Aware UTC instants at ``metav1.Time`` precision (whole seconds)."""
    return st.datetimes(
        min_value=min_value.replace(tzinfo=None), max_value=max_value.replace(tzinfo=None)
    ).map(lambda d: Time(d.replace(microsecond=0, tzinfo=_dt.UTC)))


def micro_times() -> st.SearchStrategy[MicroTime]:
    """Aware UTC instants at ``metav1.MicroTime`` precision (microseconds)."""
    return st.datetimes(min_value=_dt.datetime(1970, 1, 1), max_value=_dt.datetime(2200, 1, 1)).map(
        lambda d: MicroTime(d.replace(tzinfo=_dt.UTC))
    )


def int_or_strings() -> st.SearchStrategy[IntOrString]:
    """Ports, port names and percentages, as ``targetPort`` and ``maxSurge`` hold them."""
    return (
        st.integers(0, 65535)
        | st.integers(0, 100).map(lambda n: f"{n}%")
        | st.text(alphabet="abcdefghijklmnopqrstuvwxyz-", min_size=1, max_size=15)
    )


def _requirements() -> st.SearchStrategy[LabelSelectorRequirement]:
    values = st.lists(label_values(), min_size=1, max_size=3, unique=True).map(tuple)
    with_values = st.builds(
        LabelSelectorRequirement,
        key=label_keys(),
        operator=st.sampled_from(["In", "NotIn"]),
        values=values,
    )
    without = st.builds(
        LabelSelectorRequirement,
        key=label_keys(),
        operator=st.sampled_from(["Exists", "DoesNotExist"]),
    )
    return with_values | without


def label_selectors(*, max_size: int = 3) -> st.SearchStrategy[LabelSelector]:
    """Valid ``metav1.LabelSelector`` objects (matchLabels and matchExpressions)."""
    return st.builds(
        LabelSelector,
        match_labels=labels(max_size=max_size),
        match_expressions=st.lists(_requirements(), max_size=max_size).map(tuple),
    )


def selectors(*, max_size: int = 3) -> st.SearchStrategy[Selector]:
    """Parsed label selectors, as from ``-l 'a=b,c in (x,y),!d'``."""
    term = st.one_of(
        st.builds(lambda k, v: f"{k}={v}", label_keys(), label_values()),
        st.builds(lambda k, v: f"{k}!={v}", label_keys(), label_values()),
        st.builds(
            lambda k, vs: f"{k} in ({','.join(vs)})",
            label_keys(),
            st.lists(label_values(), min_size=1, max_size=3),
        ),
        st.builds(
            lambda k, vs: f"{k} notin ({','.join(vs)})",
            label_keys(),
            st.lists(label_values(), min_size=1, max_size=3),
        ),
        label_keys(),
        label_keys().map(lambda k: f"!{k}"),
    )
    return st.lists(term, max_size=max_size).map(lambda ts: parse_label_selector(",".join(ts)))
