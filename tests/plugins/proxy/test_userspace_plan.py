"""Properties of the userspace backend's plan and of its listeners over sequences of syncs."""

from __future__ import annotations

import asyncio

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kframe.proxy import ProxyState, categorize_endpoints
from kframe.testing.proxy import proxy_states
from kframe_plugins.proxy.userspace import PROTOCOLS, UserspaceBackend, UserspaceConfig, plan


@given(state=proxy_states())
def test_every_proxied_port_gets_one_proxy_port_and_the_endpoints_its_policy_picks(
    state: ProxyState,
) -> None:
    planned = plan(state, UserspaceConfig())
    for name, svc in state.services.items():
        mine = [s for s in planned.listeners if s.name == name]
        if svc.protocol not in PROTOCOLS:
            assert not mine and name in planned.skipped
            continue
        kinds = sorted(s.kind for s in mine)
        assert kinds == sorted(["proxy", "cluster"] + (["node"] if svc.node_port else []))
        assert all(s.protocol == svc.protocol for s in mine)
        cat = categorize_endpoints(state.endpoints_of(name), svc)
        internal = cat.local if svc.internal_policy_local else cat.cluster
        assert planned.pools[(name, "internal")].endpoints == tuple(str(e) for e in internal)
        if svc.node_port:
            external = cat.local if svc.external_policy_local else cat.cluster
            assert planned.pools[(name, "external")].endpoints == tuple(str(e) for e in external)
        affinity = planned.pools[(name, "internal")].affinity_seconds
        assert affinity == (svc.sticky_max_age_seconds if svc.session_affinity == "ClientIP" else 0)
    assert plan(state, UserspaceConfig()) == planned  # deterministic


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(states=st.lists(proxy_states(max_services=4, max_endpoints=3), min_size=1, max_size=4))
def test_live_listeners_follow_the_plan_and_keep_their_proxy_ports(
    states: list[ProxyState],
) -> None:
    async def run() -> None:
        # node ports on a loopback address of their own; the 10.96.0.x cluster IPs are not
        # local, so they are skipped quietly
        backend = UserspaceBackend(UserspaceConfig(node_address="127.99.0.1"))
        ports: dict[object, tuple[str, int]] = {}
        try:
            for state in states:
                await backend.sync(state)
                planned = {s for s in plan(state, backend.config).listeners if not s.optional}
                assert set(backend.listeners) == planned
                assert not backend.warnings
                for spec, listener in backend.listeners.items():
                    if spec.kind == "proxy":
                        # a service port keeps its proxy port while it exists
                        assert ports.setdefault(spec, listener.address) == listener.address
                ports = {k: v for k, v in ports.items() if k in planned}
        finally:
            await backend.close()
        assert not backend.listeners

    asyncio.run(run())
