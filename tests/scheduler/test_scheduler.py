"""The scheduler against a real in-process API server: binding, failures users can read,
requeueing on cluster events, profiles by schedulerName."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

from kframe.api import from_dict
from kframe.api.models import Event, Node, Pod
from kframe.apiserver import APIServer
from kframe.client import InProcessClient
from kframe.scheduler import PluginFactory, Scheduler, parse_config
from kframe.store import open_store
from kframe.testing.scheduler import make_node, make_pod
from kframe_plugins.scheduler.defaultbinder import FACTORIES as BINDER
from tests.scheduler import toyplugins as toy

CONFIG = {
    "apiVersion": "kubescheduler.config.k8s.io/v1",
    "kind": "KubeSchedulerConfiguration",
    "profiles": [
        {
            "schedulerName": name,
            "plugins": {
                "multiPoint": {
                    "enabled": [{"name": "Sort"}, {"name": "RejectNode"}, {"name": "ByName"}],
                    "disabled": [{"name": "*"}],
                },
                "bind": {"enabled": [{"name": "DefaultBinder"}]},
            },
            "pluginConfig": [{"name": "RejectNode", "args": {"names": reject}}],
        }
        for name, reject in [("default-scheduler", ["bad1", "bad2"]), ("picky", ["n1", "n2"])]
    ],
}


def _factories() -> Callable[[str], PluginFactory]:
    return toy.lookup({**toy.factories(), **BINDER})


@contextlib.asynccontextmanager
async def cluster() -> AsyncIterator[tuple[InProcessClient, Scheduler]]:
    server = APIServer(await open_store("memory://"), compaction_interval=0)
    await server.bootstrap()
    client = InProcessClient(server)
    scheduler = Scheduler(client, parse_config(CONFIG), _factories(), seed=1)
    task = asyncio.ensure_future(scheduler.run())
    try:
        yield client, scheduler
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        await client.close()
        await server.store.close()


async def eventually(check: Callable[[], Awaitable[Any]], timeout: float = 10) -> Any:
    """Poll until ``check`` returns a truthy value (a deadline, not a timing assertion)."""
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        value = await check()
        if value:
            return value
        assert asyncio.get_running_loop().time() < deadline, "condition not reached"
        await asyncio.sleep(0.02)


def _plain(obj: Any) -> Any:
    # make_pod/make_node set uids; the API server assigns its own.
    from kframe.api import to_dict

    body = to_dict(obj)
    body["metadata"].pop("uid", None)
    return from_dict(body, type(obj))


async def node_of(client: InProcessClient, name: str) -> str | None:
    pod = await client.get(Pod, name, namespace="default")
    return pod.spec.node_name if pod.spec else None


def test_pods_are_bound_to_the_best_feasible_node() -> None:
    async def main() -> None:
        async with cluster() as (client, _):
            for name in ("n1", "n3", "bad1", "n2"):
                await client.create(_plain(make_node(name)))
            await client.create(_plain(make_pod("web")))
            assert await eventually(lambda: node_of(client, "web")) == "n3"
            events = await eventually(lambda: _events(client, "web", "Scheduled"))
            assert events[0].message == "Successfully assigned default/web to n3"
            assert events[0].type == "Normal"

    asyncio.run(main())


async def _events(client: InProcessClient, pod: str, reason: str) -> list[Event]:
    items = (await client.list(Event, namespace="default")).items
    return [
        e
        for e in items
        if e.reason == reason and e.involved_object and e.involved_object.name == pod
    ]


def test_an_unschedulable_pod_gets_the_aggregated_message_then_fits_when_a_node_comes() -> None:
    async def main() -> None:
        async with cluster() as (client, _):
            await client.create(_plain(make_node("bad1")))
            await client.create(_plain(make_node("bad2")))
            await client.create(_plain(make_pod("web")))
            events = await eventually(lambda: _events(client, "web", "FailedScheduling"))
            assert events[0].message == (
                "0/2 nodes are available: 1 rejected bad1, 1 rejected bad2."
            )
            assert events[0].type == "Warning"

            async def condition() -> Any:
                pod = await client.get(Pod, "web", namespace="default")
                conditions = pod.status.conditions if pod.status else ()
                return [c for c in conditions if c.type == "PodScheduled"]

            (cond,) = await eventually(condition)
            assert (cond.status, cond.reason) == ("False", "Unschedulable")
            assert cond.message == events[0].message
            await client.create(_plain(make_node("n7")))
            assert await eventually(lambda: node_of(client, "web")) == "n7"

    asyncio.run(main())


def test_a_second_profile_schedules_the_pods_that_name_it() -> None:
    async def main() -> None:
        async with cluster() as (client, _):
            for name in ("n1", "n2", "n3"):
                await client.create(_plain(make_node(name)))
            await client.create(_plain(make_pod("p", spec={"schedulerName": "picky"})))
            await client.create(_plain(make_pod("q", spec={"schedulerName": "someone-else"})))
            assert await eventually(lambda: node_of(client, "p")) == "n3"
            await asyncio.sleep(0.2)
            assert await node_of(client, "q") is None  # not ours: left alone

    asyncio.run(main())


def test_a_deleted_node_is_no_longer_chosen_and_bound_pods_count() -> None:
    async def main() -> None:
        async with cluster() as (client, scheduler):
            for name in ("n1", "n2"):
                await client.create(_plain(make_node(name)))
            await client.create(_plain(make_pod("a", node="n2")))
            await client.delete(Node, "n2")
            await client.create(_plain(make_pod("b")))
            assert await eventually(lambda: node_of(client, "b")) == "n1"
            assert scheduler.scheduled == 1

    asyncio.run(main())


def test_with_no_nodes_failed_scheduling_says_no_nodes_are_available() -> None:
    async def main() -> None:
        async with cluster() as (client, _):
            await client.create(_plain(make_pod("web")))
            events = await eventually(lambda: _events(client, "web", "FailedScheduling"))
            # Upstream's ErrNoNodesAvailable, not "0/0 nodes are available".
            assert events[0].message == "no nodes available to schedule pods"
            pod = await client.get(Pod, "web", namespace="default")
            conditions = pod.status.conditions if pod.status else ()
            (cond,) = [c for c in conditions if c.type == "PodScheduled"]
            assert (cond.status, cond.reason) == ("False", "Unschedulable")
            await client.create(_plain(make_node("n7")))
            assert await eventually(lambda: node_of(client, "web")) == "n7"

    asyncio.run(main())
