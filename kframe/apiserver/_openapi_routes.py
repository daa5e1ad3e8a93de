"""HTTP routes for the OpenAPI documents, with upstream's negotiation and caching headers.

kubectl reads /openapi/v2 only as protobuf, and caches /openapi/v3 documents on disk by the
``hash`` query parameter the index hands out, so both must be served exactly so.
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import json

from aiohttp import web

from kframe.apiserver._openapi import (
    openapi_v2,
    openapi_v2_hash,
    openapi_v2_protobuf,
    openapi_v3,
    openapi_v3_hash,
    openapi_v3_index,
)

__all__ = ["add_openapi_routes"]

_V2_PROTOBUF = "application/com.github.proto-openapi.spec.v2.v1.0+protobuf"
_V2_PROTOBUF_NAMES = (
    "application/com.github.proto-openapi.spec.v2@v1.0+protobuf",
    _V2_PROTOBUF,
)


def _accepts(request: web.Request, *types: str) -> bool:
    accept = request.headers.get("Accept", "*/*")
    offered = [part.split(";")[0].strip() for part in accept.split(",")]
    return any(t in offered for t in types)


def _not_acceptable() -> web.Response:
    return web.json_response(
        {
            "kind": "Status",
            "apiVersion": "v1",
            "metadata": {},
            "status": "Failure",
            "message": "the requested media type is not supported",
            "reason": "NotAcceptable",
            "code": 406,
        },
        status=406,
    )


async def _v2(request: web.Request) -> web.Response:
    etag = f'"{openapi_v2_hash()}"'
    headers = {"Etag": etag, "Vary": "Accept"}
    if request.headers.get("If-None-Match") == etag:
        return web.Response(status=304, headers=headers)
    if _accepts(request, *_V2_PROTOBUF_NAMES):
        return web.Response(body=openapi_v2_protobuf(), content_type=_V2_PROTOBUF, headers=headers)
    if _accepts(request, "application/json", "*/*", "application/*"):
        return web.Response(body=openapi_v2(), content_type="application/json", headers=headers)
    return _not_acceptable()


async def _v3_index(request: web.Request) -> web.Response:
    body = json.dumps(openapi_v3_index()).encode()
    etag = f'"{hashlib.sha512(body).hexdigest().upper()}"'
    return web.Response(body=body, content_type="application/json", headers={"Etag": etag})


async def _v3(request: web.Request) -> web.Response:
    path = request.match_info["path"]
    document = openapi_v3(path)
    current = openapi_v3_hash(path)
    if document is None or current is None:
        raise web.HTTPNotFound()
    if not _accepts(request, "application/json", "*/*", "application/*"):
        return _not_acceptable()
    headers = {"Etag": f'"{current}"', "Vary": "Accept"}
    wanted = request.query.get("hash")
    if wanted is not None:
        if wanted != current:
            raise web.HTTPMovedPermanently(f"/openapi/v3/{path.strip('/')}?hash={current}")
        expires = _dt.datetime.now(_dt.UTC) + _dt.timedelta(days=365)
        headers["Cache-Control"] = "public, immutable"
        headers["Expires"] = expires.strftime("%a, %d %b %Y %H:%M:%S GMT")
    return web.Response(body=document, content_type="application/json", headers=headers)


def add_openapi_routes(app: web.Application) -> None:
    app.router.add_get("/openapi/v2", _v2)
    app.router.add_get("/openapi/v3", _v3_index)
    app.router.add_get("/openapi/v3/{path:.+}", _v3)
