"""The scheduler's cache: every node's NodeInfo, kept current from informer events and assumptions.

Upstream internal/cache. A pod the scheduler chose a node for is *assumed* there at once, so the
next cycle counts it before the binding reaches the API server; the informer's event for the
bound pod then confirms it, and a failed binding forgets it.

The cycle's :class:`Snapshot` holds the cache's own NodeInfo objects rather than copies: a
scheduling cycle runs without awaiting, so nothing can change the cache while it reads. The
snapshot's node list is rebuilt only when nodes come, go or change; when only which nodes have
pods with affinity changed, just those short lists are.
"""

from __future__ import annotations

from kframe.api.models import Node, Pod

from ._nodeinfo import NO_IMAGES, ImageStateSummary, NodeInfo
from ._nodelist import LOG_MAX
from ._podinfo import PodInfo, pod_key
from ._snapshot import Snapshot

__all__ = ["SchedulerCache"]


class SchedulerCache:
    def __init__(self) -> None:
        self._nodes: dict[str, NodeInfo] = {}
        # key -> (node name, assumed and not yet confirmed by the informer)
        self._pods: dict[str, tuple[str, bool]] = {}
        self._images: dict[str, ImageStateSummary] = {}
        self._snapshot = Snapshot(())
        self._stale = True  # nodes came, went or changed: the node list is made again
        self._stale_affinity = False  # only which nodes have pods with affinity changed

    # -- nodes ------------------------------------------------------------------------------

    def _info(self, name: str) -> NodeInfo:
        info = self._nodes.get(name)
        if info is None:
            info = self._nodes[name] = NodeInfo()
            info.name = name
        return info

    def add_node(self, node: Node) -> None:
        name = (node.metadata.name if node.metadata else None) or ""
        info = self._info(name)
        if info.node is not None:
            self._drop_images(info)
        info.set_node(node)
        self._add_images(info)
        self._stale = True

    update_node = add_node

    def remove_node(self, node: Node) -> None:
        name = (node.metadata.name if node.metadata else None) or ""
        info = self._nodes.get(name)
        if info is None:
            return
        self._drop_images(info)
        if info.pods:
            # Pods still bound there stay counted until their deletion arrives (upstream keeps a
            # NodeInfo without its Node for them).
            info.clear_node()
        else:
            del self._nodes[name]
        self._stale = True

    def _add_images(self, info: NodeInfo) -> None:
        status = info.node.status if info.node else None
        states: dict[str, ImageStateSummary] = {}
        for image in status.images if status else ():
            for name in image.names:
                state = self._images.get(name)
                if state is None:
                    state = self._images[name] = ImageStateSummary(image.size_bytes or 0, 0)
                if name not in states:
                    state.num_nodes += 1
                states[name] = state
        info.image_states = states or NO_IMAGES

    def _drop_images(self, info: NodeInfo) -> None:
        for name, state in info.image_states.items():
            state.num_nodes -= 1
            if state.num_nodes <= 0:
                self._images.pop(name, None)
        info.image_states = NO_IMAGES

    # -- pods -------------------------------------------------------------------------------

    def assume_pod(self, pod_info: PodInfo, node_name: str) -> None:
        """Count the pod on ``node_name`` now; its binding is under way."""
        self._place(pod_info, node_name, assumed=True)

    def forget_pod(self, key: str) -> None:
        """An assumed pod's binding failed: take it off its node."""
        state = self._pods.get(key)
        if state is not None and state[1]:
            self._unplace(key)

    def is_assumed(self, key: str) -> bool:
        state = self._pods.get(key)
        return state is not None and state[1]

    def add_pod(self, pod: Pod) -> None:
        """A bound pod seen by the informer (confirms an assumed pod)."""
        node_name = pod.spec.node_name if pod.spec else None
        if not node_name:
            return
        # An assumed copy (or an older version) is replaced by what the server stored; what
        # the scheduler derived from it is kept when the spec is the same (a binding, a status
        # update), rather than derived again.
        old = self._unplace(pod_key(pod))
        info = old.with_pod(pod) if old is not None and old.same_derivation(pod) else PodInfo(pod)
        self._place(info, node_name, assumed=False)

    update_pod = add_pod

    def remove_pod(self, pod: Pod) -> None:
        self._unplace(pod_key(pod))

    def _place(self, pod_info: PodInfo, node_name: str, *, assumed: bool) -> None:
        info = self._info(node_name)
        had = (bool(info.pods_with_affinity), bool(info.pods_with_required_anti_affinity))
        info.add_pod(pod_info)
        self._noted(node_name)
        self._pods[pod_info.key] = (node_name, assumed)
        if had != (bool(info.pods_with_affinity), bool(info.pods_with_required_anti_affinity)):
            self._stale_affinity = True

    def _unplace(self, key: str) -> PodInfo | None:
        state = self._pods.pop(key, None)
        if state is None:
            return None
        info = self._nodes.get(state[0])
        if info is None:
            return None
        had = (bool(info.pods_with_affinity), bool(info.pods_with_required_anti_affinity))
        removed = info.remove_pod(key)
        self._noted(state[0])
        if had != (bool(info.pods_with_affinity), bool(info.pods_with_required_anti_affinity)):
            self._stale_affinity = True
        if info.node is None and not info.pods:
            del self._nodes[state[0]]
        return removed

    def _noted(self, node_name: str) -> None:
        # The snapshot's per-node memos forget this node's answers (see _nodelist).
        changes = self._snapshot.changes
        if changes is not None and not self._stale:
            changes.note(node_name)

    # -- snapshots --------------------------------------------------------------------------

    def snapshot(self) -> Snapshot:
        """The nodes for the next cycle (the same object until nodes or affinity lists change)."""
        if self._stale:
            self._snapshot = Snapshot(self._nodes.values(), tracked=True)
            self._stale = self._stale_affinity = False
        elif self._stale_affinity:
            self._snapshot = self._snapshot.with_affinity_lists_updated()
            self._stale_affinity = False
        changes = self._snapshot.changes
        if changes is not None and len(changes.log) > LOG_MAX:
            self._snapshot.renew_changes()
        return self._snapshot

    def node_names(self) -> list[str]:
        return [n for n, info in self._nodes.items() if info.node is not None]

    def pod_count(self) -> int:
        return len(self._pods)

    def sizes(self) -> dict[str, int]:
        """As the ``scheduler_scheduler_cache_size`` gauge reports them (pods include the
        assumed ones)."""
        return {
            "assumed_pods": sum(1 for _, assumed in self._pods.values() if assumed),
            "nodes": len(self.node_names()),
            "pods": len(self._pods),
        }
