"""NodePorts, ported from upstream node_ports_test.go, with a property against a reference
conflict check."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kframe.api.models import Pod
from kframe.scheduler import (
    Code,
    CycleState,
    FilterPlugin,
    NodeInfo,
    PodInfo,
    PreFilterPlugin,
    Status,
)
from kframe.testing.scheduler import StaticHandle, make_node, make_pod
from kframe_plugins.scheduler.names import NODE_PORTS
from kframe_plugins.scheduler.nodeports import ERR_REASON, FACTORIES, NodePorts

CONFLICT = Status(Code.UNSCHEDULABLE, "node(s) didn't have free ports for the requested pod ports")


def _plugin() -> NodePorts:
    plugin = FACTORIES[NODE_PORTS].new(None, StaticHandle())
    assert isinstance(plugin, NodePorts)
    return plugin


def test_conformance() -> None:
    plugin = _plugin()
    assert plugin.name == "NodePorts"
    assert isinstance(plugin, PreFilterPlugin)
    assert isinstance(plugin, FilterPlugin)
    assert CONFLICT.reasons[0] == ERR_REASON


_counter = iter(range(10**6))


def _port(spec: str) -> dict[str, Any]:
    protocol, ip, port = spec.split("/")
    return {"containerPort": int(port), "hostIP": ip, "hostPort": int(port), "protocol": protocol}


def _container(name: str, ports: list[dict[str, Any]]) -> dict[str, Any]:
    return {"name": name, "image": "registry.k8s.io/pause:3.10", "ports": ports}


def _new_pod(host: str, *ports: str) -> Pod:
    """Upstream's newPod: one container with these "PROTOCOL/hostIP/hostPort" ports."""
    return make_pod(
        f"pod-{next(_counter)}",
        node=host,
        spec={"containers": [_container("c", [_port(p) for p in ports])]},
    )


def _node_info(*pods: Pod) -> NodeInfo:
    return NodeInfo(make_node("m1"), [PodInfo(p) for p in pods])


# TestNodePorts: (name, pod ports, ports of the pod on the node, Filter status).
CASES: list[tuple[str, tuple[str, ...], tuple[str, ...], Status | None]] = [
    ("other port", ("UDP/127.0.0.1/8080",), ("UDP/127.0.0.1/9090",), None),
    ("same udp port", ("UDP/127.0.0.1/8080",), ("UDP/127.0.0.1/8080",), CONFLICT),
    ("same tcp port", ("TCP/127.0.0.1/8080",), ("TCP/127.0.0.1/8080",), CONFLICT),
    ("different host ip", ("TCP/127.0.0.1/8080",), ("TCP/127.0.0.2/8080",), None),
    ("different protocol", ("UDP/127.0.0.1/8080",), ("TCP/127.0.0.1/8080",), None),
    (
        "second udp port conflict",
        ("UDP/127.0.0.1/8000", "UDP/127.0.0.1/8080"),
        ("UDP/127.0.0.1/8080",),
        CONFLICT,
    ),
    (
        "first tcp port conflict",
        ("TCP/127.0.0.1/8001", "UDP/127.0.0.1/8080"),
        ("TCP/127.0.0.1/8001", "UDP/127.0.0.1/8081"),
        CONFLICT,
    ),
    (
        "first tcp port conflict due to 0.0.0.0 hostIP",
        ("TCP/0.0.0.0/8001",),
        ("TCP/127.0.0.1/8001",),
        CONFLICT,
    ),
    (
        "TCP hostPort conflict due to 0.0.0.0 hostIP",
        ("TCP/10.0.10.10/8001", "TCP/0.0.0.0/8001"),
        ("TCP/127.0.0.1/8001",),
        CONFLICT,
    ),
    (
        "second tcp port conflict to 0.0.0.0 hostIP",
        ("TCP/127.0.0.1/8001",),
        ("TCP/0.0.0.0/8001",),
        CONFLICT,
    ),
    ("second different protocol", ("UDP/127.0.0.1/8001",), ("TCP/0.0.0.0/8001",), None),
    (
        "UDP hostPort conflict due to 0.0.0.0 hostIP",
        ("UDP/127.0.0.1/8001",),
        ("TCP/0.0.0.0/8001", "UDP/0.0.0.0/8001"),
        CONFLICT,
    ),
]


def test_skip_filter() -> None:
    # TestNodePorts/skip filter: a pod without host ports Skips PreFilter.
    assert _plugin().pre_filter(CycleState(), make_pod("p"), []) == Status(Code.SKIP)


@pytest.mark.parametrize(
    ("ports", "existing", "want"), [pytest.param(*c[1:], id=f"TestNodePorts/{c[0]}") for c in CASES]
)
def test_filter(ports: tuple[str, ...], existing: tuple[str, ...], want: Status | None) -> None:
    plugin = _plugin()
    pod = _new_pod("m1", *ports)
    state = CycleState()
    assert plugin.pre_filter(state, pod, []) is None
    assert plugin.filter(state, pod, _node_info(_new_pod("m1", *existing))) == want


def test_pre_filter_disabled() -> None:
    # TestPreFilterDisabled: Filter without PreFilter's state is an error.
    got = _plugin().filter(CycleState(), make_pod("p"), NodeInfo(make_node("n")))
    assert got == Status(Code.ERROR, 'reading "PreFilterNodePorts" from cycleState: not found')


def test_get_container_ports() -> None:
    # TestGetContainerPorts (one pod at a time here): ports without a hostPort are left out.
    def tcp(port: int, host: bool = True) -> dict[str, Any]:
        out: dict[str, Any] = {"containerPort": port, "protocol": "TCP"}
        if host:
            out["hostPort"] = port
        return out

    def pod(base: int) -> Pod:
        containers = [
            _container("a", [tcp(base + 1), tcp(base + 2)]),
            _container("b", [tcp(base + 3), tcp(base + 4)]),
            _container("c", [tcp(base + 5, host=False)]),
        ]
        return make_pod(f"p{base}", spec={"containers": containers})

    for base in (8000, 8010):
        p = pod(base)
        want = tuple(("0.0.0.0", "TCP", base + i) for i in range(1, 5))
        assert PodInfo(p).host_ports == want


def test_init_container_ports_are_ignored() -> None:
    # getContainerPorts walks spec.containers only.
    pod = make_pod(
        "p",
        spec={"initContainers": [_container("i", [_port("TCP/0.0.0.0/80")])]},
    )
    assert PodInfo(pod).host_ports == ()


_IPS = st.sampled_from(["", "0.0.0.0", "127.0.0.1", "10.0.0.1"])
_PROTOCOLS = st.sampled_from(["", "TCP", "UDP", "SCTP"])
_ports = st.lists(st.tuples(_IPS, _PROTOCOLS, st.sampled_from([80, 443])), max_size=3)


def _spec_port(ip: str, protocol: str, port: int) -> dict[str, Any]:
    out: dict[str, Any] = {"containerPort": port, "hostPort": port}
    if ip:
        out["hostIP"] = ip
    if protocol:
        out["protocol"] = protocol
    return out


@given(wanted=_ports, existing=st.lists(_ports, max_size=3))
def test_filter_matches_reference(
    wanted: list[tuple[str, str, int]], existing: list[list[tuple[str, str, int]]]
) -> None:
    def pod(name: str, ports: list[tuple[str, str, int]]) -> Pod:
        spec = {"containers": [_container("c", [_spec_port(*p) for p in ports])]}
        return make_pod(name, node="m1", spec=spec)

    plugin = _plugin()
    incoming = pod("incoming", wanted)
    state = CycleState()
    pre = plugin.pre_filter(state, incoming, [])
    if not wanted:
        assert pre == Status(Code.SKIP)
        return
    got = plugin.filter(
        state, incoming, _node_info(*(pod(f"e{i}", p) for i, p in enumerate(existing)))
    )

    def norm(p: tuple[str, str, int]) -> tuple[str, str, int]:
        return (p[0] or "0.0.0.0", p[1] or "TCP", p[2])

    used = [norm(p) for ports in existing for p in ports]
    clash = any(
        w[1:] == u[1:] and (w[0] == u[0] or "0.0.0.0" in (w[0], u[0]))
        for w in map(norm, wanted)
        for u in used
    )
    assert got == (CONFLICT if clash else None)
