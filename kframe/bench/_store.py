"""``kframe bench store``: the same sequential workload against each store URL.

Every store gets the same work with its own durability settings left as configured (SQLite and
etcd acknowledge a write only once it is on disk): sequential creates, updates and gets by one
client, one list of the whole key set, and the delivery latency of writes to many watchers. All
keys live under a fresh prefix and are attached to one lease, revoked at the end, so a shared
etcd is left as it was.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time
import uuid
from typing import Any

from kframe.bench._stats import percentile, positive_int, rate
from kframe.store import Store, Watch, open_store

__all__ = ["StoreBench"]


async def _bench_one(url: str, keys: int, gets: int, watchers: int, writes: int) -> dict[str, Any]:
    store = await open_store(url)
    try:
        return await _workload(store, url, keys, gets, watchers, writes)
    finally:
        await store.close()


async def _workload(
    store: Store, url: str, keys: int, gets: int, watchers: int, writes: int
) -> dict[str, Any]:
    prefix = f"/kframe-bench/{uuid.uuid4().hex[:8]}/"
    lease = await store.grant_lease(3600)
    value = b"x" * 512  # about the size of a small Kubernetes object

    start = time.perf_counter()
    created = [await store.create(f"{prefix}k/{i:06}", value, lease=lease.id) for i in range(keys)]
    create_s = time.perf_counter() - start

    start = time.perf_counter()
    for kv in created:
        await store.update(kv.key, value, expected_revision=kv.mod_revision, lease=lease.id)
    update_s = time.perf_counter() - start

    start = time.perf_counter()
    for i in range(gets):
        await store.get(created[i % keys].key)
    get_s = time.perf_counter() - start

    start = time.perf_counter()
    listed = await store.list(f"{prefix}k/")
    list_ms = (time.perf_counter() - start) * 1000
    if len(listed.items) != keys:
        raise RuntimeError(f"{url}: listed {len(listed.items)} keys, expected {keys}")

    latencies = await _watch_latency(store, f"{prefix}w/", watchers, writes, lease.id)
    await store.revoke_lease(lease.id)
    return {
        "store": url,
        "keys": keys,
        "create_per_s": rate(keys, create_s),
        "update_per_s": rate(keys, update_s),
        "get_per_s": rate(gets, get_s),
        f"list_{keys // 1000}k_ms" if keys % 1000 == 0 else "list_ms": round(list_ms, 2),
        "watchers": watchers,
        "watch_p50_ms": round(percentile(latencies, 50), 3),
        "watch_p99_ms": round(percentile(latencies, 99), 3),
    }


async def _watch_latency(
    store: Store, prefix: str, watchers: int, writes: int, lease: int
) -> list[float]:
    sent: dict[str, float] = {}
    latencies: list[float] = []

    async def consume(watch: Watch) -> None:
        seen = 0
        async for event in watch:
            latencies.append((time.perf_counter() - sent[event.kv.key]) * 1000)
            seen += 1
            if seen == writes:
                return

    watches = [store.watch(prefix) for _ in range(watchers)]
    tasks = [asyncio.create_task(consume(w)) for w in watches]
    await asyncio.sleep(0.2)  # let remote watches (etcd) be established before writing
    for i in range(writes):
        key = f"{prefix}{i:06}"
        sent[key] = time.perf_counter()
        await store.create(key, b"w", lease=lease)
        await asyncio.sleep(0.005)  # a steady trickle, not one burst
    try:
        await asyncio.wait_for(asyncio.gather(*tasks), timeout=60)
    finally:
        for w in watches:
            await w.close()
    return latencies


_COLUMNS = (
    ("create_per_s", "create/s"),
    ("update_per_s", "update/s"),
    ("get_per_s", "get/s"),
    ("list_10k_ms", "list 10k ms"),
    ("watch_p99_ms", "watch p99 ms"),
)


def _list_value(result: dict[str, Any], key: str) -> Any:
    # The list column is named for the key count (list_10k_ms, list_1k_ms).
    if key.startswith("list_"):
        return next((v for k, v in result.items() if k.startswith("list_")), "-")
    return "-"


def _table(results: list[dict[str, Any]]) -> str:
    header = ["store", *(title for _, title in _COLUMNS)]
    rows = [[r["store"], *(str(r.get(k, _list_value(r, k))) for k, _ in _COLUMNS)] for r in results]
    widths = [max(len(row[i]) for row in [header, *rows]) for i in range(len(header))]
    return "\n".join(
        "  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip()
        for row in [header, *rows]
    )


class StoreBench:
    """The ``store`` target of ``kframe bench``."""

    help = "sequential store workload (create, update, get, list, watch) per store URL"

    def configure(self, parser: argparse.ArgumentParser) -> None:
        parser.add_argument(
            "--store",
            action="append",
            required=True,
            metavar="URL",
            help="a store URL (repeat to compare stores side by side)",
        )
        count = positive_int
        parser.add_argument("--keys", type=count, default=10_000, help="keys created and listed")
        parser.add_argument("--gets", type=count, default=100_000, help="sequential gets")
        parser.add_argument("--watchers", type=count, default=100, help="concurrent watches")
        parser.add_argument("--writes", type=count, default=200, help="writes the watchers see")

    def run(self, args: argparse.Namespace) -> int:
        results = []
        for url in args.store:
            result = asyncio.run(_bench_one(url, args.keys, args.gets, args.watchers, args.writes))
            print(json.dumps(result), flush=True)
            results.append(result)
        print(_table(results), file=sys.stderr)
        return 0
