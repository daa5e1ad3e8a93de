"""The EndpointSlice planner on its own (pure): slices of at most 100 endpoints, port groups,
conditions, and, for random pod sets and histories, every published pod IP exactly once."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

import attrs
from hypothesis import given, settings
from hypothesis import strategies as st

from kframe.api.models import EndpointSlice, Pod
from kframe_plugins.controllers.endpointslice import (
    CONTROLLER_NAME,
    LABEL_MANAGED_BY,
    LABEL_SERVICE_NAME,
    plan,
)
from tests.plugins.controllers.endpoints_objects import node, pod, service

NODES = {"n1": node("n1", "zone-a"), "n2": node("n2", "zone-b")}


def apply(
    existing: Sequence[EndpointSlice], todo: object, counter: list[int]
) -> list[EndpointSlice]:
    """The slices after the API server takes the plan (names handed out in order)."""
    by_name = {s.metadata.name: s for s in existing if s.metadata is not None}
    for s in todo.create:  # type: ignore[attr-defined]
        counter[0] += 1
        name = f"web-{counter[0]}"
        meta = attrs.evolve(s.metadata, name=name, uid=f"slice-{counter[0]}", generation=1)
        by_name[name] = attrs.evolve(s, metadata=meta)
    for s in todo.update:  # type: ignore[attr-defined]
        old = by_name.get(s.metadata.name)
        uid = old.metadata.uid if old is not None and old.metadata is not None else "x"
        by_name[s.metadata.name] = attrs.evolve(s, metadata=attrs.evolve(s.metadata, uid=uid))
    for s in todo.delete:  # type: ignore[attr-defined]
        by_name.pop(s.metadata.name, None)
    return list(by_name.values())


def _ips(slices: Sequence[EndpointSlice]) -> Counter[str]:
    return Counter(a for s in slices for e in s.endpoints for a in e.addresses)


def test_250_pods_make_three_slices_of_at_most_100() -> None:
    pods = [pod(f"p{i}", f"10.0.{i // 200}.{i % 200}") for i in range(250)]
    todo = plan(service(selector={"app": "web"}), pods, [], NODES)
    assert sorted(len(s.endpoints) for s in todo.create) == [50, 100, 100]
    assert not todo.update and not todo.delete
    for s in todo.create:
        assert s.metadata is not None
        assert s.metadata.generate_name == "web-"
        assert s.metadata.labels[LABEL_SERVICE_NAME] == "web"
        assert s.metadata.labels[LABEL_MANAGED_BY] == CONTROLLER_NAME
        assert s.metadata.owner_references[0].kind == "Service"
        assert s.metadata.owner_references[0].controller is True
        assert s.address_type == "IPv4"
        assert [(p.name, p.port, p.protocol) for p in s.ports] == [("http", 8080, "TCP")]


def test_named_ports_resolve_per_pod_into_separate_slices() -> None:
    pods = [pod("a", "10.0.0.1", port=8080), pod("b", "10.0.0.2", port=9090)]
    todo = plan(service(selector={"app": "web"}), pods, [], NODES)
    by_port = {s.ports[0].port: [e.addresses[0] for e in s.endpoints] for s in todo.create}
    assert by_port == {8080: ["10.0.0.1"], 9090: ["10.0.0.2"]}


def test_endpoint_conditions_node_zone_target_and_hostname() -> None:
    svc = service(selector={"app": "web"})
    pods = [
        pod("ready", "10.0.0.1", node="n1", hostname="h0", subdomain="web"),
        pod("unready", "10.0.0.2", False, node="n2"),
        pod("leaving", "10.0.0.3", terminating=True),
        pod("no-ip", None),
        pod("done", "10.0.0.4", phase="Succeeded"),
    ]
    (slice_,) = plan(svc, pods, [], NODES).create
    eps = {e.target_ref.name: e for e in slice_.endpoints if e.target_ref is not None}
    assert set(eps) == {"ready", "unready", "leaving"}
    c = {
        n: (e.conditions.ready, e.conditions.serving, e.conditions.terminating)
        for n, e in eps.items()
        if e.conditions is not None
    }
    assert c == {
        "ready": (True, True, False),
        "unready": (False, False, False),
        "leaving": (False, True, True),  # upstream: never ready while terminating
    }
    assert (eps["ready"].node_name, eps["ready"].zone, eps["ready"].hostname) == (
        "n1",
        "zone-a",
        "h0",
    )
    assert (eps["unready"].zone, eps["unready"].hostname) == ("zone-b", None)
    assert eps["ready"].target_ref is not None and eps["ready"].target_ref.uid == "uid-ready"


def test_publish_not_ready_addresses_makes_every_endpoint_ready() -> None:
    svc = service(selector={"app": "web"}, publish_not_ready=True)
    (slice_,) = plan(svc, [pod("u", "10.0.0.2", False)], [], NODES).create
    cond = slice_.endpoints[0].conditions
    assert cond is not None and (cond.ready, cond.serving) == (True, False)


def test_pods_on_unknown_nodes_are_skipped_and_named() -> None:
    todo = plan(service(selector={"app": "web"}), [pod("p", "10.0.0.1", node="gone")], [], NODES)
    assert todo.missing_nodes == ("p",)
    (placeholder,) = todo.create
    assert not placeholder.endpoints and not placeholder.ports


def test_no_pods_keep_one_placeholder_and_replanning_is_a_no_op() -> None:
    svc = service(selector={"app": "web"})
    counter = [0]
    slices = apply([], plan(svc, [], [], NODES), counter)
    assert len(slices) == 1 and not slices[0].endpoints
    assert plan(svc, [], slices, NODES).empty
    # The first pod reuses the placeholder's name rather than delete and create.
    todo = plan(svc, [pod("p", "10.0.0.1")], slices, NODES)
    assert not todo.create and not todo.delete and len(todo.update) == 1
    assert todo.update[0].metadata is not None
    assert todo.update[0].metadata.name == slices[0].metadata.name  # type: ignore[union-attr]


def test_headless_services_are_labelled() -> None:
    svc = service(selector={"app": "web"}, cluster_ip="None", labels={"team": "a"})
    # Without ipFamilies, upstream gives a headless service both address types.
    v4, v6 = sorted(
        plan(svc, [pod("p", "10.0.0.1")], [], NODES).create, key=lambda s: s.address_type or ""
    )
    assert (v4.address_type, len(v4.endpoints)) == ("IPv4", 1)
    assert (v6.address_type, len(v6.endpoints)) == ("IPv6", 0)
    assert v4.metadata is not None
    labels = v4.metadata.labels
    assert labels["service.kubernetes.io/headless"] == ""
    assert labels["team"] == "a"


_pod_specs = st.lists(
    st.tuples(
        st.integers(0, 40),  # IP suffix (collisions between pods allowed)
        st.booleans(),  # ready
        st.booleans(),  # has an IP
        st.sampled_from([8080, 9090]),  # what the named port resolves to
        st.booleans(),  # terminating
    ),
    max_size=30,
)


def _pods(specs: Sequence[tuple[int, bool, bool, int, bool]], gen: int) -> list[Pod]:
    return [
        pod(
            f"p{i}-{gen % 2}",
            f"10.0.0.{ip}" if has_ip else None,
            ready,
            port=port,
            terminating=term,
        )
        for i, (ip, ready, has_ip, port, term) in enumerate(specs)
    ]


@settings(max_examples=60, deadline=None)
@given(st.lists(_pod_specs, min_size=1, max_size=4), st.integers(1, 7))
def test_every_published_pod_appears_exactly_once(
    history: list[list[tuple[int, bool, bool, int, bool]]], max_endpoints: int
) -> None:
    svc = service(selector={"app": "web"})
    slices: list[EndpointSlice] = []
    counter = [0]
    for gen, specs in enumerate(history):
        pods = _pods(specs, gen)
        todo = plan(svc, pods, slices, NODES, max_endpoints=max_endpoints)
        slices = apply(slices, todo, counter)
        # Each published pod exactly once, in a slice of its own resolved port.
        want = Counter(
            (p.metadata.name, p.status.pod_ip)  # type: ignore[union-attr]
            for p in pods
            if p.status is not None and p.status.pod_ip
        )
        got = Counter(
            (e.target_ref.name, e.addresses[0])
            for s in slices
            for e in s.endpoints
            if e.target_ref is not None
        )
        assert got == want
        assert all(len(s.endpoints) <= max_endpoints for s in slices)
        for s in slices:
            for e in s.endpoints:
                owner = next(p for p in pods if p.metadata.name == e.target_ref.name)  # type: ignore[union-attr]
                assert s.ports[0].port == owner.spec.containers[0].ports[0].container_port  # type: ignore[union-attr]
        ready_ips = Counter(
            a
            for s in slices
            for e in s.endpoints
            if e.conditions and e.conditions.ready
            for a in e.addresses
        )
        assert ready_ips == Counter(
            p.status.pod_ip
            for p in pods
            if p.status is not None
            and p.status.pod_ip
            and p.status.conditions[0].status == "True"
            and p.metadata is not None
            and p.metadata.deletion_timestamp is None
        )
        # A placeholder only when nothing is published; replanning changes nothing.
        if want:
            assert all(s.endpoints for s in slices)
        else:
            assert len(slices) == 1 and not slices[0].endpoints
        assert plan(svc, pods, slices, NODES, max_endpoints=max_endpoints).empty
        assert _ips(slices) == Counter(ip for _, ip in want.elements())
