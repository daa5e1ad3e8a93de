"""A pod's life through the CRI, driven by hand the way the kubelet drives it.

Run: ``python examples/runtime/cri_walkthrough.py``. It opens the ``fake`` runtime through the
registry (with the node-wide knobs of ``fake-runtime-config.json`` and a FakeClock, so half a
minute passes at once), runs a sandbox with a web container and a Job-style container that
completes after 30 s, probes the web container with exec, reads its stats, then stops and
removes everything as a pod deletion does.
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

from kframe.client import FakeClock
from kframe.registry import build_registry
from kframe.runtime import (
    ContainerConfig,
    ContainerMetadata,
    ImageSpec,
    LinuxContainerConfig,
    LinuxContainerResources,
    PodSandboxConfig,
    PodSandboxMetadata,
    RuntimeOptions,
    open_runtime,
)

HERE = Path(__file__).resolve().parent


async def advance(clock: FakeClock, seconds: float) -> None:
    await asyncio.sleep(0)  # let a call that is about to sleep on the clock get there first
    clock.advance(seconds)
    await asyncio.sleep(0)


async def main() -> None:
    registry = build_registry()
    print("runtimes:", ", ".join(e.name for e in registry.entries("runtime")))
    clock = FakeClock()
    config = json.loads((HERE / "fake-runtime-config.json").read_text())
    options = RuntimeOptions(node_name="node-0", clock=clock, config=config)
    runtime = await open_runtime("fake", options, registry=registry)
    rs, images = runtime.runtime_service, runtime.image_service
    version = await rs.version()
    ready = (await rs.status()).ready
    print(f"runtime {version.runtime_name}://{version.runtime_version}, ready: {ready}")

    # The kubelet passes the pod's annotations on: that is how per-pod knobs reach the fake runtime.
    sandbox = PodSandboxConfig(
        metadata=PodSandboxMetadata(name="web-0", namespace="default", uid="uid-web-0"),
        annotations={"fake.kframe.io/exit-after.job": "30s"},
    )
    sid = await rs.run_pod_sandbox(sandbox)
    status = await rs.pod_sandbox_status(sid)
    assert status.network is not None
    print(f"sandbox {status.state.name}, pod IP {status.network.ip}")

    pull = asyncio.ensure_future(images.pull_image(ImageSpec(image="nginx:1.27"), None, sandbox))
    await advance(clock, 2)  # pull_delay: 2s in the config
    print("pulled nginx:1.27 as", (await pull)[:19], "...")

    limits = LinuxContainerResources(
        cpu_period=100_000, cpu_quota=50_000, memory_limit_in_bytes=128 * 2**20
    )
    ids = {}
    for name, image in (("web", "nginx:1.27"), ("job", "busybox:1.36")):
        config = ContainerConfig(
            metadata=ContainerMetadata(name=name),
            image=ImageSpec(image=image),
            linux=LinuxContainerConfig(resources=limits),
        )
        ids[name] = await rs.create_container(sid, config, sandbox)
        start = asyncio.ensure_future(rs.start_container(ids[name]))
        await advance(clock, 0.5)  # start_delay: 500ms
        await start
    for name, cid in ids.items():
        print(f"{name}: {(await rs.container_status(cid)).state.name}")

    await advance(clock, 30)
    job = await rs.container_status(ids["job"])
    print(f"job after 30s: {job.state.name}, exit code {job.exit_code}, reason {job.reason}")
    probe = await rs.exec_sync(ids["web"], ["cat", "/tmp/healthy"], timeout=1)
    print(f"exec probe of web: exit code {probe.exit_code}")
    stats = await rs.container_stats(ids["web"])
    assert stats.cpu is not None and stats.memory is not None
    print(
        f"web uses {stats.cpu.usage_nano_cores / 1e6:.0f}m CPU, "
        f"{stats.memory.working_set_bytes // 2**20} MiB"
    )

    # A pod deletion: stop the running containers with the grace period, then the sandbox.
    await rs.stop_container(ids["web"], timeout=30)
    print(f"web stopped: exit code {(await rs.container_status(ids['web'])).exit_code}")
    await rs.stop_pod_sandbox(sid)
    await rs.remove_pod_sandbox(sid)
    await rs.remove_pod_sandbox(sid)  # idempotent, as CRI requires
    sandboxes, containers = await rs.list_pod_sandbox(), await rs.list_containers()
    print(f"left: {len(sandboxes)} sandboxes, {len(containers)} containers")
    await runtime.close()


if __name__ == "__main__":
    asyncio.run(main())
