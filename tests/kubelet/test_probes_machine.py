"""ProbeManager as a state machine: pods come and go, containers restart, time passes.

Invariants: every worker of a known container has exactly one timer set (nothing leaks when pods
or containers go); unknown containers are neither started nor ready; a new container instance
starts not ready and, with a startup probe, not started; probes only ever reach the container
ids the kubelet last reported running.
"""

from __future__ import annotations

import asyncio
from typing import Any

from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

from kframe.api import from_dict
from kframe.api.models import Pod
from kframe.client import FakeClock
from kframe.kubelet._probes import ProbeManager
from kframe.runtime import ExecSyncResponse

UIDS = ("u1", "u2", "u3")
NAMES = ("a", "b")


class Service:
    def __init__(self) -> None:
        self.code = 0
        self.calls: list[str] = []

    async def exec_sync(self, container_id: str, cmd: Any, timeout: int = 0) -> ExecSyncResponse:
        self.calls.append(container_id)
        return ExecSyncResponse(exit_code=self.code)


def probe(period: int, threshold: int) -> dict[str, Any]:
    return {"exec": {"command": ["x"]}, "periodSeconds": period, "failureThreshold": threshold}


kinds = st.fixed_dictionaries(
    {},
    optional={
        "readinessProbe": st.builds(probe, st.integers(1, 3), st.integers(1, 2)),
        "livenessProbe": st.builds(probe, st.integers(1, 3), st.integers(1, 2)),
        "startupProbe": st.builds(probe, st.integers(1, 3), st.integers(1, 2)),
    },
)


class ProbeMachine(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.loop = asyncio.new_event_loop()
        self.clock = FakeClock()
        self.service = Service()
        self.manager = ProbeManager(self.service, self.clock)
        self.specs: dict[str, dict[str, dict[str, Any]]] = {}  # uid -> name -> probes
        self.ids: dict[str, dict[str, str]] = {}  # uid -> running name -> id
        self.serial = 0
        self.calls_seen = 0

    def teardown(self) -> None:
        self.loop.run_until_complete(self.manager.close())
        self.loop.close()

    def settle(self) -> None:
        async def spin() -> None:
            for _ in range(10):
                await asyncio.sleep(0)

        self.loop.run_until_complete(spin())

    def _pod(self, uid: str) -> Pod:
        containers = [
            {"name": name, "image": "x", **probes} for name, probes in self.specs[uid].items()
        ]
        body = {"metadata": {"uid": uid, "name": uid}, "spec": {"containers": containers}}
        return from_dict(body, Pod)

    def _add(self, uid: str) -> None:
        async def add() -> None:
            self.manager.add_pod(self._pod(uid), dict(self.ids[uid]))

        self.loop.run_until_complete(add())

    @rule(uid=st.sampled_from(UIDS), a=kinds, b=kinds)
    def add_pod(self, uid: str, a: dict[str, Any], b: dict[str, Any]) -> None:
        if uid not in self.specs:
            self.specs[uid] = {"a": a, "b": b}
            self.ids[uid] = {}
        for name in NAMES:
            self.serial += 1
            self.ids[uid][name] = f"{uid}-{name}-{self.serial}"
        self._add(uid)
        self.check_fresh(uid, NAMES)

    @precondition(lambda self: bool(self.ids))
    @rule(data=st.data())
    def restart_or_stop(self, data: st.DataObject) -> None:
        uid = data.draw(st.sampled_from(sorted(self.ids)))
        name = data.draw(st.sampled_from(NAMES))
        if data.draw(st.booleans()):
            self.serial += 1
            self.ids[uid][name] = f"{uid}-{name}-{self.serial}"
            self._add(uid)
            self.check_fresh(uid, (name,))
        else:
            self.ids[uid].pop(name, None)
            self._add(uid)

    @precondition(lambda self: bool(self.ids))
    @rule(data=st.data())
    def remove_pod(self, data: st.DataObject) -> None:
        uid = data.draw(st.sampled_from(sorted(self.ids)))
        self.manager.remove_pod(uid)
        del self.ids[uid], self.specs[uid]

    @rule(seconds=st.integers(0, 4), code=st.sampled_from((0, 1)))
    def advance(self, seconds: int, code: int) -> None:
        self.service.code = code

        async def run() -> None:
            for step in (*([1] * seconds), 0):
                for _ in range(10):
                    await asyncio.sleep(0)
                self.clock.advance(step)  # timers start attempts: inside the loop
            for _ in range(10):
                await asyncio.sleep(0)

        self.loop.run_until_complete(run())

    def check_fresh(self, uid: str, names: tuple[str, ...]) -> None:
        for name in names:
            probes = self.specs[uid][name]
            if "readinessProbe" in probes or "startupProbe" in probes:
                assert not self.manager.readiness(uid, name)
            if "startupProbe" in probes:
                assert not self.manager.started(uid, name)
            if not probes:
                assert self.manager.readiness(uid, name) and self.manager.started(uid, name)

    @invariant()
    def one_timer_per_worker(self) -> None:
        self.settle()
        workers = sum(
            len(self.specs[uid][name]) for uid, running in self.ids.items() for name in running
        )
        assert self.clock.pending_timers() == workers

    @invariant()
    def unknown_containers_are_neither_started_nor_ready(self) -> None:
        for uid in UIDS:
            for name in NAMES:
                if name not in self.ids.get(uid, {}):
                    assert not self.manager.started(uid, name)
                    assert not self.manager.readiness(uid, name)

    @invariant()
    def probes_reach_only_running_ids(self) -> None:
        running = {i for ids in self.ids.values() for i in ids.values()}
        new = self.service.calls[self.calls_seen :]
        self.calls_seen = len(self.service.calls)
        assert set(new) <= running


ProbeMachine.TestCase.settings = settings(max_examples=40, stateful_step_count=25, deadline=None)
TestProbeMachine = ProbeMachine.TestCase
