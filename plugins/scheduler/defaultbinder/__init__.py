"""DefaultBinder: binds a pod by creating its ``pods/binding`` subresource through the API
(upstream pkg/scheduler/framework/plugins/defaultbinder)."""

from __future__ import annotations

from kframe.api.models import Binding, ObjectMeta, ObjectReference, Pod
from kframe.scheduler import BindPlugin, CycleState, Handle, PluginFactory, Status

from ..names import DEFAULT_BINDER

__all__ = ["FACTORIES", "DefaultBinder"]


class DefaultBinder:
    name = DEFAULT_BINDER

    def __init__(self, handle: Handle) -> None:
        self._handle = handle

    async def bind(self, state: CycleState, pod: Pod, node_name: str) -> Status | None:
        client = self._handle.client
        if client is None:
            raise RuntimeError("DefaultBinder needs an API client to bind pods")
        meta = pod.metadata
        assert meta is not None
        binding = Binding(
            metadata=ObjectMeta(name=meta.name, namespace=meta.namespace, uid=meta.uid),
            target=ObjectReference(kind="Node", name=node_name),
        )
        await client.create(binding, namespace=meta.namespace)
        return None


def _new(args: None, handle: Handle) -> DefaultBinder:
    return DefaultBinder(handle)


_: type[BindPlugin] = DefaultBinder

FACTORIES = {DEFAULT_BINDER: PluginFactory(new=_new)}
