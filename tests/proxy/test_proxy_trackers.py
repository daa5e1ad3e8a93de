"""The change trackers: Services and EndpointSlices in, service ports and endpoints out."""

from __future__ import annotations

import attrs
from hypothesis import given
from hypothesis import strategies as st

from kframe.api.models import EndpointSlice, ObjectMeta, Service, ServiceSpec
from kframe.proxy import (
    DEFAULT_STICKY_MAX_AGE_SECONDS,
    EndpointsChangeTracker,
    ServiceChangeTracker,
    ServicePortName,
    endpoints_from_slices,
    service_port_infos,
)
from kframe.testing.proxy import endpoint_slice, service

WEB = ServicePortName("default", "web", "http", "TCP")


def test_service_ports_carry_the_proxied_fields() -> None:
    svc = service(
        "web",
        "10.96.0.10",
        [("http", 80), ("dns", 53, "UDP", 30053)],
        type="NodePort",
        session_affinity="ClientIP",
        external_traffic_policy="Local",
        internal_traffic_policy="Local",
        external_ips=["192.0.2.1", "2001:db8::1"],
    )
    ports = service_port_infos(svc)
    assert set(ports) == {WEB, ServicePortName("default", "web", "dns", "UDP")}
    dns = ports[ServicePortName("default", "web", "dns", "UDP")]
    assert (dns.cluster_ip, dns.port, dns.protocol, dns.node_port) == (
        "10.96.0.10",
        53,
        "UDP",
        30053,
    )
    assert dns.session_affinity == "ClientIP"
    assert dns.sticky_max_age_seconds == DEFAULT_STICKY_MAX_AGE_SECONDS
    assert dns.internal_policy_local and dns.external_policy_local
    assert dns.external_ips == ("192.0.2.1",)  # IPv4 proxier: the IPv6 one is not ours
    assert str(WEB) == "default/web:http"
    assert str(ServicePortName("ns", "db")) == "ns/db"


def test_external_policy_counts_only_for_externally_reachable_services() -> None:
    svc = service("web", "10.96.0.10", [("http", 80)], external_traffic_policy="Local")
    assert not service_port_infos(svc)[WEB].external_policy_local


def test_headless_external_name_and_unallocated_services_are_skipped() -> None:
    assert service_port_infos(service("h", "None", [("", 80)])) == {}
    assert service_port_infos(service("u", "", [("", 80)])) == {}
    ext = Service(
        metadata=ObjectMeta(name="x", namespace="default"),
        spec=ServiceSpec(type="ExternalName", external_name="example.com", cluster_ip="10.0.0.1"),
    )
    assert service_port_infos(ext) == {}
    assert service_port_infos(service("v6", "fd00::10", [("", 80)])) == {}
    assert service_port_infos(service("v6", "fd00::10", [("", 80)]), "IPv6")


def test_service_tracker_add_update_delete() -> None:
    tracker = ServiceChangeTracker()
    web = service("web", "10.96.0.10", [("http", 80)])
    assert tracker.update(None, web)
    assert tracker.pending == {"default/web"}
    assert tracker.checkpoint() == {"default/web"}
    assert not tracker.pending
    assert set(tracker.service_ports()) == {WEB}

    # An update that changes nothing the proxy reads is no change.
    relabelled = attrs.evolve(
        web, metadata=ObjectMeta(name="web", namespace="default", labels={"a": "b"})
    )
    assert not tracker.update(web, relabelled)

    moved = service("web", "10.96.0.10", [("http", 81)])
    assert tracker.update(relabelled, moved)
    assert tracker.service_ports()[WEB].port == 81
    # Changed back before a sync: nothing pending any more.
    assert not tracker.update(moved, relabelled)

    assert tracker.update(relabelled, None)
    assert tracker.service_ports() == {}
    assert tracker.checkpoint() == {"default/web"}
    assert len(tracker) == 0


def test_becoming_headless_removes_the_ports() -> None:
    tracker = ServiceChangeTracker()
    web = service("web", "10.96.0.10", [("http", 80)])
    tracker.update(None, web)
    tracker.checkpoint()
    assert tracker.update(web, service("web", "None", [("http", 80)]))
    assert tracker.service_ports() == {}


def test_slices_merge_dedupe_and_sort() -> None:
    a = endpoint_slice(
        "web", [("10.0.0.3", True), ("10.0.0.1", True, "node-b")], [("http", 8080)], name="web-a"
    )
    b = endpoint_slice(
        "web", [("10.0.0.2", False), ("10.0.0.1", True, "node-a")], [("http", 8080)], name="web-b"
    )
    merged = endpoints_from_slices([a, b], node_name="node-a")
    eps = merged[WEB]
    assert [str(ep) for ep in eps] == ["10.0.0.1:8080", "10.0.0.2:8080", "10.0.0.3:8080"]
    assert eps[0].is_local  # the duplicate: the local copy wins
    assert not eps[1].ready


def test_slices_of_another_family_or_without_service_label_are_ignored() -> None:
    tracker = EndpointsChangeTracker("node-a")
    v6 = endpoint_slice("web", [("fd00::1", True)], [("http", 80)], address_type="IPv6")
    assert not tracker.endpoint_slice_update(v6)
    orphan = endpoint_slice("web", [("10.0.0.1", True)], [("http", 80)])
    orphan = attrs.evolve(orphan, metadata=ObjectMeta(name="x", namespace="default"))
    assert not tracker.endpoint_slice_update(orphan)
    assert tracker.endpoints_map() == {}


def test_endpoint_tracker_add_update_delete_and_terminating() -> None:
    tracker = EndpointsChangeTracker("node-a")
    first = endpoint_slice("web", [("10.0.0.1", True, "node-a")], [("http", 8080)])
    assert tracker.endpoint_slice_update(first)
    assert tracker.checkpoint() == {"default/web"}
    assert not tracker.endpoint_slice_update(first)  # the same slice again: no change

    draining = endpoint_slice("web", [("10.0.0.1", False, "node-a", True, True)], [("http", 8080)])
    assert tracker.endpoint_slice_update(draining)
    (ep,) = tracker.endpoints_map()[WEB]
    assert (ep.ready, ep.serving, ep.terminating, ep.is_local) == (False, True, True, True)

    second = endpoint_slice("web", [("10.0.0.2", True)], [("http", 8080)], name="web-2")
    tracker.endpoint_slice_update(second)
    assert len(tracker.endpoints_map()[WEB]) == 2
    assert len(tracker.slices("default/web")) == 2

    tracker.checkpoint()
    assert tracker.endpoint_slice_update(draining, removed=True)
    assert tracker.endpoint_slice_update(second, removed=True)
    assert tracker.endpoints_map() == {}
    assert tracker.checkpoint() == {"default/web"}


def test_unset_conditions_read_as_ready_and_serving() -> None:
    eps = endpoint_slice("web", [("10.0.0.1", True)], [("http", 80)])
    bare = attrs.evolve(eps, endpoints=(attrs.evolve(eps.endpoints[0], conditions=None),))
    (ep,) = endpoints_from_slices([bare])[WEB]
    assert ep.ready and ep.serving and not ep.terminating


@given(
    st.lists(
        st.tuples(st.sampled_from(["web", "db", "cache"]), st.integers(1, 3), st.booleans()),
        max_size=30,
    )
)
def test_tracker_state_equals_a_fresh_merge_of_the_live_slices(
    ops: list[tuple[str, int, bool]],
) -> None:
    """Whatever the sequence of slice updates and deletes, the tracker holds what merging the
    surviving slices from scratch gives."""
    tracker = EndpointsChangeTracker("node-a")
    live: dict[tuple[str, int], EndpointSlice] = {}
    for svc, version, remove in ops:
        eps = endpoint_slice(
            svc,
            [(f"10.0.{version}.{i}", i % 2 == 0) for i in range(version)],
            [("http", 80)],
            name=f"{svc}-slice",
        )
        tracker.endpoint_slice_update(eps, removed=remove)
        if remove:
            live.pop((svc, 0), None)
        else:
            live[(svc, 0)] = eps
    expected = {}
    for eps in live.values():
        expected.update(endpoints_from_slices([eps], "node-a"))
    assert tracker.endpoints_map() == expected


def test_a_slice_relabelled_to_another_service_moves() -> None:
    tracker = EndpointsChangeTracker()
    eps = endpoint_slice("web", [("10.0.0.1", True)], [("http", 80)], name="s1")
    tracker.endpoint_slice_update(eps)
    tracker.checkpoint()
    assert meta_labels_moved(tracker, eps) == {"default/web", "default/api"}
    assert set(tracker.endpoints_map()) == {ServicePortName("default", "api", "http", "TCP")}


def meta_labels_moved(tracker: EndpointsChangeTracker, eps: EndpointSlice) -> frozenset[str]:
    assert eps.metadata is not None
    moved = attrs.evolve(
        eps, metadata=attrs.evolve(eps.metadata, labels={"kubernetes.io/service-name": "api"})
    )
    tracker.endpoint_slice_update(moved)
    return tracker.pending
