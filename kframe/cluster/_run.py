"""Running kframe in the foreground until SIGINT or SIGTERM, then shutting down cleanly."""

from __future__ import annotations

import asyncio
import signal
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path

import attrs

from kframe.apiserver import DEFAULT_ADMISSION_PLUGINS, APIServer
from kframe.cluster._kubeconfig import write_kubeconfig
from kframe.store import open_store

__all__ = ["Settings", "run_apiserver", "run_until_signal", "run_up"]


@attrs.frozen
class Settings:
    """What ``kframe up`` and ``kframe apiserver`` are told on the command line."""

    store: str
    address: str
    port: int
    kubeconfig: Path
    nodes: int = 0
    runtime: str = ""
    compaction_interval: float = 300.0
    admission_plugins: tuple[str, ...] = DEFAULT_ADMISSION_PLUGINS


async def run_until_signal(
    start: Callable[[], Awaitable[None]], stop: Callable[[], Awaitable[None]]
) -> None:
    """``start``, wait for SIGINT/SIGTERM, then ``stop``."""
    loop = asyncio.get_running_loop()
    stopping = asyncio.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stopping.set)
    try:
        await start()
        await stopping.wait()
    finally:
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(sig)
        await stop()


async def _serve(settings: Settings, banner: str) -> None:
    store = await open_store(settings.store)
    server = APIServer(
        store,
        compaction_interval=settings.compaction_interval,
        admission_plugins=settings.admission_plugins,
    )

    async def start() -> None:
        await server.start(settings.address, settings.port)
        write_kubeconfig(settings.kubeconfig, server.url)
        print(f"{banner} listening on {server.url}", flush=True)
        print(f"store: {settings.store}", flush=True)
        print(f"kubeconfig: {settings.kubeconfig}", flush=True)
        print(f"try: kubectl --kubeconfig {settings.kubeconfig} get namespaces", flush=True)

    async def stop() -> None:
        print("shutting down", file=sys.stderr, flush=True)
        try:
            await server.stop()
        finally:
            await store.close()

    await run_until_signal(start, stop)


async def run_apiserver(settings: Settings) -> None:
    """The API server alone."""
    await _serve(settings, "kframe apiserver")


async def run_up(settings: Settings) -> None:
    """The API server and every component that exists so far, in one process.

    The scheduler, controller manager and kubelets join here as their issues land; until then
    ``--nodes`` must be 0.
    """
    if settings.nodes:
        from kframe.registry import build_registry

        runtimes = build_registry().names("runtime")
        raise ValueError(
            f"--nodes {settings.nodes}: kframe has no kubelet yet (container runtimes installed: "
            f"{', '.join(runtimes) or 'none'}); run with --nodes 0"
        )
    await _serve(settings, "kframe up: API server")
