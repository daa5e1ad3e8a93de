"""JSON for stored objects and responses: orjson, falling back to the standard library for the
rare value orjson refuses (an integer beyond 64 bits inside free-form JSON)."""

from __future__ import annotations

import json
from typing import Any

import orjson
from aiohttp import web

__all__ = ["dumps", "json_response", "loads"]

loads = orjson.loads


def dumps(value: Any) -> bytes:
    try:
        return orjson.dumps(value)
    except TypeError:  # orjson.JSONEncodeError
        return json.dumps(value, separators=(",", ":")).encode()


def json_response(
    body: Any, *, status: int = 200, headers: dict[str, str] | None = None
) -> web.Response:
    return web.Response(
        body=dumps(body), status=status, headers=headers, content_type="application/json"
    )
