"""An in-process API server over a memory store, and a small JSON client for it."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from typing import Any

import aiohttp
import pytest

from kframe.apiserver import APIServer
from kframe.store import Store, open_store


class Api:
    """Requests against a running APIServer; JSON in, (status, JSON) out."""

    def __init__(self, server: APIServer, session: aiohttp.ClientSession) -> None:
        self.server = server
        self.session = session

    async def call(
        self,
        method: str,
        path: str,
        body: Any = None,
        *,
        content_type: str = "application/json",
        params: dict[str, str] | None = None,
        headers: dict[str, str] | None = None,
    ) -> tuple[int, Any]:
        data = (
            None if body is None else (body if isinstance(body, bytes | str) else json.dumps(body))
        )
        hdrs = {"Content-Type": content_type, **(headers or {})}
        async with self.session.request(
            method, self.server.url + path, data=data, params=params, headers=hdrs
        ) as resp:
            text = await resp.text()
            return resp.status, json.loads(text) if text.strip().startswith(("{", "[")) else text

    async def watch(
        self, path: str, params: dict[str, str], n: int, timeout: float = 10
    ) -> list[dict[str, Any]]:
        events: list[dict[str, Any]] = []
        async with self.session.get(
            self.server.url + path, params={**params, "watch": "true"}
        ) as resp:

            async def read() -> None:
                async for line in resp.content:
                    if line.strip():
                        events.append(json.loads(line))
                        if len(events) == n:
                            return

            await asyncio.wait_for(read(), timeout)
        return events


Scenario = Callable[[Api], Awaitable[None]]


async def _serve(store: Store, scenario: Scenario) -> None:
    server = APIServer(store)
    await server.start("127.0.0.1", 0)
    try:
        async with aiohttp.ClientSession() as session:
            await asyncio.wait_for(scenario(Api(server, session)), 60)
    finally:
        await server.stop()
        await store.close()


@pytest.fixture
def run_api() -> Callable[[Scenario], None]:
    """Run an async scenario against a fresh server over a fresh memory store."""

    def run(scenario: Scenario) -> None:
        async def main() -> None:
            await _serve(await open_store("memory://"), scenario)

        asyncio.run(main())

    return run
