"""Strategies for the string shapes Kubernetes validates: names, label keys and values."""

from __future__ import annotations

from hypothesis import strategies as st

__all__ = [
    "dns1123_labels",
    "dns1123_subdomains",
    "label_keys",
    "label_values",
    "labels",
]

_ALNUM = "abcdefghijklmnopqrstuvwxyz0123456789"


def dns1123_labels(*, max_size: int = 63) -> st.SearchStrategy[str]:
    """RFC 1123 labels: lowercase alphanumerics and '-', alphanumeric at both ends."""
    if not 1 <= max_size <= 63:
        raise ValueError("max_size must be in 1..63")
    edge = st.sampled_from(_ALNUM)
    middle = st.text(alphabet=_ALNUM + "-", max_size=max(0, max_size - 2))
    one = edge.map(str)
    many = st.tuples(edge, middle, edge).map("".join)
    return (one | many) if max_size >= 2 else one


def dns1123_subdomains(*, max_parts: int = 3) -> st.SearchStrategy[str]:
    """RFC 1123 subdomains (dot-separated labels, at most 253 characters): object names."""
    parts = st.lists(dns1123_labels(max_size=20), min_size=1, max_size=max_parts)
    return parts.map(".".join)


def _name_part(max_size: int) -> st.SearchStrategy[str]:
    # [A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?
    edge = st.sampled_from(_ALNUM + "ABCDEFGHIJKLMNOPQRSTUVWXYZ")
    middle = st.text(alphabet=_ALNUM + "ABCDEFGHIJKLMNOPQRSTUVWXYZ-_.", max_size=max_size - 2)
    return edge | st.tuples(edge, middle, edge).map("".join)


def label_keys() -> st.SearchStrategy[str]:
    """Qualified names: ``name`` or ``prefix/name`` with a DNS subdomain prefix."""
    prefix = dns1123_subdomains(max_parts=2).filter(lambda p: len(p) <= 253)
    return _name_part(30) | st.tuples(prefix, _name_part(30)).map("/".join)


def label_values() -> st.SearchStrategy[str]:
    """Label values: empty, or a name part of at most 63 characters."""
    return st.just("") | _name_part(63)


def labels(*, max_size: int = 4) -> st.SearchStrategy[dict[str, str]]:
    """Label maps, as in ``metadata.labels`` and ``nodeSelector``."""
    return st.dictionaries(label_keys(), label_values(), max_size=max_size)
