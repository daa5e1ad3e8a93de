"""Which Event an occurrence becomes: client-go's EventCorrelator (tools/record events_cache.go).

Three steps, in upstream's order, each with upstream's defaults:

1. **Spam filter.** Per source and involved object, a token bucket of 25 that refills one token
   every 5 minutes: an object's 26th quick event (whatever its reason) is dropped.
2. **Aggregation.** Events that differ only by message (same source, object, type, reason): once
   10 distinct messages were seen within 10 minutes, the next ones are one Event whose message is
   ``(combined from similar events): <the latest message>``.
3. **Deduplication.** An Event already written for the same key (source, object, type, reason,
   message) gets ``count + 1`` and a new ``lastTimestamp`` instead of a new Event.

Pure bookkeeping on a monotonic clock, bounded as upstream's LRU caches (4096 keys each); the
recorder (:class:`~kframe.client.EventRecorder`) does the writes.
"""

from __future__ import annotations

from collections import OrderedDict
from typing import Generic, TypeVar

__all__ = [
    "AGGREGATE_INTERVAL",
    "AGGREGATE_MAX_EVENTS",
    "COMBINED_PREFIX",
    "MAX_CACHE",
    "SPAM_BURST",
    "SPAM_QPS",
    "Correlation",
    "EventCorrelator",
    "ObjectKey",
]

MAX_CACHE = 4096
SPAM_BURST = 25
SPAM_QPS = 1.0 / 300.0
AGGREGATE_MAX_EVENTS = 10
AGGREGATE_INTERVAL = 600.0
COMBINED_PREFIX = "(combined from similar events): "

# The involved object: kind, namespace, name, uid, apiVersion.
ObjectKey = tuple[str, str, str, str, str]
K = TypeVar("K")
V = TypeVar("V")


class _LRU(Generic[K, V]):
    __slots__ = ("_items",)

    def __init__(self) -> None:
        self._items: OrderedDict[K, V] = OrderedDict()

    def get(self, key: K) -> V | None:
        value = self._items.get(key)
        if value is not None:
            self._items.move_to_end(key)
        return value

    def put(self, key: K, value: V) -> None:
        self._items[key] = value
        self._items.move_to_end(key)
        if len(self._items) > MAX_CACHE:
            self._items.popitem(last=False)


class Correlation:
    """What to write: ``message`` (maybe combined), and ``count`` > 1 when the Event under
    ``key`` was written before and gets patched."""

    __slots__ = ("count", "key", "message")

    def __init__(self, key: tuple[str, ...], message: str, count: int) -> None:
        self.key = key
        self.message = message
        self.count = count


class _Bucket:
    __slots__ = ("at", "tokens")

    def __init__(self, now: float) -> None:
        self.tokens = float(SPAM_BURST)
        self.at = now


class _Similar:
    __slots__ = ("last", "messages")

    def __init__(self, now: float) -> None:
        self.messages: set[str] = set()
        self.last = now


class EventCorrelator:
    def __init__(self) -> None:
        self._spam: _LRU[tuple[str, ObjectKey], _Bucket] = _LRU()
        self._similar: _LRU[tuple[str, ...], _Similar] = _LRU()
        self._counts: _LRU[tuple[str, ...], int] = _LRU()

    def correlate(
        self, source: str, obj: ObjectKey, type_: str, reason: str, message: str, now: float
    ) -> Correlation | None:
        """The Event to write for one occurrence at ``now`` (monotonic seconds); None: dropped
        by the spam filter."""
        bucket = self._spam.get((source, obj))
        if bucket is None:
            bucket = _Bucket(now)
            self._spam.put((source, obj), bucket)
        bucket.tokens = min(float(SPAM_BURST), bucket.tokens + (now - bucket.at) * SPAM_QPS)
        bucket.at = now
        if bucket.tokens < 1.0:
            return None
        bucket.tokens -= 1.0

        similar_key = (source, *obj, type_, reason)
        similar = self._similar.get(similar_key)
        if similar is None or now - similar.last > AGGREGATE_INTERVAL:
            similar = _Similar(now)
        similar.messages.add(message)
        similar.last = now
        self._similar.put(similar_key, similar)
        key: tuple[str, ...] = (*similar_key, message)
        if len(similar.messages) >= AGGREGATE_MAX_EVENTS:
            similar.messages.pop()  # upstream's PopAny: the set stays below the threshold
            # One Event for all of them, under the aggregate key (a message never ends a key
            # this way: it has one element fewer).
            key, message = similar_key, COMBINED_PREFIX + message

        count = (self._counts.get(key) or 0) + 1
        self._counts.put(key, count)
        return Correlation(key, message, count)
