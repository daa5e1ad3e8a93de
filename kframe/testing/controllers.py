"""An in-process control plane for controller tests: API server, controller manager, optionally
the scheduler and fake-runtime kubelets, all on one event loop.

::

    async with control_plane(["replicaset"], nodes=3, scheduler=True) as cp:
        await cp.client.create(replica_set)
        await cp.wait_for(lambda: ..., timeout=30)
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from typing import Any

import attrs

from kframe.apiserver import APIServer
from kframe.client import Client, InProcessClient
from kframe.controller import ControllerManager, registered_controllers
from kframe.store import open_store

__all__ = ["ControlPlane", "control_plane", "wait_for"]


async def wait_for(
    condition: Callable[[], Any | Awaitable[Any]],
    *,
    timeout: float = 30.0,
    interval: float = 0.02,
    what: str = "",
) -> Any:
    """Poll ``condition`` (plain or async) until it returns something truthy; return that.
    Raises AssertionError naming ``what`` after ``timeout`` seconds."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    last: Any = None
    while True:
        last = condition()
        if inspect.isawaitable(last):
            last = await last
        if last:
            return last
        if loop.time() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what or condition}")
        await asyncio.sleep(interval)


async def _until_ready(
    ready: Awaitable[Any], task: asyncio.Task[None], what: str, timeout: float = 60.0
) -> None:
    """Wait for ``ready`` while ``task`` runs: if the task ends first (a controller's build
    raised, say), raise its error at once rather than waiting out the timeout."""
    waiter = asyncio.ensure_future(ready)
    try:
        done, _ = await asyncio.wait(
            {waiter, task}, timeout=timeout, return_when=asyncio.FIRST_COMPLETED
        )
    finally:
        waiter.cancel()
    if waiter in done:
        return
    if task in done:
        error = None if task.cancelled() else task.exception()
        if error is not None:
            raise error
        raise RuntimeError(f"{what} stopped before it was ready")
    raise TimeoutError(f"{what} not ready after {timeout:g} s")


@attrs.define
class ControlPlane:
    server: APIServer
    client: Client
    manager: ControllerManager
    kubelets: Any = None  #: the KubeletHost, when nodes > 0
    tasks: list[asyncio.Task[None]] = attrs.field(factory=list)

    async def wait_for(
        self,
        condition: Callable[[], Any | Awaitable[Any]],
        *,
        timeout: float = 30.0,
        what: str = "",
    ) -> Any:
        return await wait_for(condition, timeout=timeout, what=what)


@contextlib.asynccontextmanager
async def control_plane(
    controllers: Sequence[str] = ("*",),
    *,
    nodes: int = 0,
    scheduler: bool = False,
    options: Mapping[str, str] | None = None,
    workers: Mapping[str, int] | None = None,
    runtime: str = "fake",
    runtime_config: Mapping[str, Any] | None = None,
    specs: Mapping[str, Any] | None = None,
    store: str = "memory://",
    kubelet: Mapping[str, Any] | None = None,
) -> AsyncIterator[ControlPlane]:
    """Everything runs until the block ends. ``specs`` replaces the installed controllers
    (for a controller under test that is not registered); ``nodes`` fake kubelets
    (``node-0`` ...) are registered before the block starts, with ``kubelet`` as
    KubeletConfig fields (``node_lease_duration_seconds`` to heartbeat within a short
    ``node-monitor-grace-period``, say)."""
    server = APIServer(await open_store(store), compaction_interval=0)
    await server.bootstrap()
    client = InProcessClient(server)
    manager = ControllerManager(
        client,
        registered_controllers() if specs is None else specs,
        controllers=controllers,
        options=options,
        workers=workers,
    )
    cp = ControlPlane(server, client, manager)
    try:
        if scheduler:
            from kframe.registry import build_registry
            from kframe.scheduler import Scheduler, load_config, registry_factories

            sched = Scheduler(
                InProcessClient(server), load_config(None), registry_factories(build_registry())
            )
            cp.tasks.append(asyncio.ensure_future(sched.run()))
        if nodes:
            from kframe.kubelet import KubeletHost

            host = KubeletHost(
                InProcessClient(server),
                nodes=nodes,
                runtime=runtime,
                runtime_config=runtime_config,
                serve=False,
                settings=kubelet,
            )
            cp.kubelets = host
            cp.tasks.append(asyncio.ensure_future(host.run()))
            await asyncio.wait_for(host.wait_registered(), 60)
        running = asyncio.ensure_future(manager.run())
        cp.tasks.append(running)
        await _until_ready(manager.synced.wait(), running, "the controller manager")
        yield cp
    finally:
        for task in cp.tasks:
            task.cancel()
        for task in cp.tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        await client.close()
        await server.store.close()
