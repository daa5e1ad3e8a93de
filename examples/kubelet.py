"""Three fake nodes in one process: a pod that runs, one that crash-loops, one that completes.

Run: ``python examples/kubelet.py``. Everything is in-process (API server, kubelets, the fake
runtime); a FakeClock makes a minute of back-off pass in milliseconds.
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

from kframe.api import from_dict
from kframe.api.models import Node, Pod
from kframe.apiserver import APIServer
from kframe.client import FakeClock, InProcessClient
from kframe.kubelet import KubeletHost
from kframe.store import open_store


def pod(name: str, node: str, policy: str = "Always", **annotations: str) -> Pod:
    body: dict[str, Any] = {
        "metadata": {
            "name": name,
            "namespace": "default",
            "annotations": {
                f"fake.kframe.io/{k.replace('_', '-')}": v for k, v in annotations.items()
            },
        },
        "spec": {
            "nodeName": node,
            "restartPolicy": policy,
            "containers": [{"name": "main", "image": "busybox:1.36"}],
        },
    }
    return from_dict(body, Pod)


async def main() -> None:
    server = APIServer(await open_store("memory://"), compaction_interval=0)
    await server.bootstrap()
    client = InProcessClient(server)
    clock = FakeClock()
    host = KubeletHost(client, nodes=3, runtime="fake", clock=clock, serve=False)
    task = asyncio.ensure_future(host.run())
    await host.wait_registered()
    for node in (await client.list(Node)).items:
        assert node.metadata and node.spec and node.status
        ready = next(c for c in node.status.conditions if c.type == "Ready")
        print(f"{node.metadata.name}: Ready={ready.status} podCIDR={node.spec.pod_cidr}")

    await client.create(pod("web", "node-0"))
    await client.create(pod("crash", "node-1", exit_after="1s", exit_code="1"))
    await client.create(pod("job", "node-2", policy="Never", exit_after="5s"))
    for _ in range(120):  # two fake minutes
        clock.advance(1)
        await asyncio.sleep(0.005)

    for item in (await client.list(Pod, namespace="default")).items:
        assert item.metadata and item.status
        (cs,) = item.status.container_statuses
        state = cs.state
        assert state is not None
        if state.waiting:
            what = f"waiting: {state.waiting.reason} ({state.waiting.message})"
        elif state.terminated:
            what = f"terminated: {state.terminated.reason}, exit code {state.terminated.exit_code}"
        else:
            what = "running"
        print(
            f"{item.metadata.name}: {item.status.phase}, ip {item.status.pod_ip}, "
            f"restarts {cs.restart_count}, {what}"
        )
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task
    await client.close()
    await server.store.close()


if __name__ == "__main__":
    asyncio.run(main())
