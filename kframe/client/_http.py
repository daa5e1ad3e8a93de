"""The HTTP Client: the same interface over the Kubernetes REST API (aiohttp)."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Mapping
from typing import Any, TypeVar

import aiohttp
import orjson

from kframe.apiserver import APIError, Resource
from kframe.client._common import decode, encode, namespace_of, resource_of, status_error
from kframe.client._interface import ObjectList, PatchType, WatchEvent

__all__ = ["HttpClient"]

T = TypeVar("T")

_PATCH_CONTENT_TYPES = {
    "strategic": "application/strategic-merge-patch+json",
    "merge": "application/merge-patch+json",
    "json": "application/json-patch+json",
}


def _path(
    resource: Resource, namespace: str | None, name: str | None = None, subresource: str = ""
) -> str:
    base = (
        f"/api/{resource.version}"
        if not resource.group
        else (f"/apis/{resource.group}/{resource.version}")
    )
    ns = f"/namespaces/{namespace}" if resource.namespaced and namespace else ""
    path = f"{base}{ns}/{resource.plural}"
    if name is not None:
        path += f"/{name}"
    if subresource:
        path += f"/{subresource}"
    return path


class HttpClient:
    """A Client for a remote API server at ``base_url`` (``http://127.0.0.1:6443``)."""

    def __init__(self, base_url: str, *, session: aiohttp.ClientSession | None = None) -> None:
        self._base = base_url.rstrip("/")
        self._session = session
        self._own_session = session is None

    def _client(self) -> aiohttp.ClientSession:
        if self._session is None:
            self._session = aiohttp.ClientSession(
                connector=aiohttp.TCPConnector(limit=64),
                timeout=aiohttp.ClientTimeout(total=None, sock_connect=10),
            )
        return self._session

    async def _request(
        self,
        method: str,
        path: str,
        *,
        body: Any = None,
        content_type: str = "application/json",
        params: Mapping[str, str] | None = None,
    ) -> dict[str, Any]:
        data = None if body is None else json.dumps(body, separators=(",", ":"))
        headers = {"Content-Type": content_type, "Accept": "application/json"}
        try:
            async with self._client().request(
                method, self._base + path, data=data, params=params, headers=headers
            ) as resp:
                raw = await resp.read()
                payload = orjson.loads(raw) if raw else {}
                if resp.status >= 400:
                    raise status_error(payload if isinstance(payload, dict) else {}, resp.status)
                result: dict[str, Any] = payload
                return result
        except aiohttp.ClientError as exc:
            raise APIError(
                503, "ServiceUnavailable", f"cannot reach the API server at {self._base}: {exc}"
            ) from exc

    async def create(self, obj: T, *, namespace: str | None = None, dry_run: bool = False) -> T:
        resource = resource_of(type(obj))
        body = encode(obj)
        ns = namespace_of(resource, body, namespace)
        params = {"dryRun": "All"} if dry_run else None
        return decode(
            await self._request("POST", _path(resource, ns), body=body, params=params), type(obj)
        )

    async def get(self, cls: type[T], name: str, *, namespace: str | None = None) -> T:
        resource = resource_of(cls)
        return decode(
            await self._request(
                "GET", _path(resource, namespace_of(resource, {}, namespace), name)
            ),
            cls,
        )

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
        resource = resource_of(cls)
        params = {
            k: v
            for k, v in (
                ("labelSelector", label_selector),
                ("fieldSelector", field_selector),
                ("limit", str(limit) if limit else ""),
                ("continue", continue_token),
                ("resourceVersion", resource_version),
            )
            if v
        }
        result = await self._request("GET", _path(resource, namespace), params=params)
        meta = result.get("metadata") or {}
        return ObjectList(
            tuple(decode(i, cls) for i in result.get("items") or []),
            str(meta.get("resourceVersion", "")),
            str(meta.get("continue", "")),
        )

    async def update(self, obj: T, *, subresource: str = "") -> T:
        resource = resource_of(type(obj))
        body = encode(obj)
        name = (body.get("metadata") or {}).get("name")
        if not name:
            raise APIError(400, "BadRequest", "update needs metadata.name")
        path = _path(resource, namespace_of(resource, body, None), name, subresource)
        return decode(await self._request("PUT", path, body=body), type(obj))

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
        resource = resource_of(cls)
        path = _path(resource, namespace_of(resource, {}, namespace), name, subresource)
        return decode(
            await self._request(
                "PATCH", path, body=patch, content_type=_PATCH_CONTENT_TYPES[patch_type]
            ),
            cls,
        )

    async def delete(
        self,
        cls: type[T],
        name: str,
        *,
        namespace: str | None = None,
        propagation_policy: str | None = None,
        preconditions: Mapping[str, str] | None = None,
    ) -> T:
        resource = resource_of(cls)
        options: dict[str, Any] = {"kind": "DeleteOptions", "apiVersion": "v1"}
        if propagation_policy:
            options["propagationPolicy"] = propagation_policy
        if preconditions:
            options["preconditions"] = dict(preconditions)
        path = _path(resource, namespace_of(resource, {}, namespace), name)
        return decode(await self._request("DELETE", path, body=options), cls)

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
        resource = resource_of(cls)
        params = {
            k: v
            for k, v in (
                ("watch", "true"),
                ("labelSelector", label_selector),
                ("fieldSelector", field_selector),
                ("resourceVersion", resource_version),
                ("allowWatchBookmarks", "true" if allow_bookmarks else ""),
                ("timeoutSeconds", str(timeout_seconds) if timeout_seconds else ""),
            )
            if v
        }
        try:
            async with self._client().get(
                self._base + _path(resource, namespace), params=params
            ) as resp:
                if resp.status >= 400:
                    raise status_error(await resp.json(content_type=None), resp.status)
                async for line in resp.content:
                    if not line.strip():
                        continue
                    event = orjson.loads(line)
                    kind, raw = event.get("type"), event.get("object") or {}
                    if kind == "ERROR":
                        raise status_error(raw, int(raw.get("code") or 500))
                    rv = str((raw.get("metadata") or {}).get("resourceVersion", ""))
                    obj = None if kind == "BOOKMARK" else decode(raw, cls)
                    yield WatchEvent(kind, obj, rv, raw)
        except aiohttp.ClientError as exc:
            raise APIError(
                503, "ServiceUnavailable", f"watch to {self._base} failed: {exc}"
            ) from exc

    async def close(self) -> None:
        if self._session is not None and self._own_session:
            await self._session.close()
        self._session = None
