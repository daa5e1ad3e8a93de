"""The HTTP front end: Kubernetes REST over aiohttp, with streaming watches.

Handlers translate HTTP into :class:`ObjectStorage` calls and every failure into a ``Status``
response. Bodies are JSON or YAML; responses are JSON, or a ``meta.k8s.io/v1 Table`` when the
client asks for one (``kubectl get``).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import re
from collections.abc import Awaitable, Callable
from typing import Any

import yaml
from aiohttp import web

from kframe.api import (
    DecodeError,
    SelectorError,
    decode_protobuf,
    parse_field_selector,
    parse_label_selector,
)
from kframe.apiserver import _errors as errors
from kframe.apiserver._discovery import (
    api_group,
    api_group_list,
    api_resource_list,
    api_versions,
    group_versions,
)
from kframe.apiserver._json import dumps, json_response
from kframe.apiserver._meta import metadata
from kframe.apiserver._node_proxy import NodeProxy
from kframe.apiserver._patch import PatchError, json_patch, merge_patch, patch_error
from kframe.apiserver._paths import Target, parse_resource_path
from kframe.apiserver._resources import Resource
from kframe.apiserver._storage import INITIAL_EVENTS_END, ListOptions, ObjectStorage, WatchEvent
from kframe.apiserver._subresources import bind, evict, get_scale, update_scale
from kframe.apiserver._table import table

__all__ = ["Handlers"]

log = logging.getLogger("kframe.apiserver")

PATCH_TYPES = (
    "application/json-patch+json",
    "application/merge-patch+json",
    "application/strategic-merge-patch+json",
)
PROTOBUF = "application/vnd.kubernetes.protobuf"
# kubectl 1.32+ sends protobuf bodies for its typed commands (create deployment, ...).
BODY_TYPES = ("application/json", "application/yaml", PROTOBUF)
_PATCH_KINDS = {
    "application/json-patch+json": "json",
    "application/merge-patch+json": "merge",
    "application/strategic-merge-patch+json": "strategic",
}
# How often an idle watch with allowWatchBookmarks gets a BOOKMARK (upstream: about a minute).
BOOKMARK_INTERVAL = 30.0


def _status_response(exc: errors.APIError) -> web.Response:
    headers = {"Retry-After": str(exc.retry_after)} if exc.retry_after is not None else None
    return json_response(exc.to_status(), status=exc.code, headers=headers)


def _wants_table(request: web.Request) -> bool:
    return "as=Table" in request.headers.get("Accept", "")


def _flag(request: web.Request, name: str) -> bool:
    return request.query.get(name, "").lower() in ("true", "1")


class Handlers:
    """Routes and handlers over one set of storages."""

    def __init__(
        self,
        storages: dict[tuple[str, str, str], ObjectStorage],
        server_address: Callable[[], str],
    ) -> None:
        self.storages = storages
        self.resources = [s.resource for s in storages.values()]
        self._by_gv: dict[tuple[str, str], dict[str, Resource]] = {}
        for r in self.resources:
            self._by_gv.setdefault((r.group, r.version), {})[r.plural] = r
        self._pods = storages[("", "v1", "pods")]
        self._budgets = storages[("policy", "v1", "poddisruptionbudgets")]
        self.node_proxy = NodeProxy(self._pods, storages[("", "v1", "nodes")])
        self._server_address = server_address
        #: Set when the server shuts down: open watches end so the shutdown can drain.
        self.stopping = asyncio.Event()

    def routes(self, app: web.Application) -> None:
        app.router.add_get("/api", self._guard(self.core_versions))
        app.router.add_get("/apis", self._guard(self.groups))
        app.router.add_route("*", "/api/{version}", self._guard(self.core_discovery))
        app.router.add_route("*", "/api/{version}/{rest:.+}", self._guard(self.core_resource))
        app.router.add_route("*", "/apis/{group}", self._guard(self.group_discovery))
        app.router.add_route("*", "/apis/{group}/{version}", self._guard(self.gv_discovery))
        app.router.add_route(
            "*", "/apis/{group}/{version}/{rest:.+}", self._guard(self.group_resource)
        )

    @staticmethod
    def _guard(
        handler: Callable[[web.Request], Awaitable[web.StreamResponse]],
    ) -> Callable[[web.Request], Awaitable[web.StreamResponse]]:
        async def guarded(request: web.Request) -> web.StreamResponse:
            try:
                return await handler(request)
            except errors.APIError as exc:
                return _status_response(exc)
            except (ConnectionResetError, asyncio.CancelledError):
                raise
            except Exception as exc:  # a bug of ours: a Status, never a stack trace on the wire
                log.exception("internal error serving %s %s", request.method, request.path)
                return _status_response(errors.internal_error(f"{type(exc).__name__}: {exc}"))

        return guarded

    # -- discovery ------------------------------------------------------------------------------

    async def core_versions(self, request: web.Request) -> web.StreamResponse:
        return json_response(api_versions(self._server_address()))

    async def groups(self, request: web.Request) -> web.StreamResponse:
        return json_response(api_group_list(self.resources))

    async def core_discovery(self, request: web.Request) -> web.StreamResponse:
        if request.match_info["version"] != "v1" or request.method != "GET":
            raise errors.APIError(
                404, "NotFound", "the server could not find the requested resource"
            )
        return json_response(api_resource_list(self.resources, "", "v1"))

    async def group_discovery(self, request: web.Request) -> web.StreamResponse:
        versions = group_versions(self.resources).get(request.match_info["group"])
        if not versions or request.method != "GET" or not request.match_info["group"]:
            raise errors.APIError(
                404, "NotFound", "the server could not find the requested resource"
            )
        return json_response(api_group(request.match_info["group"], versions))

    async def gv_discovery(self, request: web.Request) -> web.StreamResponse:
        group, version = request.match_info["group"], request.match_info["version"]
        if (group, version) not in self._by_gv or request.method != "GET":
            raise errors.APIError(
                404, "NotFound", "the server could not find the requested resource"
            )
        return json_response(api_resource_list(self.resources, group, version))

    # -- resources ------------------------------------------------------------------------------

    async def core_resource(self, request: web.Request) -> web.StreamResponse:
        return await self._resource(request, "", request.match_info["version"])

    async def group_resource(self, request: web.Request) -> web.StreamResponse:
        return await self._resource(
            request, request.match_info["group"], request.match_info["version"]
        )

    async def _resource(self, request: web.Request, group: str, version: str) -> web.StreamResponse:
        plurals = self._by_gv.get((group, version))
        if plurals is None:
            raise errors.APIError(
                404, "NotFound", "the server could not find the requested resource"
            )
        target = parse_resource_path(plurals, request.match_info["rest"].split("/"))
        storage = self.storages[
            (target.resource.group, target.resource.version, target.resource.plural)
        ]
        method = request.method
        if target.name is None:
            if method == "GET":
                if _flag(request, "watch"):
                    return await self._watch(request, storage, target)
                return await self._list(request, storage, target)
            if method == "POST" and target.resource.plural == "bindings":
                assert target.namespace is not None
                return json_response(
                    await bind(self._pods, target.namespace, await self._object_body(request)),
                    status=201,
                )
            if method == "POST":
                return await self._create(request, storage, target)
            if method == "DELETE":
                return await self._delete_collection(request, storage, target)
            raise errors.method_not_allowed()
        if target.subresource in ("scale", "binding", "eviction"):
            return await self._special_subresource(request, storage, target)
        if storage is self._pods and target.subresource in ("log", "exec", "attach"):
            assert target.namespace is not None
            if target.subresource == "log":
                return await self.node_proxy.log(request, target.namespace, target.name)
            return await self.node_proxy.stream(
                request, target.namespace, target.name, target.subresource
            )
        if target.subresource == "finalize":
            # Upstream's FinalizeREST is an Updater only (namespaces/{name}/finalize).
            if method != "PUT":
                raise errors.method_not_allowed()
            return await self._update(request, storage, target)
        if target.subresource not in ("", "status"):
            raise errors.APIError(
                501,
                "NotImplemented",
                f"the {target.resource.plural}/{target.subresource} subresource is not "
                "implemented yet",
            )
        if method == "GET":
            return self._object_response(
                request, storage, await storage.get(target.namespace, target.name)
            )
        if method == "PUT":
            return await self._update(request, storage, target)
        if method == "PATCH":
            return await self._patch(request, storage, target)
        if method == "DELETE" and not target.subresource:
            return await self._delete(request, storage, target)
        raise errors.method_not_allowed()

    async def _special_subresource(
        self, request: web.Request, storage: ObjectStorage, target: Target
    ) -> web.StreamResponse:
        assert target.name is not None
        method, ns, name = request.method, target.namespace, target.name
        if target.subresource == "scale":
            if method == "GET":
                return json_response(await get_scale(storage, ns, name))
            if method == "PUT":
                scale = await self._object_body(request)
            elif method == "PATCH":
                patch_type = request.content_type if "Content-Type" in request.headers else ""
                if patch_type not in PATCH_TYPES:
                    raise errors.unsupported_media_type(patch_type, PATCH_TYPES)
                current = await get_scale(storage, ns, name)
                scale = _apply_plain_patch(
                    current, await self._body(request, PATCH_TYPES), _PATCH_KINDS[patch_type]
                )
                metadata(scale)["resourceVersion"] = metadata(current)["resourceVersion"]
            else:
                raise errors.method_not_allowed()
            return json_response(await update_scale(storage, ns, name, scale))
        if method != "POST" or ns is None:
            raise errors.method_not_allowed()
        body = await self._object_body(request)
        if target.subresource == "binding":
            return json_response(await bind(storage, ns, body, name), status=201)
        dry_run = request.query.get("dryRun") == "All"
        return json_response(
            await evict(storage, self._budgets, ns, name, body, dry_run=dry_run), status=201
        )

    def _object_response(
        self,
        request: web.Request,
        storage: ObjectStorage,
        obj: dict[str, Any],
        status: int = 200,
        warnings: list[str] | None = None,
    ) -> web.Response:
        body = obj
        if _wants_table(request):
            body = table(
                storage.resource,
                [obj],
                resource_version=metadata(obj).get("resourceVersion", ""),
                include_object=request.query.get("includeObject", ""),
            )
        headers = {"Warning": ", ".join(f'299 - "{w}"' for w in warnings)} if warnings else None
        return json_response(body, status=status, headers=headers)

    async def _body(self, request: web.Request, allowed: tuple[str, ...] = BODY_TYPES) -> Any:
        # No Content-Type means the server's first media type, JSON, as upstream negotiates it.
        content_type = request.content_type if "Content-Type" in request.headers else allowed[0]
        if content_type not in allowed:
            raise errors.unsupported_media_type(content_type, allowed)
        raw = await request.read()
        try:
            if content_type == PROTOBUF:
                return decode_protobuf(raw)
            loaded = yaml.safe_load(raw) if content_type == "application/yaml" else json.loads(raw)
            return _mend_surrogates(loaded) if _SURROGATE_ESCAPE.search(raw) else loaded
        except DecodeError as exc:
            raise errors.bad_request(f"the body of the request could not be decoded: {exc}") from (
                None
            )
        except (ValueError, yaml.YAMLError) as exc:
            raise errors.bad_request(f"the body of the request could not be decoded: {exc}") from (
                None
            )

    async def _object_body(self, request: web.Request) -> dict[str, Any]:
        body = await self._body(request)
        if not isinstance(body, dict):
            raise errors.bad_request("the body of the request must be a JSON object")
        return body

    @staticmethod
    def _validation(request: web.Request) -> bool:
        mode = request.query.get("fieldValidation", "Warn")
        if mode not in ("Strict", "Warn", "Ignore"):
            raise errors.bad_request(
                f'fieldValidation must be one of "Ignore", "Warn", or "Strict", got "{mode}"'
            )
        return mode == "Strict"

    async def _create(
        self, request: web.Request, storage: ObjectStorage, target: Target
    ) -> web.StreamResponse:
        body = await self._object_body(request)
        namespace = target.namespace
        if storage.resource.namespaced:
            namespace = namespace or metadata(body).get("namespace") or "default"
        warnings: list[str] = []
        created = await storage.create(
            body,
            namespace,
            strict=self._validation(request),
            dry_run=request.query.get("dryRun") == "All",
            warnings=warnings,
        )
        return self._object_response(request, storage, created, 201, warnings)

    async def _update(
        self, request: web.Request, storage: ObjectStorage, target: Target
    ) -> web.StreamResponse:
        body = await self._object_body(request)
        assert target.name is not None
        warnings: list[str] = []
        updated = await storage.update(
            body,
            target.namespace,
            target.name,
            subresource=target.subresource,
            strict=self._validation(request),
            dry_run=request.query.get("dryRun") == "All",
            warnings=warnings,
        )
        return self._object_response(request, storage, updated, 200, warnings)

    async def _patch(
        self, request: web.Request, storage: ObjectStorage, target: Target
    ) -> web.StreamResponse:
        patch_type = request.content_type if "Content-Type" in request.headers else ""
        if patch_type not in PATCH_TYPES:  # server-side apply is not implemented yet
            raise errors.unsupported_media_type(patch_type, PATCH_TYPES)
        patch = await self._body(request, PATCH_TYPES)
        assert target.name is not None
        warnings: list[str] = []
        updated = await storage.patch(
            target.namespace,
            target.name,
            patch,
            _PATCH_KINDS[patch_type],
            subresource=target.subresource,
            strict=self._validation(request),
            dry_run=request.query.get("dryRun") == "All",
            warnings=warnings,
        )
        return self._object_response(request, storage, updated, 200, warnings)

    async def _delete_options(self, request: web.Request) -> dict[str, Any]:
        options: dict[str, Any] = {}
        if request.can_read_body:
            raw = await request.read()
            if raw.strip():
                try:
                    options = json.loads(raw)
                except ValueError:
                    raise errors.bad_request("DeleteOptions could not be decoded") from None
        if "propagationPolicy" in request.query:
            options["propagationPolicy"] = request.query["propagationPolicy"]
        if "gracePeriodSeconds" in request.query:
            options["gracePeriodSeconds"] = _int_query(request, "gracePeriodSeconds")
        grace = options.get("gracePeriodSeconds")
        if grace is not None and (not isinstance(grace, int) or isinstance(grace, bool)):
            raise errors.bad_request("gracePeriodSeconds must be an integer")
        if request.query.get("dryRun") == "All":
            options["dryRun"] = ["All"]
        policy = options.get("propagationPolicy")
        if policy not in (None, "Orphan", "Background", "Foreground"):
            raise errors.bad_request(f'propagationPolicy "{policy}" is not supported')
        return options

    async def _delete(
        self, request: web.Request, storage: ObjectStorage, target: Target
    ) -> web.StreamResponse:
        options = await self._delete_options(request)
        assert target.name is not None
        deleted = await storage.delete(
            target.namespace,
            target.name,
            preconditions=options.get("preconditions"),
            propagation=options.get("propagationPolicy"),
            dry_run="All" in options.get("dryRun", []),
            grace_period=options.get("gracePeriodSeconds"),
        )
        return self._object_response(request, storage, deleted)

    def _list_options(self, request: web.Request) -> ListOptions:
        query = request.query
        try:
            labels = parse_label_selector(query.get("labelSelector", ""))
            fields = parse_field_selector(query.get("fieldSelector", ""))
        except SelectorError as exc:
            raise errors.bad_request(str(exc)) from None
        return ListOptions(
            label_selector=labels,
            field_selector=fields,
            limit=_int_query(request, "limit"),
            continue_token=query.get("continue", ""),
            resource_version=query.get("resourceVersion", ""),
            resource_version_match=query.get("resourceVersionMatch", ""),
        )

    async def _list(
        self, request: web.Request, storage: ObjectStorage, target: Target
    ) -> web.StreamResponse:
        result = await storage.list(target.namespace, self._list_options(request))
        if _wants_table(request):
            return json_response(
                table(
                    storage.resource,
                    result["items"],
                    resource_version=result["metadata"]["resourceVersion"],
                    include_object=request.query.get("includeObject", ""),
                    continue_token=result["metadata"].get("continue", ""),
                )
            )
        return json_response(result)

    async def _delete_collection(
        self, request: web.Request, storage: ObjectStorage, target: Target
    ) -> web.StreamResponse:
        options = await self._delete_options(request)
        listed = await storage.list(target.namespace, self._list_options(request))
        deleted = []
        for obj in listed["items"]:
            meta = metadata(obj)
            try:
                deleted.append(
                    await storage.delete(
                        meta.get("namespace"),
                        meta["name"],
                        propagation=options.get("propagationPolicy"),
                        dry_run="All" in options.get("dryRun", []),
                    )
                )
            except errors.APIError as exc:
                if exc.code != 404:
                    raise
        return json_response(
            {
                "apiVersion": storage.resource.api_version,
                "kind": storage.resource.list_kind,
                "metadata": {"resourceVersion": listed["metadata"]["resourceVersion"]},
                "items": deleted,
            }
        )

    async def _watch(
        self, request: web.Request, storage: ObjectStorage, target: Target
    ) -> web.StreamResponse:
        options = self._list_options(request)
        send_initial = request.query.get("sendInitialEvents")
        bookmarks = _flag(request, "allowWatchBookmarks")
        if send_initial is not None and (
            options.resource_version_match != "NotOlderThan" or not bookmarks
        ):
            raise errors.invalid(
                "ListOptions",
                "meta.k8s.io",
                "",
                [
                    errors.Cause(
                        "sendInitialEvents",
                        "Forbidden: sendInitialEvents is forbidden for watch unless the WatchList "
                        "feature gate is enabled and allowWatchBookmarks=true and "
                        "resourceVersionMatch=NotOlderThan",
                        "FieldValueForbidden",
                    )
                ],
            )
        initial = send_initial == "true"
        timeout = _int_query(request, "timeoutSeconds") or 1800
        as_table = _wants_table(request)
        response = web.StreamResponse(headers={"Content-Type": "application/json"})
        await response.prepare(request)

        async def send(event_type: str, obj: dict[str, Any]) -> None:
            if as_table and event_type not in ("BOOKMARK", "ERROR"):
                obj = table(
                    storage.resource,
                    [obj],
                    resource_version=metadata(obj).get("resourceVersion", ""),
                    include_object=request.query.get("includeObject", ""),
                )
            await response.write(dumps({"type": event_type, "object": obj}) + b"\n")

        def bookmark(revision: int, *, initial_end: bool = False) -> dict[str, Any]:
            meta: dict[str, Any] = {"resourceVersion": str(revision)}
            if initial_end:
                meta["annotations"] = {"k8s.io/initial-events-end": "true"}
            return {
                "kind": storage.resource.kind,
                "apiVersion": storage.resource.api_version,
                "metadata": meta,
            }

        events = storage.watch(target.namespace, options, send_initial=initial)
        last = 0
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        pending: asyncio.Task[WatchEvent] | None = None
        stopping = asyncio.ensure_future(self.stopping.wait())
        try:
            while (remaining := deadline - loop.time()) > 0:
                if pending is None:
                    pending = asyncio.ensure_future(anext(events))
                wait = min(remaining, BOOKMARK_INTERVAL) if bookmarks else remaining
                done, _ = await asyncio.wait(
                    {pending, stopping}, timeout=wait, return_when=asyncio.FIRST_COMPLETED
                )
                if stopping in done:
                    break
                if not done:
                    if last:
                        await send("BOOKMARK", bookmark(last))
                    continue
                try:
                    event = pending.result()
                except StopAsyncIteration:
                    break
                pending = None
                last = max(last, event.revision)
                if event.type == INITIAL_EVENTS_END:
                    await send("BOOKMARK", bookmark(event.revision, initial_end=True))
                else:
                    await send(event.type, event.object)
        except errors.APIError as exc:
            await send("ERROR", exc.to_status())
        except (ConnectionResetError, asyncio.CancelledError):
            pass
        except Exception:  # the stream has started: log, and end it rather than answer twice
            log.exception("watch of %s ended by an internal error", request.path)
        finally:
            stopping.cancel()
            if pending is not None:
                pending.cancel()
                # The generator must be idle before it can be closed.
                with contextlib.suppress(asyncio.CancelledError, StopAsyncIteration, Exception):
                    await pending
            await events.aclose()  # type: ignore[attr-defined]
        return response


def _apply_plain_patch(current: dict[str, Any], patch: Any, patch_type: str) -> dict[str, Any]:
    # A Scale has no strategic patch metadata worth the name: merge and strategic are the same.
    try:
        patched = (
            json_patch(current, patch) if patch_type == "json" else merge_patch(current, patch)
        )
    except PatchError as exc:
        raise patch_error(exc) from None
    if not isinstance(patched, dict):
        raise errors.bad_request("the patched object is not a JSON object")
    return patched


def _int_query(request: web.Request, name: str) -> int:
    text = request.query.get(name)
    if not text:
        return 0
    try:
        value = int(text)
    except ValueError:
        raise errors.bad_request(f"invalid {name} {text!r}: expected an integer") from None
    if value < 0:
        raise errors.bad_request(f"{name} must not be negative")
    return value


# A \\uD800-\\uDFFF escape: the only way a decoded body can hold a surrogate.
_SURROGATE_ESCAPE = re.compile(rb"\\[uU]0*[dD][89a-fA-F]")


def _mend_surrogates(value: Any) -> Any:
    """PyYAML keeps a ``"\\ud800\\udc00"`` escape as two surrogates and Python's json keeps a
    lone ``"\\ud800"``; no UTF-8 encoder takes either. Join pairs and turn a lone surrogate
    into U+FFFD, as Go's decoders do, so such a body is stored rather than failing with a 500."""
    if isinstance(value, str):
        return value.encode("utf-16", "surrogatepass").decode("utf-16", "replace")
    if isinstance(value, dict):
        return {_mend_surrogates(k): _mend_surrogates(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_mend_surrogates(v) for v in value]
    return value
