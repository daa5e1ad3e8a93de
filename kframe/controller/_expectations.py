"""Controller expectations (upstream controller_utils.go ``ControllerExpectations``).

A controller that creates or deletes N objects records that it expects to see N adds or
deletes through its informer, and does not act on the owner again until it has seen them (or
the expectation is older than 5 minutes). This is what stops a ReplicaSet from creating a second
batch of pods before the informer has caught up with the first.
"""

from __future__ import annotations

import attrs

from kframe.client import Clock, LoopClock

__all__ = ["EXPECTATIONS_TIMEOUT", "Expectations"]

# Upstream ExpectationsTimeout: after this, expectations are satisfied regardless.
EXPECTATIONS_TIMEOUT = 5 * 60.0


@attrs.define
class _Expectation:
    add: int
    delete: int
    timestamp: float


class Expectations:
    """Per controller key: how many adds and deletes are still to be observed."""

    def __init__(self, clock: Clock | None = None) -> None:
        self._clock: Clock = clock if clock is not None else LoopClock()
        self._items: dict[str, _Expectation] = {}

    def expect(self, key: str, *, adds: int = 0, deletes: int = 0) -> None:
        """Replace the expectations of ``key`` (SetExpectations)."""
        self._items[key] = _Expectation(adds, deletes, self._clock.now())

    def expect_creations(self, key: str, adds: int) -> None:
        self.expect(key, adds=adds)

    def expect_deletions(self, key: str, deletes: int) -> None:
        self.expect(key, deletes=deletes)

    def raise_expectations(self, key: str, *, adds: int = 0, deletes: int = 0) -> None:
        item = self._items.get(key)
        if item is None:
            self.expect(key, adds=adds, deletes=deletes)
        else:
            item.add += adds
            item.delete += deletes

    def lower_expectations(self, key: str, *, adds: int = 0, deletes: int = 0) -> None:
        item = self._items.get(key)
        if item is not None:
            item.add -= adds
            item.delete -= deletes

    def creation_observed(self, key: str) -> None:
        self.lower_expectations(key, adds=1)

    def deletion_observed(self, key: str) -> None:
        self.lower_expectations(key, deletes=1)

    def satisfied(self, key: str) -> bool:
        """True when nothing is pending for ``key``, nothing was ever recorded, or the record
        expired: the controller may sync it."""
        item = self._items.get(key)
        if item is None:
            return True
        if item.add <= 0 and item.delete <= 0:
            return True
        return self._clock.now() - item.timestamp > EXPECTATIONS_TIMEOUT

    def pending(self, key: str) -> tuple[int, int]:
        """The (adds, deletes) still expected for ``key``."""
        item = self._items.get(key)
        return (0, 0) if item is None else (max(0, item.add), max(0, item.delete))

    def delete(self, key: str) -> None:
        """Forget ``key`` (its owner is gone)."""
        self._items.pop(key, None)
