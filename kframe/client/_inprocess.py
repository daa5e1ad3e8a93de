"""The in-process Client: calls the API server's storage directly, same semantics, no HTTP."""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from typing import Any, TypeVar

from kframe.api import SelectorError, parse_field_selector, parse_label_selector
from kframe.apiserver import APIServer, ListOptions
from kframe.apiserver._errors import bad_request
from kframe.apiserver._subresources import bind
from kframe.client._common import decode, encode, namespace_of, resource_of
from kframe.client._interface import ObjectList, PatchType, WatchEvent

__all__ = ["InProcessClient"]

T = TypeVar("T")


class InProcessClient:
    """A Client for components hosted in the API server's process (``kframe up``)."""

    def __init__(self, server: APIServer) -> None:
        self._server = server

    def _storage(self, cls: type) -> Any:
        r = resource_of(cls)
        return self._server.storage(r.group, r.version, r.plural)

    async def create(self, obj: T, *, namespace: str | None = None, dry_run: bool = False) -> T:
        storage = self._storage(type(obj))
        body = encode(obj)
        ns = namespace_of(storage.resource, body, namespace)
        if storage.resource.plural == "bindings" and not dry_run:
            # As POST .../bindings does over HTTP: a Binding is not stored, it binds its pod.
            pods = self._server.storage("", "v1", "pods")
            return decode(await bind(pods, ns or "default", body), type(obj))
        # ``body`` is this call's own (encoded just now): the storage may change it rather than
        # copy it, and its decoding for validation is the result, rather than decoding again.
        created, typed = await storage.create_typed(
            body, ns, dry_run=dry_run, copy=False, from_model=True
        )
        if type(typed) is type(obj) and not dry_run:
            return typed
        return decode(created, type(obj))

    async def get(self, cls: type[T], name: str, *, namespace: str | None = None) -> T:
        storage = self._storage(cls)
        ns = namespace_of(storage.resource, {}, namespace)
        return _typed(storage, await storage.get(ns, name), cls)

    async def list(
        self,
        cls: type[T],
        *,
        namespace: str | None = None,
        label_selector: str = "",
        field_selector: str = "",
        limit: int = 0,
        continue_token: str = "",
        resource_version: str = "",
    ) -> ObjectList[T]:
        storage = self._storage(cls)
        result = await storage.list(
            namespace,
            _options(label_selector, field_selector, limit, continue_token, resource_version),
        )
        meta = result["metadata"]
        return ObjectList(
            tuple(decode(i, cls) for i in result["items"]),
            meta["resourceVersion"],
            meta.get("continue", ""),
        )

    async def update(self, obj: T, *, subresource: str = "") -> T:
        storage = self._storage(type(obj))
        body = encode(obj)
        name = (body.get("metadata") or {}).get("name")
        if not name:
            raise bad_request("update needs metadata.name")
        ns = namespace_of(storage.resource, body, None)
        updated = await storage.update(body, ns, name, subresource=subresource, from_model=True)
        return decode(updated, type(obj))

    async def patch(
        self,
        cls: type[T],
        name: str,
        patch: Any,
        *,
        namespace: str | None = None,
        patch_type: PatchType = "strategic",
        subresource: str = "",
    ) -> T:
        storage = self._storage(cls)
        ns = namespace_of(storage.resource, {}, namespace)
        patched = await storage.patch(ns, name, patch, patch_type, subresource=subresource)
        return decode(patched, cls)

    async def delete(
        self,
        cls: type[T],
        name: str,
        *,
        namespace: str | None = None,
        propagation_policy: str | None = None,
        preconditions: Mapping[str, str] | None = None,
    ) -> T:
        storage = self._storage(cls)
        ns = namespace_of(storage.resource, {}, namespace)
        deleted = await storage.delete(
            ns, name, preconditions=dict(preconditions or {}), propagation=propagation_policy
        )
        return decode(deleted, cls)

    async def watch(
        self,
        cls: type[T],
        *,
        namespace: str | None = None,
        label_selector: str = "",
        field_selector: str = "",
        resource_version: str = "",
        allow_bookmarks: bool = True,
        timeout_seconds: int = 0,
    ) -> AsyncIterator[WatchEvent[T]]:
        storage = self._storage(cls)
        options = _options(label_selector, field_selector, 0, "", resource_version)
        events = storage.watch(namespace, options, send_initial=False)
        try:
            async for event in events:
                rv = str(event.revision)
                yield WatchEvent(event.type, _typed(storage, event.object, cls), rv, event.object)
        finally:
            await events.aclose()

    async def close(self) -> None:
        return None


def _typed(storage: Any, obj: dict[str, Any], cls: type[T]) -> T:
    """``decode(obj, cls)``, or the model the storage decoded that version to when it wrote it
    (frozen, so shared): a watch event or a read of what was just written is not decoded
    again. A version decoded here is remembered too: the next watcher of the same event (a
    kubelet fleet's pod informer, the scheduler's, ...) takes it as well."""
    typed = storage.recalled(obj)
    if type(typed) is cls:
        return typed
    typed = decode(obj, cls)
    storage.remember(obj, typed)
    return typed


def _options(
    label_selector: str, field_selector: str, limit: int, continue_token: str, resource_version: str
) -> ListOptions:
    try:
        labels = parse_label_selector(label_selector)
        fields = parse_field_selector(field_selector)
    except SelectorError as exc:
        raise bad_request(str(exc)) from None
    return ListOptions(
        label_selector=labels,
        field_selector=fields,
        limit=limit,
        continue_token=continue_token,
        resource_version=resource_version,
    )
