"""Per-container restart back-off, as client-go's ``flowcontrol.Backoff`` in the kubelet.

The first restart of a crashed container is immediate; while the next exit is within the
current back-off of its finish time the container waits in ``CrashLoopBackOff``; each restart
doubles the back-off, from 10 s to at most 5 min. A container that ran for 10 minutes before
exiting starts afresh (upstream's reset), as does an entry untouched for twice the maximum
(upstream's garbage collection of back-off entries).
"""

from __future__ import annotations

import attrs

from kframe.client import Clock

__all__ = ["Backoff", "go_duration", "go_duration_ms"]


@attrs.define
class _Entry:
    backoff: float
    last_update: float


class Backoff:
    def __init__(self, clock: Clock, initial: float = 10.0, maximum: float = 300.0) -> None:
        self._clock = clock
        self.initial = initial
        self.maximum = maximum
        self._entries: dict[str, _Entry] = {}

    def get(self, key: str) -> float:
        entry = self._entries.get(key)
        return entry.backoff if entry is not None else 0.0

    def in_backoff_since(self, key: str, event_time: float) -> bool:
        """Whether ``key`` is still backing off from something that happened at ``event_time``."""
        entry = self._entries.get(key)
        if entry is None or self._expired(entry):
            return False
        return self._clock.now() - event_time < entry.backoff

    def remaining(self, key: str, event_time: float) -> float:
        entry = self._entries.get(key)
        if entry is None:
            return 0.0
        return max(0.0, event_time + entry.backoff - self._clock.now())

    def next(self, key: str) -> float:
        """Record a restart now: the back-off grows (or starts at the initial value)."""
        now = self._clock.now()
        entry = self._entries.get(key)
        if entry is None or self._expired(entry):
            entry = self._entries[key] = _Entry(self.initial, now)
        else:
            entry.backoff = min(entry.backoff * 2, self.maximum)
            entry.last_update = now
        return entry.backoff

    def reset(self, key: str) -> None:
        self._entries.pop(key, None)

    def forget_prefix(self, prefix: str) -> None:
        for key in [k for k in self._entries if k.startswith(prefix)]:
            del self._entries[key]

    def _expired(self, entry: _Entry) -> bool:
        return self._clock.now() - entry.last_update > 2 * self.maximum


def go_duration(seconds: float) -> str:
    """Go's ``time.Duration.String`` for whole seconds: ``10s``, ``1m20s``, ``5m0s``, ``1h0m0s``."""
    total = round(seconds)
    hours, rest = divmod(total, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{hours}h{minutes}m{secs}s"
    if minutes:
        return f"{minutes}m{secs}s"
    return f"{secs}s"


def go_duration_ms(seconds: float) -> str:
    """Go's ``time.Duration.String`` at millisecond precision: ``0s``, ``512ms``, ``1.5s``."""
    millis = round(seconds * 1000)
    if millis == 0:
        return "0s"
    if millis < 1000:
        return f"{millis}ms"
    whole, frac = divmod(millis, 1000)
    text = go_duration(whole)
    if frac:
        text = f"{text[:-1]}.{frac:03d}".rstrip("0") + "s"
    return text
