"""``--controllers``: ``enabled_controllers`` agrees with a direct reading of upstream's
``IsControllerEnabled`` (cmd/kube-controller-manager/app/controllermanager.go) and its
validation (``ValidateControllersOptions``), for any registered set and any selection."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import cast

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kframe.client import Client
from kframe.controller import (
    Controller,
    ControllerContext,
    ControllerManager,
    ControllerSpec,
    enabled_controllers,
)

NAMES = ["replicaset", "deployment", "job", "cronjob", "tokencleaner", "bootstrapsigner"]


def _build(ctx: ControllerContext) -> Controller:
    raise AssertionError("not built")


def upstream_is_enabled(
    name: str, disabled_by_default: set[str], controllers: Sequence[str]
) -> bool:
    """IsControllerEnabled, line by line."""
    has_star = False
    for ctrl in controllers:
        if ctrl == name:
            return True
        if ctrl == "-" + name:
            return False
        if ctrl == "*":
            has_star = True
    if not has_star:
        return False
    return name not in disabled_by_default


def upstream_valid(known: set[str], controllers: Sequence[str]) -> bool:
    """ValidateControllersOptions: every entry but a bare * names a known controller, with or
    without a leading -."""
    return all(c == "*" or c.removeprefix("-") in known for c in controllers)


@st.composite
def registered(draw: st.DrawFn) -> dict[str, ControllerSpec]:
    names = draw(st.lists(st.sampled_from(NAMES), unique=True, max_size=len(NAMES)))
    return {name: ControllerSpec(_build, enabled_by_default=draw(st.booleans())) for name in names}


def selections(specs: Mapping[str, ControllerSpec]) -> st.SearchStrategy[list[str]]:
    item = st.one_of(
        st.just("*"),
        st.sampled_from(NAMES),
        st.sampled_from(NAMES).map(lambda n: "-" + n),
        st.just("-*"),
        st.just("unknown"),
    )
    return st.lists(item, max_size=8)


@given(st.data())
def test_enabled_controllers_is_upstreams_is_controller_enabled(data: st.DataObject) -> None:
    specs = data.draw(registered())
    selection = data.draw(selections(specs))
    disabled = {n for n, s in specs.items() if not s.enabled_by_default}
    if not upstream_valid(set(specs), selection):
        with pytest.raises(ValueError, match="is not in the list of known controllers"):
            enabled_controllers(selection, specs)
        return
    expected = sorted(n for n in specs if upstream_is_enabled(n, disabled, selection))
    assert enabled_controllers(selection, specs) == expected


def test_aliases_select_the_canonical_name() -> None:
    specs = {
        "replicaset": ControllerSpec(_build, aliases=("replicaset-controller",)),
        "job": ControllerSpec(_build),
    }
    assert enabled_controllers(["-replicaset-controller", "*"], specs) == ["job"]
    assert enabled_controllers(["replicaset-controller"], specs) == ["replicaset"]


def test_the_error_names_the_unknown_controller_and_the_known_ones() -> None:
    specs = {"job": ControllerSpec(_build)}
    with pytest.raises(ValueError, match="nope") as info:
        enabled_controllers(["*", "-nope"], specs)
    assert str(info.value) == (
        "--controllers: 'nope' is not in the list of known controllers (job)"
    )


def test_worker_counts_name_known_controllers_and_are_positive() -> None:
    specs = {"job": ControllerSpec(_build, aliases=("job-controller",))}
    client = cast(Client, None)
    manager = ControllerManager(client, specs, workers={"job-controller": 3})
    assert manager.workers == {"job": 3}
    with pytest.raises(ValueError, match="'nope' is not in the list of known controllers"):
        ControllerManager(client, specs, workers={"nope": 1})
    with pytest.raises(ValueError, match="must be at least 1"):
        ControllerManager(client, specs, workers={"job": 0})
