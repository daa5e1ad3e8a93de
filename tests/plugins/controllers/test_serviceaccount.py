"""The service account controller in a control plane: a ``default`` ServiceAccount in every
active namespace, made again when deleted, none in a terminating namespace."""

from __future__ import annotations

import functools

from kframe.api.models import Namespace, ObjectMeta, ServiceAccount
from kframe.testing.controllers import ControlPlane, control_plane
from kframe_plugins.controllers import serviceaccount
from tests.controller.asyncrun import sync


async def _account(cp: ControlPlane, namespace: str) -> ServiceAccount | None:
    try:
        return await cp.client.get(ServiceAccount, "default", namespace=namespace)
    except Exception as exc:
        if getattr(exc, "code", None) == 404:
            return None
        raise


def test_registered_under_upstream_names() -> None:
    registered = serviceaccount.kframe_controllers()
    spec = registered["serviceaccount-controller"]
    assert spec.aliases == ("serviceaccount",)


@sync
async def test_every_active_namespace_gets_a_default_account_again_after_delete() -> None:
    async with control_plane(["serviceaccount"]) as cp:
        for name in ("default", "kube-system", "kube-public"):
            await cp.wait_for(functools.partial(_account, cp, name), what=f"{name}/default")
        await cp.client.create(Namespace(metadata=ObjectMeta(name="team")))
        first = await cp.wait_for(lambda: _account(cp, "team"), what="team/default")
        await cp.client.delete(ServiceAccount, "default", namespace="team")

        async def recreated() -> bool:
            again = await _account(cp, "team")
            return again is not None and again.metadata != first.metadata

        await cp.wait_for(recreated, what="default account made again")


@sync
async def test_no_account_in_a_terminating_namespace() -> None:
    async with control_plane(["serviceaccount"]) as cp:
        await cp.client.create(Namespace(metadata=ObjectMeta(name="going")))
        await cp.wait_for(lambda: _account(cp, "going"), what="going/default")
        await cp.client.delete(Namespace, "going")  # Terminating: no namespace controller
        await cp.client.delete(ServiceAccount, "default", namespace="going")
        controller = cp.manager.controllers["serviceaccount-controller"]
        # The deletion enqueues the namespace; its sync makes nothing and fails nothing.
        assert await controller.reconcile("going") is not None
        assert await _account(cp, "going") is None
        ns = await cp.client.get(Namespace, "going")
        assert ns.status is not None and ns.status.phase == "Terminating"
