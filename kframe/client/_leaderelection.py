"""Leader election on a ``coordination.k8s.io/v1`` Lease, as client-go's ``tools/leaderelection``.

Candidates share one Lease. The holder renews it every ``retry_period``; the others read it
every ``retry_period`` (with jitter) and take it over once they have seen no change to it for
the lease's ``leaseDurationSeconds``, counted on *their own* clock from the moment they
observed the last change (the timestamps in the Lease are written, never trusted: they come
from another machine's clock). A holder that cannot renew within ``renew_deadline`` stops
leading. Every write carries the Lease's ``resourceVersion``, so of two candidates racing for
the same Lease only one wins.

As upstream, this does not fence: it relies on the candidates' clocks running at about the same
rate, and on ``lease_duration - renew_deadline`` covering API latency and clock-rate skew.

Time is read from a :class:`~kframe.client._clock.Clock` (monotonic seconds, a sleep, and the
wall time to write into the Lease): :class:`~kframe.client._clock.LoopClock` by default, a
:class:`~kframe.client._clock.FakeClock` in tests, which moves only when told to.
"""

from __future__ import annotations

import asyncio
import datetime as _dt
import inspect
import logging
import math
import random
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any, TypeVar

import attrs

from kframe.api._types import MicroTime
from kframe.api.models import Lease, LeaseSpec, ObjectMeta
from kframe.apiserver import APIError
from kframe.client._clock import Clock, LoopClock
from kframe.client._interface import Client

__all__ = [
    "JITTER_FACTOR",
    "LeaderElectionConfig",
    "LeaderElectionRecord",
    "LeaderElector",
]

_log = logging.getLogger(__name__)

T = TypeVar("T")

#: How much longer than ``retry_period`` a non-leader may wait between tries, as a fraction of
#: it: each wait is ``retry_period * (1 + JITTER_FACTOR * random())`` (``wait.JitterUntil``).
JITTER_FACTOR = 1.2


# --- configuration ------------------------------------------------------------------------------


def _positive(instance: object, attribute: attrs.Attribute[float], value: float) -> None:
    if not value > 0:
        raise ValueError(f"{attribute.name} must be greater than zero, not {value}")


def _nonempty(instance: object, attribute: attrs.Attribute[str], value: str) -> None:
    if not value:
        raise ValueError(f"{attribute.name} must not be empty")


@attrs.frozen(kw_only=True)
class LeaderElectionConfig:
    """Which Lease to contend for, as whom, and the timing (``LeaderElectionConfig``).

    ``lease_duration``: how long non-leaders wait, after they last saw the Lease change, before
    they take it over. ``renew_deadline``: how long the leader keeps retrying a renewal before
    it gives up leading. ``retry_period``: the wait between tries. The defaults are those of
    the Kubernetes controller managers and scheduler (15 s, 10 s, 2 s).

    ``release_on_cancel``: when :meth:`LeaderElector.run` is cancelled (or leadership is lost),
    clear the holder so another candidate can take over at once rather than after
    ``lease_duration``. Everything guarded by the lease must have stopped by then; the elector
    waits for the task it started with ``on_started_leading`` to finish before releasing.
    """

    name: str = attrs.field(validator=_nonempty)
    namespace: str = attrs.field(validator=_nonempty)
    identity: str = attrs.field(validator=_nonempty)
    lease_duration: float = attrs.field(default=15.0, validator=_positive)
    renew_deadline: float = attrs.field(default=10.0, validator=_positive)
    retry_period: float = attrs.field(default=2.0, validator=_positive)
    release_on_cancel: bool = True

    def __attrs_post_init__(self) -> None:
        if self.lease_duration <= self.renew_deadline:
            raise ValueError("lease_duration must be greater than renew_deadline")
        if self.renew_deadline <= JITTER_FACTOR * self.retry_period:
            raise ValueError("renew_deadline must be greater than retry_period*JITTER_FACTOR")

    @property
    def lease_duration_seconds(self) -> int:
        """``leaseDurationSeconds`` as written: whole seconds, rounded up (never shorter)."""
        return max(1, math.ceil(self.lease_duration))


@attrs.frozen(kw_only=True)
class LeaderElectionRecord:
    """What the election reads from and writes to a Lease's spec (``LeaderElectionRecord``)."""

    holder_identity: str = ""
    lease_duration_seconds: int = 0
    acquire_time: _dt.datetime | None = None
    renew_time: _dt.datetime | None = None
    leader_transitions: int = 0

    @classmethod
    def from_spec(cls, spec: LeaseSpec | None) -> LeaderElectionRecord:
        spec = spec or LeaseSpec()
        return cls(
            holder_identity=spec.holder_identity or "",
            lease_duration_seconds=spec.lease_duration_seconds or 0,
            acquire_time=spec.acquire_time,
            renew_time=spec.renew_time,
            leader_transitions=spec.lease_transitions or 0,
        )

    def to_spec(self, base: LeaseSpec | None = None) -> LeaseSpec:
        """This record over ``base`` (whose other fields, such as ``strategy``, are kept)."""
        return attrs.evolve(
            base or LeaseSpec(),
            holder_identity=self.holder_identity,
            lease_duration_seconds=self.lease_duration_seconds,
            acquire_time=None if self.acquire_time is None else MicroTime(self.acquire_time),
            renew_time=None if self.renew_time is None else MicroTime(self.renew_time),
            lease_transitions=self.leader_transitions,
        )


# --- the lock -----------------------------------------------------------------------------------


class _LeaseLock:
    """Reads and writes the record in one Lease, remembering the last copy seen (``LeaseLock``).

    An update sends that copy's ``resourceVersion``, so it fails with 409 if anyone wrote the
    Lease since this candidate last read or wrote it.
    """

    def __init__(self, client: Client, name: str, namespace: str) -> None:
        self._client = client
        self._name = name
        self._namespace = namespace
        self._lease: Lease | None = None

    def describe(self) -> str:
        return f"{self._namespace}/{self._name}"

    async def get(self) -> LeaderElectionRecord:
        self._lease = await self._client.get(Lease, self._name, namespace=self._namespace)
        return LeaderElectionRecord.from_spec(self._lease.spec)

    async def create(self, record: LeaderElectionRecord) -> None:
        lease = Lease(
            metadata=ObjectMeta(name=self._name, namespace=self._namespace),
            spec=record.to_spec(),
        )
        self._lease = await self._client.create(lease, namespace=self._namespace)

    async def update(self, record: LeaderElectionRecord) -> None:
        if self._lease is None:
            raise RuntimeError("lease not initialized, call get or create first")
        lease = attrs.evolve(self._lease, spec=record.to_spec(self._lease.spec))
        self._lease = await self._client.update(lease)


# --- the elector --------------------------------------------------------------------------------


class _TimedOut(Exception):
    pass


class LeaderElector:
    """One candidate in the election for ``config``'s Lease (``leaderelection.LeaderElector``).

    :meth:`run` waits to acquire the Lease, runs ``on_started_leading`` as a task while it keeps
    renewing, and when it stops leading cancels that task and calls ``on_stopped_leading``.
    """

    def __init__(
        self,
        client: Client,
        config: LeaderElectionConfig,
        *,
        clock: Clock | None = None,
        rng: random.Random | None = None,
    ) -> None:
        self._config = config
        self._clock: Clock = LoopClock() if clock is None else clock
        self._rng = rng or random.Random()
        self._lock = _LeaseLock(client, config.name, config.namespace)
        self._observed = LeaderElectionRecord()
        self._observed_time = -math.inf
        self._reported_leader = ""
        self._on_new_leader: Callable[[str], None] | None = None
        self._running = False

    @property
    def config(self) -> LeaderElectionConfig:
        return self._config

    def leader(self) -> str:
        """The identity of the last observed holder, or ``""`` if none has been observed."""
        return self._observed.holder_identity

    def is_leader(self) -> bool:
        """Whether the last observed holder is this candidate."""
        return self._observed.holder_identity == self._config.identity

    async def run(
        self,
        on_started_leading: Callable[[], Awaitable[None]],
        on_stopped_leading: Callable[[], Awaitable[None] | None],
        on_new_leader: Callable[[str], None] | None = None,
    ) -> None:
        """Contend for the Lease; lead while it is held; return once leadership is lost.

        ``on_started_leading()`` is started as a task on acquiring the Lease and cancelled (and
        awaited) when leadership ends: renewal failed for ``renew_deadline``, :meth:`run` was
        cancelled, or the task itself raised. Then, with ``release_on_cancel``, the Lease is
        released, and ``on_stopped_leading()`` is called (and awaited, if it returns an
        awaitable). If the leading task raised, :meth:`run` raises that error afterwards; if it
        returns normally, the Lease is still held and renewed (as upstream).
        ``on_new_leader(identity)`` is called whenever a different holder is observed
        (``""`` once the Lease is released).

        Cancelling :meth:`run` before the Lease is acquired just stops contending.
        """
        if self._running:
            raise RuntimeError("LeaderElector.run is already running")
        self._running = True
        self._on_new_leader = on_new_leader
        try:
            await self._acquire()
            await self._lead(on_started_leading, on_stopped_leading)
        finally:
            self._running = False

    # -- acquiring and renewing

    async def _acquire(self) -> None:
        """Try until the Lease is ours, waiting ``retry_period`` (jittered) between tries."""
        period = self._config.retry_period
        _log.info("attempting to acquire leader lease %s...", self._lock.describe())
        while True:
            acquired = await self._attempt(deadline=None)
            self._maybe_report_transition()
            if acquired:
                _log.info("successfully acquired lease %s", self._lock.describe())
                return
            _log.debug("failed to acquire lease %s", self._lock.describe())
            await self._clock.sleep(period + self._rng.random() * JITTER_FACTOR * period)

    async def _lead(
        self,
        on_started_leading: Callable[[], Awaitable[None]],
        on_stopped_leading: Callable[[], Awaitable[None] | None],
    ) -> None:
        leading = asyncio.ensure_future(on_started_leading())
        renewing = asyncio.ensure_future(self._renew())
        failure: BaseException | None = None
        try:
            pending: set[asyncio.Future[None]] = {leading, renewing}
            while renewing in pending:
                _, pending = await asyncio.wait(pending, return_when=asyncio.FIRST_COMPLETED)
                if leading.done() and not leading.cancelled() and leading.exception():
                    failure = leading.exception()
                    break
            if renewing.done():
                renewing.result()  # a bug in the elector itself should not pass unnoticed
        finally:
            renewing.cancel()
            leading.cancel()
            await asyncio.wait({renewing, leading})
            try:
                if self._config.release_on_cancel:
                    await self._release()
            finally:
                stopped = on_stopped_leading()
                if inspect.isawaitable(stopped):
                    await stopped
        if failure is not None:
            raise failure

    async def _renew(self) -> None:
        """Renew every ``retry_period`` until a renewal round fails for ``renew_deadline``."""
        period = self._config.retry_period
        while True:
            deadline = self._clock.now() + self._config.renew_deadline
            renewed = False
            while True:
                renewed = await self._attempt(deadline=deadline)
                if renewed:
                    break
                remaining = deadline - self._clock.now()
                if remaining <= 0:
                    break
                await self._clock.sleep(min(period, remaining))
                if self._clock.now() >= deadline:
                    break
            self._maybe_report_transition()
            if not renewed:
                _log.info("failed to renew lease %s: timed out", self._lock.describe())
                return
            _log.debug("successfully renewed lease %s", self._lock.describe())
            await self._clock.sleep(period)

    async def _attempt(self, *, deadline: float | None) -> bool:
        """One try; an error of any kind is a failed try, as upstream (which retries on all)."""
        try:
            return await self._try_acquire_or_renew(deadline=deadline)
        except _TimedOut:
            _log.info("lease %s: API call abandoned at the renew deadline", self._lock.describe())
        except Exception:
            _log.exception("lease %s: unexpected error", self._lock.describe())
        return False

    async def _try_acquire_or_renew(self, *, deadline: float | None) -> bool:
        """One attempt to take or keep the Lease (``tryAcquireOrRenew``); True if it is ours.

        With a ``deadline``, an API call still unanswered then is abandoned (:class:`_TimedOut`).
        """
        now = self._clock.wall()
        record = LeaderElectionRecord(
            holder_identity=self._config.identity,
            lease_duration_seconds=self._config.lease_duration_seconds,
            acquire_time=now,
            renew_time=now,
            leader_transitions=0,
        )

        # 1. The fast path: the leader updates the copy it last wrote, assuming it is current.
        if self.is_leader() and self._is_lease_valid():
            record = attrs.evolve(
                record,
                acquire_time=self._observed.acquire_time,
                leader_transitions=self._observed.leader_transitions,
            )
            try:
                await self._call(self._lock.update(record), deadline)
            except (APIError, RuntimeError) as err:
                _log.info(
                    "failed to update lock optimistically: %s, falling back to slow path", err
                )
            else:
                self._set_observed(record)
                return True

        # 2. Read the record, or create it.
        try:
            old = await self._call(self._lock.get(), deadline)
        except APIError as err:
            if err.code != 404:
                _log.warning("error retrieving resource lock %s: %s", self._lock.describe(), err)
                return False
            try:
                await self._call(self._lock.create(record), deadline)
            except APIError as err:
                _log.warning("error initially creating leader election record: %s", err)
                return False
            self._set_observed(record)
            return True

        # 3. A change since the last look restarts the lease's time on our clock.
        if old != self._observed:
            self._set_observed(old)
        if old.holder_identity and self._is_lease_valid() and not self.is_leader():
            _log.debug("lock is held by %s and has not yet expired", old.holder_identity)
            return False

        # 4. Take it over, or renew it (the fast path failed).
        if self.is_leader():
            record = attrs.evolve(
                record, acquire_time=old.acquire_time, leader_transitions=old.leader_transitions
            )
        else:
            record = attrs.evolve(record, leader_transitions=old.leader_transitions + 1)
        try:
            await self._call(self._lock.update(record), deadline)
        except APIError as err:
            _log.info("failed to update lock %s: %s", self._lock.describe(), err)
            return False
        self._set_observed(record)
        return True

    async def _release(self) -> bool:
        """Give the Lease up if it is ours: no holder, ``leaseDurationSeconds`` 1 (``release``)."""
        if not self.is_leader():
            return True
        now = self._clock.wall()
        record = LeaderElectionRecord(
            holder_identity="",
            lease_duration_seconds=1,
            acquire_time=now,
            renew_time=now,
            leader_transitions=self._observed.leader_transitions,
        )
        try:
            await self._lock.update(record)
        except (APIError, RuntimeError) as err:
            _log.warning("failed to release lock %s: %s", self._lock.describe(), err)
            return False
        self._set_observed(record)
        self._maybe_report_transition()
        return True

    # -- bookkeeping

    async def _call(self, call: Coroutine[Any, Any, T], deadline: float | None) -> T:
        """``await call``, abandoning it at ``deadline`` on the election clock."""
        if deadline is None:
            return await call
        task = asyncio.ensure_future(call)
        timer = asyncio.ensure_future(self._clock.sleep(deadline - self._clock.now()))
        try:
            await asyncio.wait({task, timer}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            timer.cancel()
            if not task.done():
                task.cancel()
            await asyncio.wait({task, timer})
        if task.cancelled():
            raise _TimedOut()
        return task.result()

    def _is_lease_valid(self) -> bool:
        expires = self._observed_time + self._observed.lease_duration_seconds
        return expires > self._clock.now()

    def _set_observed(self, record: LeaderElectionRecord) -> None:
        self._observed = record
        self._observed_time = self._clock.now()

    def _maybe_report_transition(self) -> None:
        holder = self._observed.holder_identity
        if holder == self._reported_leader:
            return
        self._reported_leader = holder
        if self._on_new_leader is not None:
            self._on_new_leader(holder)
