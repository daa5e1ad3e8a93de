"""Integer resource amounts as the scheduler adds them up (upstream framework.Resource).

Quantities are parsed once, when a pod or node enters the scheduler's cache; filters and scores
then compare plain integers: CPU in millicores, everything else in its base unit.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping

from kframe.api import Quantity

__all__ = [
    "CPU",
    "DEFAULT_MEMORY_REQUEST",
    "DEFAULT_MILLI_CPU_REQUEST",
    "EPHEMERAL_STORAGE",
    "MEMORY",
    "PODS",
    "Resource",
]

CPU, MEMORY, EPHEMERAL_STORAGE, PODS = "cpu", "memory", "ephemeral-storage", "pods"

# What a container that requests no CPU or memory counts as when spreading and balancing
# (upstream pkg/scheduler/util: DefaultMilliCPURequest, DefaultMemoryRequest).
DEFAULT_MILLI_CPU_REQUEST = 100
DEFAULT_MEMORY_REQUEST = 200 * 1024 * 1024


class Resource:
    """CPU, memory, ephemeral storage, pod count and scalar (extended, hugepages) resources."""

    __slots__ = ("allowed_pod_number", "ephemeral_storage", "memory", "milli_cpu", "scalar")

    def __init__(
        self,
        milli_cpu: int = 0,
        memory: int = 0,
        ephemeral_storage: int = 0,
        allowed_pod_number: int = 0,
        scalar: Mapping[str, int] | None = None,
    ) -> None:
        self.milli_cpu = milli_cpu
        self.memory = memory
        self.ephemeral_storage = ephemeral_storage
        self.allowed_pod_number = allowed_pod_number
        self.scalar: dict[str, int] = dict(scalar or {})

    @classmethod
    def from_list(cls, resources: Mapping[str, Quantity]) -> Resource:
        r = cls()
        r.add_list(resources)
        return r

    def add_list(self, resources: Mapping[str, Quantity]) -> None:
        for name, quantity in resources.items():
            if name == CPU:
                self.milli_cpu += quantity.milli_value()
            elif name == MEMORY:
                self.memory += quantity.value()
            elif name == EPHEMERAL_STORAGE:
                self.ephemeral_storage += quantity.value()
            elif name == PODS:
                self.allowed_pod_number += quantity.value()
            else:
                self.scalar[name] = self.scalar.get(name, 0) + quantity.value()

    def add(self, other: Resource, sign: int = 1) -> None:
        self.milli_cpu += sign * other.milli_cpu
        self.memory += sign * other.memory
        self.ephemeral_storage += sign * other.ephemeral_storage
        self.allowed_pod_number += sign * other.allowed_pod_number
        for name, value in other.scalar.items():
            self.scalar[name] = self.scalar.get(name, 0) + sign * value

    def get(self, name: str) -> int:
        """The amount of one resource by its Kubernetes name."""
        if name == CPU:
            return self.milli_cpu
        if name == MEMORY:
            return self.memory
        if name == EPHEMERAL_STORAGE:
            return self.ephemeral_storage
        if name == PODS:
            return self.allowed_pod_number
        return self.scalar.get(name, 0)

    def items(self) -> Iterator[tuple[str, int]]:
        """Every resource this holds a nonzero amount of (pods excluded), by name."""
        for name, value in (
            (CPU, self.milli_cpu),
            (MEMORY, self.memory),
            (EPHEMERAL_STORAGE, self.ephemeral_storage),
        ):
            if value:
                yield name, value
        yield from self.scalar.items()

    def clone(self) -> Resource:
        return Resource(
            self.milli_cpu,
            self.memory,
            self.ephemeral_storage,
            self.allowed_pod_number,
            self.scalar,
        )

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Resource):
            return NotImplemented
        return (
            self.milli_cpu == other.milli_cpu
            and self.memory == other.memory
            and self.ephemeral_storage == other.ephemeral_storage
            and self.allowed_pod_number == other.allowed_pod_number
            and {k: v for k, v in self.scalar.items() if v}
            == {k: v for k, v in other.scalar.items() if v}
        )

    __hash__ = None  # type: ignore[assignment]  # mutable

    def __repr__(self) -> str:
        return (
            f"Resource(milli_cpu={self.milli_cpu}, memory={self.memory}, "
            f"ephemeral_storage={self.ephemeral_storage}, "
            f"allowed_pod_number={self.allowed_pod_number}, scalar={self.scalar})"
        )
