"""Rate limiters for the work queue: how long a failed item waits before it is retried.

The Python form of client-go's ``util/workqueue/default_rate_limiters.go``. A controller that
fails to sync an item calls ``queue.add_rate_limited(item)``; the queue asks its limiter
:meth:`RateLimiter.when` and adds the item after that delay. On success the controller calls
``queue.forget(item)`` so the item's failure count starts again from zero.
"""

from __future__ import annotations

from collections.abc import Hashable
from typing import TYPE_CHECKING, Generic, Protocol, TypeVar

from kframe.client._clock import Clock, LoopClock

__all__ = [
    "RateLimiter",
    "ItemExponentialFailureRateLimiter",
    "ItemFastSlowRateLimiter",
    "BucketRateLimiter",
    "MaxOfRateLimiter",
    "default_controller_rate_limiter",
]

T = TypeVar("T", bound=Hashable)
T_contra = TypeVar("T_contra", bound=Hashable, contravariant=True)


class RateLimiter(Protocol[T_contra]):
    """Decides how long an item waits before it is retried (client-go's ``RateLimiter``)."""

    def when(self, item: T_contra) -> float:
        """Seconds ``item`` should wait; counts one more failure of it."""
        ...

    def forget(self, item: T_contra) -> None:
        """Stop tracking ``item`` (it succeeded, or its retries were given up)."""
        ...

    def num_requeues(self, item: T_contra) -> int:
        """How many failures of ``item`` are counted."""
        ...


class ItemExponentialFailureRateLimiter:
    """Per item, ``base * 2**failures`` seconds, at most ``max``: 5 ms, 10 ms, 20 ms, ... 1000 s."""

    def __init__(self, base: float = 0.005, max: float = 1000.0) -> None:
        self._base = base
        self._max = max
        self._failures: dict[Hashable, int] = {}

    def when(self, item: Hashable) -> float:
        exp = self._failures.get(item, 0)
        self._failures[item] = exp + 1
        try:
            backoff = self._base * 2.0**exp
        except OverflowError:  # 2.0**exp past the float range: the cap applies
            return self._max
        return min(backoff, self._max)

    def forget(self, item: Hashable) -> None:
        self._failures.pop(item, None)

    def num_requeues(self, item: Hashable) -> int:
        return self._failures.get(item, 0)


class ItemFastSlowRateLimiter:
    """Per item, ``fast`` seconds for the first ``max_fast_attempts`` failures, ``slow`` after."""

    def __init__(self, fast: float, slow: float, max_fast_attempts: int) -> None:
        self._fast = fast
        self._slow = slow
        self._max_fast_attempts = max_fast_attempts
        self._failures: dict[Hashable, int] = {}

    def when(self, item: Hashable) -> float:
        failures = self._failures[item] = self._failures.get(item, 0) + 1
        return self._fast if failures <= self._max_fast_attempts else self._slow

    def forget(self, item: Hashable) -> None:
        self._failures.pop(item, None)

    def num_requeues(self, item: Hashable) -> int:
        return self._failures.get(item, 0)


class BucketRateLimiter:
    """One token bucket for all items: ``burst`` retries at once, then ``qps`` a second.

    Each :meth:`when` reserves a token, as ``golang.org/x/time/rate``'s ``Reserve().Delay()``
    does: the bucket starts full, refills at ``qps`` up to ``burst``, and may go into debt, so
    the n-th retry past the burst waits ``n / qps`` seconds. It counts no failures per item.
    """

    def __init__(self, qps: float = 10.0, burst: int = 100, *, clock: Clock | None = None) -> None:
        if qps <= 0:
            raise ValueError(f"qps must be positive, not {qps}")
        if burst < 1:
            raise ValueError(f"burst must be at least 1, not {burst}")
        self._qps = qps
        self._burst = burst
        self._clock: Clock = LoopClock() if clock is None else clock
        self._tokens = float(burst)
        self._last: float | None = None

    def when(self, item: Hashable) -> float:
        now = self._clock.now()
        if self._last is not None:
            elapsed = max(0.0, now - self._last)
            self._tokens = min(float(self._burst), self._tokens + elapsed * self._qps)
        self._last = now
        self._tokens -= 1.0
        return -self._tokens / self._qps if self._tokens < 0 else 0.0

    def forget(self, item: Hashable) -> None:
        pass

    def num_requeues(self, item: Hashable) -> int:
        return 0


class MaxOfRateLimiter(Generic[T]):
    """Asks every limiter and answers with the longest delay (and the most failures).

    Every limiter is asked on each :meth:`when`, so each keeps its own count.
    """

    def __init__(self, *limiters: RateLimiter[T]) -> None:
        self._limiters = limiters

    def when(self, item: T) -> float:
        return max([limiter.when(item) for limiter in self._limiters], default=0.0)

    def forget(self, item: T) -> None:
        for limiter in self._limiters:
            limiter.forget(item)

    def num_requeues(self, item: T) -> int:
        return max([limiter.num_requeues(item) for limiter in self._limiters], default=0)


def default_controller_rate_limiter(*, clock: Clock | None = None) -> MaxOfRateLimiter[Hashable]:
    """client-go's ``DefaultControllerRateLimiter``: per-item exponential and overall bucket.

    Per item, 5 ms doubling to at most 1000 s; over all items, 10 retries a second after a burst
    of 100. ``clock`` is the bucket's (the default is the event loop's).
    """
    return MaxOfRateLimiter(
        ItemExponentialFailureRateLimiter(0.005, 1000.0),
        BucketRateLimiter(qps=10.0, burst=100, clock=clock),
    )


if TYPE_CHECKING:
    _exponential: RateLimiter[Hashable] = ItemExponentialFailureRateLimiter()
    _fast_slow: RateLimiter[Hashable] = ItemFastSlowRateLimiter(0.005, 10.0, 3)
    _bucket: RateLimiter[Hashable] = BucketRateLimiter()
    _max_of: RateLimiter[str] = default_controller_rate_limiter()
