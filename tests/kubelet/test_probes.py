"""ProbeManager: upstream's prober timing, thresholds, gating and events, on a FakeClock."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine, Sequence
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from kframe.api import from_dict
from kframe.api.models import Pod
from kframe.client import FakeClock
from kframe.kubelet._probes import ProbeManager
from kframe.runtime import CRIError, ExecSyncResponse


class ExecService:
    """A RuntimeService with only exec_sync: answers from a script (or hangs when told)."""

    def __init__(self, codes: Sequence[int] = (), default: int = 0) -> None:
        self.codes = list(codes)
        self.default = default
        self.calls: list[tuple[str, tuple[str, ...], int]] = []
        self.hang = False
        self.error: CRIError | None = None

    async def exec_sync(self, container_id: str, cmd: Any, timeout: int = 0) -> ExecSyncResponse:
        self.calls.append((container_id, tuple(cmd), timeout))
        if self.error is not None:
            raise self.error
        if self.hang:
            await asyncio.Event().wait()
        code = self.codes.pop(0) if self.codes else self.default
        return ExecSyncResponse(stdout=f"out {code}".encode(), exit_code=code)


def pod(
    *,
    readiness: dict[str, Any] | None = None,
    liveness: dict[str, Any] | None = None,
    startup: dict[str, Any] | None = None,
    restart_policy: str = "Always",
    uid: str = "u1",
    container: dict[str, Any] | None = None,
) -> Pod:
    c: dict[str, Any] = {"name": "app", "image": "busybox", **(container or {})}
    for key, probe in (
        ("readinessProbe", readiness),
        ("livenessProbe", liveness),
        ("startupProbe", startup),
    ):
        if probe is not None:
            c[key] = probe
    body = {
        "metadata": {"name": "web", "namespace": "default", "uid": uid},
        "spec": {"containers": [c], "restartPolicy": restart_policy},
        "status": {"podIP": "127.0.0.1"},
    }
    return from_dict(body, Pod)


def exec_probe(**fields: Any) -> dict[str, Any]:
    return {"exec": {"command": ["check"]}, **fields}


class Harness:
    def __init__(self, service: Any, **kwargs: Any) -> None:
        self.clock = FakeClock()
        self.killed: list[tuple[str, str, str]] = []
        self.changes: list[str] = []
        self.events: list[tuple[str, str, str, str]] = []
        self.manager = ProbeManager(
            service,
            self.clock,
            on_liveness_failure=lambda *a: self.killed.append(a),
            on_change=self.changes.append,
            on_event=lambda p, t, r, m, c: self.events.append((t, r, m, c)),
            **kwargs,
        )

    async def settle(self) -> None:
        for _ in range(20):
            await asyncio.sleep(0)

    async def advance(self, seconds: float) -> None:
        """Move the clock second by second, letting each probe finish."""
        await self.settle()
        steps = int(seconds)
        for _ in range(steps):
            self.clock.advance(1)
            await self.settle()
        rest = seconds - steps
        self.clock.advance(rest)
        await self.settle()


def run(test: Callable[[], Coroutine[Any, Any, None]]) -> None:
    asyncio.run(test())


def test_readiness_is_false_until_the_first_success() -> None:
    async def main() -> None:
        h = Harness(ExecService())
        h.manager.add_pod(pod(readiness=exec_probe()), {"app": "c1"})
        assert not h.manager.readiness("u1", "app")
        assert h.manager.started("u1", "app")  # no startup probe
        await h.advance(0)
        assert h.manager.readiness("u1", "app")
        assert h.changes == ["u1"]
        await h.manager.close()

    run(main)


def test_no_probes_means_ready_and_started_and_unknown_means_neither() -> None:
    async def main() -> None:
        h = Harness(ExecService())
        assert not h.manager.readiness("u1", "app") and not h.manager.started("u1", "app")
        h.manager.add_pod(pod(), {"app": "c1"})
        assert h.manager.readiness("u1", "app") and h.manager.started("u1", "app")
        h.manager.add_pod(pod(), {})  # not running any more
        assert not h.manager.readiness("u1", "app")
        await h.manager.close()

    run(main)


def test_defaults_period_10s_and_failure_threshold_3() -> None:
    async def main() -> None:
        service = ExecService(codes=[0], default=1)
        h = Harness(service)
        h.manager.add_pod(pod(readiness=exec_probe()), {"app": "c1"})
        await h.advance(0)
        assert h.manager.readiness("u1", "app") and len(service.calls) == 1
        assert service.calls[0] == ("c1", ("check",), 1)  # timeoutSeconds 1
        await h.advance(9)
        assert len(service.calls) == 1
        await h.advance(1)  # second attempt fails: 1 of 3
        await h.advance(10)  # 2 of 3
        assert len(service.calls) == 3 and h.manager.readiness("u1", "app")
        await h.advance(10)  # 3 of 3
        assert not h.manager.readiness("u1", "app")
        unhealthy = [e for e in h.events if e[1] == "Unhealthy"]
        assert unhealthy == [("Warning", "Unhealthy", "Readiness probe failed: out 1", "app")] * 3
        assert h.killed == []  # readiness never restarts
        await h.manager.close()

    run(main)


def test_initial_delay_and_success_threshold() -> None:
    async def main() -> None:
        service = ExecService()
        h = Harness(service)
        probe = exec_probe(initialDelaySeconds=5, periodSeconds=2, successThreshold=2)
        h.manager.add_pod(pod(readiness=probe), {"app": "c1"})
        await h.advance(4)
        assert service.calls == []
        await h.advance(1)
        assert len(service.calls) == 1 and not h.manager.readiness("u1", "app")
        await h.advance(2)
        assert len(service.calls) == 2 and h.manager.readiness("u1", "app")
        await h.manager.close()

    run(main)


def test_liveness_failure_kills_once_then_holds_until_a_new_container() -> None:
    async def main() -> None:
        service = ExecService(default=1)
        h = Harness(service)
        probe = exec_probe(periodSeconds=1, failureThreshold=2)
        h.manager.add_pod(pod(liveness=probe), {"app": "c1"})
        await h.advance(5)
        assert h.killed == [("u1", "app", "Container app failed liveness probe, will be restarted")]
        assert len(service.calls) == 2  # on hold after the kill
        assert not h.manager.liveness("u1", "app")
        events = [e[2] for e in h.events]
        assert events == ["Liveness probe failed: out 1"] * 2
        h.manager.add_pod(pod(liveness=probe), {"app": "c2"})  # restarted
        assert h.manager.liveness("u1", "app")
        await h.advance(2)
        assert len(h.killed) == 2 and service.calls[-1][0] == "c2"
        await h.manager.close()

    run(main)


def test_restart_policy_never_is_not_restarted() -> None:
    async def main() -> None:
        h = Harness(ExecService(default=1))
        probe = exec_probe(failureThreshold=1)
        h.manager.add_pod(pod(liveness=probe, restart_policy="Never"), {"app": "c1"})
        await h.advance(0)
        assert h.killed == [("u1", "app", "Container app failed liveness probe")]
        assert h.manager.termination_grace("u1", "app") is None
        await h.manager.close()

    run(main)


def test_startup_probe_gates_liveness_and_readiness() -> None:
    async def main() -> None:
        service = ExecService()
        h = Harness(service)
        startup = {"exec": {"command": ["started"]}, "periodSeconds": 1, "failureThreshold": 30}
        service.codes = [1, 1, 0]
        p = pod(startup=startup, readiness=exec_probe(), liveness=exec_probe(periodSeconds=3))
        h.manager.add_pod(p, {"app": "c1"})
        await h.advance(1)
        assert [c[1] for c in service.calls] == [("started",)] * 2
        assert not h.manager.started("u1", "app") and not h.manager.readiness("u1", "app")
        await h.advance(1)  # third startup attempt succeeds: readiness and liveness at once
        assert h.manager.started("u1", "app")
        assert h.manager.readiness("u1", "app")
        assert [c[1] for c in service.calls] == [("started",)] * 3 + [("check",)] * 2
        await h.advance(10)
        assert ("started",) not in [c[1] for c in service.calls[3:]]  # startup is done
        await h.manager.close()

    run(main)


def test_startup_failure_kills_the_container() -> None:
    async def main() -> None:
        h = Harness(ExecService(default=1))
        startup = exec_probe(periodSeconds=1, failureThreshold=3, terminationGracePeriodSeconds=5)
        h.manager.add_pod(pod(startup=startup, liveness=exec_probe()), {"app": "c1"})
        await h.advance(3)
        assert h.killed == [("u1", "app", "Container app failed startup probe, will be restarted")]
        assert [e[2] for e in h.events] == ["Startup probe failed: out 1"] * 3
        assert h.manager.termination_grace("u1", "app") == 5  # the probe's, not the pod's
        await h.manager.close()

    run(main)


def test_exec_timeout_is_a_failure() -> None:
    async def main() -> None:
        service = ExecService()
        service.hang = True
        h = Harness(service)
        h.manager.add_pod(pod(liveness=exec_probe(timeoutSeconds=2)), {"app": "c1"})
        await h.advance(0)  # the first attempt starts
        await h.advance(2)
        assert h.events == []  # the runtime has the timeout; kframe's guard is a second later
        await h.advance(1)
        assert h.events[0][2] == 'Liveness probe failed: command "check" timed out'
        await h.manager.close()

    run(main)


def test_a_runtime_error_is_errored_and_thrown_away() -> None:
    async def main() -> None:
        service = ExecService()
        service.error = CRIError("container is gone")
        h = Harness(service)
        h.manager.add_pod(pod(readiness=exec_probe()), {"app": "c1"})
        await h.advance(0)
        assert len(service.calls) == 3  # maxProbeRetries
        assert h.events == [
            ("Warning", "Unhealthy", "Readiness probe errored: container is gone", "app")
        ]
        assert not h.manager.readiness("u1", "app") and h.changes == []
        await h.manager.close()

    run(main)


def test_exec_command_expands_static_env() -> None:
    async def main() -> None:
        service = ExecService()
        h = Harness(service)
        container = {"env": [{"name": "FILE", "value": "/tmp/ok"}]}
        probe = {"exec": {"command": ["cat", "$(FILE)", "$(MISSING)"]}}
        h.manager.add_pod(pod(readiness=probe, container=container), {"app": "c1"})
        await h.advance(0)
        assert service.calls[0][1] == ("cat", "/tmp/ok", "$(MISSING)")
        await h.manager.close()

    run(main)


def test_remove_pod_stops_every_worker() -> None:
    async def main() -> None:
        service = ExecService()
        h = Harness(service)
        h.manager.add_pod(pod(readiness=exec_probe(), liveness=exec_probe()), {"app": "c1"})
        await h.advance(0)
        calls = len(service.calls)
        h.manager.remove_pod("u1")
        assert h.clock.pending_timers() == 0
        await h.advance(30)
        assert len(service.calls) == calls and not h.manager.readiness("u1", "app")
        await h.manager.close()

    run(main)


@settings(max_examples=60, deadline=None)
@given(
    results=st.lists(st.booleans(), min_size=1, max_size=25),
    success=st.integers(1, 4),
    failure=st.integers(1, 4),
)
def test_readiness_follows_the_threshold_model(
    results: list[bool], success: int, failure: int
) -> None:
    """Property: readiness changes only after ``threshold`` equal results in a row."""

    async def main() -> None:
        service = ExecService(codes=[0 if ok else 1 for ok in results])
        h = Harness(service)
        probe = exec_probe(periodSeconds=1, successThreshold=success, failureThreshold=failure)
        h.manager.add_pod(pod(readiness=probe), {"app": "c1"})
        ready, last, run_length = False, None, 0
        await h.advance(0)
        for index, ok in enumerate(results):
            if index:
                await h.advance(1)
            run_length = run_length + 1 if ok == last else 1
            last = ok
            if run_length >= (success if ok else failure):
                ready = ok
            assert h.manager.readiness("u1", "app") == ready
        await h.manager.close()

    run(main)
