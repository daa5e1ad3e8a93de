"""The CRI conformance suite, in the spirit of cri-tools' critest: run it against any runtime.

Subclass :class:`RuntimeConformance` and give it a ``runtime_factory`` fixture: a zero-argument
async callable that opens a fresh runtime. For the state machine,
``TestMine = runtime_state_machine(opener).TestCase``::

    import pytest
    from kframe.runtime import RuntimeOptions, open_runtime
    from kframe.testing.runtime import RuntimeConformance, runtime_state_machine

    async def open_mine():
        return await open_runtime("mine", RuntimeOptions(config={...}))

    class TestMine(RuntimeConformance):
        @pytest.fixture
        def runtime_factory(self):
            return open_mine

    TestMineStateMachine = runtime_state_machine(open_mine).TestCase

Containers run :data:`DEFAULT_IMAGE` with :data:`DEFAULT_COMMAND` (``sleep 3600``); exec runs
``echo``, ``false`` and ``cat``. Override the class attributes ``image`` and ``command`` if your
runtime needs others.

Capabilities: a case behind a :class:`~kframe.runtime.Capabilities` flag the runtime declares
absent checks that the call raises :class:`~kframe.runtime.UnimplementedError` instead, and
records ``("capability-absent", name)`` in the test's ``user_properties`` (``--junitxml`` shows
it). That is a pass, not a skip: a runtime that says what it lacks conforms, and
``KFRAME_REQUIRE_ALL=1`` (which fails skips) does not fail it. Nothing in the suite skips.
"""

from __future__ import annotations

import os
import re
import tempfile
from collections.abc import Awaitable, Callable
from typing import Any

import pytest

from kframe.runtime import (
    NETWORK_READY,
    RUNTIME_READY,
    AlreadyExistsError,
    AttachRequest,
    Capabilities,
    ContainerFilter,
    ContainerState,
    ContainerStatsFilter,
    CRIError,
    ExecRequest,
    FailedPreconditionError,
    ImageFilter,
    ImageService,
    ImageSpec,
    LinuxContainerResources,
    NotFoundError,
    PodSandboxFilter,
    PodSandboxState,
    Runtime,
    RuntimeService,
    StreamChannel,
    UnimplementedError,
)
from kframe.testing._runtime_helpers import (
    DEFAULT_COMMAND,
    DEFAULT_IMAGE,
    RuntimeOpener,
    container_config,
    installed_runtimes,
    run_with_runtime,
    sandbox_config,
)
from kframe.testing._runtime_machine import runtime_state_machine

__all__ = [
    "DEFAULT_COMMAND",
    "DEFAULT_IMAGE",
    "RuntimeConformance",
    "RuntimeOpener",
    "container_config",
    "installed_runtimes",
    "runtime_state_machine",
    "sandbox_config",
]

# A CRI log line: RFC 3339 time with nanoseconds, the stream, a partial/full tag, the text.
CRI_LOG_LINE = re.compile(
    r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d) (stdout|stderr) [PF] "
)
AFTER_2020_NS = 1_577_836_800 * 10**9


def _has(request: pytest.FixtureRequest, runtime: Runtime, capability: str) -> bool:
    """Whether the runtime declares ``capability``; if not, say so in the report."""
    declared = bool(getattr(runtime.capabilities, capability))
    if not declared:
        request.node.user_properties.append(("capability-absent", capability))
    return declared


async def _unimplemented(call: Callable[[], Awaitable[Any]]) -> None:
    try:
        await call()
    except UnimplementedError:
        return
    raise AssertionError("a call behind a capability declared absent must raise UnimplementedError")


class RuntimeConformance:
    """Cases every CRI runtime must pass. Needs a ``runtime_factory`` fixture."""

    image = DEFAULT_IMAGE
    command = DEFAULT_COMMAND

    def _run(self, factory: RuntimeOpener, body: Callable[[Runtime], Awaitable[Any]]) -> None:
        async def wrapped(runtime: Runtime) -> None:
            await body(runtime)

        run_with_runtime(factory, wrapped)

    async def _running(self, rt: Runtime, sandbox_id: str, name: str = "c", **kwargs: Any) -> str:
        config = container_config(name, image=self.image, command=self.command, **kwargs)
        sandbox = await rt.runtime_service.pod_sandbox_status(sandbox_id)
        sc = sandbox_config(sandbox.metadata.name)
        await rt.image_service.pull_image(ImageSpec(image=self.image))
        cid = await rt.runtime_service.create_container(sandbox_id, config, sc)
        await rt.runtime_service.start_container(cid)
        return cid

    # -- the runtime ----------------------------------------------------------------------------

    def test_is_a_runtime_with_both_services(self, runtime_factory: RuntimeOpener) -> None:
        async def body(rt: Runtime) -> None:
            assert isinstance(rt, Runtime)
            assert isinstance(rt.runtime_service, RuntimeService)
            assert isinstance(rt.image_service, ImageService)
            assert isinstance(rt.capabilities, Capabilities)
            assert rt.name

        self._run(runtime_factory, body)

    def test_version_and_status(self, runtime_factory: RuntimeOpener) -> None:
        async def body(rt: Runtime) -> None:
            v = await rt.runtime_service.version()
            assert v.runtime_api_version == "v1" and v.runtime_name and v.runtime_version
            status = await rt.runtime_service.status()
            for kind in (RUNTIME_READY, NETWORK_READY):
                cond = status.condition(kind)
                assert cond is not None and cond.status, f"{kind} is not true: {status}"
            assert status.ready

        self._run(runtime_factory, body)

    # -- sandboxes ------------------------------------------------------------------------------

    def test_sandbox_lifecycle(self, runtime_factory: RuntimeOpener) -> None:
        async def body(rt: Runtime) -> None:
            rs = rt.runtime_service
            config = sandbox_config("lifecycle", labels={"app": "web"})
            sid = await rs.run_pod_sandbox(config)
            assert isinstance(sid, str) and sid
            status = await rs.pod_sandbox_status(sid)
            assert status.id == sid and status.state == PodSandboxState.READY
            assert status.metadata == config.metadata
            assert status.labels.get("app") == "web"
            assert status.created_at > AFTER_2020_NS, "created_at is in nanoseconds"
            assert [s.id for s in await rs.list_pod_sandbox()] == [sid]
            await rs.stop_pod_sandbox(sid)
            assert (await rs.pod_sandbox_status(sid)).state == PodSandboxState.NOTREADY
            await rs.stop_pod_sandbox(sid)  # idempotent
            await rs.remove_pod_sandbox(sid)
            with pytest.raises(NotFoundError):
                await rs.pod_sandbox_status(sid)
            await rs.remove_pod_sandbox(sid)  # idempotent
            await rs.stop_pod_sandbox("no-such-sandbox")
            await rs.remove_pod_sandbox("no-such-sandbox")
            assert await rs.list_pod_sandbox() == []

        self._run(runtime_factory, body)

    def test_sandbox_ids_are_unique_and_metadata_is_reserved(
        self, runtime_factory: RuntimeOpener
    ) -> None:
        async def body(rt: Runtime) -> None:
            rs = rt.runtime_service
            config = sandbox_config("same")
            first = await rs.run_pod_sandbox(config)
            with pytest.raises(AlreadyExistsError):
                await rs.run_pod_sandbox(config)
            second = await rs.run_pod_sandbox(
                sandbox_config("same", uid=config.metadata.uid, attempt=1)
            )
            await rs.remove_pod_sandbox(first)
            third = await rs.run_pod_sandbox(config)  # the name is free again
            assert len({first, second, third}) == 3

        self._run(runtime_factory, body)

    def test_sandboxes_get_their_own_ips(
        self, runtime_factory: RuntimeOpener, request: pytest.FixtureRequest
    ) -> None:
        async def body(rt: Runtime) -> None:
            rs = rt.runtime_service
            a = await rs.pod_sandbox_status(await rs.run_pod_sandbox(sandbox_config()))
            b = await rs.pod_sandbox_status(await rs.run_pod_sandbox(sandbox_config()))
            if not _has(request, rt, "pod_network"):
                return  # sandboxes share the host's network: nothing more to check
            assert a.network is not None and b.network is not None
            assert a.network.ip and b.network.ip and a.network.ip != b.network.ip

        self._run(runtime_factory, body)

    # -- containers -----------------------------------------------------------------------------

    def test_container_lifecycle(self, runtime_factory: RuntimeOpener) -> None:
        async def body(rt: Runtime) -> None:
            rs = rt.runtime_service
            sid = await rs.run_pod_sandbox(sandbox_config())
            ref = await rt.image_service.pull_image(ImageSpec(image=self.image))
            config = container_config("app", image=self.image, command=self.command)
            cid = await rs.create_container(sid, config, sandbox_config())
            assert isinstance(cid, str) and cid and cid != sid
            created = await rs.container_status(cid)
            assert created.state == ContainerState.CREATED and created.metadata == config.metadata
            assert created.created_at > AFTER_2020_NS and created.started_at == 0
            assert created.image_ref == ref or created.image_ref
            await rs.start_container(cid)
            running = await rs.container_status(cid)
            assert running.state == ContainerState.RUNNING
            assert running.started_at >= running.created_at
            await rs.stop_container(cid, timeout=2)
            exited = await rs.container_status(cid)
            assert exited.state == ContainerState.EXITED
            assert exited.finished_at >= exited.started_at and isinstance(exited.exit_code, int)
            assert exited.reason, "an exited container has a reason (Completed, Error, ...)"
            await rs.stop_container(cid, timeout=2)  # idempotent
            assert (await rs.container_status(cid)).finished_at == exited.finished_at
            await rs.remove_container(cid)
            with pytest.raises(NotFoundError):
                await rs.container_status(cid)
            await rs.remove_container(cid)  # idempotent
            await rs.stop_container("no-such-container", timeout=0)
            assert await rs.list_containers() == []

        self._run(runtime_factory, body)

    def test_wrong_state_and_missing_ids_are_errors(self, runtime_factory: RuntimeOpener) -> None:
        async def body(rt: Runtime) -> None:
            rs = rt.runtime_service
            sid = await rs.run_pod_sandbox(sandbox_config())
            cid = await self._running(rt, sid)
            with pytest.raises(FailedPreconditionError):
                await rs.start_container(cid)
            with pytest.raises(NotFoundError):
                await rs.start_container("no-such-container")
            with pytest.raises(NotFoundError):
                await rs.create_container("no-such-sandbox", container_config(), sandbox_config())
            with pytest.raises(AlreadyExistsError):
                await rs.create_container(sid, container_config(image=self.image), sandbox_config())
            await rs.stop_pod_sandbox(sid)
            with pytest.raises(FailedPreconditionError):
                await rs.create_container(sid, container_config("late"), sandbox_config())

        self._run(runtime_factory, body)

    def test_stopping_a_created_container_exits_it(self, runtime_factory: RuntimeOpener) -> None:
        async def body(rt: Runtime) -> None:
            rs = rt.runtime_service
            sid = await rs.run_pod_sandbox(sandbox_config())
            await rt.image_service.pull_image(ImageSpec(image=self.image))
            config = container_config(image=self.image, command=self.command)
            cid = await rs.create_container(sid, config, sandbox_config())
            await rs.stop_container(cid, timeout=0)
            assert (await rs.container_status(cid)).state == ContainerState.EXITED
            with pytest.raises(FailedPreconditionError):
                await rs.start_container(cid)

        self._run(runtime_factory, body)

    def test_multiple_containers_per_sandbox(self, runtime_factory: RuntimeOpener) -> None:
        async def body(rt: Runtime) -> None:
            rs = rt.runtime_service
            sid = await rs.run_pod_sandbox(sandbox_config())
            ids = [await self._running(rt, sid, name) for name in ("a", "b", "c")]
            listed = await rs.list_containers(ContainerFilter(pod_sandbox_id=sid))
            assert [c.id for c in listed] == ids
            assert {c.pod_sandbox_id for c in listed} == {sid}
            await rs.stop_container(ids[1], timeout=0)
            states = [(await rs.container_status(i)).state for i in ids]
            assert states == [ContainerState.RUNNING, ContainerState.EXITED, ContainerState.RUNNING]

        self._run(runtime_factory, body)

    def test_list_filters(self, runtime_factory: RuntimeOpener) -> None:
        async def body(rt: Runtime) -> None:
            rs = rt.runtime_service
            web = await rs.run_pod_sandbox(sandbox_config(labels={"app": "web"}))
            db = await rs.run_pod_sandbox(sandbox_config(labels={"app": "db"}))
            w1 = await self._running(rt, web, "w1", labels={"tier": "front"})
            w2 = await self._running(rt, web, "w2", labels={"tier": "back"})
            d1 = await self._running(rt, db, "d1", labels={"tier": "back"})
            await rs.stop_container(w2, timeout=0)
            await rs.stop_pod_sandbox(db)

            async def sandboxes(f: PodSandboxFilter) -> list[str]:
                return [s.id for s in await rs.list_pod_sandbox(f)]

            async def containers(f: ContainerFilter) -> list[str]:
                return [c.id for c in await rs.list_containers(f)]

            assert await sandboxes(PodSandboxFilter(id=db)) == [db]
            assert await sandboxes(PodSandboxFilter(state=PodSandboxState.READY)) == [web]
            assert await sandboxes(PodSandboxFilter(label_selector={"app": "db"})) == [db]
            assert await sandboxes(PodSandboxFilter(id=web, label_selector={"app": "db"})) == []
            assert await sandboxes(PodSandboxFilter(id="no-such-sandbox")) == []
            assert await containers(ContainerFilter(id=w2)) == [w2]
            assert await containers(ContainerFilter(state=ContainerState.RUNNING)) == [w1]
            assert await containers(ContainerFilter(pod_sandbox_id=db)) == [d1]
            back = ContainerFilter(label_selector={"tier": "back"})
            assert sorted(await containers(back)) == sorted([w2, d1])
            both = ContainerFilter(pod_sandbox_id=web, label_selector={"tier": "back"})
            assert await containers(both) == [w2]
            assert await containers(ContainerFilter(id="no-such-container")) == []

        self._run(runtime_factory, body)

    def test_stop_and_remove_sandbox_take_its_containers(
        self, runtime_factory: RuntimeOpener
    ) -> None:
        async def body(rt: Runtime) -> None:
            rs = rt.runtime_service
            sid = await rs.run_pod_sandbox(sandbox_config())
            other = await rs.run_pod_sandbox(sandbox_config())
            ids = [await self._running(rt, sid, n) for n in ("a", "b")]
            kept = await self._running(rt, other)
            await rs.stop_pod_sandbox(sid)
            for cid in ids:
                assert (await rs.container_status(cid)).state == ContainerState.EXITED
            await rs.remove_pod_sandbox(sid)
            for cid in ids:
                with pytest.raises(NotFoundError):
                    await rs.container_status(cid)
            assert [c.id for c in await rs.list_containers()] == [kept]
            assert (await rs.container_status(kept)).state == ContainerState.RUNNING

        self._run(runtime_factory, body)

    def test_a_new_attempt_beside_the_old_container(self, runtime_factory: RuntimeOpener) -> None:
        # The kubelet creates attempt N+1 of a restarting container before it removes attempt N.
        async def body(rt: Runtime) -> None:
            rs = rt.runtime_service
            sid = await rs.run_pod_sandbox(sandbox_config())
            first = await self._running(rt, sid, "app", labels={"tier": "web"})
            await rs.stop_container(first, timeout=0)
            second = await self._running(rt, sid, "app", attempt=1)
            assert second != first
            attempts = {
                c.id: c.metadata.attempt
                for c in await rs.list_containers(ContainerFilter(pod_sandbox_id=sid))
            }
            assert attempts == {first: 0, second: 1}
            old = await rs.container_status(first)
            assert old.labels.get("tier") == "web", "labels are kept as given"
            assert old.image.image == self.image
            assert (await rs.container_status(second)).state == ContainerState.RUNNING

        self._run(runtime_factory, body)

    def test_remove_without_stop_kills_first(self, runtime_factory: RuntimeOpener) -> None:
        async def body(rt: Runtime) -> None:
            rs = rt.runtime_service
            sid = await rs.run_pod_sandbox(sandbox_config())
            alone = await self._running(rt, sid, "alone")
            await rs.remove_container(alone)  # RUNNING: killed, then removed
            with pytest.raises(NotFoundError):
                await rs.container_status(alone)
            inside = await self._running(rt, sid, "inside")
            await rs.remove_pod_sandbox(sid)  # READY, with a RUNNING container
            with pytest.raises(NotFoundError):
                await rs.container_status(inside)
            with pytest.raises(NotFoundError):
                await rs.pod_sandbox_status(sid)
            assert await rs.list_containers() == [] and await rs.list_pod_sandbox() == []

        self._run(runtime_factory, body)

    def test_runtimes_from_one_factory_share_nothing(self, runtime_factory: RuntimeOpener) -> None:
        # One process may host 1,000 kubelets, each with a runtime from the same factory.
        async def body(rt: Runtime) -> None:
            other = await runtime_factory()
            try:
                sid = await rt.runtime_service.run_pod_sandbox(sandbox_config())
                await self._running(rt, sid)
                assert await other.runtime_service.list_pod_sandbox() == []
                assert await other.runtime_service.list_containers() == []
                with pytest.raises(NotFoundError):
                    await other.runtime_service.pod_sandbox_status(sid)
            finally:
                await other.close()

        self._run(runtime_factory, body)

    # -- exec, attach, logs ---------------------------------------------------------------------

    def test_exec_sync(
        self, runtime_factory: RuntimeOpener, request: pytest.FixtureRequest
    ) -> None:
        async def body(rt: Runtime) -> None:
            rs = rt.runtime_service
            sid = await rs.run_pod_sandbox(sandbox_config())
            cid = await self._running(rt, sid)
            if not _has(request, rt, "exec_sync"):
                await _unimplemented(lambda: rs.exec_sync(cid, ["echo", "hello"]))
                return
            ok = await rs.exec_sync(cid, ["echo", "hello"], timeout=10)
            assert ok.exit_code == 0 and b"hello" in ok.stdout
            failed = await rs.exec_sync(cid, ["false"], timeout=10)
            assert failed.exit_code != 0
            with pytest.raises(NotFoundError):
                await rs.exec_sync("no-such-container", ["true"])
            await rs.stop_container(cid, timeout=0)
            with pytest.raises(CRIError):
                await rs.exec_sync(cid, ["true"])

        self._run(runtime_factory, body)

    def test_exec_stream(
        self, runtime_factory: RuntimeOpener, request: pytest.FixtureRequest
    ) -> None:
        async def body(rt: Runtime) -> None:
            rs = rt.runtime_service
            sid = await rs.run_pod_sandbox(sandbox_config())
            cid = await self._running(rt, sid)
            req = ExecRequest(container_id=cid, cmd=("cat",), stdin=True)
            if not _has(request, rt, "exec"):
                await _unimplemented(lambda: rs.exec(req))
                return
            session = await rs.exec(req)
            await session.write_stdin(b"ping\n")
            await session.close_stdin()
            out = b""
            async for chunk in session.output():
                assert chunk.channel in (StreamChannel.STDOUT, StreamChannel.STDERR)
                out += chunk.data if chunk.channel == StreamChannel.STDOUT else b""
            assert b"ping" in out
            assert await session.wait() == 0
            await session.close()  # idempotent after the end

        self._run(runtime_factory, body)

    def test_attach(self, runtime_factory: RuntimeOpener, request: pytest.FixtureRequest) -> None:
        async def body(rt: Runtime) -> None:
            rs = rt.runtime_service
            sid = await rs.run_pod_sandbox(sandbox_config())
            cid = await self._running(rt, sid)
            req = AttachRequest(container_id=cid, stdin=False)
            if not _has(request, rt, "attach"):
                await _unimplemented(lambda: rs.attach(req))
                return
            session = await rs.attach(req)
            await session.close()  # detach: the container keeps running
            assert await session.wait() is None
            assert (await rs.container_status(cid)).state == ContainerState.RUNNING

        self._run(runtime_factory, body)

    def test_logs_go_to_log_path(
        self, runtime_factory: RuntimeOpener, request: pytest.FixtureRequest
    ) -> None:
        async def body(rt: Runtime) -> None:
            rs = rt.runtime_service
            with tempfile.TemporaryDirectory() as logs:
                sc = sandbox_config(log_directory=logs)
                sid = await rs.run_pod_sandbox(sc)
                await rt.image_service.pull_image(ImageSpec(image=self.image))
                config = container_config(
                    image=self.image, command=self.command, log_path="c/0.log"
                )
                cid = await rs.create_container(sid, config, sc)
                await rs.start_container(cid)
                if not _has(request, rt, "logs"):
                    return  # declared: the runtime writes no logs
                await rs.stop_container(cid, timeout=2)
                status = await rs.container_status(cid)
                assert status.log_path == os.path.join(logs, "c/0.log")
                assert os.path.exists(status.log_path), "the log file exists once started"
                with open(status.log_path, encoding="utf-8") as f:
                    for line in f:
                        assert CRI_LOG_LINE.match(line), f"not a CRI log line: {line!r}"

        self._run(runtime_factory, body)

    def test_reopen_container_log(
        self, runtime_factory: RuntimeOpener, request: pytest.FixtureRequest
    ) -> None:
        async def body(rt: Runtime) -> None:
            rs = rt.runtime_service
            cid = await self._running(rt, await rs.run_pod_sandbox(sandbox_config()))
            if not _has(request, rt, "reopen_log"):
                await _unimplemented(lambda: rs.reopen_container_log(cid))
                return
            await rs.reopen_container_log(cid)
            await rs.stop_container(cid, timeout=0)
            with pytest.raises(FailedPreconditionError):
                await rs.reopen_container_log(cid)

        self._run(runtime_factory, body)

    # -- stats and resources --------------------------------------------------------------------

    def test_container_stats(
        self, runtime_factory: RuntimeOpener, request: pytest.FixtureRequest
    ) -> None:
        async def body(rt: Runtime) -> None:
            rs = rt.runtime_service
            sid = await rs.run_pod_sandbox(sandbox_config())
            cid = await self._running(rt, sid, memory_bytes=64 * 2**20, cpu_millis=500)
            if not _has(request, rt, "stats"):
                await _unimplemented(lambda: rs.container_stats(cid))
                return
            stats = await rs.container_stats(cid)
            assert stats.attributes.id == cid
            assert stats.cpu is not None and stats.cpu.timestamp > AFTER_2020_NS
            assert stats.memory is not None and stats.memory.working_set_bytes >= 0
            listed = await rs.list_container_stats(ContainerStatsFilter(pod_sandbox_id=sid))
            assert [s.attributes.id for s in listed] == [cid]
            assert await rs.list_container_stats(ContainerStatsFilter(id="no-such")) == []
            with pytest.raises(NotFoundError):
                await rs.container_stats("no-such-container")

        self._run(runtime_factory, body)

    def test_update_container_resources(
        self, runtime_factory: RuntimeOpener, request: pytest.FixtureRequest
    ) -> None:
        async def body(rt: Runtime) -> None:
            rs = rt.runtime_service
            cid = await self._running(rt, await rs.run_pod_sandbox(sandbox_config()))
            new = LinuxContainerResources(cpu_period=100_000, cpu_quota=50_000, cpu_shares=512)
            if not _has(request, rt, "update_resources"):
                await _unimplemented(lambda: rs.update_container_resources(cid, new))
                return
            await rs.update_container_resources(cid, new)
            status = await rs.container_status(cid)
            if status.resources is not None and status.resources.linux is not None:
                assert status.resources.linux == new

        self._run(runtime_factory, body)

    # -- images ---------------------------------------------------------------------------------

    def test_image_pull_list_status_remove(self, runtime_factory: RuntimeOpener) -> None:
        async def body(rt: Runtime) -> None:
            images = rt.image_service
            spec = ImageSpec(image=self.image)
            ref = await images.pull_image(spec)
            assert ref
            assert await images.pull_image(spec) == ref, "pulling again gives the same ref"
            found = await images.image_status(spec)
            assert found is not None and found.id == ref
            by_id = await images.image_status(ImageSpec(image=ref))
            assert by_id is not None and by_id.id == ref
            assert ref in [i.id for i in await images.list_images()]
            assert [i.id for i in await images.list_images(ImageFilter(image=spec))] == [ref]
            await images.remove_image(spec)
            assert await images.image_status(spec) is None
            assert ref not in [i.id for i in await images.list_images()]
            await images.remove_image(spec)  # idempotent
            fs = await images.image_fs_info()
            assert fs.image_filesystems and fs.image_filesystems[0].fs_id.mountpoint

        self._run(runtime_factory, body)

    def test_missing_image_status_is_none(self, runtime_factory: RuntimeOpener) -> None:
        async def body(rt: Runtime) -> None:
            missing = ImageSpec(image="example.invalid/kframe/never-pulled:0")
            assert await rt.image_service.image_status(missing) is None

        self._run(runtime_factory, body)
