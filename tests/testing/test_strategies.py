"""The public strategies: registered with Hypothesis, valid shapes, usable knobs."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from kframe.api import (
    is_dns1123_label,
    is_dns1123_subdomain,
    is_qualified_name,
    is_valid_label_value,
    models,
    selector_from_label_selector,
    to_dict,
)
from kframe.testing import dns1123_labels, label_selectors, labels, objects, pods


@given(st.from_type(models.Pod))
def test_from_type_uses_kframe_strategies(pod: models.Pod) -> None:
    assert to_dict(pod)["kind"] == "Pod"


@given(st.from_type(models.Container))
def test_from_type_works_for_parts_too(container: models.Container) -> None:
    assert isinstance(container, models.Container)


@given(pods())
def test_generated_metadata_is_valid(pod: models.Pod) -> None:
    meta = pod.metadata
    if meta is None:
        return
    if meta.name is not None:
        assert is_dns1123_subdomain(meta.name) == []
    if meta.namespace is not None:
        assert is_dns1123_label(meta.namespace) == []
    for key, value in meta.labels.items():
        assert is_qualified_name(key) == []
        assert is_valid_label_value(value) == []


@given(labels(), dns1123_labels(max_size=5))
def test_names_and_labels(lbls: dict[str, str], label: str) -> None:
    assert len(label) <= 5 and is_dns1123_label(label) == []
    assert all(is_qualified_name(k) == [] for k in lbls)


@given(label_selectors())
def test_label_selectors_convert(selector: models.LabelSelector) -> None:
    selector_from_label_selector(selector.match_labels, selector.match_expressions)


@given(objects(models.Pod, max_fields=1, max_items=0))
def test_knobs_cap_size(pod: models.Pod) -> None:
    encoded = to_dict(pod)
    assert len(encoded) <= 3  # apiVersion, kind and at most one field
