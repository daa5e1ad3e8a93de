"""Admission against the Node as it is now, not as it was registered: upstream's kubelet reads
its node lister. A pod selecting a label added after registration runs; one selecting a label
the node never had is still rejected."""

from __future__ import annotations

import asyncio

from kframe.api.models import Node
from tests.kubelet.harness import cluster, pod_body


def test_a_label_added_after_registration_admits_the_pod() -> None:
    async def main() -> None:
        async with cluster() as c:
            node = c.kubelets[0].node_name
            await c.client.patch(
                Node, node, {"metadata": {"labels": {"disk": "ssd"}}}, patch_type="merge"
            )
            await c.create_pod(pod_body("picky", nodeSelector={"disk": "ssd"}))
            await c.eventually(lambda: c.phase("picky", "Running"))
            await c.create_pod(pod_body("pickier", nodeSelector={"disk": "nvme"}))
            pod = await c.eventually(lambda: c.phase("pickier", "Failed"))
            assert pod.status.reason == "NodeAffinity"

    asyncio.run(main())
