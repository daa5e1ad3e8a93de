"""Round-robin over a service port's endpoints, with ClientIP affinity: upstream's userspace
``LoadBalancerRR`` (``pkg/proxy/userspace/roundrobin.go``, removed in 1.26).

Pure logic with an injectable clock; the TCP and UDP listeners ask it for an endpoint per new
connection or UDP association.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Hashable, Sequence

import attrs

__all__ = ["RoundRobin"]


@attrs.define
class _Sticky:
    endpoint: str
    last_used: float


@attrs.define
class _Pool:
    endpoints: tuple[str, ...] = ()
    index: int = 0
    #: ClientIP affinity timeout in seconds (0: no affinity).
    affinity_seconds: int = 0
    sticky: dict[str, _Sticky] = attrs.field(factory=dict)


class RoundRobin:
    """Endpoint pools by key (any hashable: the backend uses a service port and a traffic kind).

    :meth:`next` hands out a pool's endpoints in turn; with affinity a client IP gets the
    endpoint it got last while it used it less than ``affinity_seconds`` ago and it is still in
    the pool. ``now`` is the clock (seconds, monotonic).
    """

    def __init__(self, now: Callable[[], float] = time.monotonic) -> None:
        self._now = now
        self._pools: dict[Hashable, _Pool] = {}

    def pools(self) -> list[Hashable]:
        return list(self._pools)

    def endpoints(self, key: Hashable) -> tuple[str, ...]:
        pool = self._pools.get(key)
        return pool.endpoints if pool is not None else ()

    def update(self, key: Hashable, endpoints: Sequence[str], *, affinity_seconds: int = 0) -> None:
        """Set a pool's endpoints (in the order given) and affinity.

        As upstream's ``OnEndpointsUpdate``: a changed endpoint list restarts the rotation at
        its first endpoint, and affinity records pointing at an endpoint no longer in the pool
        are dropped (so are expired ones, upstream's ``CleanupStaleStickySessions``). Turning
        affinity off forgets every record.
        """
        pool = self._pools.setdefault(key, _Pool())
        new = tuple(endpoints)
        if new != pool.endpoints:
            pool.endpoints = new
            pool.index = 0
        if affinity_seconds != pool.affinity_seconds:
            pool.affinity_seconds = affinity_seconds
            if not affinity_seconds:
                pool.sticky.clear()
        if pool.sticky:
            live = set(new)
            now = self._now()
            pool.sticky = {
                ip: s
                for ip, s in pool.sticky.items()
                if s.endpoint in live and now - s.last_used < pool.affinity_seconds
            }

    def remove(self, key: Hashable) -> None:
        self._pools.pop(key, None)

    def clear(self) -> None:
        self._pools.clear()

    def next(self, key: Hashable, client_ip: str = "", *, reset: bool = False) -> str | None:
        """The endpoint for a new connection from ``client_ip``; None when the pool is unknown
        or empty. ``reset``: ignore the client's affinity (a retry after the endpoint it had
        failed to answer, as upstream's ``sessionAffinityReset``)."""
        pool = self._pools.get(key)
        if pool is None or not pool.endpoints:
            return None
        now = self._now()
        if pool.affinity_seconds and not reset:
            sticky = pool.sticky.get(client_ip)
            # upstream: int(time.Since(lastUsed).Seconds()) < ttlSeconds, the same for whole ttl
            if sticky is not None and now - sticky.last_used < pool.affinity_seconds:
                sticky.last_used = now
                return sticky.endpoint
        endpoint = pool.endpoints[pool.index % len(pool.endpoints)]
        pool.index = (pool.index + 1) % len(pool.endpoints)
        if pool.affinity_seconds:
            pool.sticky[client_ip] = _Sticky(endpoint, now)
        return endpoint
