"""NodeUnschedulable, ported from upstream node_unschedulable_test.go."""

from __future__ import annotations

from typing import Any

import pytest

from kframe.scheduler import Code, CycleState, FilterPlugin, NodeInfo, Status
from kframe.testing.scheduler import StaticHandle, make_node, make_pod
from kframe_plugins.scheduler.names import NODE_UNSCHEDULABLE
from kframe_plugins.scheduler.nodeunschedulable import (
    ERR_REASON_UNSCHEDULABLE,
    FACTORIES,
    TAINT_NODE_UNSCHEDULABLE,
    NodeUnschedulable,
)

UNSCHEDULABLE = Status(Code.UNSCHEDULABLE_AND_UNRESOLVABLE, "node(s) were unschedulable")


def _plugin() -> NodeUnschedulable:
    plugin = FACTORIES[NODE_UNSCHEDULABLE].new(None, StaticHandle())
    assert isinstance(plugin, NodeUnschedulable)
    return plugin


def test_conformance() -> None:
    plugin = _plugin()
    assert plugin.name == "NodeUnschedulable"
    assert isinstance(plugin, FilterPlugin)
    assert UNSCHEDULABLE.reasons[0] == ERR_REASON_UNSCHEDULABLE


CASES: list[tuple[str, list[dict[str, Any]], bool, Status | None]] = [
    (
        "TestNodeUnschedulable/Does not schedule pod to unschedulable node "
        "(node.Spec.Unschedulable==true)",
        [],
        True,
        UNSCHEDULABLE,
    ),
    ("TestNodeUnschedulable/Schedule pod to normal node", [], False, None),
    (
        "TestNodeUnschedulable/Schedule pod with toleration to unschedulable node "
        "(node.Spec.Unschedulable==true)",
        [{"key": TAINT_NODE_UNSCHEDULABLE, "effect": "NoSchedule"}],
        True,
        None,
    ),
    # Not upstream cases: ToleratesTaint's rules applied to the implied taint.
    ("tolerate everything", [{"operator": "Exists"}], True, None),
    (
        "Exists on the key, any effect",
        [{"key": TAINT_NODE_UNSCHEDULABLE, "operator": "Exists"}],
        True,
        None,
    ),
    (
        "wrong effect",
        [{"key": TAINT_NODE_UNSCHEDULABLE, "operator": "Exists", "effect": "NoExecute"}],
        True,
        UNSCHEDULABLE,
    ),
    (
        "Equal with a value: the taint has none",
        [{"key": TAINT_NODE_UNSCHEDULABLE, "operator": "Equal", "value": "x"}],
        True,
        UNSCHEDULABLE,
    ),
    ("other key", [{"key": "other", "operator": "Exists"}], True, UNSCHEDULABLE),
]


@pytest.mark.parametrize(
    ("tolerations", "unschedulable", "want"), [pytest.param(*c[1:], id=c[0]) for c in CASES]
)
def test_filter(
    tolerations: list[dict[str, Any]], unschedulable: bool, want: Status | None
) -> None:
    pod = make_pod("p", spec={"tolerations": tolerations})
    node = NodeInfo(make_node("n", unschedulable=unschedulable))
    assert _plugin().filter(CycleState(), pod, node) == want
