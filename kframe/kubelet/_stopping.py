"""Stopping a pod: on deletion (graceful, with preStop), past its activeDeadlineSeconds.

Upstream's killPod: preStop exec hooks first, then every running container stopped in parallel
with what is left of the grace period, then the sandbox. A deleted pod then gets a terminal
phase (Succeeded if every container exited 0, else Failed) and the Pod object is deleted with
its uid as precondition, which, the pod being terminal, removes it at once.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import TYPE_CHECKING

from kframe.api.models import Pod
from kframe.kubelet._volumes import remove_pod_dir
from kframe.runtime import CRIError

if TYPE_CHECKING:
    from kframe.kubelet._worker import PodWorker

__all__ = ["past_deadline", "stop_all", "terminate"]

log = logging.getLogger("kframe.kubelet")


async def past_deadline(worker: PodWorker) -> bool:
    """activeDeadlineSeconds, as upstream's activeDeadlineHandler: kill and fail the pod."""
    deadline = worker.pod.spec.active_deadline_seconds if worker.pod.spec else None
    if deadline is None:
        return False
    remaining = deadline - (worker.kubelet.clock.now() - worker.started)
    if remaining > 0:
        worker.wake_after(remaining)
        return False
    worker.failure = (
        "DeadlineExceeded",
        "Pod was active on the node longer than the specified deadline",
    )
    worker.terminal = True
    worker.kubelet.probes.remove_pod(worker.uid)
    await stop_all(worker, worker.grace_period())
    await worker.write_status(terminal=True)
    return True


async def stop_all(worker: PodWorker, grace: int) -> None:
    service = worker.kubelet.runtime.runtime_service
    await worker.refresh()
    running = [(n, i) for n, i in worker.ids.items() if worker.views[n].running]
    for name, _ in running:
        worker.event("Normal", "Killing", f"Stopping container {name}", name)
    await asyncio.gather(
        *(service.stop_container(i, grace) for _, i in running), return_exceptions=True
    )
    await worker.refresh()
    if worker.sandbox_id:
        with contextlib.suppress(CRIError):
            await service.stop_pod_sandbox(worker.sandbox_id)


async def terminate(worker: PodWorker) -> None:
    kubelet = worker.kubelet
    service = kubelet.runtime.runtime_service
    kubelet.probes.remove_pod(worker.uid)
    grace = worker.grace_period()
    started = kubelet.clock.now()
    await worker.refresh()
    running = [(n, i) for n, i in worker.ids.items() if worker.views[n].running]
    spec_by_name = {c.name: c for c in (*worker.specs()[0], *worker.specs()[1])}
    hooks = []
    for name, ident in running:
        lifecycle = spec_by_name[name].lifecycle
        pre_stop = lifecycle.pre_stop if lifecycle is not None else None
        if pre_stop is not None and pre_stop.exec is not None and pre_stop.exec.command:
            hooks.append(service.exec_sync(ident, pre_stop.exec.command, grace))
    if hooks:
        with contextlib.suppress(Exception):
            await asyncio.gather(*hooks, return_exceptions=True)
    remaining = max(0, int(grace - (kubelet.clock.now() - started)))
    # Upstream kills the containers in parallel, each with what is left of the grace.
    await stop_all(worker, remaining)
    if not worker.gone:
        with contextlib.suppress(Exception):
            await worker.write_status(terminal=True)
        meta = worker.pod.metadata
        assert meta is not None
        try:
            await kubelet.client.delete(
                Pod, meta.name or "", namespace=meta.namespace, preconditions={"uid": worker.uid}
            )
        except Exception as exc:
            if getattr(exc, "code", None) not in (404, 409):
                log.warning("pod %s: deleting: %s", worker.key, exc)
    if worker.sandbox_id:
        with contextlib.suppress(CRIError):
            await service.remove_pod_sandbox(worker.sandbox_id)
    remove_pod_dir(kubelet.config.root_dir, worker.uid)
