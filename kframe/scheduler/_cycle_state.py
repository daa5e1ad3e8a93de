"""Per-cycle scratch space that plugins share (upstream framework.CycleState).

A plugin writes what it computed in PreFilter or PreScore under its own key and reads it back in
Filter or Score. Preemption clones the state to try removing pods from a node; values with a
``clone()`` method are cloned then, other values are shared (they must not change after
PreFilter).
"""

from __future__ import annotations

from typing import Any, Protocol, runtime_checkable

from kframe.api.models import Pod

from ._podinfo import PodInfo

__all__ = ["CycleState", "StateData"]


@runtime_checkable
class StateData(Protocol):
    def clone(self) -> StateData: ...


class CycleState:
    __slots__ = (
        "_data",
        "_pod_info",
        "record_plugin_metrics",
        "skip_filter_plugins",
        "skip_score_plugins",
    )

    def __init__(self, pod_info: PodInfo | None = None) -> None:
        self._data: dict[str, Any] = {}
        self._pod_info = pod_info
        # Plugins whose PreFilter/PreScore answered Skip: their Filter/Score are not called.
        self.skip_filter_plugins: set[str] = set()
        self.skip_score_plugins: set[str] = set()
        self.record_plugin_metrics = False

    def pod_info(self, pod: Pod) -> PodInfo:
        """The cycle's pod as a :class:`PodInfo` (requests, affinity terms, host ports), built
        at most once per cycle: the scheduler hands over the one its queue already has."""
        info = self._pod_info
        if info is None or info.pod is not pod:
            info = self._pod_info = PodInfo(pod)
        return info

    def read(self, key: str) -> Any:
        """The value written under ``key``; KeyError (upstream's ErrNotFound) if none was."""
        try:
            return self._data[key]
        except KeyError:
            raise KeyError(f"{key!r} not found in the cycle state") from None

    def write(self, key: str, value: Any) -> None:
        self._data[key] = value

    def delete(self, key: str) -> None:
        self._data.pop(key, None)

    def clone(self) -> CycleState:
        other = CycleState(self._pod_info)
        # ``isinstance(v, StateData)`` (a runtime Protocol: has ``clone``), without the
        # Protocol check's cost: preemption clones the state once per candidate node.
        other._data = {k: v.clone() if hasattr(v, "clone") else v for k, v in self._data.items()}
        other.skip_filter_plugins = set(self.skip_filter_plugins)
        other.skip_score_plugins = set(self.skip_score_plugins)
        other.record_plugin_metrics = self.record_plugin_metrics
        return other
