"""Every modelled kind: decode(encode(x)) == x, encoding is stable, copies never alias."""

from __future__ import annotations

import copy
import json

import attrs
import pytest
from hypothesis import given
from hypothesis import strategies as st

from kframe.api import from_dict, models, to_dict
from kframe.testing import objects

KINDS = sorted(models.KINDS.values(), key=lambda c: c.__qualname__)


@pytest.mark.parametrize("cls", KINDS, ids=lambda c: f"{c.API_VERSION}/{c.KIND}")
@given(data=st.data())
def test_decode_encode_roundtrip(cls: type, data: st.DataObject) -> None:
    obj = data.draw(objects(cls))
    encoded = to_dict(obj)
    assert encoded["apiVersion"] == cls.API_VERSION  # type: ignore[attr-defined]
    assert encoded["kind"] == cls.KIND  # type: ignore[attr-defined]
    assert from_dict(encoded) == obj
    # Through real JSON text too, as it travels over HTTP.
    assert from_dict(json.loads(json.dumps(encoded))) == obj


@pytest.mark.parametrize("cls", KINDS, ids=lambda c: f"{c.API_VERSION}/{c.KIND}")
@given(data=st.data())
def test_encoding_is_stable(cls: type, data: st.DataObject) -> None:
    obj = data.draw(objects(cls))
    first = json.dumps(to_dict(obj))
    assert json.dumps(to_dict(from_dict(json.loads(first)))) == first


@given(pod=objects(models.Pod), name=st.text(min_size=1, max_size=10))
def test_evolve_leaves_the_original_unchanged(pod: models.Pod, name: str) -> None:
    before = to_dict(pod)
    meta = pod.metadata or models.ObjectMeta()
    changed = attrs.evolve(pod, metadata=attrs.evolve(meta, name=name, labels={"x": "y"}))
    assert to_dict(pod) == before
    assert changed.metadata is not None and changed.metadata.name == name


@given(pod=objects(models.Pod))
def test_encoded_dicts_are_fresh(pod: models.Pod) -> None:
    # Mutating what to_dict returned must not reach the object.
    encoded = to_dict(pod)
    snapshot = copy.deepcopy(encoded)
    encoded.setdefault("metadata", {})["name"] = "changed"
    assert to_dict(pod) == snapshot
