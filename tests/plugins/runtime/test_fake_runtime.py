"""The fake runtime's knobs: delays, exits, injected failures, stats, exec, images, IPs, logs.

Time is a FakeClock (kframe.client's, which satisfies kframe.runtime.Clock), so a two-second
exit takes no time and happens exactly when the clock says.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import os
import tracemalloc
from collections.abc import Awaitable, Callable, Mapping
from pathlib import Path
from typing import Any

import pytest

from kframe.client import FakeClock
from kframe.registry import build_registry
from kframe.runtime import (
    NETWORK_READY,
    RUNTIME_READY,
    AttachRequest,
    ContainerStartError,
    ContainerState,
    ExecRequest,
    ImagePullError,
    ImageSpec,
    InvalidArgumentError,
    LinuxPodSandboxConfig,
    LinuxSandboxSecurityContext,
    NamespaceMode,
    NamespaceOption,
    NetworkConfig,
    NotFoundError,
    PodSandboxConfig,
    RuntimeConfig,
    RuntimeOptions,
    StreamChannel,
    open_runtime,
)
from kframe.testing.runtime import container_config, sandbox_config
from kframe_plugins.runtime.fake import FakeRuntime, FakeRuntimeConfig, normalize_image

P = "fake.kframe.io/"
WALL = dt.datetime(2024, 1, 1, tzinfo=dt.UTC)


class Node:
    """A fake runtime on a fake clock, with shortcuts for a pod's lifecycle."""

    def __init__(self, config: FakeRuntimeConfig | None = None) -> None:
        self.clock = FakeClock(wall_start=WALL)
        self.rt = FakeRuntime(config or FakeRuntimeConfig(), self.clock)
        self.rs = self.rt.runtime_service

    async def pod(
        self,
        annotations: Mapping[str, str] = {},
        names: tuple[str, ...] = ("c",),
        start: bool = True,
        **kwargs: Any,
    ) -> tuple[str, list[str]]:
        sc = sandbox_config(annotations=annotations, log_directory=kwargs.pop("logs", ""))
        sid = await self.rs.run_pod_sandbox(sc)
        ids = []
        for name in names:
            cid = await self.rs.create_container(sid, container_config(name, **kwargs), sc)
            if start:
                await self.rs.start_container(cid)
            ids.append(cid)
        return sid, ids

    async def state(self, cid: str) -> ContainerState:
        return (await self.rs.container_status(cid)).state

    async def advance(self, seconds: float) -> None:
        # Let calls started with ensure_future reach their clock.sleep before time moves, and
        # let the sleepers the move wakes run after it.
        await settle()
        self.clock.advance(seconds)
        await settle()


async def settle() -> None:
    for _ in range(5):
        await asyncio.sleep(0)


def run(body: Callable[[Node], Awaitable[None]], config: FakeRuntimeConfig | None = None) -> None:
    async def main() -> None:
        node = Node(config)
        try:
            await asyncio.wait_for(body(node), 10)  # a lost wake-up fails, never hangs
        finally:
            await node.rt.close()

    asyncio.run(main())


# -- exits ---------------------------------------------------------------------------------------


def test_exit_after_and_exit_code_per_pod() -> None:
    async def body(n: Node) -> None:
        _, [cid] = await n.pod({P + "exit-after": "2s", P + "exit-code": "1"})
        await n.advance(1.999)
        assert await n.state(cid) == ContainerState.RUNNING
        await n.advance(0.001)
        status = await n.rs.container_status(cid)
        assert (status.state, status.exit_code, status.reason) == (
            ContainerState.EXITED,
            1,
            "Error",
        )
        assert status.finished_at - status.started_at == 2 * 10**9

    run(body)


def test_job_style_pods_complete_from_config() -> None:
    async def body(n: Node) -> None:
        _, [cid] = await n.pod()
        await n.advance(90)
        status = await n.rs.container_status(cid)
        assert (status.state, status.exit_code, status.reason) == (
            ContainerState.EXITED,
            0,
            "Completed",
        )

    run(body, FakeRuntimeConfig(exit_after=90))


def test_oom_killed_means_137_and_per_container_overrides() -> None:
    async def body(n: Node) -> None:
        annotations = {P + "exit-after.sidecar": "1m", P + "exit-reason.sidecar": "OOMKilled"}
        _, [app, sidecar] = await n.pod(annotations, names=("app", "sidecar"))
        await n.advance(60)
        assert await n.state(app) == ContainerState.RUNNING
        status = await n.rs.container_status(sidecar)
        assert (status.exit_code, status.reason) == (137, "OOMKilled")

    run(body)


def test_fail_start_leaves_the_container_exited_with_the_reason() -> None:
    async def body(n: Node) -> None:
        _, [cid] = await n.pod({P + "fail-start": "CreateContainerError"}, start=False)
        with pytest.raises(ContainerStartError, match="CreateContainerError"):
            await n.rs.start_container(cid)
        status = await n.rs.container_status(cid)
        assert (status.state, status.exit_code, status.reason) == (
            ContainerState.EXITED,
            128,
            "CreateContainerError",
        )

    run(body)


def test_fail_pull_for_one_pod_only() -> None:
    async def body(n: Node) -> None:
        bad = sandbox_config(annotations={P + "fail-pull": "pull access denied"})
        with pytest.raises(ImagePullError, match="pull access denied"):
            await n.rt.image_service.pull_image(ImageSpec(image="nginx:1.27"), sandbox_config=bad)
        ref = await n.rt.image_service.pull_image(ImageSpec(image="nginx:1.27"))
        assert ref.startswith("sha256:")

    run(body)


def test_start_delay_keeps_the_container_created() -> None:
    async def body(n: Node) -> None:
        _, [cid] = await n.pod({P + "start-delay": "500ms"}, start=False)
        start = asyncio.ensure_future(n.rs.start_container(cid))
        await n.advance(0.4)
        assert await n.state(cid) == ContainerState.CREATED and not start.done()
        await n.advance(0.1)
        await start
        assert await n.state(cid) == ContainerState.RUNNING

    run(body)


def test_stop_exit_codes_and_ignoring_sigterm() -> None:
    async def body(n: Node) -> None:
        _, [polite] = await n.pod()
        _, [stubborn] = await n.pod({P + "ignore-sigterm": "true"})
        await n.rs.stop_container(polite, 30)
        assert (await n.rs.container_status(polite)).exit_code == 143
        stop = asyncio.ensure_future(n.rs.stop_container(stubborn, 30))
        await n.advance(29)
        assert await n.state(stubborn) == ContainerState.RUNNING
        await n.advance(1)
        await stop
        status = await n.rs.container_status(stubborn)
        assert (status.exit_code, status.reason) == (137, "Error")

    run(body, FakeRuntimeConfig(stop_exit_code=143))


def test_bad_annotations_are_invalid_arguments_naming_the_key() -> None:
    async def body(n: Node) -> None:
        with pytest.raises(InvalidArgumentError, match=r"fake\.kframe\.io/exit-after"):
            await n.pod({P + "exit-after": "soon"})
        with pytest.raises(InvalidArgumentError, match=r"fake\.kframe\.io/exit-code"):
            await n.pod({P + "exit-code": "one"})

    run(body)


# -- config --------------------------------------------------------------------------------------


def test_config_from_a_mapping() -> None:
    config = FakeRuntimeConfig.from_mapping(
        {"start-delay": "1m30s", "exit_after": 5, "exit_code": "2", "images": ["busybox"]}
    )
    assert (config.start_delay, config.exit_after, config.exit_code) == (90.0, 5.0, 2)
    assert config.images == ("busybox",)
    with pytest.raises(InvalidArgumentError, match="unknown config key 'nope'"):
        FakeRuntimeConfig.from_mapping({"nope": 1})
    with pytest.raises(InvalidArgumentError, match="write_logs: true or false"):
        FakeRuntimeConfig.from_mapping({"write_logs": "yes"})
    with pytest.raises(InvalidArgumentError, match="negative duration"):
        FakeRuntimeConfig.from_mapping({"pull_delay": -1})


def test_the_factory_reads_options_config_and_clock() -> None:
    async def main() -> None:
        clock = FakeClock(wall_start=WALL)
        options = RuntimeOptions(clock=clock, config={"exit_after": "1s", "runtime_ready": False})
        rt = await open_runtime("fake", options)
        status = await rt.runtime_service.status()
        assert status.condition(RUNTIME_READY) is not None and not status.ready
        cond = status.condition(NETWORK_READY)
        assert cond is not None and cond.status
        sc = sandbox_config()
        sid = await rt.runtime_service.run_pod_sandbox(sc)
        assert (
            await rt.runtime_service.pod_sandbox_status(sid)
        ).created_at == 1_704_067_200 * 10**9
        cid = await rt.runtime_service.create_container(sid, container_config(), sc)
        await rt.runtime_service.start_container(cid)
        clock.advance(1)
        assert (await rt.runtime_service.container_status(cid)).state == ContainerState.EXITED
        await rt.close()

    asyncio.run(main())


# -- stats, exec, attach -------------------------------------------------------------------------


def test_stats_follow_the_containers_resources() -> None:
    async def body(n: Node) -> None:
        _, [cid] = await n.pod(cpu_millis=500, memory_bytes=64 * 2**20)
        _, [idle] = await n.pod()
        await n.advance(10)
        stats = await n.rs.container_stats(cid)
        assert stats.cpu is not None and stats.memory is not None
        assert stats.cpu.usage_nano_cores == 125_000_000  # 0.5 cores at cpu_fraction 0.25
        assert stats.cpu.usage_core_nano_seconds == 1_250_000_000
        assert stats.memory.working_set_bytes == 32 * 2**20
        assert stats.memory.available_bytes == 32 * 2**20
        small = await n.rs.container_stats(idle)
        assert small.memory is not None and small.memory.working_set_bytes == 8 * 2**20
        assert small.cpu is not None and small.cpu.usage_nano_cores == 1_000_000
        await n.rs.stop_container(idle, 0)
        assert [s.attributes.id for s in await n.rs.list_container_stats()] == [cid]

    run(body)


def test_exec_builtins_and_configured_output() -> None:
    async def body(n: Node) -> None:
        _, [cid] = await n.pod()
        _, [sick] = await n.pod({P + "exec-output": "unhealthy\n", P + "exec-exit-code": "1"})
        assert (await n.rs.exec_sync(cid, ["echo", "a", "b"])).stdout == b"a b\n"
        assert (await n.rs.exec_sync(cid, ["/bin/true"])).exit_code == 0
        assert (await n.rs.exec_sync(cid, ["false"])).exit_code == 1
        other = await n.rs.exec_sync(cid, ["cat", "/tmp/healthy"])
        assert (other.stdout, other.exit_code) == (b"cat /tmp/healthy\n", 0)
        probe = await n.rs.exec_sync(sick, ["cat", "/tmp/healthy"])
        assert (probe.stdout, probe.exit_code) == (b"unhealthy\n", 1)
        assert (await n.rs.exec_sync(sick, ["echo", "ok"])).exit_code == 0

    run(body)


def test_exec_stream_prints_then_echoes_stdin() -> None:
    async def body(n: Node) -> None:
        _, [cid] = await n.pod()
        session = await n.rs.exec(ExecRequest(container_id=cid, cmd=("sh",), stdin=True))
        await session.write_stdin(b"ls\n")
        await session.close_stdin()
        chunks = [c async for c in session.output()]
        assert [(c.channel, c.data) for c in chunks] == [
            (StreamChannel.STDOUT, b"sh\n"),
            (StreamChannel.STDOUT, b"ls\n"),
        ]
        assert await session.wait() == 0
        quick = await n.rs.exec(ExecRequest(container_id=cid, cmd=("false",)))
        assert [c async for c in quick.output()] == [] and await quick.wait() == 1

    run(body)


def test_attach_ends_with_the_containers_exit() -> None:
    async def body(n: Node) -> None:
        _, [cid] = await n.pod({P + "exit-after": "5s", P + "exit-code": "7"})
        session = await n.rs.attach(AttachRequest(container_id=cid, stdin=True))
        await session.write_stdin(b"hi")
        await asyncio.sleep(0)
        await n.advance(5)
        chunks = [c.data async for c in session.output()]
        assert chunks == [b"hi"] and await session.wait() == 7

    run(body)


# -- images --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "normal"),
    [
        ("nginx", "docker.io/library/nginx:latest"),
        ("nginx:1.27", "docker.io/library/nginx:1.27"),
        ("me/app", "docker.io/me/app:latest"),
        ("registry.k8s.io/pause:3.10", "registry.k8s.io/pause:3.10"),
        ("localhost:5000/app", "localhost:5000/app:latest"),
    ],
)
def test_image_names_normalize_as_docker(name: str, normal: str) -> None:
    assert normalize_image(name) == normal


def test_images_preloaded_pulled_with_delay_and_removed_by_any_name() -> None:
    async def body(n: Node) -> None:
        images = n.rt.image_service
        assert [i.repo_tags for i in await images.list_images()] == [
            ("registry.k8s.io/pause:3.10",)
        ]
        pull = asyncio.ensure_future(images.pull_image(ImageSpec(image="nginx")))
        await n.advance(2.9)
        assert not pull.done()
        await n.advance(0.1)
        ref = await pull
        found = await images.image_status(ImageSpec(image="docker.io/library/nginx:latest"))
        assert found is not None and found.id == ref and found.size == 50 * 2**20
        await images.remove_image(ImageSpec(image=ref))
        assert await images.image_status(ImageSpec(image="nginx")) is None
        fs = await images.image_fs_info()
        assert fs.image_filesystems[0].used_bytes == 50 * 2**20
        sc = sandbox_config()
        sid = await n.rs.run_pod_sandbox(sc)
        with pytest.raises(NotFoundError, match="image 'nginx' not found"):
            await n.rs.create_container(sid, container_config(image="nginx"), sc)

    run(body, FakeRuntimeConfig(pull_delay=3))


# -- network and logs ----------------------------------------------------------------------------


def test_sandbox_ips_from_the_pod_cidr() -> None:
    async def body(n: Node) -> None:
        async def ip(config: PodSandboxConfig | None = None) -> tuple[str, str]:
            sid = await n.rs.run_pod_sandbox(config or sandbox_config())
            network = (await n.rs.pod_sandbox_status(sid)).network
            assert network is not None
            return sid, network.ip

        first, a = await ip()
        _, b = await ip()
        assert (a, b) == ("10.244.0.2", "10.244.0.3")
        await n.rs.stop_pod_sandbox(first)
        await n.rs.update_runtime_config(
            RuntimeConfig(network_config=NetworkConfig(pod_cidr="10.9.8.0/30"))
        )
        assert (await ip())[1] == "10.9.8.2"
        with pytest.raises(Exception, match="exhausted"):
            await ip()
        node_ns = LinuxSandboxSecurityContext(
            namespace_options=NamespaceOption(network=NamespaceMode.NODE)
        )
        host = PodSandboxConfig(
            metadata=sandbox_config().metadata,
            linux=LinuxPodSandboxConfig(security_context=node_ns),
        )
        assert (await ip(host))[1] == "10.0.0.1"

    run(body)


def test_logs_in_cri_format(tmp_path: Path) -> None:
    async def body(n: Node) -> None:
        _, [cid] = await n.pod(
            {P + "exit-after": "1s", P + "exit-code": "2"}, logs=str(tmp_path), log_path="c/0.log"
        )
        await n.advance(1)
        status = await n.rs.container_status(cid)
        assert status.log_path == os.path.join(tmp_path, "c/0.log")
        lines = Path(status.log_path).read_text().splitlines()
        assert lines == [
            "2024-01-01T00:00:00.000000000Z stdout F fake container c started",
            "2024-01-01T00:00:01.000000000Z stdout F fake container c exited with code 2",
        ]

    run(body)


# -- many nodes in one process -------------------------------------------------------------------


def test_a_thousand_fake_runtimes_are_cheap_and_independent() -> None:
    async def main() -> None:
        factory = build_registry().get("runtime", "fake").factory
        assert callable(factory)
        tracemalloc.start()
        try:
            before = tracemalloc.get_traced_memory()[0]
            runtimes = [await factory(RuntimeOptions(node_name=f"n{i}")) for i in range(1000)]
            per_runtime = (tracemalloc.get_traced_memory()[0] - before) / 1000
        finally:
            tracemalloc.stop()
        assert per_runtime < 20_000, f"an empty fake runtime takes {per_runtime:.0f} bytes"
        for rt in runtimes[:50]:
            sc = sandbox_config()
            sid = await rt.runtime_service.run_pod_sandbox(sc)
            await rt.runtime_service.create_container(sid, container_config(), sc)
        ips = {
            (await rt.runtime_service.pod_sandbox_status(s.id)).network
            for rt in runtimes[:50]
            for s in await rt.runtime_service.list_pod_sandbox()
        }
        assert len(ips) == 1, "every node hands out the first address of its own pod CIDR"
        assert await runtimes[50].runtime_service.list_pod_sandbox() == []
        for rt in runtimes:
            await rt.close()

    asyncio.run(main())
