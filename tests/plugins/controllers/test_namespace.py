"""The namespace controller in a control plane: a deleted namespace is emptied (pods first),
reports upstream's deletion conditions while content remains, and goes once its ``kubernetes``
finalizer is cleared; ``kubectl delete namespace`` end to end."""

from __future__ import annotations

import asyncio
import contextlib
import shutil
import tempfile
from pathlib import Path
from typing import Any

import pytest

from kframe.api import from_dict
from kframe.api.models import ConfigMap, Namespace, ObjectMeta, Pod, Secret, Service
from kframe.cluster import write_kubeconfig
from kframe.testing.controllers import ControlPlane, control_plane
from kframe_plugins.controllers import namespace as namespace_plugin
from kframe_plugins.controllers.namespace import ConditionUpdater, NamespacedResourcesDeleter
from tests.controller.asyncrun import sync

FAST = {namespace_plugin.GRACE_PERIOD_OPTION: "0"}


def _pod(name: str, namespace: str) -> Pod:
    return from_dict(
        {
            "metadata": {"name": name, "namespace": namespace},
            "spec": {"containers": [{"name": "c", "image": "nginx"}]},
        },
        Pod,
    )


async def _namespace(cp: ControlPlane, name: str) -> Namespace | None:
    try:
        return await cp.client.get(Namespace, name)
    except Exception as exc:
        if getattr(exc, "code", None) == 404:
            return None
        raise


async def _fill(cp: ControlPlane, name: str) -> None:
    await cp.client.create(Namespace(metadata=ObjectMeta(name=name)))
    await cp.client.create(ConfigMap(metadata=ObjectMeta(name="cm", namespace=name)))
    await cp.client.create(Secret(metadata=ObjectMeta(name="s", namespace=name)))
    await cp.client.create(_pod("p", name))
    service = from_dict(
        {"metadata": {"name": "svc", "namespace": name}, "spec": {"ports": [{"port": 80}]}},
        Service,
    )
    await cp.client.create(service)


def test_registered_under_upstream_names() -> None:
    spec = namespace_plugin.kframe_controllers()["namespace-controller"]
    assert spec.aliases == ("namespace",) and spec.workers == 10


@sync
async def test_a_deleted_namespace_is_emptied_and_goes() -> None:
    async with control_plane(["namespace"], options=FAST) as cp:
        await _fill(cp, "team")
        await _fill(cp, "other")
        marked = await cp.client.delete(Namespace, "team")
        assert marked.status is not None and marked.status.phase == "Terminating"
        await cp.wait_for(lambda: _gone(cp, "team"), what="team gone")
        for cls in (ConfigMap, Secret, Pod, Service):
            left = await cp.client.list(cls, namespace="team")
            assert not left.items, cls
        # Another namespace's content is untouched.
        assert (await cp.client.list(Pod, namespace="other")).items
        assert await _namespace(cp, "other") is not None


async def _gone(cp: ControlPlane, name: str) -> bool:
    return await _namespace(cp, name) is None


def _conditions(ns: Namespace) -> dict[str, tuple[str | None, str | None, str | None]]:
    assert ns.status is not None
    return {c.type or "": (c.status, c.reason, c.message) for c in ns.status.conditions}


@sync
async def test_content_held_by_a_finalizer_is_reported_then_the_namespace_goes() -> None:
    async with control_plane(["namespace"], options=FAST) as cp:
        await cp.client.create(Namespace(metadata=ObjectMeta(name="held")))
        held = ConfigMap(
            metadata=ObjectMeta(name="held", namespace="held", finalizers=("example.com/hold",))
        )
        await cp.client.create(held)
        await cp.client.create(_pod("p", "held"))
        await cp.client.delete(Namespace, "held")

        async def reported() -> Any:
            ns = await _namespace(cp, "held")
            conditions = _conditions(ns) if ns is not None else {}
            return conditions.get("NamespaceFinalizersRemaining", ("",))[0] == "True" and ns

        ns = await cp.wait_for(reported, what="conditions")
        conditions = _conditions(ns)
        assert conditions["NamespaceContentRemaining"] == (
            "True",
            "SomeResourcesRemain",
            "Some resources are remaining: configmaps. has 1 resource instances",
        )
        assert conditions["NamespaceFinalizersRemaining"] == (
            "True",
            "SomeFinalizerRemain",
            "Some finalizers are remaining: example.com/hold in 1 resource instances",
        )
        assert conditions["NamespaceDeletionDiscoveryFailure"] == (
            "False",
            "ResourcesDiscovered",
            "All resources successfully discovered",
        )
        assert conditions["NamespaceDeletionContentFailure"][:2] == ("False", "ContentDeleted")
        assert ns.spec is not None and ns.spec.finalizers == ("kubernetes",)
        assert not (await cp.client.list(Pod, namespace="held")).items  # pods went first
        # Release the finalizer: the next pass (15 s estimate, so nudge it) finalizes.
        await cp.client.patch(
            ConfigMap,
            "held",
            {"metadata": {"finalizers": None}},
            namespace="held",
            patch_type="merge",
        )
        cp.manager.contexts["namespace-controller"].queue.add("held")
        await cp.wait_for(lambda: _gone(cp, "held"), what="held gone")


@sync
async def test_a_namespace_not_being_deleted_is_left_alone() -> None:
    async with control_plane(["namespace"], options=FAST) as cp:
        await _fill(cp, "live")
        controller = cp.manager.controllers["namespace-controller"]
        await controller.reconcile("live")
        await NamespacedResourcesDeleter(cp.client).delete("live")
        await NamespacedResourcesDeleter(cp.client).delete("missing")
        assert (await cp.client.list(Pod, namespace="live")).items
        ns = await _namespace(cp, "live")
        assert ns is not None and ns.status is not None and not ns.status.conditions


def test_conditions_keep_their_transition_time_unless_the_status_changes() -> None:
    first = ConditionUpdater()
    first.content_totals({"pods.": 2}, {})
    status = first.update(None)
    assert status is not None
    again = ConditionUpdater()
    again.content_totals({"pods.": 2}, {})
    assert again.update(status) is None  # nothing changed: no write
    fewer = ConditionUpdater()
    fewer.content_totals({"pods.": 1}, {})
    changed = fewer.update(status)
    assert changed is not None
    old = {c.type: c for c in status.conditions}
    new = {c.type: c for c in changed.conditions}
    remaining = new["NamespaceContentRemaining"]
    assert remaining.message == "Some resources are remaining: pods. has 1 resource instances"
    assert remaining.last_transition_time == old["NamespaceContentRemaining"].last_transition_time
    assert [c.type for c in changed.conditions] == list(namespace_plugin.CONDITION_TYPES)


@pytest.mark.skipif(shutil.which("kubectl") is None, reason="kubectl not installed")
@sync
async def test_kubectl_delete_namespace_with_content() -> None:
    async with control_plane(["namespace"], options=FAST) as cp:
        await cp.server.start("127.0.0.1", 0)
        try:
            await _fill(cp, "shop")
            with tempfile.TemporaryDirectory() as tmp:
                config = Path(tmp) / "kubeconfig"
                write_kubeconfig(config, cp.server.url)
                proc = await asyncio.create_subprocess_exec(
                    "kubectl",
                    "--kubeconfig",
                    str(config),
                    "delete",
                    "namespace",
                    "shop",
                    "--timeout=60s",
                    stdout=asyncio.subprocess.PIPE,
                    stderr=asyncio.subprocess.PIPE,
                )
                out, err = await asyncio.wait_for(proc.communicate(), 90)
            assert proc.returncode == 0, err.decode()
            assert out.decode().strip() == 'namespace "shop" deleted'
            assert await _namespace(cp, "shop") is None  # kubectl waited for it to go
            assert not (await cp.client.list(ConfigMap, namespace="shop")).items
        finally:
            await cp.server.stop()


@sync
async def test_over_http_the_finalize_subresource_releases_the_namespace() -> None:
    from kframe.client import HttpClient
    from kframe.controller import ControllerManager

    async with control_plane([]) as cp:
        await cp.server.start("127.0.0.1", 0)
        http = HttpClient(cp.server.url)
        manager = ControllerManager(
            http, {namespace_plugin.NAME: namespace_plugin.spec()}, options=FAST
        )
        task = asyncio.ensure_future(manager.run())
        try:
            await _fill(cp, "remote")
            await cp.client.delete(Namespace, "remote")
            await cp.wait_for(lambda: _gone(cp, "remote"), what="remote gone")
            assert not (await cp.client.list(Secret, namespace="remote")).items
        finally:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
            await http.close()
            await cp.server.stop()
