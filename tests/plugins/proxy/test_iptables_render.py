"""The iptables renderer: chain names and probabilities as upstream, the rules for each kind of
service, stale-chain deletion, large-cluster mode, and properties over random states."""

from __future__ import annotations

import re
from collections import Counter

import pytest
from hypothesis import given

from kframe.proxy import EndpointInfo, ProxyState, ServicePortInfo, ServicePortName
from kframe.testing.proxy import endpoint_slice, proxy_state, proxy_states, service
from kframe_plugins.proxy.iptables import (
    IptablesConfig,
    IptablesRules,
    endpoint_chain,
    probability,
    render,
    service_chain,
)

JUMP = re.compile(r"-j (\S+)")


def chains(lines: tuple[str, ...]) -> list[str]:
    return [line[1:].split(" ", 1)[0] for line in lines if line.startswith(":")]


def rules_of(lines: tuple[str, ...], chain: str) -> list[str]:
    return [line for line in lines if line.startswith(f"-A {chain} ")]


def target(rule: str) -> str:
    found = JUMP.findall(rule)
    return found[-1] if found else ""


def test_chain_names_are_upstreams() -> None:
    # Well-known chain names from any cluster's iptables-save.
    assert service_chain("KUBE-SVC-", "default/kubernetes:https", "TCP") == (
        "KUBE-SVC-NPX46M4PTMTKRN6Y"
    )
    assert service_chain("KUBE-SVC-", "kube-system/kube-dns:dns", "udp") == (
        "KUBE-SVC-TCOU7JCQXEZGVUNU"
    )
    # And those of upstream's proxier tests (pkg/proxy/iptables/proxier_test.go).
    assert service_chain("KUBE-SVC-", "ns1/svc1:p80", "tcp") == "KUBE-SVC-XPGD46QRK7WJZT7O"
    assert endpoint_chain("ns1/svc1:p80", "tcp", "10.180.0.1:80") == "KUBE-SEP-SXIVWICOYRO3J4NJ"
    assert endpoint_chain("ns1/svc1", "tcp", "10.0.1.2:80") == "KUBE-SEP-IO5XOSKPAXIFQXAJ"
    assert len(endpoint_chain("ns/svc:p", "tcp", "10.0.0.1:80")) == 25  # under iptables' 28


def test_probabilities_are_printed_as_upstream() -> None:
    assert probability(2) == "0.5000000000"
    assert probability(3) == "0.3333333333"
    assert probability(7) == "0.1428571429"


def one(name: str = "web", **kwargs: object) -> ServicePortInfo:
    spn = ServicePortName("ns", name, "p", "TCP")
    return ServicePortInfo(name=spn, cluster_ip="10.96.0.1", port=80, **kwargs)  # type: ignore[arg-type]


def state_of(svc: ServicePortInfo, *eps: EndpointInfo) -> ProxyState:
    return ProxyState(services={svc.name: svc}, endpoints={svc.name: eps} if eps else {})


def test_a_service_without_endpoints_is_rejected_in_the_filter_table() -> None:
    rules = render(state_of(one(node_port=30001, external_ips=("192.0.2.1",))))
    assert not any("KUBE-SVC-" in line for line in rules.nat)
    rejects = [r for r in rules.filter if r.endswith("-j REJECT")]
    assert len(rejects) == 3  # cluster IP, external IP, node port
    assert rejects[0].startswith("-A KUBE-SERVICES ")
    assert all(r.startswith("-A KUBE-EXTERNAL-SERVICES ") for r in rejects[1:])
    assert '"ns/web:p has no endpoints"' in rejects[0]


def test_internal_policy_local_without_local_endpoints_drops() -> None:
    svc = one(internal_policy_local=True)
    rules = render(state_of(svc, EndpointInfo(ip="10.244.9.9", port=80, is_local=False)))
    assert [r for r in rules.filter if r.endswith("-j DROP") and "KUBE-SERVICES" in r]
    assert not any(c.startswith(("KUBE-SVC-", "KUBE-SVL-")) for c in chains(rules.nat))


def test_both_policies_local_never_jump_to_a_missing_chain() -> None:
    svc = one(node_port=30002, internal_policy_local=True, external_policy_local=True)
    local = EndpointInfo(ip="10.244.1.1", port=80, is_local=True)
    rules = render(state_of(svc, local), IptablesConfig(cluster_cidr="10.244.0.0/16"))
    assert_jumps_resolve(rules)


def test_terminating_endpoints_serve_only_when_none_is_ready() -> None:
    svc = one()
    ready = EndpointInfo(ip="10.244.1.1", port=80)
    draining = EndpointInfo(ip="10.244.1.2", port=80, ready=False, serving=True, terminating=True)
    both = render(state_of(svc, ready, draining))
    assert "10.244.1.2:80" not in both.text()
    only = render(state_of(svc, draining))
    assert "--to-destination 10.244.1.2:80" in only.text()


def test_external_and_load_balancer_ips_enter_the_ext_chain() -> None:
    svc = one(
        external_ips=("192.0.2.1",),
        load_balancer_ips=("198.51.100.1",),
        load_balancer_source_ranges=("203.0.113.0/24",),
    )
    rules = render(state_of(svc, EndpointInfo(ip="10.244.1.1", port=80)))
    ext = service_chain("KUBE-EXT-", "ns/web:p", "tcp")
    fw = service_chain("KUBE-FW-", "ns/web:p", "tcp")
    services = rules_of(rules.nat, "KUBE-SERVICES")
    assert any("-d 192.0.2.1 " in r and target(r) == ext for r in services)
    assert any("-d 198.51.100.1 " in r and target(r) == fw for r in services)
    assert [target(r) for r in rules_of(rules.nat, fw)] == [ext, ""]
    assert any(r.startswith("-A KUBE-PROXY-FIREWALL ") for r in rules.filter)


def test_stale_service_chains_are_deleted_and_others_left_alone() -> None:
    rules = render(ProxyState(), existing_nat_chains=["KUBE-SVC-OLD", "KUBE-SEP-OLD", "DOCKER"])
    assert rules.deleted_chains == {"KUBE-SVC-OLD", "KUBE-SEP-OLD"}
    assert "-X KUBE-SVC-OLD" in rules.nat and ":KUBE-SVC-OLD - [0:0]" in rules.nat
    assert "-X DOCKER" not in rules.nat


def test_large_clusters_drop_endpoint_comments() -> None:
    svc = one()
    eps = tuple(EndpointInfo(ip=f"10.244.0.{i}", port=80) for i in range(1, 5))
    small = render(state_of(svc, *eps))
    large = render(state_of(svc, *eps), IptablesConfig(large_cluster_threshold=3))
    sep = endpoint_chain("ns/web:p", "tcp", "10.244.0.1:80")
    assert all("--comment" in r for r in rules_of(small.nat, sep))
    assert not any("--comment" in r for r in rules_of(large.nat, sep))


def test_masquerade_all_and_mark_bit() -> None:
    rules = render(
        state_of(one(), EndpointInfo(ip="10.244.0.1", port=80)),
        IptablesConfig(masquerade_all=True, masquerade_bit=15, random_fully=False),
    )
    svc = service_chain("KUBE-SVC-", "ns/web:p", "tcp")
    assert target(rules_of(rules.nat, svc)[0]) == "KUBE-MARK-MASQ"
    assert "-A KUBE-MARK-MASQ -j MARK --or-mark 0x8000" in rules.nat
    assert not any("--random-fully" in r for r in rules.nat)


def test_objects_to_rules_end_to_end() -> None:
    state = proxy_state(
        [service("db", "10.96.5.5", [("", 5432)], namespace="prod")],
        [endpoint_slice("db", [("10.244.3.3", True)], [("", 5432)], namespace="prod")],
    )
    text = render(state).text()
    assert '-A KUBE-SERVICES -m comment --comment "prod/db cluster IP" -m tcp -p tcp ' in text
    assert "--to-destination 10.244.3.3:5432" in text


# -- properties -----------------------------------------------------------------------------


def assert_jumps_resolve(rules: IptablesRules) -> None:
    declared = set(chains(rules.nat))
    builtin = {"KUBE-MARK-MASQ", "RETURN", "MARK", "MASQUERADE", "DNAT", ""}
    for rule in rules.nat:
        if rule.startswith("-A "):
            assert rule.split(" ")[1] in declared, rule
            t = target(rule)
            assert t in declared or t in builtin, rule


def balancing(rules: IptablesRules, chain: str) -> list[str]:
    """The load-balancing rules of a SVC/SVL chain (not affinity or masquerade rules)."""
    return [
        r
        for r in rules_of(rules.nat, chain)
        if target(r).startswith("KUBE-SEP-") and "--rcheck" not in r
    ]


@given(proxy_states())
def test_every_ready_endpoint_is_reached_once_with_equal_chance(state: ProxyState) -> None:
    rules = render(state, IptablesConfig(cluster_cidr="10.244.0.0/16"))
    declared = Counter(chains(rules.nat))
    assert all(n == 1 for n in declared.values()), "a chain declared twice"
    assert_jumps_resolve(rules)
    for name, svc in state.services.items():
        cat = state.categorized(name)
        spn, proto = str(name), svc.protocol.lower()
        for prefix, eps, used in (
            ("KUBE-SVC-", cat.cluster, svc.uses_cluster_endpoints),
            ("KUBE-SVL-", cat.local, svc.uses_local_endpoints),
        ):
            chain = service_chain(prefix, spn, proto)
            if not (used and eps):
                assert chain not in declared
                continue
            assert declared[chain] == 1
            lb = balancing(rules, chain)
            expected = [endpoint_chain(spn, proto, str(ep)) for ep in eps]
            assert Counter(target(r) for r in lb) == Counter(expected)
            if prefix == "KUBE-SVC-" and any(ep.ready for ep in state.endpoints_of(name)):
                # Ready endpoints exist: exactly those, terminating ones left out.
                assert all(ep.ready for ep in eps)
            # The chance of reaching each endpoint is 1/n.
            left, n = 1.0, len(lb)
            for rule in lb:
                found = re.search(r"--probability (\S+)", rule)
                p = float(found.group(1)) if found else 1.0
                assert abs(left * p - 1.0 / n) < 1e-6
                left *= 1.0 - p
            assert abs(left) < 1e-6
        if not cat.has_any:
            assert any(f'"{spn} has no endpoints"' in r for r in rules.filter)


@pytest.mark.parametrize("n", [1, 2, 3, 10, 100])
def test_probability_chain_gives_each_of_n_one_nth(n: int) -> None:
    left = 1.0
    for i in range(n):
        p = float(probability(n - i)) if i < n - 1 else 1.0
        assert abs(left * p - 1 / n) < 1e-9
        left *= 1 - p


def test_a_partial_sync_rewrites_only_the_changed_services_chains() -> None:
    a, b = one("a"), one("b")
    ep = EndpointInfo(ip="10.244.0.1", port=80)
    state = ProxyState(
        services={a.name: a, b.name: b},
        endpoints={a.name: (ep,), b.name: (ep,)},
        changed=frozenset({"ns/a"}),
        full=False,
    )
    full = render(state)
    partial = render(state, existing_nat_chains=full.active_nat_chains, partial=True)
    b_svc = service_chain("KUBE-SVC-", "ns/b:p", "tcp")
    a_svc = service_chain("KUBE-SVC-", "ns/a:p", "tcp")
    assert b_svc not in chains(partial.nat) and a_svc in chains(partial.nat)
    assert not rules_of(partial.nat, b_svc)
    # The top-level capture rule is still written, and b's chains are neither lost nor deleted.
    assert any(target(r) == b_svc for r in rules_of(partial.nat, "KUBE-SERVICES"))
    assert b_svc in partial.active_nat_chains and not partial.deleted_chains
    assert partial.active_nat_chains == full.active_nat_chains


def test_the_dry_run_backend_passes_the_backend_check() -> None:
    import asyncio

    from kframe.testing.proxy import RecordingBackend, check_backend
    from kframe_plugins.proxy.iptables import IptablesBackend

    backend = IptablesBackend(IptablesConfig(), dry_run=True)
    asyncio.run(check_backend(backend))
    assert backend.syncs == 4 and backend.last_rules is not None
    assert backend.last_rules.deleted_chains  # the last sync emptied what the others built
    recording = RecordingBackend()
    asyncio.run(check_backend(recording))
    assert [s.full for s in recording.states] == [True, True, False, False]
    assert recording.cleaned and recording.closed


def test_local_nodes_count_their_endpoints_as_local() -> None:
    import asyncio

    from kframe.proxy import ProxyError
    from kframe_plugins.proxy.iptables import IptablesBackend

    svc = one(internal_policy_local=True)
    other = EndpointInfo(ip="10.244.1.5", port=80, node_name="node-1")
    state = state_of(svc, other)
    # Endpoints on another node: Local policy drops.
    assert "-j DROP" in IptablesBackend(dry_run=True).render(state).text()
    config = IptablesConfig.from_mapping({"localNodes": ["node-0", "node-1"]})
    assert config.local_nodes == ("node-0", "node-1")
    backend = IptablesBackend(config, dry_run=True)
    assert "--to-destination 10.244.1.5:80" in backend.render(state).text()
    asyncio.run(backend.sync(state))
    assert backend.last_rules is not None
    assert "--to-destination 10.244.1.5:80" in backend.last_rules.text()
    with pytest.raises(ProxyError, match="list of node names"):
        IptablesConfig.from_mapping({"localNodes": "node-0"})
