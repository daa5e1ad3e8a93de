"""SchedulingGates, ported from upstream scheduling_gates_test.go."""

from __future__ import annotations

import pytest

from kframe.scheduler import Code, PreEnqueuePlugin, Status
from kframe.testing.scheduler import StaticHandle, make_pod
from kframe_plugins.scheduler.names import SCHEDULING_GATES
from kframe_plugins.scheduler.schedulinggates import FACTORIES, SchedulingGates


def _plugin() -> SchedulingGates:
    plugin = FACTORIES[SCHEDULING_GATES].new(None, StaticHandle())
    assert isinstance(plugin, SchedulingGates)
    return plugin


def test_conformance() -> None:
    plugin = _plugin()
    assert plugin.name == "SchedulingGates"
    assert isinstance(plugin, PreEnqueuePlugin)


@pytest.mark.parametrize(
    ("gates", "want"),
    [
        pytest.param([], None, id="TestPreEnqueue/pod does not carry scheduling gates"),
        pytest.param(
            ["foo", "bar"],
            Status(Code.UNSCHEDULABLE_AND_UNRESOLVABLE, "waiting for scheduling gates: [foo bar]"),
            id="TestPreEnqueue/pod carries scheduling gates",
        ),
        pytest.param(
            ["example.com/one"],
            Status(
                Code.UNSCHEDULABLE_AND_UNRESOLVABLE,
                "waiting for scheduling gates: [example.com/one]",
            ),
            id="one gate",
        ),
    ],
)
def test_pre_enqueue(gates: list[str], want: Status | None) -> None:
    pod = make_pod("p", spec={"schedulingGates": [{"name": g} for g in gates]})
    assert _plugin().pre_enqueue(pod) == want
