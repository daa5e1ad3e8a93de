"""Store URLs (``memory://``, ``sqlite:///path.db``, ``etcd://h:p,h:p/prefix``) and opening one."""

from __future__ import annotations

import urllib.parse
from collections.abc import Mapping
from typing import Protocol

import attrs

from kframe.registry import Registry, UnknownNameError, build_registry
from kframe.store._interface import Store

__all__ = ["StoreFactory", "StoreURL", "StoreURLError", "open_store", "parse_store_url"]


class StoreURLError(ValueError):
    """A store URL that cannot be parsed or names no installed backend."""


@attrs.frozen
class StoreURL:
    """A parsed store URL, handed to the backend's factory.

    ``hosts`` are the ``host:port`` entries of the authority (comma-separated), ``path`` is the
    rest (a file for SQLite, a key prefix for etcd), ``options`` the query parameters.
    """

    raw: str
    scheme: str
    hosts: tuple[str, ...]
    path: str
    options: Mapping[str, str]


class StoreFactory(Protocol):
    """What a backend registers under its scheme with ``kframe_store_backends``."""

    async def __call__(self, url: StoreURL) -> Store: ...


def parse_store_url(url: str) -> StoreURL:
    """Split ``url`` into scheme, hosts, path and options; StoreURLError if it is malformed."""
    if "://" not in url:
        raise StoreURLError(
            f"invalid store URL {url!r}: expected scheme://..., for example memory://, "
            "sqlite:///var/lib/kframe/state.db or etcd://127.0.0.1:2379"
        )
    scheme, rest = url.split("://", 1)
    if not scheme or not scheme.replace("+", "").replace("-", "").isalnum():
        raise StoreURLError(f"invalid store URL {url!r}: bad scheme {scheme!r}")
    rest, _, query = rest.partition("?")  # first: a query may itself contain "/"
    authority, slash, path = rest.partition("/")
    path = slash + path
    hosts = tuple(h for h in authority.split(",") if h)
    try:
        options = dict(urllib.parse.parse_qsl(query, strict_parsing=bool(query)))
    except ValueError:
        raise StoreURLError(f"invalid store URL {url!r}: bad query {query!r}") from None
    return StoreURL(url, scheme.lower(), hosts, urllib.parse.unquote(path), options)


async def open_store(url: str, *, registry: Registry | None = None) -> Store:
    """Open the store ``url`` names, through the backend registered for its scheme.

    Raises StoreURLError for a malformed URL or an unknown scheme; backends raise
    StoreUnavailableError when the store cannot be reached or opened.
    """
    parsed = parse_store_url(url)
    registry = registry if registry is not None else build_registry()
    try:
        entry = registry.get("store", parsed.scheme)
    except UnknownNameError:
        known = ", ".join(f"{s}://" for s in registry.names("store")) or "none installed"
        raise StoreURLError(
            f"unknown store scheme {parsed.scheme!r} in {url!r} (available: {known})"
        ) from None
    factory = entry.factory
    if not callable(factory):
        raise StoreURLError(f"store backend {parsed.scheme!r} from {entry.source} is not callable")
    store: Store = await factory(parsed)
    return store
