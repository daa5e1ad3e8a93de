"""The route controller's invariant: after one pass the cloud's routes are exactly the nodes'
pod CIDRs (stale, foreign-node and blackhole routes gone), and a second pass changes nothing."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from kframe.api import from_dict
from kframe.api.models import Node
from kframe.cloud import Route
from kframe.cloud.controllers import RouteController
from kframe.controller import ControllerContext, SharedInformers


class _Routes:
    def __init__(self, routes: Sequence[Route]) -> None:
        self.routes = {r.name: r for r in routes}
        self.writes = 0

    async def list_routes(self, cluster_name: str) -> Sequence[Route]:
        return list(self.routes.values())

    async def create_route(self, cluster_name: str, name_hint: str, route: Route) -> None:
        self.writes += 1
        name = f"{route.target_node}-{route.destination_cidr}"
        self.routes[name] = Route(
            name=name, target_node=route.target_node, destination_cidr=route.destination_cidr
        )

    async def delete_route(self, cluster_name: str, route: Route) -> None:
        self.writes += 1
        self.routes.pop(route.name, None)


class _Cloud:
    def __init__(self, routes: _Routes) -> None:
        self._routes = routes

    def routes(self) -> _Routes:
        return self._routes


class _Client:
    """Takes the NetworkUnavailable patches; nothing else is called."""

    async def patch(self, *args: Any, **kwargs: Any) -> None:
        return None


_cidrs = st.integers(0, 15).map(lambda i: f"10.244.{i}.0/24")
_nodes = st.dictionaries(
    st.sampled_from([f"n{i}" for i in range(6)]), st.lists(_cidrs, max_size=2, unique=True)
)
_stale = st.lists(
    st.builds(
        lambda i, node, cidr, hole: Route(
            name=f"old-{i}", target_node=node, destination_cidr=cidr, blackhole=hole
        ),
        st.integers(0, 1000),
        st.sampled_from([f"n{i}" for i in range(8)]),
        _cidrs,
        st.booleans(),
    ),
    max_size=6,
    unique_by=lambda r: r.name,
)
# Duplicates of wanted pairs are the interesting case: make them likely.
_stale = _stale | st.builds(
    lambda i: [
        Route(name=f"dup-{i}-{k}", target_node="n0", destination_cidr="10.244.0.0/24")
        for k in range(2)
    ],
    st.integers(0, 9),
)


@settings(deadline=None)
@given(nodes=_nodes, existing=_stale)
def test_routes_converge_to_the_pod_cidrs_in_one_pass(
    nodes: dict[str, list[str]], existing: list[Route]
) -> None:
    async def body() -> None:
        routes = _Routes(existing)
        client: Any = _Client()
        ctx = ControllerContext("node-route-controller", client, SharedInformers(client))
        controller = RouteController(ctx, _Cloud(routes))  # type: ignore[arg-type]
        for name, cidrs in nodes.items():
            spec = {"podCIDR": cidrs[0], "podCIDRs": cidrs} if cidrs else {}
            controller.nodes.store.put(
                from_dict(
                    {"apiVersion": "v1", "kind": "Node", "metadata": {"name": name}, "spec": spec},
                    Node,
                )
            )
        want = {(n, c) for n, cidrs in nodes.items() for c in cidrs}
        await controller.reconcile("routes")
        live = list(routes.routes.values())
        assert {(r.target_node, r.destination_cidr) for r in live} == want
        assert not any(r.blackhole for r in live)
        assert len(live) == len(want)
        routes.writes = 0
        await controller.reconcile("routes")
        assert routes.writes == 0

    asyncio.run(body())
