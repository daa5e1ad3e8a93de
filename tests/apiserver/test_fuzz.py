"""Hypothesis-generated bodies never produce a 500, and a rejected body never stores anything."""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import Iterator
from typing import Any

import aiohttp
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kframe.api import to_dict
from kframe.apiserver import RESOURCES, APIServer
from kframe.store import open_store
from kframe.testing import labels, objects


class Background:
    """An API server on its own event loop thread, for synchronous Hypothesis tests."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()
        self.server: APIServer = self.run(self._start())
        self.session: aiohttp.ClientSession = self.run(self._session())

    def run(self, coro: Any) -> Any:
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(60)

    async def _start(self) -> APIServer:
        server = APIServer(await open_store("memory://"), compaction_interval=0)
        await server.start("127.0.0.1", 0)
        return server

    async def _session(self) -> aiohttp.ClientSession:
        return aiohttp.ClientSession()

    async def request(
        self, method: str, path: str, body: bytes, content_type: str
    ) -> tuple[int, Any]:
        async with self.session.request(
            method, self.server.url + path, data=body, headers={"Content-Type": content_type}
        ) as resp:
            return resp.status, await resp.read()

    def close(self) -> None:
        async def stop() -> None:
            await self.session.close()
            await self.server.stop()
            await self.server.store.close()

        self.run(stop())
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(10)
        self.loop.close()


@pytest.fixture(scope="module")
def background() -> Iterator[Background]:
    server = Background()
    yield server
    server.close()


def _path(resource: Any, name: str | None = None) -> str:
    base = (
        f"/api/{resource.version}"
        if not resource.group
        else (f"/apis/{resource.group}/{resource.version}")
    )
    ns = "/namespaces/default" if resource.namespaced else ""
    return f"{base}{ns}/{resource.plural}" + (f"/{name}" if name else "")


json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**40), 2**40)
    | st.floats(allow_nan=False)
    | st.text(max_size=8),
    lambda inner: (
        st.lists(inner, max_size=3)
        | st.dictionaries(
            st.sampled_from(
                [
                    "metadata",
                    "name",
                    "spec",
                    "status",
                    "labels",
                    "containers",
                    "image",
                    "replicas",
                    "data",
                    "items",
                    "selector",
                    "namespace",
                    "x",
                ]
            )
            | st.text(max_size=5),
            inner,
            max_size=4,
        )
    ),
    max_leaves=15,
)
resources = st.sampled_from([r for r in RESOURCES if "create" in r.verbs])


@st.composite
def bodies(draw: st.DrawFn, resource: Any) -> bytes:
    """Garbage, a valid object of the URL's kind, or such an object with one part corrupted."""
    choice = draw(st.sampled_from(["garbage", "bytes", "valid", "valid", "corrupted"]))
    if choice == "garbage":
        return json.dumps(draw(json_values)).encode()
    if choice == "bytes":
        return draw(st.binary(max_size=64))
    obj = to_dict(draw(objects(resource.model, max_fields=4)))
    meta = obj.setdefault("metadata", {})
    meta.pop("namespace", None)
    meta["name"] = draw(
        st.integers(0, 2**32).map(lambda n: f"f{n}") | st.sampled_from(["fuzzed", "Bad_Name", ""])
    )
    if draw(st.booleans()):
        meta["labels"] = draw(labels(max_size=3))
    if choice == "corrupted":
        target = obj
        for key in draw(st.lists(st.sampled_from(sorted(_keys(obj))), min_size=1, max_size=3)):
            if isinstance(target, dict) and key in target and isinstance(target[key], dict):
                target = target[key]
        if isinstance(target, dict) and target:
            target[draw(st.sampled_from(sorted(target)))] = draw(json_values)
    return json.dumps(obj).encode()


def _keys(obj: dict[str, Any]) -> set[str]:
    found = set(obj)
    for value in obj.values():
        if isinstance(value, dict):
            found |= _keys(value)
    return found


@settings(max_examples=200, deadline=None)
@given(
    data=st.data(),
    resource=resources,
    content_type=st.sampled_from(
        ["application/json", "application/yaml", "application/merge-patch+json", "text/plain"]
    ),
    method=st.sampled_from(["POST", "POST", "PUT", "PATCH"]),
)
def test_random_bodies_never_500_and_rejections_store_nothing(
    background: Background,
    data: st.DataObject,
    resource: Any,
    content_type: str,
    method: str,
) -> None:
    body = data.draw(bodies(resource))
    store = background.server.store
    before = background.run(store.revision())
    path = _path(resource) if method == "POST" else _path(resource, "fuzzed")
    code, _ = background.run(background.request(method, path, body, content_type))
    assert code < 500, f"{method} {path} -> {code}"
    if code >= 400:
        assert background.run(store.revision()) == before, "a rejected request wrote"


@pytest.mark.parametrize("content_type", ["application/json", "application/yaml"])
@pytest.mark.parametrize(
    ("escaped", "stored"), [("\\ud800\\udc00", "\U00010000"), ("\\ud800", "\ufffd")]
)
def test_surrogate_escapes_decode_as_go_decodes_them(
    background: Background, content_type: str, escaped: str, stored: str
) -> None:
    """A surrogate pair is one character and a lone surrogate U+FFFD, in JSON as in YAML."""
    name = f"sur-{content_type[12:]}-{len(escaped)}"
    meta = json.dumps({"name": name})
    body = f'{{"kind": "ConfigMap", "metadata": {meta}, "data": {{"k": "{escaped}"}}}}'
    path = "/api/v1/namespaces/default/configmaps"
    code, _ = background.run(background.request("POST", path, body.encode(), content_type))
    assert code == 201
    code, raw = background.run(background.request("GET", f"{path}/{name}", b"", ""))
    assert json.loads(raw)["data"]["k"] == stored


def test_a_null_priority_value_is_zero_not_a_500(background: Background) -> None:
    """Go decodes `value: null` into the int32 as 0; the class is stored with value 0."""
    body = b'{"kind": "PriorityClass", "apiVersion": "scheduling.k8s.io/v1", "value": null, '
    body += b'"metadata": {"name": "null-value"}}'
    path = "/apis/scheduling.k8s.io/v1/priorityclasses"
    code, raw = background.run(background.request("POST", path, body, "application/json"))
    assert code == 201, raw
