"""A proxy backend of your own in forty lines: it renders the desired state as text.

Run: ``python examples/proxy/log_backend.py``. The backend of docs/proxy.md ("Write a proxy
backend") is registered under mode ``log`` with a registry built from this module (a
distribution would point a ``kframe`` entry point at it instead, and then ``kframe proxy --mode
log`` finds it), opened by name, and driven by a Proxy on an in-process API server.
"""

from __future__ import annotations

import asyncio
import contextlib
import sys
from collections.abc import Mapping

from kframe.api import from_dict
from kframe.api.models import EndpointSlice, Service
from kframe.apiserver import APIServer
from kframe.client import InProcessClient
from kframe.proxy import Proxy, ProxyBackend, ProxyOptions, ProxyState, open_backend
from kframe.registry import build_registry, hookimpl
from kframe.store import open_store


def render(state: ProxyState) -> list[str]:
    """Pure: the desired state in, the backend's rules out. The test seam."""
    lines = []
    for name in sorted(state.services):
        svc = state.services[name]
        targets = [str(ep) for ep in state.categorized(name).cluster] or ["reject"]
        lines.append(f"{name} {svc.cluster_ip}:{svc.port}/{svc.protocol} -> {', '.join(targets)}")
    return lines


class LogBackend:
    name = "log"

    def __init__(self, options: ProxyOptions) -> None:
        self.dry_run = options.dry_run
        self.rules: list[str] = []

    async def sync(self, state: ProxyState) -> None:
        self.rules = render(state)
        if not self.dry_run:
            pass  # program the data plane here; raise if that fails

    async def cleanup(self) -> None:
        self.rules = []

    async def close(self) -> None:
        pass


async def open_log_backend(options: ProxyOptions) -> ProxyBackend:
    return LogBackend(options)


@hookimpl
def kframe_proxy_backends() -> Mapping[str, object]:
    return {"log": open_log_backend}


async def main() -> None:
    server = APIServer(await open_store("memory://"), compaction_interval=0)
    await server.bootstrap()
    client = InProcessClient(server)
    service = {"metadata": {"name": "db", "namespace": "default"}}
    await client.create(
        from_dict(
            {**service, "spec": {"clusterIP": "10.96.0.5", "ports": [{"port": 5432}]}}, Service
        )
    )
    await client.create(
        from_dict(
            {
                "metadata": {
                    "name": "db-1",
                    "namespace": "default",
                    "labels": {"kubernetes.io/service-name": "db"},
                },
                "addressType": "IPv4",
                "ports": [{"name": "", "port": 5432, "protocol": "TCP"}],
                "endpoints": [
                    {"addresses": ["10.244.0.8"], "conditions": {"ready": True}},
                    {"addresses": ["10.244.0.9"], "conditions": {"ready": False}},
                ],
            },
            EndpointSlice,
        )
    )
    registry = build_registry(plugins=[("example-log-proxy", sys.modules[__name__])])
    backend = await open_backend("log", ProxyOptions(dry_run=True), registry=registry)
    proxy = Proxy(client, backend)
    task = asyncio.ensure_future(proxy.run())
    try:
        await asyncio.wait_for(proxy.synced.wait(), 10)
        assert isinstance(backend, LogBackend)
        print("\n".join(backend.rules))  # default/db 10.96.0.5:5432/TCP -> 10.244.0.8:5432
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        await server.store.close()


if __name__ == "__main__":
    asyncio.run(main())
