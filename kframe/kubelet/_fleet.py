"""KubeletHost: many kubelets in one process (``kframe up --nodes N``), sharing what they can.

One pod watch feeds all of them (:class:`PodSource`), one kubelet server answers logs, exec and
attach for every hosted node (each Node reports its port; the lookup finds the pod's node),
and each node gets its own runtime from the registry, its pod CIDR (``10.244.<i>.0/24``, then
``10.245.*`` past 256 nodes) and, for runtimes that keep files, a directory of its own.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
from collections.abc import Mapping
from typing import Any

import attrs

from kframe.client import Client, Clock
from kframe.kubelet._config import KubeletConfig
from kframe.kubelet._kubelet import Kubelet
from kframe.kubelet._pods import PodSource
from kframe.kubelet._server import KubeletServer
from kframe.kubelet._summary import kubelet_summaries
from kframe.registry import Registry, build_registry
from kframe.runtime import Runtime, RuntimeOptions, RuntimeService, open_runtime

__all__ = ["KubeletHost", "pod_cidr_for"]

log = logging.getLogger("kframe.kubelet")


def pod_cidr_for(index: int) -> str:
    """The pod CIDR ``kframe up`` gives node ``index``: 10.244.0.0/24, 10.244.1.0/24, ..."""
    return f"10.{244 + index // 256}.{index % 256}.0/24"


class KubeletHost:
    def __init__(
        self,
        client: Client,
        *,
        nodes: int,
        runtime: str = "fake",
        runtime_config: Mapping[str, Any] | None = None,
        data_dir: str = "",
        address: str = "127.0.0.1",
        port: int = 0,
        name_prefix: str = "node-",
        clock: Clock | None = None,
        registry: Registry | None = None,
        serve: bool = True,
        cloud_provider: str = "",
        settings: Mapping[str, Any] | None = None,
    ) -> None:
        self.client = client
        self.count = nodes
        self.runtime_name = runtime
        self.runtime_config = dict(runtime_config or {})
        self.data_dir = data_dir
        self.address = address
        self.port = port
        self.name_prefix = name_prefix
        self.clock = clock
        self.registry = registry
        self.serve = serve
        # "external": every node registers with the cloud's uninitialized taint.
        self.cloud_provider = cloud_provider
        # KubeletConfig fields every hosted node shares (timings, say), checked here.
        self.settings = dict(settings or {})
        attrs.evolve(KubeletConfig(node_name="check"), **self.settings)
        self.kubelets: list[Kubelet] = []
        self._running: dict[str, asyncio.Task[None]] = {}
        self._stopped: set[str] = set()
        self.runtimes: list[Runtime] = []
        self.source = PodSource(client)
        self.server: KubeletServer | None = None

    def node_config(self, index: int, port: int) -> KubeletConfig:
        name = f"{self.name_prefix}{index}"
        node_dir = os.path.join(self.data_dir, "nodes", name) if self.data_dir else ""
        return KubeletConfig(
            node_name=name,
            runtime=self.runtime_name,
            runtime_config=self.runtime_config,
            pod_cidr=pod_cidr_for(index),
            node_ip=self.address,
            # The API server proxies logs and exec to the Hostname address first: all hosted
            # nodes live on this machine, so it must resolve here.
            hostname="localhost" if self.address in ("127.0.0.1", "0.0.0.0") else self.address,
            port=port,
            root_dir=node_dir,
            log_dir=os.path.join(node_dir, "pods") if node_dir else "",
            cloud_provider=self.cloud_provider,
            **self.settings,
        )

    def lookup(
        self, namespace: str, pod: str, container: str
    ) -> tuple[RuntimeService, str, str, str | None]:
        for kubelet in self.kubelets:
            try:
                return kubelet.lookup(namespace, pod, container)
            except KeyError as exc:
                if str(exc.args[0]).startswith("container "):
                    raise  # the pod is on this node, the container is not in it
        raise KeyError(f'pod "{pod}" does not exist')

    async def _start_server(self) -> int:
        if not self.serve:
            return self.port or 10250
        self.server = KubeletServer(
            self.address, self.port, self.lookup, summary=kubelet_summaries(lambda: self.kubelets)
        )
        await self.server.start()
        return self.server.port

    async def run(self) -> None:
        """Open the runtimes, start every kubelet, run until cancelled, then close it all."""
        tasks: list[asyncio.Task[None]] = []
        try:
            port = await self._start_server()
            # One registry for every node: building one reads every entry point.
            registry = self.registry if self.registry is not None else build_registry()
            for index in range(self.count):
                config = self.node_config(index, port)
                if config.root_dir:
                    os.makedirs(config.root_dir, exist_ok=True)
                runtime = await open_runtime(
                    self.runtime_name,
                    RuntimeOptions(
                        node_name=config.node_name,
                        root_dir=config.root_dir,
                        clock=self.clock,
                        config=self.runtime_config,
                    ),
                    registry=registry,
                )
                self.runtimes.append(runtime)
                self.kubelets.append(
                    Kubelet(self.client, runtime, config, clock=self.clock, pods=self.source)
                )
            tasks.append(asyncio.ensure_future(self.source.run()))
            for kubelet in self.kubelets:
                task = asyncio.ensure_future(self._run_kubelet(kubelet))
                self._running[kubelet.config.node_name] = task
                tasks.append(task)
            await asyncio.gather(*tasks)
        finally:
            for task in tasks:
                task.cancel()
            for task in tasks:
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await task
            for runtime in self.runtimes:
                with contextlib.suppress(Exception):
                    await runtime.close()
            if self.server is not None:
                await self.server.stop()

    async def _run_kubelet(self, kubelet: Kubelet) -> None:
        try:
            await kubelet.run()
        except asyncio.CancelledError:
            if kubelet.config.node_name not in self._stopped:
                raise
            # Stopped alone (stop_node): the other nodes run on.

    def running(self) -> list[str]:
        """The nodes whose kubelet runs (not stopped with :meth:`stop_node`)."""
        return [name for name, task in self._running.items() if not task.done()]

    async def stop_node(self, name: str) -> bool:
        """Stop one node's kubelet as if its machine went away: no more heartbeats or status,
        its Node and pods left as they are for the control plane to notice. False if no such
        node runs here."""
        task = self._running.get(name)
        if task is None or task.done():
            return False
        self._stopped.add(name)
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await task
        return True

    async def wait_registered(self) -> None:
        while len(self.kubelets) < self.count:
            await asyncio.sleep(0.01)
        await asyncio.gather(*(k.registered.wait() for k in self.kubelets))
