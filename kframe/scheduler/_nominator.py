"""Pods nominated to a node by preemption, waiting for the room to free up (upstream
PodNominator in internal/queue).

Filter counts a node's nominated pods of equal or higher priority as if they were there, so the
room preemption made is not given to someone else.
"""

from __future__ import annotations

from ._podinfo import PodInfo

__all__ = ["Nominator", "pod_priority"]


def pod_priority(info: PodInfo) -> int:
    spec = info.pod.spec
    return (spec.priority if spec else None) or 0


class Nominator:
    def __init__(self) -> None:
        self._by_node: dict[str, dict[str, PodInfo]] = {}
        self._node_of: dict[str, str] = {}

    def add(self, info: PodInfo, node_name: str) -> None:
        self.delete(info.key)
        if node_name:
            self._by_node.setdefault(node_name, {})[info.key] = info
            self._node_of[info.key] = node_name

    def delete(self, key: str) -> None:
        node = self._node_of.pop(key, None)
        if node is not None:
            pods = self._by_node[node]
            pods.pop(key, None)
            if not pods:
                del self._by_node[node]

    def nominated_pods_for_node(self, node_name: str) -> list[PodInfo]:
        return list(self._by_node.get(node_name, {}).values())

    def node_of(self, key: str) -> str | None:
        return self._node_of.get(key)

    def __bool__(self) -> bool:
        return bool(self._node_of)
