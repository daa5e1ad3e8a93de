"""Small plugins for testing the framework's machinery, not any upstream behaviour."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import attrs

from kframe.api.models import Pod
from kframe.scheduler import (
    Code,
    CycleState,
    NodeInfo,
    NodeScore,
    PluginFactory,
    PreFilterResult,
    QueuedPodInfo,
    Status,
)

CALLS: list[str] = []


class Sort:
    name = "Sort"

    def less(self, a: QueuedPodInfo, b: QueuedPodInfo) -> bool:
        return a.timestamp < b.timestamp


class Binder:
    name = "Binder"

    async def bind(self, state: CycleState, pod: Pod, node_name: str) -> Status | None:
        CALLS.append(f"bind {node_name}")
        return None


class SkipBinder:
    name = "SkipBinder"

    async def bind(self, state: CycleState, pod: Pod, node_name: str) -> Status | None:
        return Status(Code.SKIP)


@attrs.frozen(kw_only=True)
class RejectNodeArgs:
    names: tuple[str, ...] = attrs.field(default=(), metadata={"json": "names"})


class RejectNode:
    """Filter: rejects the nodes whose name is in its ``names`` arg."""

    name = "RejectNode"

    def __init__(self, names: Sequence[str], code: Code = Code.UNSCHEDULABLE) -> None:
        self.names = set(names)
        self.code = code

    def filter(self, state: CycleState, pod: Pod, node_info: NodeInfo) -> Status | None:
        if node_info.name in self.names:
            return Status(self.code, f"rejected {node_info.name}")
        return None


class Only:
    """PreFilter narrowing the nodes to ``names``, or Skip when empty."""

    def __init__(self, name: str, names: Sequence[str]) -> None:
        self.name = name
        self.names = frozenset(names)

    def pre_filter(
        self, state: CycleState, pod: Pod, nodes: Sequence[NodeInfo]
    ) -> PreFilterResult | Status | None:
        if not self.names:
            return Status(Code.SKIP)
        return PreFilterResult(self.names)

    def filter(self, state: CycleState, pod: Pod, node_info: NodeInfo) -> Status | None:
        CALLS.append(f"{self.name} filter {node_info.name}")
        return None


class ByName:
    """Score: the node name's last digit, normalized to x10."""

    name = "ByName"

    def score(self, state: CycleState, pod: Pod, node_info: NodeInfo) -> int:
        return int(node_info.name[-1])

    def normalize_score(
        self, state: CycleState, pod: Pod, scores: list[NodeScore]
    ) -> Status | None:
        for s in scores:
            s.score *= 10
        return None


class Constant:
    def __init__(self, value: int, name: str = "Constant") -> None:
        self.value = value
        self.name = name

    def score(self, state: CycleState, pod: Pod, node_info: NodeInfo) -> int:
        return self.value


class Recorder:
    """Reserve and Permit, recording the order of calls."""

    def __init__(self, name: str, permit: Status | None = None, timeout: float = 0) -> None:
        self.name = name
        self._permit = permit
        self._timeout = timeout

    def reserve(self, state: CycleState, pod: Pod, node_name: str) -> Status | None:
        CALLS.append(f"reserve {self.name}")
        return None

    def unreserve(self, state: CycleState, pod: Pod, node_name: str) -> None:
        CALLS.append(f"unreserve {self.name}")

    def permit(self, state: CycleState, pod: Pod, node_name: str) -> tuple[Status | None, float]:
        return self._permit, self._timeout


def factories(**extra: Any) -> dict[str, PluginFactory]:
    def fixed(plugin: Any) -> PluginFactory:
        return PluginFactory(new=lambda args, handle: plugin)

    table = {
        "Sort": fixed(Sort()),
        "Binder": fixed(Binder()),
        "SkipBinder": fixed(SkipBinder()),
        "ByName": fixed(ByName()),
        "Constant": fixed(Constant(7)),
        "RejectNode": PluginFactory(
            new=lambda args, handle: RejectNode(args.names), args_type=RejectNodeArgs
        ),
    }
    table.update({k: fixed(v) for k, v in extra.items()})
    return table


def lookup(table: dict[str, PluginFactory]) -> Any:
    from kframe.scheduler import ConfigError

    def get(name: str) -> PluginFactory:
        if name not in table:
            raise ConfigError(f"plugin {name!r} does not exist")
        return table[name]

    return get
