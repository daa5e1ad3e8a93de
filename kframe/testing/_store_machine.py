"""A Hypothesis state machine that drives a Store and a simple model side by side."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import attrs
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

from kframe.store import (
    CompactedError,
    ConflictError,
    Event,
    KeyExistsError,
    KeyNotFoundError,
    Store,
    Watch,
)

T = TypeVar("T")

KEYS = st.sampled_from(["/a", "/b", "/c/d", "/c/e", "/c/f/g"])
PREFIXES = st.sampled_from(["/", "/c/", "/a", "/c/f/"])
VALUES = st.binary(max_size=8)


@attrs.frozen
class _Version:
    value: bytes
    create_revision: int
    mod_revision: int
    version: int
    lease: int


# An event as the model predicts it: (type, key, value or None, revision, previous value).
_Expected = tuple[str, str, bytes | None, int, bytes | None]


def _observed(e: Event) -> _Expected:
    value = e.kv.value if e.type == "PUT" else None
    return (e.type, e.kv.key, value, e.revision, e.prev_kv.value if e.prev_kv else None)


def store_state_machine(factory: Callable[[], Awaitable[Store]]) -> type[RuleBasedStateMachine]:
    """A state machine class for the store ``factory`` opens; use its ``TestCase``."""

    class StoreMachine(RuleBasedStateMachine):
        def __init__(self) -> None:
            super().__init__()
            self.loop = asyncio.new_event_loop()
            self.store = self.run(factory())
            self.base = self.run(self.store.revision())
            self.rev = self.base
            self.compacted = 0
            self.state: dict[str, _Version] = {}
            self.snapshots: dict[int, dict[str, _Version]] = {self.base: {}}
            self.log: list[_Expected] = []
            self.leases: dict[int, set[str]] = {}
            self.watches: list[tuple[Watch, str, int]] = []

        def run(self, coro: Awaitable[T]) -> T:
            async def wrapped() -> T:
                return await asyncio.wait_for(coro, 30)

            return self.loop.run_until_complete(wrapped())

        def _commit(self, changes: list[tuple[str, bytes | None, int]]) -> None:
            """Apply one transaction of (key, value or None to delete, lease) to the model."""
            self.rev += 1
            for key, value, lease in changes:
                prev = self.state.get(key)
                for keys in self.leases.values():
                    keys.discard(key)
                if value is None:
                    assert prev is not None
                    del self.state[key]
                    self.log.append(("DELETE", key, None, self.rev, prev.value))
                else:
                    self.state[key] = _Version(
                        value,
                        prev.create_revision if prev else self.rev,
                        self.rev,
                        prev.version + 1 if prev else 1,
                        lease,
                    )
                    if lease:
                        self.leases[lease].add(key)
                    self.log.append(("PUT", key, value, self.rev, prev.value if prev else None))
            self.snapshots[self.rev] = dict(self.state)

        @staticmethod
        def _draw_revision(data: st.DataObject, low: int, high: int) -> int:
            # Drawn as an offset: a store on a shared server (etcd) starts at a different
            # absolute revision every run, and Hypothesis needs the same draws to replay.
            return low + data.draw(st.integers(0, high - low))

        def _check(self, kv: Any, key: str) -> None:
            want = self.state[key]
            assert (kv.key, kv.value, kv.create_revision, kv.mod_revision, kv.version) == (
                key,
                want.value,
                want.create_revision,
                want.mod_revision,
                want.version,
            )

        @rule(key=KEYS, value=VALUES, use_lease=st.booleans())
        def create(self, key: str, value: bytes, use_lease: bool) -> None:
            lease = next(iter(self.leases), 0) if use_lease else 0
            if key in self.state:
                try:
                    self.run(self.store.create(key, value, lease=lease))
                except KeyExistsError:
                    return
                raise AssertionError(f"create of existing {key} succeeded")
            kv = self.run(self.store.create(key, value, lease=lease))
            self._commit([(key, value, lease)])
            self._check(kv, key)

        @rule(key=KEYS, value=VALUES, stale=st.booleans())
        def update(self, key: str, value: bytes, stale: bool) -> None:
            current = self.state.get(key)
            expected = (current.mod_revision - (1 if stale else 0)) if current else self.rev
            try:
                kv = self.run(self.store.update(key, value, expected_revision=expected))
            except KeyNotFoundError:
                assert current is None
                return
            except ConflictError as exc:
                assert current is not None and stale, "a fresh write was refused"
                self._check(exc.current, key)
                return
            assert current is not None and not stale, "a stale or missing write succeeded"
            self._commit([(key, value, 0)])
            self._check(kv, key)

        @rule(key=KEYS, guarded=st.booleans())
        def delete(self, key: str, guarded: bool) -> None:
            current = self.state.get(key)
            expected = current.mod_revision if (current and guarded) else None
            try:
                kv = self.run(self.store.delete(key, expected_revision=expected))
            except KeyNotFoundError:
                assert current is None
                return
            assert current is not None
            assert kv.mod_revision == current.mod_revision
            self._commit([(key, None, 0)])

        @precondition(lambda self: any(self.state))
        @rule(data=st.data())
        def racing_writers(self, data: st.DataObject) -> None:
            key = data.draw(st.sampled_from(sorted(self.state)))
            expected = self.state[key].mod_revision

            async def race() -> list[Any]:
                return await asyncio.gather(  # type: ignore[return-value]
                    self.store.update(key, b"first", expected_revision=expected),
                    self.store.update(key, b"second", expected_revision=expected),
                    return_exceptions=True,
                )

            results = self.run(race())
            wins = [r for r in results if not isinstance(r, BaseException)]
            assert len(wins) == 1, f"racing writers: {results}"
            assert isinstance(results[1 - results.index(wins[0])], ConflictError)
            self._commit([(key, wins[0].value, 0)])

        @rule(data=st.data())
        def get_at_some_revision(self, data: st.DataObject) -> None:
            key = data.draw(KEYS)
            at = self._draw_revision(data, max(self.compacted, self.base), self.rev)
            kv = self.run(self.store.get(key, revision=at))
            want = self.snapshots[at].get(key)
            if want is None:
                assert kv is None, f"get {key}@{at}: {kv}, expected nothing"
            else:
                assert kv is not None, f"get {key}@{at}: nothing, expected {want}"
                assert (kv.value, kv.mod_revision) == (want.value, want.mod_revision)

        @rule(prefix=PREFIXES, limit=st.integers(0, 3), past=st.booleans())
        def list_prefix(self, prefix: str, limit: int, past: bool) -> None:
            at = max(self.compacted, self.base, self.rev - 2) if past else self.rev
            page = self.run(self.store.list(prefix, limit=limit or None, revision=at))
            want = sorted(k for k in self.snapshots[at] if k.startswith(prefix))
            got = [kv.key for kv in page.items]
            assert got == (want[:limit] if limit else want)
            assert page.more == bool(limit and len(want) > limit)
            assert self.run(self.store.count(prefix)) == sum(
                k.startswith(prefix) for k in self.state
            )

        @precondition(lambda self: self.rev > max(self.compacted, self.base))
        @rule(data=st.data())
        def compact(self, data: st.DataObject) -> None:
            at = self._draw_revision(data, max(self.compacted, self.base) + 1, self.rev)
            self.run(self.store.compact(at))
            self.compacted = at
            # Watches opened earlier keep their events: compaction only affects new reads.

        @rule(prefix=PREFIXES, data=st.data())
        def open_watch(self, prefix: str, data: st.DataObject) -> None:
            low = max(self.compacted, self.base) + 1
            start = self._draw_revision(data, low, self.rev + 1)
            self.watches.append((self.store.watch(prefix, start_revision=start), prefix, start))

        @rule(data=st.data())
        def watch_below_compaction_fails(self, data: st.DataObject) -> None:
            if self.compacted <= self.base:
                return
            start = self._draw_revision(data, self.base + 1, self.compacted)
            watch = self.store.watch("/", start_revision=start)

            async def first() -> None:
                async for _ in watch:
                    return

            try:
                self.run(first())
            except CompactedError:
                return
            finally:
                self.run(watch.close())
            raise AssertionError(f"watch from compacted revision {start} did not fail")

        @precondition(lambda self: len(self.leases) < 2)
        @rule()
        def grant_lease(self) -> None:
            lease = self.run(self.store.grant_lease(600))
            self.leases[lease.id] = set()

        @precondition(lambda self: bool(self.leases))
        @rule(data=st.data())
        def revoke_lease(self, data: st.DataObject) -> None:
            lease_id = data.draw(st.sampled_from(sorted(self.leases)))
            self.run(self.store.revoke_lease(lease_id))
            keys = self.leases.pop(lease_id)
            if keys:
                self._commit([(k, None, 0) for k in sorted(keys)])

        @invariant()
        def revision_matches(self) -> None:
            assert self.run(self.store.revision()) == self.rev

        def teardown(self) -> None:
            try:
                for watch, prefix, start in self.watches:
                    want = [e for e in self.log if e[3] >= start and e[1].startswith(prefix)]
                    got = self.run(take_events(watch, len(want), 10.0))
                    # Events of one transaction share a revision; their order within it is
                    # the backend's.
                    assert sorted(map(_observed, got)) == sorted(want)
                    assert [e.revision for e in got] == sorted(e.revision for e in got)
                    assert self.run(take_events(watch, 1, 0.02)) == [], "an extra event arrived"
                    self.run(watch.close())
            finally:
                self.run(self.store.close())
                self.loop.close()

    return StoreMachine


async def take_events(watch: Watch, n: int | None, timeout: float) -> list[Event]:
    """Up to ``n`` events of ``watch`` (all that come, if None) within ``timeout`` seconds."""
    out: list[Event] = []

    async def take() -> None:
        async for event in watch:
            out.append(event)
            if n is not None and len(out) >= n:
                return

    if n != 0:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(take(), timeout)
    return out
