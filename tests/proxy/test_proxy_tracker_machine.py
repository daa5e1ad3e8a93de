"""The Service change tracker against a simple model: whatever the sequence of adds, updates,
deletes and syncs, it holds the ports of the live Services, and reports pending exactly the
Services whose ports differ from what the last sync saw."""

from __future__ import annotations

from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule

from kframe.api.models import Service
from kframe.proxy import ServiceChangeTracker, ServicePortInfo, ServicePortName, service_port_infos
from kframe.testing.proxy import service

NAMES = st.sampled_from(["web", "db", "cache"])
SHAPES = st.tuples(
    st.sampled_from(["10.96.0.1", "10.96.0.2", "None"]),
    st.sampled_from([80, 443]),
    st.sampled_from(["None", "ClientIP"]),
    st.sampled_from(["ClusterIP", "NodePort"]),
)


def build(name: str, shape: tuple[str, int, str, str]) -> Service:
    ip, port, affinity, kind = shape
    node_port = 30080 if kind == "NodePort" else None
    return service(name, ip, [("p", port, "TCP", node_port)], type=kind, session_affinity=affinity)


def ports_of(live: dict[str, Service]) -> dict[ServicePortName, ServicePortInfo]:
    result: dict[ServicePortName, ServicePortInfo] = {}
    for svc in live.values():
        result.update(service_port_infos(svc))
    return result


class TrackerMachine(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.tracker = ServiceChangeTracker()
        self.live: dict[str, Service] = {}
        self.synced: dict[str, dict[ServicePortName, ServicePortInfo]] = {}

    @rule(name=NAMES, shape=SHAPES)
    def put(self, name: str, shape: tuple[str, int, str, str]) -> None:
        new = build(name, shape)
        self.tracker.update(self.live.get(name), new)
        self.live[name] = new

    @rule(name=NAMES)
    def delete(self, name: str) -> None:
        old = self.live.pop(name, None)
        if old is not None:
            self.tracker.update(old, None)

    @rule()
    def sync(self) -> None:
        self.tracker.checkpoint()
        self.synced = {k: service_port_infos(v) for k, v in self.live.items()}

    @invariant()
    def holds_the_live_ports(self) -> None:
        assert self.tracker.service_ports() == ports_of(self.live)

    @invariant()
    def pending_is_what_changed_since_the_sync(self) -> None:
        keys = set(self.live) | set(self.synced)
        expected = {
            f"default/{k}"
            for k in keys
            if (service_port_infos(self.live[k]) if k in self.live else {})
            != self.synced.get(k, {})
        }
        assert self.tracker.pending == expected


TestTrackerMachine = TrackerMachine.TestCase
