"""An in-process API server, fake-runtime kubelets and a FakeClock, for the kubelet tests."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from typing import Any

import attrs

from kframe.api import from_dict
from kframe.api.models import Pod
from kframe.apiserver import APIServer
from kframe.client import FakeClock, InProcessClient
from kframe.kubelet import Kubelet, KubeletConfig, PodSource
from kframe.runtime import Runtime, RuntimeOptions, open_runtime
from kframe.store import open_store


class RecordingRuntime:
    """A runtime whose RuntimeService remembers every ContainerConfig it was asked to create."""

    def __init__(self, inner: Runtime) -> None:
        self.inner = inner
        self.created: list[Any] = []
        self.execs: list[tuple[str, tuple[str, ...]]] = []
        self.stops: list[tuple[str, int]] = []
        outer = self

        class _Service:
            def __getattr__(self, name: str) -> Any:
                return getattr(inner.runtime_service, name)

            async def create_container(self, sandbox_id: str, config: Any, sandbox: Any) -> str:
                outer.created.append(config)
                return await inner.runtime_service.create_container(sandbox_id, config, sandbox)

            async def stop_container(self, container_id: str, timeout: int) -> None:
                outer.stops.append((container_id, timeout))
                await inner.runtime_service.stop_container(container_id, timeout)

            async def exec_sync(self, container_id: str, cmd: Any, timeout: int = 0) -> Any:
                outer.execs.append((container_id, tuple(cmd)))
                return await inner.runtime_service.exec_sync(container_id, cmd, timeout)

        self._service = _Service()

    @property
    def name(self) -> str:
        return self.inner.name

    @property
    def runtime_service(self) -> Any:
        return self._service

    @property
    def image_service(self) -> Any:
        return self.inner.image_service

    @property
    def capabilities(self) -> Any:
        return self.inner.capabilities

    async def close(self) -> None:
        await self.inner.close()

    def env(self, container: str) -> dict[str, str]:
        config = [c for c in self.created if c.metadata.name == container][-1]
        return {kv.key: kv.value for kv in config.envs}


@attrs.define
class Cluster:
    server: APIServer
    client: InProcessClient
    clock: FakeClock
    kubelets: list[Kubelet]
    runtimes: list[RecordingRuntime]

    async def settle(self, rounds: int = 5) -> None:
        for _ in range(rounds):
            await asyncio.sleep(0.001)

    async def advance(self, seconds: float, step: float = 1.0) -> None:
        """Move the clock on in steps, letting the kubelets work between them."""
        moved = 0.0
        while moved < seconds:
            delta = min(step, seconds - moved)
            self.clock.advance(delta)
            moved += delta
            await self.settle()

    async def eventually(
        self, check: Callable[[], Awaitable[Any]], *, limit: float = 120.0, step: float = 0.5
    ) -> Any:
        """Advance the fake clock until ``check`` is truthy (at most ``limit`` fake seconds)."""
        waited = 0.0
        for _ in range(200):  # real rounds before any clock move: watches and writes settle
            value = await check()
            if value:
                return value
            await self.settle(1)
            if _ > 20:
                break
        while True:
            value = await check()
            if value:
                return value
            assert waited <= limit, "condition not reached"
            await self.advance(step, step)
            waited += step

    async def phase(self, name: str, want: str) -> Pod | None:
        pod = await self.pod(name)
        return pod if pod.status is not None and pod.status.phase == want else None

    async def container(self, name: str, container: str = "c") -> Any:
        pod = await self.pod(name)
        st = pod.status
        for cs in (
            *(st.container_statuses if st else ()),
            *(st.init_container_statuses if st else ()),
        ):
            if cs.name == container:
                return cs
        return None

    async def pod(self, name: str, namespace: str = "default") -> Pod:
        return await self.client.get(Pod, name, namespace=namespace)

    async def create_pod(self, body: Mapping[str, Any]) -> Pod:
        return await self.client.create(from_dict(dict(body), Pod))


def pod_body(
    name: str,
    node: str = "node-0",
    *,
    containers: list[dict[str, Any]] | None = None,
    **spec: Any,
) -> dict[str, Any]:
    annotations = spec.pop("annotations", {})
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": name, "namespace": "default", "annotations": annotations},
        "spec": {
            "nodeName": node,
            "containers": containers or [{"name": "c", "image": "busybox:1.36"}],
            **spec,
        },
    }


@contextlib.asynccontextmanager
async def cluster(
    nodes: int = 1,
    *,
    runtime_config: Mapping[str, Any] | None = None,
    shared: bool = True,
    **config: Any,
) -> AsyncIterator[Cluster]:
    server = APIServer(await open_store("memory://"), compaction_interval=0)
    await server.bootstrap()
    client = InProcessClient(server)
    clock = FakeClock()
    source = PodSource(client) if shared else None
    kubelets, runtimes = [], []
    for i in range(nodes):
        name = f"node-{i}"
        runtime = RecordingRuntime(
            await open_runtime(
                "fake",
                RuntimeOptions(node_name=name, clock=clock, config=dict(runtime_config or {})),
            )
        )
        runtimes.append(runtime)
        cfg = KubeletConfig(node_name=name, pod_cidr=f"10.244.{i}.0/24", **config)
        kubelets.append(Kubelet(client, runtime, cfg, clock=clock, pods=source))  # type: ignore[arg-type]
    tasks = [asyncio.ensure_future(k.run()) for k in kubelets]
    if source is not None:
        tasks.append(asyncio.ensure_future(source.run()))
    try:
        for k in kubelets:
            await asyncio.wait_for(k.registered.wait(), 30)
        yield Cluster(server, client, clock, kubelets, runtimes)
    finally:
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        for runtime in runtimes:
            await runtime.close()
        await client.close()
        await server.store.close()
