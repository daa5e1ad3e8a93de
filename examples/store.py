"""Open a store by URL, write with optimistic concurrency, and watch the changes.

Run: .venv/bin/python examples/store.py [STORE_URL]   (default memory://)
"""

from __future__ import annotations

import asyncio
import sys

from kframe.store import ConflictError, open_store


async def main(url: str) -> None:
    store = await open_store(url)
    try:
        watch = store.watch("/registry/configmaps/")
        kv = await store.create("/registry/configmaps/default/demo", b'{"data": 1}')
        updated = await store.update(kv.key, b'{"data": 2}', expected_revision=kv.mod_revision)
        try:  # a writer holding the old revision loses
            await store.update(kv.key, b'{"data": 3}', expected_revision=kv.mod_revision)
        except ConflictError as exc:
            print("conflict:", exc)
        await store.delete(kv.key, expected_revision=updated.mod_revision)
        seen = 0
        async for event in watch:
            print(event.type, event.kv.key, "at revision", event.revision)
            seen += 1
            if seen == 3:
                break
        await watch.close()
    finally:
        await store.close()


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1] if len(sys.argv) > 1 else "memory://"))
