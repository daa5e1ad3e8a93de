"""A pod's place on the node: its volumes, then its sandbox, and a new sandbox when one dies.

Called by the pod worker before it starts containers (upstream's WaitForAttachAndMount, then
``createPodSandbox`` of ``kuberuntime.SyncPod``; a sandbox the PLEG saw die is replaced as
``computePodActions`` does).
"""

from __future__ import annotations

import contextlib
import logging
from typing import TYPE_CHECKING

from kframe.kubelet._cri import sandbox_config
from kframe.kubelet._dns import pod_dns_config, read_resolv_conf
from kframe.kubelet._status import should_restart
from kframe.kubelet._volumes import VolumeError, prepare_volumes
from kframe.runtime import CRIError

if TYPE_CHECKING:
    from kframe.kubelet._worker import PodWorker

__all__ = ["make_sandbox", "sandbox_changed", "setup_volumes"]

log = logging.getLogger("kframe.kubelet")


async def setup_volumes(worker: PodWorker) -> bool:
    """Set up the pod's volumes before its sandbox (upstream's WaitForAttachAndMount)."""
    kubelet = worker.kubelet
    if not kubelet.config.root_dir:
        worker.volume_paths = {}
        return True
    try:
        worker.volume_paths = await prepare_volumes(
            kubelet.client, worker.pod, kubelet.config.root_dir, host_ip=kubelet.config.node_ip
        )
    except (VolumeError, OSError) as exc:
        worker.event("Warning", "FailedMount", str(exc))
        for view in worker.views.values():
            if view.current is None:
                view.waiting_reason, view.waiting_message = "ContainerCreating", ""
        worker.wake_after(kubelet.backoff.next(f"{worker.uid}/volumes"))
        return False
    kubelet.backoff.reset(f"{worker.uid}/volumes")
    return True


async def sandbox_changed(worker: PodWorker) -> bool:
    """The sandbox died: start over in a new one (init containers too), as upstream's
    computePodActions; with restartPolicy Never a pod that has run stays as it ended."""
    worker.sandbox_lost = False
    await worker.refresh()
    policy = worker.pod.spec.restart_policy if worker.pod.spec else None
    if policy == "Never" and worker.ids:
        worker.terminal = True  # nothing may run again: the pod ends as its containers did
        worker.kubelet.probes.remove_pod(worker.uid)
        await worker.write_status(terminal=True)
        return False
    service = worker.kubelet.runtime.runtime_service
    with contextlib.suppress(CRIError):
        await service.remove_pod_sandbox(worker.sandbox_id)
    worker.kubelet.sandboxes.pop(worker.sandbox_id, None)
    worker.sandbox_id = ""
    worker.sandbox_attempt += 1
    worker.pod_ip = ""
    for name, view in worker.views.items():
        if view.current is None:
            continue
        # Every container starts again in the new sandbox (init containers too), each
        # counting a restart; the old instance, removed with its sandbox, is lastState.
        if not view.init and not should_restart(view, policy or "Always"):
            worker.ids.pop(name, None)  # done for good: keep its last status as it is
            continue
        view.previous, view.current = view.current, None
        worker.ids.pop(name, None)
        worker._previous_ids.pop(name, None)
        view.restart_count += 1
        view.ready = view.started = False
    return True


async def make_sandbox(worker: PodWorker) -> bool:
    kubelet = worker.kubelet
    config = sandbox_config(
        worker.pod,
        attempt=worker.sandbox_attempt,
        log_dir=kubelet.config.log_dir,
        node_hostname=kubelet.config.address_hostname,
        dns_config=pod_dns_config(
            worker.pod,
            cluster_dns=kubelet.config.cluster_dns,
            cluster_domain=kubelet.config.cluster_domain,
            host=read_resolv_conf(kubelet.config.resolv_conf),
        ),
    )
    service = kubelet.runtime.runtime_service
    try:
        worker.sandbox_id = await service.run_pod_sandbox(config)
        status = await service.pod_sandbox_status(worker.sandbox_id)
    except CRIError as exc:
        log.warning("pod %s: creating sandbox: %s", worker.key, exc)
        worker.sandbox_attempt += 1
        for view in worker.views.values():
            view.waiting_reason, view.waiting_message = "ContainerCreating", ""
        delay = kubelet.backoff.next(f"{worker.uid}/sandbox")
        worker.wake_after(delay)
        return False
    worker.sandbox_config = config
    spec = worker.pod.spec
    assert spec is not None
    if spec.host_network:
        worker.pod_ip = kubelet.config.node_ip
    else:
        worker.pod_ip = status.network.ip if status.network is not None else ""
    kubelet.sandboxes[worker.sandbox_id] = worker
    return True
