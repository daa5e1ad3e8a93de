"""Store URLs and opening a store through the registry."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping

import pytest

from kframe.registry import build_registry, hookimpl
from kframe.store import Store, StoreURL, StoreURLError, open_store, parse_store_url


@pytest.mark.parametrize(
    ("url", "scheme", "hosts", "path", "options"),
    [
        ("memory://", "memory", (), "", {}),
        ("sqlite:///var/lib/kframe/state.db", "sqlite", (), "/var/lib/kframe/state.db", {}),
        ("etcd://127.0.0.1:2379", "etcd", ("127.0.0.1:2379",), "", {}),
        ("etcd://a:1,b:2,c:3/kframe/prod", "etcd", ("a:1", "b:2", "c:3"), "/kframe/prod", {}),
        ("etcd://a:1?timeout=5", "etcd", ("a:1",), "", {"timeout": "5"}),
        (
            "sqlite:///tmp/x.db?durability=relaxed",
            "sqlite",
            (),
            "/tmp/x.db",
            {"durability": "relaxed"},
        ),
        ("SQLite:///a%20b.db", "sqlite", (), "/a b.db", {}),
        ("etcd://h:2379?cacert=/etc/ca.pem", "etcd", ("h:2379",), "", {"cacert": "/etc/ca.pem"}),
    ],
)
def test_parse(
    url: str, scheme: str, hosts: tuple[str, ...], path: str, options: dict[str, str]
) -> None:
    parsed = parse_store_url(url)
    assert (parsed.scheme, parsed.hosts, parsed.path, dict(parsed.options)) == (
        scheme,
        hosts,
        path,
        options,
    )
    assert parsed.raw == url


@pytest.mark.parametrize("url", ["", "memory", "/tmp/x.db", "://x", "my store://x"])
def test_malformed(url: str) -> None:
    with pytest.raises(StoreURLError, match="invalid store URL"):
        parse_store_url(url)


def test_unknown_scheme_lists_installed_backends() -> None:
    with pytest.raises(StoreURLError, match=r"unknown store scheme 'nope' .*memory://"):
        asyncio.run(open_store("nope://x"))


def test_memory_url_takes_nothing_else() -> None:
    with pytest.raises(StoreURLError, match="takes no host"):
        asyncio.run(open_store("memory://somewhere"))


def test_a_third_party_backend_is_opened_by_its_scheme() -> None:
    opened: list[StoreURL] = []

    class Plugin:
        @hookimpl
        def kframe_store_backends(self) -> Mapping[str, object]:
            async def factory(url: StoreURL) -> Store:
                opened.append(url)
                from kframe_plugins.store.memory import MemoryStore

                return MemoryStore()

            return {"mine": factory}

    registry = build_registry(entry_points=False, plugins=[("mine", Plugin())])

    async def main() -> None:
        store = await open_store("mine://h:1/p", registry=registry)
        await store.close()

    asyncio.run(main())
    assert [u.hosts for u in opened] == [("h:1",)]
