"""The pod failure backoff of a Job (upstream pkg/controller/job/backoff_utils.go).

Replacement pods for failed ones are created after 10 s, 20 s, 40 s, ... capped at 6 minutes,
counted from the last failure; a success resets the count. The record lives in the controller
only (a restarted controller starts again from no failures, as upstream's in-memory store).
"""

from __future__ import annotations

import datetime as _dt
from collections.abc import Sequence

import attrs

from kframe.api.models import Pod

from ._podfacts import finished_time

__all__ = [
    "DEFAULT_BACKOFF",
    "MAX_BACKOFF",
    "BackoffRecord",
    "BackoffStore",
    "parse_seconds",
    "remaining_backoff",
]

#: upstream DefaultJobPodFailureBackOff and MaxJobPodFailureBackOff, in seconds.
DEFAULT_BACKOFF = 10.0
MAX_BACKOFF = 360.0


@attrs.frozen
class BackoffRecord:
    failures_after_last_success: int = 0
    last_failure_time: _dt.datetime | None = None


def remaining_backoff(
    record: BackoffRecord, now: _dt.datetime, default: float, maximum: float
) -> float:
    """Seconds until a replacement may be created (getRemainingTimeForFailuresCount)."""
    failures = record.failures_after_last_success
    if failures == 0 or record.last_failure_time is None:
        return 0.0
    backoff = default
    for _ in range(1, failures):
        backoff *= 2
        if backoff >= maximum:
            backoff = maximum
            break
    elapsed = (now - record.last_failure_time).total_seconds()
    return 0.0 if backoff < elapsed else backoff - elapsed


class BackoffStore:
    """Backoff records by job key."""

    def __init__(self) -> None:
        self._records: dict[str, BackoffRecord] = {}

    def get(self, key: str) -> BackoffRecord:
        return self._records.get(key, BackoffRecord())

    def new_record(
        self, key: str, new_succeeded: Sequence[Pod], new_failed: Sequence[Pod]
    ) -> BackoffRecord:
        """The record after the newly finished pods (newBackoffRecord): failures add up; a
        success resets the count to the failures that finished after it."""
        old = self.get(key)
        failed_times = sorted(finished_time(p) for p in new_failed)
        if not new_succeeded:
            if not failed_times:
                return old
            return BackoffRecord(
                old.failures_after_last_success + len(failed_times), failed_times[-1]
            )
        last_success = max(finished_time(p) for p in new_succeeded)
        after = [t for t in failed_times if t > last_success]
        return BackoffRecord(len(after), after[-1] if after else None)

    def update(self, key: str, record: BackoffRecord) -> None:
        self._records[key] = record

    def remove(self, key: str) -> None:
        self._records.pop(key, None)


def parse_seconds(text: str) -> float:
    """A Go duration (``10s``, ``500ms``, ``6m``, ``1m30s``) or a number of seconds."""
    text = text.strip()
    try:
        return float(text)
    except ValueError:
        pass
    units = {"h": 3600.0, "m": 60.0, "s": 1.0, "ms": 0.001}
    total, number, i = 0.0, "", 0
    while i < len(text):
        ch = text[i]
        if ch.isdigit() or ch == ".":
            number += ch
            i += 1
            continue
        unit = "ms" if text.startswith("ms", i) else ch
        if unit not in units or not number:
            raise ValueError(f"invalid duration {text!r}")
        total += float(number) * units[unit]
        number = ""
        i += len(unit)
    if number:
        raise ValueError(f"invalid duration {text!r}: missing unit")
    return total
