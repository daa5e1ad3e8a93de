"""Where a kubelet hears about its pods: a watch of the pods bound to its node.

:class:`PodSource` is one informer shared by every kubelet of a process (``kframe up`` with a
thousand fake nodes watches pods once, not a thousand times): with ``node_name`` it watches
``spec.nodeName=<node>`` only, as upstream's kubelet does; without, every bound pod, handed to
the kubelet that subscribed for its node.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from kframe.api.models import Pod, Service
from kframe.client import Client, Informer

__all__ = ["PodHandler", "PodSource"]

# (old, new): (None, pod) added, (pod, pod) changed, (pod, None) deleted.
PodHandler = Callable[[Pod | None, Pod | None], None]


def _node(pod: Pod | None) -> str:
    return (pod.spec.node_name or "") if pod is not None and pod.spec is not None else ""


class PodSource:
    def __init__(self, client: Client, *, node_name: str | None = None) -> None:
        selector = f"spec.nodeName={node_name}" if node_name else "spec.nodeName!="
        self.informer: Informer[Pod] = Informer(client, Pod, field_selector=selector)
        # Services, for the variables of enableServiceLinks (upstream's service lister).
        self.services: Informer[Service] = Informer(client, Service)
        self._handlers: dict[str, PodHandler] = {}
        self.informer.add_handler(self._added, self._updated, self._deleted)

    def subscribe(self, node_name: str, handler: PodHandler) -> list[Pod]:
        """Hand ``node_name``'s pod events to ``handler``; returns the pods known already."""
        self._handlers[node_name] = handler
        return [p for p in self.informer.store.list() if _node(p) == node_name]

    def unsubscribe(self, node_name: str) -> None:
        self._handlers.pop(node_name, None)

    def _dispatch(self, old: Pod | None, new: Pod | None) -> None:
        handler = self._handlers.get(_node(new) or _node(old))
        if handler is not None:
            handler(old, new)

    def _added(self, pod: Pod) -> None:
        self._dispatch(None, pod)

    def _updated(self, old: Pod, new: Pod) -> None:
        self._dispatch(old, new)

    def _deleted(self, pod: Pod) -> None:
        self._dispatch(pod, None)

    def services_for(self, namespace: str, links: bool) -> list[Service]:
        """The services whose variables a pod in ``namespace`` gets: its namespace's when
        ``enableServiceLinks``, and always ``default/kubernetes`` (as upstream)."""
        store = self.services.store
        found = store.by_index("namespace", namespace) if links else []
        master = store.get("default/kubernetes")
        if master is not None and master not in found:
            found = [*found, master]
        return found

    async def run(self) -> None:
        """List and watch until cancelled."""
        await asyncio.gather(self.informer.run(), self.services.run())
