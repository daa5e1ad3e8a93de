"""The admission chain: mutating, then validation, then validating; plugins from the registry."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from typing import Any, ClassVar

import pytest

from kframe.apiserver import AdmissionContext, AdmissionRequest, APIError, APIServer
from kframe.registry import build_registry, hookimpl
from kframe.store import open_store

CM = "configmaps"


class Stamp:
    """Mutating: labels every ConfigMap it admits."""

    async def admit(self, request: AdmissionRequest, context: AdmissionContext) -> None:
        if request.resource == CM and request.object is not None:
            request.object.setdefault("metadata", {}).setdefault("labels", {})["stamped"] = "yes"


class Refuse:
    """Validating: refuses ConfigMaps named 'forbidden', and sees the mutated object."""

    seen: ClassVar[list[dict[str, Any]]] = []

    async def validate(self, request: AdmissionRequest, context: AdmissionContext) -> None:
        if request.resource == CM and request.object is not None:
            Refuse.seen.append(request.object)
            if request.name == "forbidden":
                raise APIError(403, "Forbidden", 'configmaps "forbidden" is forbidden: no')


class Plugins:
    @hookimpl
    def kframe_admission_plugins(self) -> Mapping[str, object]:
        return {"Stamp": Stamp, "Refuse": Refuse}


def run_server(names: list[str], body: Any) -> None:
    async def main() -> None:
        registry = build_registry(plugins=[("test-admission", Plugins())])
        server = APIServer(
            await open_store("memory://"),
            admission_plugins=names,
            registry=registry,
            compaction_interval=0,
        )
        await server.bootstrap()
        try:
            await body(server)
        finally:
            await server.store.close()

    asyncio.run(main())


def cm(name: str) -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name}}


def test_third_party_plugins_mutate_then_validate() -> None:
    async def body(server: APIServer) -> None:
        storage = server.storage("", "v1", CM)
        created = await storage.create(cm("ok"), "default")
        assert created["metadata"]["labels"] == {"stamped": "yes"}
        assert Refuse.seen[-1]["metadata"]["labels"] == {"stamped": "yes"}
        with pytest.raises(APIError) as refused:
            await storage.create(cm("forbidden"), "default")
        assert refused.value.code == 403
        with pytest.raises(APIError):
            await storage.get("default", "forbidden")  # nothing was stored

    run_server(["NamespaceLifecycle", "Stamp", "Refuse"], body)


def test_unknown_plugin_name_is_a_clear_error() -> None:
    async def body(server: APIServer) -> None:
        raise AssertionError("unreachable")

    with pytest.raises(
        Exception,
        match=r"unknown admission-plugin 'Nope' \(available: .*"
        "NamespaceLifecycle",
    ):
        run_server(["Nope"], body)
