"""A real pod resolves a Service by its short name: the process runtime gives the pod a network
namespace on a bridge and the kubelet's resolv.conf (``--cluster-dns`` at the bridge address,
the ClusterFirst search list, ``ndots:5``); cluster DNS listens on that address, port 53; the
pod's own resolver (glibc, through Python's ``socket``) does the rest. Root with iproute2 only.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from kframe.api import from_dict, models
from kframe.apiserver import APIServer
from kframe.client import InProcessClient
from kframe.dns import ClusterDNS
from kframe.kubelet import Kubelet, KubeletConfig
from kframe.runtime import RuntimeOptions, open_runtime
from kframe.store import open_store
from tests.dns.dns_objects import service

pytestmark = pytest.mark.skipif(
    os.geteuid() != 0 or shutil.which("ip") is None or sys.platform != "linux",
    reason="pod network namespaces need root and iproute2",
)

# A bridge and CIDR of this test's own, so that no other runtime's pods share them.
BRIDGE, GATEWAY, CIDR = "kfdnstest0", "10.244.213.1", "10.244.213.0/24"

SCRIPT = """
import socket, sys
names = ["web", "web.default", "web.default.svc", "web.default.svc.cluster.local"]
found = [socket.gethostbyname(name) for name in names]
print(found)
sys.exit(0 if found == ["10.96.0.80"] * len(names) else 3)
"""


@contextlib.contextmanager
def bridge() -> Iterator[None]:
    # Made up front (the runtime makes it with its first sandbox) so DNS can listen on it.
    subprocess.run(["ip", "link", "add", BRIDGE, "type", "bridge"], check=False)
    try:
        subprocess.run(["ip", "addr", "replace", f"{GATEWAY}/24", "dev", BRIDGE], check=True)
        subprocess.run(["ip", "link", "set", BRIDGE, "up"], check=True)
        yield
    finally:
        subprocess.run(["ip", "link", "del", BRIDGE], check=False, capture_output=True)


def test_a_pod_resolves_a_service_by_its_short_name(tmp_path: Path) -> None:
    async def main() -> None:
        server = APIServer(await open_store("memory://"), compaction_interval=0)
        await server.bootstrap()
        client = InProcessClient(server)
        await client.create(service("web", cluster_ip="10.96.0.80"))
        root = str(tmp_path)
        runtime = await open_runtime(
            "process",
            RuntimeOptions(
                node_name="n0", root_dir=root, config={"network": "bridge", "bridge": BRIDGE}
            ),
        )
        config = KubeletConfig(
            node_name="n0",
            pod_cidr=CIDR,
            root_dir=root,
            log_dir=f"{root}/pods",
            cluster_dns=(GATEWAY,),
            port=0,
        )
        kubelet = Kubelet(client, runtime, config)
        task = asyncio.ensure_future(kubelet.run())
        try:
            async with ClusterDNS(client, host=GATEWAY, port=53).running():
                pod = {
                    "apiVersion": "v1",
                    "kind": "Pod",
                    "metadata": {"name": "resolver", "namespace": "default"},
                    "spec": {
                        "nodeName": "n0",
                        "restartPolicy": "Never",
                        "containers": [
                            {
                                "name": "c",
                                "image": "python:3",
                                "command": [sys.executable, "-c", SCRIPT],
                            }
                        ],
                    },
                }
                await client.create(from_dict(pod, models.Pod))
                deadline = time.monotonic() + 60
                phase = ""
                while phase not in ("Succeeded", "Failed") and time.monotonic() < deadline:
                    await asyncio.sleep(0.1)
                    got = await client.get(models.Pod, "resolver", namespace="default")
                    phase = got.status.phase if got.status else ""
                logs = "".join(p.read_text() for p in (tmp_path / "pods").rglob("*.log"))
                assert phase == "Succeeded", logs
                resolv = next((tmp_path).rglob("resolv.conf")).read_text()
                assert f"nameserver {GATEWAY}\n" in resolv
                assert "search default.svc.cluster.local svc.cluster.local cluster.local" in resolv
                assert "options ndots:5\n" in resolv
        finally:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
            await runtime.close()
            await client.close()
            await server.store.close()

    with bridge():
        asyncio.run(asyncio.wait_for(main(), 90))
