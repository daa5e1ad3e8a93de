"""kframe.api.evolve is attrs.evolve: the same object for every model, the original untouched."""

from __future__ import annotations

import attrs
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kframe.api import evolve, models
from kframe.api._evolve import _plain
from kframe.testing import objects

KINDS = sorted(models.KINDS.values(), key=lambda c: c.__qualname__)
# The kinds, and the parts the API server and the scheduler copy most.
CLASSES = [*KINDS, models.ObjectMeta, models.PodSpec, models.PodStatus, models.Container]


def _all_models() -> list[type]:
    seen: dict[type, None] = {}
    todo = list(KINDS)
    while todo:
        cls = todo.pop()
        if cls in seen or not attrs.has(cls):
            continue
        seen[cls] = None
        for f in attrs.fields(cls):
            todo.extend(t for t in _types_in(f.type) if isinstance(t, type))
    return sorted(seen, key=lambda c: c.__qualname__)


def _types_in(tp: object) -> list[object]:
    args = getattr(tp, "__args__", None)
    out = [tp]
    for a in args or ():
        out.extend(_types_in(a))
    return out


@pytest.mark.parametrize("cls", CLASSES, ids=lambda c: c.__qualname__)
@settings(max_examples=15, deadline=None)
@given(data=st.data())
def test_evolve_is_attrs_evolve(cls: type, data: st.DataObject) -> None:
    obj = data.draw(objects(cls))
    donor = data.draw(objects(cls))
    names = [f.name for f in attrs.fields(cls)]
    changed = data.draw(st.lists(st.sampled_from(names), unique=True, max_size=3))
    changes = {n: getattr(donor, n) for n in changed}
    before = attrs.evolve(obj)
    got = evolve(obj, **changes)
    assert got == attrs.evolve(obj, **changes)
    assert type(got) is cls
    assert obj == before  # the original is untouched


def test_every_model_takes_the_fast_copy() -> None:
    # The generated models keep to what the copy relies on (no validators, converters, hooks):
    # one that stops doing so would silently fall back to attrs.evolve; this says so.
    slow = [c.__qualname__ for c in _all_models() if not _plain(c)]
    assert slow == []


def test_unknown_names_are_refused_as_attrs_does() -> None:
    with pytest.raises(TypeError, match="unexpected keyword argument 'nme'"):
        evolve(models.ObjectMeta(name="a"), nme="b")


def test_classes_with_hooks_go_to_attrs() -> None:
    @attrs.frozen
    class Checked:
        n: int = attrs.field(validator=attrs.validators.ge(0))

    with pytest.raises(ValueError, match="must be >= 0"):
        evolve(Checked(1), n=-1)
    assert evolve(Checked(1), n=2) == Checked(2)
