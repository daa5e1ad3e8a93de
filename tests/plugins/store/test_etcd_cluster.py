"""The etcd backend on a three-member cluster: a store opened with every endpoint rides out a kill.

Watches are re-established, not kept: the stream on the killed member breaks, and the watch opens
a new one on a live member from the revision after its last event, so nothing is lost or repeated.
"""

from __future__ import annotations

import asyncio
import time

from kframe.store import Event, Store, open_store
from kframe.testing.etcd import EtcdCluster, require_etcd
from kframe.testing.store import collect
from kframe_plugins.store.etcd import EtcdWatch


def _member_index(cluster: EtcdCluster, member_id: int) -> int:
    for i, member in enumerate(cluster.members):
        header = member.status().get("header")
        if isinstance(header, dict) and str(header.get("member_id")) == str(member_id):
            return i
    raise AssertionError(f"no member has id {member_id}")


async def _writes(store: Store, first: int, n: int) -> list[tuple[str, str]]:
    """``n`` creates and updates, checked by reads; the (type, key) of each event they cause."""
    expected: list[tuple[str, str]] = []
    for i in range(first, first + n):
        key = f"/k/{i:03}"
        kv = await store.create(key, b"1")
        kv2 = await store.update(key, b"2", expected_revision=kv.mod_revision)
        got = await store.get(key)
        assert got == kv2
        expected += [("PUT", key), ("PUT", key)]
    return expected


def _seen(events: list[Event]) -> list[tuple[str, str]]:
    return [(e.type, e.kv.key) for e in events]


async def _wait_streams(watches: list[EtcdWatch]) -> None:
    async with asyncio.timeout(10):
        while not all(w.member_id for w in watches):
            await asyncio.sleep(0.02)


def test_reads_writes_and_watches_survive_killing_members() -> None:
    require_etcd()
    began = time.monotonic()
    with EtcdCluster(members=3) as cluster:

        async def body() -> None:
            store = await open_store(cluster.url("/failover"))
            try:
                before = await _writes(store, 0, 5)
                # Round-robin spreads the streams over the members.
                watches = [store.watch("/k/", start_revision=1) for _ in range(6)]
                assert all(isinstance(w, EtcdWatch) for w in watches)
                streams = [w for w in watches if isinstance(w, EtcdWatch)]
                await _wait_streams(streams)
                leader = cluster.leader()
                serving = {_member_index(cluster, w.member_id) for w in streams}
                followers = [i for i in serving if i != leader] or [(leader + 1) % 3]

                # 1. A follower dies: requests on it fail over, its watches move.
                victim = followers[0]
                moved = [w for w in streams if _member_index(cluster, w.member_id) == victim]
                cluster.kill(victim)
                after_follower = await _writes(store, 5, 10)
                for watch in streams:
                    events = await collect(watch, len(before) + len(after_follower))
                    assert _seen(events) == before + after_follower
                assert all(w.restarts >= 1 for w in moved)

                # 2. It comes back; then the leader dies and the others elect a new one.
                cluster.restart(victim)
                leader = cluster.leader()
                cluster.kill(leader)
                after_leader = await _writes(store, 15, 10)
                for watch in streams:
                    events = await collect(watch, len(after_leader))
                    assert _seen(events) == after_leader
                assert await store.count("/k/") == 25
            finally:
                await store.close()

        asyncio.run(asyncio.wait_for(body(), 60))
    assert time.monotonic() - began < 30
