"""A Hypothesis property of the daemonset controller in a control plane: whatever sequence of
label and taint changes the nodes go through, a DaemonSet never has two live pods on one node,
and once the nodes are left alone it has exactly one on each node that should run it (upstream
NodeShouldRunDaemonPod: the node selector fits and no NoExecute taint is untolerated)."""

from __future__ import annotations

import asyncio
from collections import Counter

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kframe.api.models import Pod
from kframe.testing.controllers import ControlPlane, control_plane
from tests.plugins.controllers.test_daemonset import daemon_set, label, pods_of, taint

NODES = ("node-0", "node-1", "node-2")

#: One change to one node: (node, gains the selected label?, gains a NoExecute taint?).
steps = st.lists(
    st.tuples(st.sampled_from(NODES), st.booleans(), st.booleans()), min_size=1, max_size=6
)


def _live_per_node(pods: list[Pod]) -> Counter[str]:
    return Counter(p.spec.node_name or "" for p in pods if p.spec is not None)


async def _check_one_per_node(cp: ControlPlane) -> None:
    per_node = _live_per_node(await pods_of(cp))
    doubled = {node: n for node, n in per_node.items() if node and n > 1}
    assert not doubled, f"two live pods of the DaemonSet on one node: {doubled}"


@settings(
    max_examples=4,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
    derandomize=True,
)
@given(steps)
def test_one_pod_per_eligible_node_whatever_the_nodes_go_through(
    changes: list[tuple[str, bool, bool]],
) -> None:
    async def main() -> None:
        async with control_plane(["daemonset"], nodes=len(NODES), scheduler=True) as cp:
            await cp.client.create(daemon_set(spec={"nodeSelector": {"disk": "ssd"}}))
            state = {node: (False, False) for node in NODES}
            for node, labelled, tainted in changes:
                await label(cp, node, {"disk": "ssd" if labelled else None})
                await taint(
                    cp, node, *([{"key": "gone", "effect": "NoExecute"}] if tainted else [])
                )
                state[node] = (labelled, tainted)
                await asyncio.sleep(0.05)  # let the controller act between changes
                await _check_one_per_node(cp)
            eligible = sorted(
                n for n, (labelled, tainted) in state.items() if labelled and not tainted
            )

            async def settled() -> bool:
                await _check_one_per_node(cp)
                placed = _live_per_node(await pods_of(cp))
                return sorted(n for n in placed if n) == eligible and all(
                    v == 1 for v in placed.values()
                )

            await cp.wait_for(settled, what=f"one pod on each of {eligible}")

    asyncio.run(main())
