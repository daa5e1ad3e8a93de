"""A RuleBasedStateMachine over one kubelet with the fake runtime and a fake clock: pods come
and go with random restart policies and lifetimes while time moves; what the API shows must
stay consistent with upstream's lifecycle rules."""

from __future__ import annotations

import asyncio
from typing import Any

from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

from kframe.api.models import Pod
from tests.kubelet.harness import Cluster, cluster, pod_body

TERMINAL = ("Succeeded", "Failed")
ORDER = {"Pending": 0, "Running": 1, "Succeeded": 2, "Failed": 2}


class KubeletMachine(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.loop = asyncio.new_event_loop()
        self._cm = cluster()
        self.c: Cluster = self.loop.run_until_complete(self._cm.__aenter__())
        self.serial = 0
        self.policies: dict[str, str] = {}
        self.phases: dict[str, str] = {}
        self.restarts: dict[str, int] = {}
        self.deleted: dict[str, float] = {}  # name -> fake time by which it must be gone

    def run(self, coro: Any) -> Any:
        return self.loop.run_until_complete(coro)

    def teardown(self) -> None:
        self.run(self._cm.__aexit__(None, None, None))
        self.loop.close()

    @rule(
        policy=st.sampled_from(["Always", "OnFailure", "Never"]),
        exit_after=st.sampled_from([None, "1s", "3s", "20s"]),
        code=st.sampled_from([0, 1]),
        grace=st.sampled_from([0, 2, 30]),
    )
    def create(self, policy: str, exit_after: str | None, code: int, grace: int) -> None:
        name = f"p{self.serial}"
        self.serial += 1
        annotations = {"fake.kframe.io/exit-code": str(code)}
        if exit_after:
            annotations["fake.kframe.io/exit-after"] = exit_after
        body = pod_body(
            name, restartPolicy=policy, terminationGracePeriodSeconds=grace, annotations=annotations
        )
        self.run(self.c.create_pod(body))
        self.policies[name] = policy

    @precondition(lambda self: any(n not in self.deleted for n in self.policies))
    @rule(data=st.data())
    def delete(self, data: st.DataObject) -> None:
        live = sorted(n for n in self.policies if n not in self.deleted)
        name = data.draw(st.sampled_from(live))
        try:
            self.run(self.c.client.delete(Pod, name, namespace="default"))
        except Exception as exc:
            if getattr(exc, "code", None) != 404:  # gone already (finished pods go at once)
                raise
        # The grace period, plus the relist and a few syncs.
        self.deleted[name] = self.c.clock.now() + 30 + 5

    @rule(seconds=st.sampled_from([0.5, 2, 11, 40]))
    def wait(self, seconds: float) -> None:
        self.run(self.c.advance(seconds, step=0.5))

    @invariant()
    def lifecycle_is_consistent(self) -> None:
        if not hasattr(self, "c"):
            return
        items = self.run(self.c.client.list(Pod, namespace="default")).items
        present = {p.metadata.name: p for p in items}
        now = self.c.clock.now()
        for name, deadline in self.deleted.items():
            if now > deadline:
                assert name not in present, f"{name} still there {now - deadline:.0f}s late"
        for name, pod in present.items():
            phase = pod.status.phase if pod.status else "Pending"
            before = self.phases.get(name)
            if before in TERMINAL:
                assert phase == before, f"{name}: {before} -> {phase}"
            if before is not None:
                assert ORDER[phase] >= ORDER[before], f"{name}: {before} -> {phase}"
            self.phases[name] = phase
            for cs in pod.status.container_statuses if pod.status else ():
                key = f"{name}/{cs.name}"
                assert cs.restart_count >= self.restarts.get(key, 0)
                self.restarts[key] = cs.restart_count
                if self.policies[name] == "Never":
                    assert cs.restart_count == 0
                if phase == "Succeeded":
                    assert cs.state.terminated is not None and cs.state.terminated.exit_code == 0


KubeletMachine.TestCase.settings = settings(max_examples=8, stateful_step_count=12, deadline=None)
TestKubelet = KubeletMachine.TestCase
