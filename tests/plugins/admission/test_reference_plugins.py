"""NamespaceLifecycle, DefaultTolerationSeconds and ServiceAccount, as upstream behaves."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

import pytest

from kframe.apiserver import APIError, APIServer
from kframe.store import open_store


def run(names: list[str], body: Callable[[APIServer], Awaitable[None]]) -> None:
    async def main() -> None:
        server = APIServer(
            await open_store("memory://"), admission_plugins=names, compaction_interval=0
        )
        await server.bootstrap()
        try:
            await body(server)
        finally:
            await server.store.close()

    asyncio.run(main())


def pod(name: str, **spec: Any) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": name},
        "spec": {"containers": [{"name": "c", "image": "i"}], **spec},
    }


def test_namespace_lifecycle() -> None:
    async def body(server: APIServer) -> None:
        pods = server.storage("", "v1", "pods")
        namespaces = server.storage("", "v1", "namespaces")
        with pytest.raises(APIError) as missing:
            await pods.create(pod("p"), "nowhere")
        assert (missing.value.code, missing.value.message) == (
            404,
            'namespaces "nowhere" not found',
        )
        with pytest.raises(APIError) as immortal:
            await namespaces.delete(None, "kube-system")
        assert immortal.value.code == 403
        assert immortal.value.message == (
            'namespaces "kube-system" is forbidden: this namespace may not be deleted'
        )
        await namespaces.create({"metadata": {"name": "doomed", "finalizers": ["hold"]}}, None)
        await namespaces.delete(None, "doomed")  # held by its finalizer: terminating
        with pytest.raises(APIError) as terminating:
            await pods.create(pod("p"), "doomed")
        assert terminating.value.code == 403
        assert terminating.value.message == (
            'pods "p" is forbidden: unable to create new content in namespace doomed because '
            "it is being terminated"
        )

    run(["NamespaceLifecycle"], body)


def test_default_toleration_seconds() -> None:
    async def body(server: APIServer) -> None:
        pods = server.storage("", "v1", "pods")
        created = await pods.create(pod("p"), "default")
        assert created["spec"]["tolerations"] == [
            {
                "key": "node.kubernetes.io/not-ready",
                "operator": "Exists",
                "effect": "NoExecute",
                "tolerationSeconds": 300,
            },
            {
                "key": "node.kubernetes.io/unreachable",
                "operator": "Exists",
                "effect": "NoExecute",
                "tolerationSeconds": 300,
            },
        ]
        own = {
            "key": "node.kubernetes.io/not-ready",
            "operator": "Exists",
            "effect": "NoExecute",
            "tolerationSeconds": 5,
        }
        kept = await pods.create(pod("q", tolerations=[own]), "default")
        assert kept["spec"]["tolerations"][0] == own
        assert len(kept["spec"]["tolerations"]) == 2

    run(["DefaultTolerationSeconds"], body)


def test_service_account() -> None:
    async def body(server: APIServer) -> None:
        pods = server.storage("", "v1", "pods")
        with pytest.raises(APIError) as missing:
            await pods.create(pod("p"), "default")
        assert missing.value.code == 403
        assert missing.value.message == (
            'pods "p" is forbidden: error looking up service account default/default: '
            'serviceaccount "default" not found'
        )
        await server.storage("", "v1", "serviceaccounts").create(
            {"metadata": {"name": "default"}}, "default"
        )
        created = await pods.create(pod("p"), "default")
        assert created["spec"]["serviceAccountName"] == "default"

    run(["ServiceAccount"], body)


def test_qos_class_is_computed_after_limit_ranger_fills_in_resources() -> None:
    async def body(server: APIServer) -> None:
        await server.storage("", "v1", "limitranges").create(
            {
                "metadata": {"name": "lr"},
                "spec": {
                    "limits": [
                        {
                            "type": "Container",
                            "default": {"cpu": "1", "memory": "1Gi"},
                            "defaultRequest": {"cpu": "1", "memory": "1Gi"},
                        }
                    ]
                },
            },
            "default",
        )
        created = await server.storage("", "v1", "pods").create(pod("p"), "default")
        assert created["spec"]["containers"][0]["resources"]["limits"] == {
            "cpu": "1",
            "memory": "1Gi",
        }
        assert created["status"]["qosClass"] == "Guaranteed"

    run(["NamespaceLifecycle", "LimitRanger"], body)
