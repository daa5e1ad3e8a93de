"""NodeName, ported from upstream node_name_test.go."""

from __future__ import annotations

import pytest

from kframe.api import from_dict
from kframe.api.models import Node
from kframe.scheduler import Code, CycleState, FilterPlugin, NodeInfo, Status
from kframe.testing.scheduler import StaticHandle, make_node, make_pod
from kframe_plugins.scheduler.names import NODE_NAME
from kframe_plugins.scheduler.nodename import ERR_REASON, FACTORIES, NodeName


def _plugin() -> NodeName:
    plugin = FACTORIES[NODE_NAME].new(None, StaticHandle())
    assert isinstance(plugin, NodeName)
    return plugin


def test_conformance() -> None:
    plugin = _plugin()
    assert plugin.name == "NodeName"
    assert isinstance(plugin, FilterPlugin)
    assert FACTORIES[NODE_NAME].args_type is None


@pytest.mark.parametrize(
    ("pod_node", "node", "want"),
    [
        pytest.param(None, from_dict({}, Node), None, id="TestNodeName/no host specified"),
        pytest.param("foo", make_node("foo"), None, id="TestNodeName/host matches"),
        pytest.param(
            "bar",
            make_node("foo"),
            Status(Code.UNSCHEDULABLE_AND_UNRESOLVABLE, ERR_REASON),
            id="TestNodeName/host doesn't match",
        ),
    ],
)
def test_filter(pod_node: str | None, node: Node, want: Status | None) -> None:
    pod = make_pod("p", node=pod_node)
    assert _plugin().filter(CycleState(), pod, NodeInfo(node)) == want
    assert ERR_REASON == "node(s) didn't match the requested node name"
