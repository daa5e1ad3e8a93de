"""Probes, logs and exec on a fake node: what ``kubectl describe``, ``logs`` and ``exec`` show.

Run: ``python examples/kubelet_probes_exec.py``. An in-process API server and one fake node
whose kubelet serves its HTTP endpoints on a free port. A pod with an exec readinessProbe
becomes Ready; a pod whose liveness probe fails is killed and restarted, with upstream's
events. Then the kubelet's own endpoints, which the API server proxies ``kubectl logs`` and
``kubectl exec`` to: ``/containerLogs`` and an ``/exec`` WebSocket in the
``v5.channel.k8s.io`` framing (first byte: the stream; 3 carries the exit status).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import tempfile
from typing import Any

import aiohttp

from kframe.api import from_dict
from kframe.api.models import Event, Pod
from kframe.apiserver import APIServer
from kframe.client import InProcessClient
from kframe.kubelet import KubeletHost
from kframe.store import open_store

PROBE = {"exec": {"command": ["test", "-f", "/tmp/healthy"]}, "periodSeconds": 1}


def pod(name: str, probes: dict[str, Any], **annotations: str) -> Pod:
    body = {
        "metadata": {
            "name": name,
            "namespace": "default",
            "annotations": {f"fake.kframe.io/{k}": v for k, v in annotations.items()},
        },
        "spec": {
            "nodeName": "node-0",
            "containers": [{"name": "main", "image": "busybox:1.36", **probes}],
        },
    }
    return from_dict(body, Pod)


async def main() -> None:
    server = APIServer(await open_store("memory://"), compaction_interval=0)
    await server.bootstrap()
    client = InProcessClient(server)
    with tempfile.TemporaryDirectory() as data_dir:
        host = KubeletHost(client, nodes=1, runtime="fake", data_dir=data_dir)
        task = asyncio.ensure_future(host.run())
        await host.wait_registered()
        assert host.server is not None  # started by wait_registered
        kubelet = f"127.0.0.1:{host.server.port}"

        await client.create(pod("web", {"readinessProbe": PROBE}))
        failing = {"exec-exit-code": "1", "exec-output": "no /tmp/healthy"}
        await client.create(
            pod("sick", {"livenessProbe": {**PROBE, "failureThreshold": 2}}, **failing)
        )
        await asyncio.sleep(4)

        for item in (await client.list(Pod, namespace="default")).items:
            assert item.metadata and item.status
            (cs,) = item.status.container_statuses
            print(f"{item.metadata.name}: ready={cs.ready} restarts={cs.restart_count}")
        for event in (await client.list(Event, namespace="default")).items:
            assert event.involved_object is not None
            if event.involved_object.name == "sick" and event.reason in ("Unhealthy", "Killing"):
                print(f"  sick event {event.type} {event.reason}: {event.message}")

        async with aiohttp.ClientSession() as http:
            url = f"http://{kubelet}/containerLogs/default/web/main?timestamps=true"
            async with http.get(url) as response:
                print("logs of web:", (await response.text()).strip())
            url = f"ws://{kubelet}/exec/default/web/main?command=echo&command=hello&output=1"
            async with http.ws_connect(url, protocols=("v5.channel.k8s.io",)) as ws:
                async for message in ws:
                    stream, data = message.data[0], message.data[1:]
                    if stream == 1 and data:
                        print("exec stdout:", data.decode().strip())
                    elif stream == 3:
                        print("exec status:", json.loads(data)["status"])

        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
    await client.close()
    await server.store.close()


if __name__ == "__main__":
    asyncio.run(main())
