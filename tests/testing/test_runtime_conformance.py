"""The CRI conformance suite over every registered runtime, and on runtimes built to fail it.

Every installed runtime (the in-tree ``fake`` and any third-party one) runs the whole suite and
the state machine. A runtime that declares capabilities absent passes (those cases check that
the calls raise UnimplementedError); runtimes that break one rule each fail the case that says
so.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

import pytest
from hypothesis import settings

from kframe.runtime import (
    Capabilities,
    ContainerStats,
    ContainerStatsFilter,
    ExecSyncResponse,
    LinuxContainerResources,
    Runtime,
    SystemClock,
    UnimplementedError,
)
from kframe.testing.runtime import (
    RuntimeConformance,
    RuntimeOpener,
    installed_runtimes,
    runtime_state_machine,
)
from kframe_plugins.runtime.fake import FakeRuntime, FakeRuntimeConfig

INSTALLED = installed_runtimes()


def test_the_fake_runtime_is_installed() -> None:
    assert "fake" in [name for name, _ in INSTALLED]


class TestInstalledRuntimes(RuntimeConformance):
    @pytest.fixture(params=[opener for _, opener in INSTALLED], ids=[n for n, _ in INSTALLED])
    def runtime_factory(self, request: pytest.FixtureRequest) -> RuntimeOpener:
        opener: RuntimeOpener = request.param
        return opener


for _installed_name, _installed_opener in INSTALLED:
    globals()[f"TestStateMachine_{_installed_name}"] = runtime_state_machine(
        _installed_opener
    ).TestCase


# -- a runtime that declares what it lacks ------------------------------------------------------


class Minimal(FakeRuntime):
    """Lifecycle only: no exec, attach, logs, stats, resource updates, log reopening."""

    name = "minimal"
    capabilities = Capabilities(
        exec_sync=False,
        exec=False,
        attach=False,
        logs=False,
        stats=False,
        update_resources=False,
        reopen_log=False,
        pod_network=False,
    )

    def _no(self, call: str) -> UnimplementedError:
        return UnimplementedError(self.name, call)

    async def exec_sync(
        self, container_id: str, cmd: Sequence[str], timeout: int = 0
    ) -> ExecSyncResponse:
        raise self._no("ExecSync")

    async def exec(self, request: object) -> object:  # type: ignore[override]
        raise self._no("Exec")

    async def attach(self, request: object) -> object:  # type: ignore[override]
        raise self._no("Attach")

    async def container_stats(self, container_id: str) -> ContainerStats:
        raise self._no("ContainerStats")

    async def list_container_stats(
        self, filter: ContainerStatsFilter | None = None
    ) -> Sequence[ContainerStats]:
        raise self._no("ListContainerStats")

    async def update_container_resources(
        self, container_id: str, linux: LinuxContainerResources
    ) -> None:
        raise self._no("UpdateContainerResources")

    async def reopen_container_log(self, container_id: str) -> None:
        raise self._no("ReopenContainerLog")


async def open_minimal() -> Runtime:
    return Minimal(FakeRuntimeConfig(write_logs=False, host_ip="10.0.0.1"), SystemClock())


ABSENT = {
    "test_exec_sync": "exec_sync",
    "test_exec_stream": "exec",
    "test_attach": "attach",
    "test_logs_go_to_log_path": "logs",
    "test_reopen_container_log": "reopen_log",
    "test_container_stats": "stats",
    "test_update_container_resources": "update_resources",
    "test_sandboxes_get_their_own_ips": "pod_network",
}


class TestMinimalRuntimePassesByDeclaring(RuntimeConformance):
    @pytest.fixture
    def runtime_factory(self) -> RuntimeOpener:
        return open_minimal

    @pytest.fixture(autouse=True)
    def _absence_is_recorded(self, request: pytest.FixtureRequest) -> Iterator[None]:
        yield
        capability = ABSENT.get(request.node.originalname)
        recorded = [v for k, v in request.node.user_properties if k == "capability-absent"]
        assert recorded == ([capability] if capability else [])


# -- runtimes that break one rule each ----------------------------------------------------------


class StopNotIdempotent(FakeRuntime):
    async def stop_container(self, container_id: str, timeout: int) -> None:
        if container_id not in self._containers:
            raise RuntimeError("no such container")
        await super().stop_container(container_id, timeout)


class RemoveKeepsContainers(FakeRuntime):
    async def remove_pod_sandbox(self, pod_sandbox_id: str) -> None:
        sandbox = self._sandboxes.get(pod_sandbox_id)
        if sandbox is not None:
            sandbox.containers.clear()  # orphans its containers
        await super().remove_pod_sandbox(pod_sandbox_id)


def _opener(cls: type[FakeRuntime]) -> RuntimeOpener:
    async def opener() -> Runtime:
        return cls(FakeRuntimeConfig(), SystemClock())

    return opener


@pytest.mark.parametrize(
    ("cls", "case"),
    [
        (StopNotIdempotent, "test_container_lifecycle"),
        (RemoveKeepsContainers, "test_stop_and_remove_sandbox_take_its_containers"),
    ],
)
def test_the_suite_catches_a_broken_runtime(cls: type[FakeRuntime], case: str) -> None:
    suite = RuntimeConformance()
    with pytest.raises((AssertionError, RuntimeError, pytest.fail.Exception)):
        getattr(suite, case)(_opener(cls))


def test_the_state_machine_catches_orphaned_containers() -> None:
    machine = runtime_state_machine(_opener(RemoveKeepsContainers))
    # Derandomized, so whether the orphan is found does not depend on the run's seed.
    machine.TestCase.settings = settings(
        max_examples=200, stateful_step_count=25, deadline=None, derandomize=True, database=None
    )
    with pytest.raises(AssertionError):
        machine.TestCase().runTest()
