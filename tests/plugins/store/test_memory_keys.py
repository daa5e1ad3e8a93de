"""The memory store's key index against a plain sorted set, through random adds and removes."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from kframe_plugins.store.memory import _keys
from kframe_plugins.store.memory._keys import SortedKeys

keys = st.text(alphabet="abc/", max_size=6)
ops = st.lists(st.tuples(st.booleans(), keys), max_size=300)


@settings(max_examples=200)
@given(ops=ops, begin=keys, load=st.sampled_from([1, 2, 3, 512]))
def test_sorted_keys_are_a_sorted_set(ops: list[tuple[bool, str]], begin: str, load: int) -> None:
    saved = _keys.LOAD
    _keys.LOAD = load  # small blocks: splits and emptied blocks happen often
    try:
        index = SortedKeys()
        model: set[str] = set()
        for add, key in ops:
            if add:
                index.add(key)
                model.add(key)
            else:
                index.discard(key)
                model.discard(key)
            assert len(index) == len(model)
        assert list(index) == sorted(model)
        assert list(index.from_key(begin)) == sorted(k for k in model if k >= begin)
        for _, key in ops:
            assert (key in index) == (key in model)
    finally:
        _keys.LOAD = saved
