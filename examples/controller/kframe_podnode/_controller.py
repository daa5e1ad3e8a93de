"""The reconcile loop: one pod key at a time, from the shared pod informer's cache."""

from __future__ import annotations

from kframe.api.models import Pod
from kframe.controller import ControllerContext, Result, done

__all__ = ["DEFAULT_LABEL", "PodNodeLabeler"]

#: The label written; ``--option podnode-label=KEY`` chooses another.
DEFAULT_LABEL = "example.kframe.io/node"


class PodNodeLabeler:
    """Keeps ``<label>: <spec.nodeName>`` on every pod bound to a node."""

    def __init__(self, ctx: ControllerContext) -> None:
        self.ctx = ctx
        self.label = ctx.option("podnode-label", DEFAULT_LABEL)
        # Every add, update and delete of a pod puts its key (namespace/name) on our queue.
        self.pods = ctx.watch(Pod)

    async def reconcile(self, key: str) -> Result | None:
        pod = self.pods.store.get(key)
        if pod is None or pod.metadata is None or pod.spec is None:
            return done()  # deleted meanwhile: nothing to do
        node = pod.spec.node_name
        meta = pod.metadata
        if not node or meta.deletion_timestamp is not None:
            return done()  # not scheduled yet (the update that binds it comes back here)
        if (meta.labels or {}).get(self.label) == node:
            return done()  # already right: reconcile must be idempotent
        # A merge patch touches only our label; an exception here retries with backoff.
        await self.ctx.client.patch(
            Pod,
            meta.name or "",
            {"metadata": {"labels": {self.label: node}}},
            namespace=meta.namespace,
            patch_type="merge",
        )
        self.ctx.event(pod, "Normal", "NodeLabeled", f"Labeled {self.label}={node}")
        return done()
