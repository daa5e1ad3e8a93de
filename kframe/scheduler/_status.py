"""Status codes and the Status a plugin returns (upstream framework/interface.go).

Plugins return ``None`` for success, as upstream returns a nil ``*Status``; the framework fills in
the plugin's name on a non-success status so diagnostics can say which plugin decided.
"""

from __future__ import annotations

import enum

__all__ = ["Code", "Status", "as_status"]


class Code(enum.IntEnum):
    """The outcome of one plugin call; the numbers are upstream's."""

    SUCCESS = 0
    # An internal error: the cycle stops and the pod is retried with backoff.
    ERROR = 1
    # The pod does not fit the node now; preemption may help.
    UNSCHEDULABLE = 2
    # The pod does not fit the node and preemption cannot help.
    UNSCHEDULABLE_AND_UNRESOLVABLE = 3
    # A Permit plugin holds the pod before binding.
    WAIT = 4
    # The plugin has nothing to do for this pod at this point (PreFilter, PreScore, Bind).
    SKIP = 5
    # The pod waits for something outside the scheduler; no preemption.
    PENDING = 6

    @property
    def label(self) -> str:
        """Upstream's name of the code (``UnschedulableAndUnresolvable``)."""
        return _LABELS[self]


_LABELS = {
    Code.SUCCESS: "Success",
    Code.ERROR: "Error",
    Code.UNSCHEDULABLE: "Unschedulable",
    Code.UNSCHEDULABLE_AND_UNRESOLVABLE: "UnschedulableAndUnresolvable",
    Code.WAIT: "Wait",
    Code.SKIP: "Skip",
    Code.PENDING: "Pending",
}

_REJECTED = frozenset({Code.UNSCHEDULABLE, Code.UNSCHEDULABLE_AND_UNRESOLVABLE, Code.PENDING})


class Status:
    """A non-trivial outcome: a code, the reasons users see, and the plugin that said it."""

    __slots__ = ("code", "error", "plugin", "reasons")

    def __init__(
        self,
        code: Code,
        *reasons: str,
        plugin: str | None = None,
        error: BaseException | None = None,
    ) -> None:
        self.code = code
        self.reasons = reasons if reasons or error is None else (str(error),)
        self.plugin = plugin
        self.error = error

    @classmethod
    def unschedulable(cls, *reasons: str) -> Status:
        return cls(Code.UNSCHEDULABLE, *reasons)

    @classmethod
    def unresolvable(cls, *reasons: str) -> Status:
        return cls(Code.UNSCHEDULABLE_AND_UNRESOLVABLE, *reasons)

    @classmethod
    def from_error(cls, error: BaseException) -> Status:
        return cls(Code.ERROR, error=error)

    @property
    def success(self) -> bool:
        return self.code is Code.SUCCESS

    @property
    def rejected(self) -> bool:
        """``IsRejected``: Unschedulable, UnschedulableAndUnresolvable or Pending."""
        return self.code in _REJECTED

    @property
    def message(self) -> str:
        """``Message``: the reasons joined with ``", "``."""
        return ", ".join(self.reasons)

    def with_plugin(self, plugin: str) -> Status:
        if self.plugin is None:
            self.plugin = plugin
        return self

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Status):
            return NotImplemented
        return (self.code, self.reasons, self.plugin) == (other.code, other.reasons, other.plugin)

    def __hash__(self) -> int:
        return hash((self.code, self.reasons, self.plugin))

    def __repr__(self) -> str:
        plugin = f", plugin={self.plugin!r}" if self.plugin else ""
        return f"Status({self.code.label}, {list(self.reasons)!r}{plugin})"


def as_status(status: Status | None) -> Status:
    """A plugin's answer as a Status: ``None`` is success."""
    return Status(Code.SUCCESS) if status is None else status
