"""The etcd backend against the Store conformance suite, on one real etcd member for the session.

Every store the tests open gets its own key prefix on the shared member, so each starts empty.
"""

from __future__ import annotations

import asyncio
import socket
import time
from collections.abc import Iterator

import pytest

from kframe.store import (
    CompactedError,
    Store,
    StoreError,
    StoreUnavailableError,
    StoreURLError,
    open_store,
)
from kframe.testing import etcd as etcd_testing
from kframe.testing.etcd import EtcdCluster
from kframe.testing.store import StoreConformance, StoreFactory, collect, store_state_machine
from kframe_plugins.store.etcd import EtcdWatch

_shared: list[EtcdCluster] = []


@pytest.fixture(scope="session")
def etcd_server() -> Iterator[EtcdCluster]:
    """One etcd member for the whole session."""
    etcd_testing.require_etcd()
    with EtcdCluster(members=1) as cluster:
        _shared.append(cluster)
        yield cluster
        _shared.clear()


class TestEtcdConformance(StoreConformance):
    @pytest.fixture
    def store_factory(self, etcd_server: EtcdCluster) -> StoreFactory:
        return etcd_testing.store_factory(etcd_server)


async def open_shared_etcd() -> Store:
    return await etcd_testing.store_factory(_shared[0])()


TestEtcdStateMachine = pytest.mark.usefixtures("etcd_server")(
    store_state_machine(open_shared_etcd).TestCase
)


def run(coro: object) -> None:
    asyncio.run(asyncio.wait_for(coro, 60))  # type: ignore[arg-type]


# -- opening ------------------------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _assert_unavailable_quickly(url: str, endpoint: str) -> None:
    async def body() -> None:
        began = time.monotonic()
        with pytest.raises(StoreUnavailableError) as info:
            await open_store(url)
        assert time.monotonic() - began < 6
        message = str(info.value)
        assert endpoint in message and "\n" not in message
        assert info.value.__cause__ is None and info.value.__suppress_context__

    run(body())


def test_nothing_listening_is_unavailable_at_open() -> None:
    port = _free_port()
    _assert_unavailable_quickly(f"etcd://127.0.0.1:{port}", f"127.0.0.1:{port}")


def test_a_port_that_does_not_speak_etcd_is_unavailable_at_open() -> None:
    with socket.socket() as listener:  # accepts connections, never answers
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        port = listener.getsockname()[1]
        _assert_unavailable_quickly(f"etcd://127.0.0.1:{port}/p", f"127.0.0.1:{port}")


def test_unavailable_names_every_endpoint() -> None:
    a, b = _free_port(), _free_port()
    _assert_unavailable_quickly(
        f"etcd://127.0.0.1:{a},127.0.0.1:{b}", f"127.0.0.1:{a},127.0.0.1:{b}"
    )


@pytest.mark.parametrize(
    "url",
    [
        "etcd://",
        "etcd:///prefix",
        "etcd://127.0.0.1:notaport",
        "etcd://127.0.0.1:0",
        "etcd://::1:2379",
        "etcd://127.0.0.1:2379?timeout=0",
        "etcd://127.0.0.1:2379?timeout=soon",
        "etcd://127.0.0.1:2379?colour=blue",
        "etcd://127.0.0.1:2379/p?cacert=/etc/ca.pem",
        "etcd://127.0.0.1:2379?tls=1",
    ],
)
def test_malformed_urls(url: str) -> None:
    async def body() -> None:
        with pytest.raises(StoreURLError):
            await open_store(url)

    run(body())


# -- prefixes -----------------------------------------------------------------------------------


def test_prefixes_keep_stores_apart(etcd_server: EtcdCluster) -> None:
    async def body() -> None:
        a = await open_store(etcd_server.url("/iso/a"))
        ab = await open_store(etcd_server.url("/iso/ab/"))
        raw = await open_store(etcd_server.url())
        try:
            await a.create("/x", b"from a")
            await ab.create("/x", b"from ab")
            assert [kv.key for kv in (await a.list("")).items] == ["/x"]
            assert await a.count("") == 1 and await ab.count("/") == 1
            got = await a.get("/x")
            assert got is not None and got.value == b"from a"
            # Underneath, keys are the prefix followed by the key.
            stored = await raw.list("/iso/")
            assert [(kv.key, kv.value) for kv in stored.items] == [
                ("/iso/a/x", b"from a"),
                ("/iso/ab/x", b"from ab"),
            ]
            with pytest.raises(StoreError, match="must start with '/'"):
                await a.create("x", b"no slash")
            # Without a prefix, any key goes.
            await raw.create("plain", b"1")
            assert (await raw.list("pl")).items[0].key == "plain"
            await raw.delete("plain")
        finally:
            for store in (a, ab, raw):
                await store.close()

    run(body())


# -- etcd specifics -----------------------------------------------------------------------------


def test_watch_from_exactly_the_compacted_revision_fails(etcd_server: EtcdCluster) -> None:
    # etcd itself accepts a watch from its compacted revision; kframe requires one above it.
    async def body() -> None:
        store = await etcd_testing.store_factory(etcd_server)()
        try:
            kv = await store.create("/c", b"1")
            await store.update("/c", b"2", expected_revision=kv.mod_revision)
            at = await store.revision()
            await store.compact(at)
            with pytest.raises(CompactedError) as info:
                await collect(store.watch("/", start_revision=at), 1)
            assert (info.value.requested, info.value.compacted) == (at, at)
            with pytest.raises(CompactedError) as read:
                await store.get("/c", revision=at - 1)
            assert read.value.compacted == at
            got = await store.get("/c", revision=at)
            assert got is not None and got.value == b"2"
            watch = store.watch("/", start_revision=at + 1)
            await store.update("/c", b"3", expected_revision=at)
            assert [e.kv.value for e in await collect(watch, 1)] == [b"3"]
            await watch.close()
        finally:
            await store.close()

    run(body())


def test_compaction_waits_for_watches_to_take_their_history(etcd_server: EtcdCluster) -> None:
    # etcd cancels a watcher it has not yet replayed history to when a compaction passes its
    # start; the store holds compactions back until its watches have caught up.
    async def body() -> None:
        store = await etcd_testing.store_factory(etcd_server)()
        try:
            start = (await store.create("/a/1", b"1")).mod_revision
            await store.create("/a/2", b"2")
            busy = store.watch("/a/", start_revision=start)
            quiet = store.watch("/q/", start_revision=start)  # no history to replay
            assert isinstance(busy, EtcdWatch)
            first = await collect(busy, 1)
            # The replayed history itself shows etcd has caught the watch up.
            assert busy.caught_up()
            collecting = asyncio.ensure_future(collect(quiet, 1))
            await store.compact(await store.revision())
            await store.create("/a/3", b"3")
            await store.create("/q/1", b"q")
            rest = await collect(busy, 2)
            assert [e.kv.key for e in (*first, *rest)] == ["/a/1", "/a/2", "/a/3"]
            assert [e.kv.key for e in await collecting] == ["/q/1"]
            await busy.close()
            await quiet.close()
        finally:
            await store.close()

    run(body())


def test_big_list_is_one_response(etcd_server: EtcdCluster) -> None:
    async def body() -> None:
        store = await etcd_testing.store_factory(etcd_server)()
        try:
            value = b"v" * 100_000
            for i in range(60):  # 6 MB: more than gRPC's default 4 MB message limit
                await store.create(f"/big/{i:03}", value)
            page = await store.list("/big/")
            assert len(page.items) == 60 and not page.more
        finally:
            await store.close()

    run(body())


def test_a_dead_server_makes_requests_and_watches_unavailable() -> None:
    etcd_testing.require_etcd()
    with EtcdCluster(members=1) as cluster:

        async def body() -> None:
            store = await open_store(cluster.url("/dead") + "?timeout=1")
            try:
                await store.create("/a", b"1")
                watch = store.watch("/")
                cluster.kill(0)
                began = time.monotonic()
                with pytest.raises(StoreUnavailableError) as info:
                    await store.get("/a")
                assert cluster.endpoints[0] in str(info.value)
                with pytest.raises(StoreUnavailableError):
                    await collect(watch, 1, timeout=10)
                assert time.monotonic() - began < 8
            finally:
                await store.close()

        run(body())
