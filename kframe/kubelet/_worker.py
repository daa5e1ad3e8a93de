"""The pod worker: one task per pod, driving it through the CRI to its spec (upstream's
``podWorkers`` + ``kuberuntime.SyncPod``).

Each wake-up (the pod changed, the PLEG saw a container change, a back-off expired, a probe
result changed) runs one sync: make the sandbox, run init containers one at a time in order,
then start app containers, restart exited ones by the restart policy under back-off, and
write the status through ``pods/status`` when it changed. A pod with a deletionTimestamp is
stopped within its grace period (preStop first), its sandbox removed, and the Pod deleted.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import TYPE_CHECKING, Any

from kframe.api import format_time, from_dict, to_dict
from kframe.api.models import Container, Pod
from kframe.kubelet._backoff import go_duration
from kframe.kubelet._cri import container_config
from kframe.kubelet._env import ContainerConfigError, expand_command, make_env, service_env
from kframe.kubelet._images import pull_image
from kframe.kubelet._sandbox import make_sandbox, sandbox_changed, setup_volumes
from kframe.kubelet._status import (
    ContainerView,
    api_container_status,
    pod_conditions,
    pod_phase,
    should_restart,
)
from kframe.kubelet._stopping import past_deadline, terminate
from kframe.kubelet._volumes import container_mounts
from kframe.runtime import (
    ContainerStartError,
    ContainerState,
    CRIError,
    NotFoundError,
    PodSandboxConfig,
)

if TYPE_CHECKING:
    from kframe.kubelet._kubelet import Kubelet

__all__ = ["PodWorker"]

log = logging.getLogger("kframe.kubelet")


def _meta_key(pod: Pod) -> tuple[Any, ...]:
    meta = pod.metadata
    if meta is None:
        return ()
    return (
        meta.deletion_timestamp,
        meta.deletion_grace_period_seconds,
        meta.labels,
        meta.annotations,
    )


class PodWorker:
    """Keeps one pod's containers as its spec says, until it is deleted."""

    def __init__(self, kubelet: Kubelet, pod: Pod) -> None:
        self.kubelet = kubelet
        self.pod = pod
        meta = pod.metadata
        assert meta is not None and pod.spec is not None
        self.uid = meta.uid or ""
        self.key = f"{meta.namespace}/{meta.name}"
        self.sandbox_id = ""
        self.sandbox_config: PodSandboxConfig | None = None
        self.sandbox_attempt = 0
        self.pod_ip = ""
        self.views: dict[str, ContainerView] = {}
        self.ids: dict[str, str] = {}  # name -> newest container id
        self._previous_ids: dict[str, str] = {}
        self._exit_seen: dict[str, float] = {}  # container id -> clock.now() when seen exited
        self.terminal = False  # finished (Succeeded/Failed): nothing more to run
        self.failure: tuple[str, str] | None = None  # (reason, message) the kubelet failed it for
        self.started = kubelet.clock.now()
        self.gone = False  # the Pod object was removed from the API
        self.sandbox_lost = False  # the PLEG saw the sandbox stop under us
        self.volume_paths: dict[str, str] | None = None  # volume name -> path, once set up
        self._posted: dict[str, Any] | None = None
        self._wake = asyncio.Event()
        self._wake.set()
        self._probe_ids: dict[str, str] = {}
        self._killing: set[str] = set()
        self.task: asyncio.Task[None] | None = None
        for c in pod.spec.init_containers:
            self.views[c.name or ""] = ContainerView(
                name=c.name or "",
                image=c.image or "",
                init=True,
                sidecar=c.restart_policy == "Always",
            )
        for c in pod.spec.containers:
            self.views[c.name or ""] = ContainerView(name=c.name or "", image=c.image or "")

    # -- driving ----------------------------------------------------------------------------

    def update(self, pod: Pod) -> None:
        old = self.pod
        self.pod = pod
        # As upstream's config source: a change of status alone (our own writes, mostly)
        # needs no sync.
        if old.spec != pod.spec or _meta_key(old) != _meta_key(pod):
            self.wake()

    def wake(self) -> None:
        self._wake.set()

    def wake_after(self, delay: float) -> None:
        clock = self.kubelet.clock
        clock.call_at(clock.now() + max(delay, 0.0), self.wake)

    async def run(self) -> None:
        try:
            while True:
                await self._wake.wait()
                self._wake.clear()
                if self.gone or (self.pod.metadata and self.pod.metadata.deletion_timestamp):
                    await terminate(self)
                    return
                try:
                    await self._sync()
                except asyncio.CancelledError:
                    raise
                except Exception as exc:
                    log.warning("pod %s: sync failed: %s", self.key, exc)
                    self.wake_after(self.kubelet.config.pleg_relist_period)
        finally:
            self.kubelet.forget(self)

    # -- one sync ---------------------------------------------------------------------------

    def specs(self) -> tuple[tuple[Container, ...], tuple[Container, ...]]:
        spec = self.pod.spec
        assert spec is not None
        return spec.init_containers, spec.containers

    async def _sync(self) -> None:
        if self.terminal:
            await self.write_status(terminal=True)
            return
        service = self.kubelet.runtime.runtime_service
        if await past_deadline(self):
            return
        if self.sandbox_lost and not await sandbox_changed(self):
            return
        if self.volume_paths is None and not await setup_volumes(self):
            await self.write_status()
            return
        if not self.sandbox_id and not await make_sandbox(self):
            await self.write_status()
            return
        await self.refresh()
        init, app = self.specs()
        policy = self.pod.spec.restart_policy or "Always"  # type: ignore[union-attr]
        init_done = True
        for container in init:
            view = self.views[container.name or ""]
            if view.sidecar:
                if not view.running:
                    await self._ensure(container, view, policy)
                if not view.running:  # sidecars must be started before the next init container
                    init_done = False
                    break
                continue
            if view.succeeded:
                continue
            init_done = False
            if view.running or (view.current is not None and view.state == ContainerState.CREATED):
                break
            if view.exited and not should_restart(view, policy):
                break  # restartPolicy Never: the pod has failed
            await self._ensure(container, view, policy)
            break
        for container in app:
            view = self.views[container.name or ""]
            if not init_done:
                if view.current is None and not view.waiting_reason:
                    view.waiting_reason = "PodInitializing"
                continue
            if view.running:
                continue
            if view.exited and not should_restart(view, policy):
                continue
            await self._ensure(container, view, policy)
        phase = self._phase()
        if phase in ("Succeeded", "Failed"):
            self.terminal = True
            self.kubelet.probes.remove_pod(self.uid)
            with contextlib.suppress(CRIError):
                await service.stop_pod_sandbox(self.sandbox_id)
        else:
            self._update_probes()
        await self.write_status(terminal=self.terminal)

    async def refresh(self) -> None:
        service = self.kubelet.runtime.runtime_service
        now = self.kubelet.clock.now()
        for name, ident in list(self.ids.items()):
            view = self.views[name]
            try:
                view.current = await service.container_status(ident)
            except NotFoundError:
                view.current = None
                del self.ids[name]
                continue
            if view.exited:
                self._exit_seen.setdefault(ident, now)
                view.ready = view.succeeded and view.init and not view.sidecar
                view.started = False
            elif view.running:
                view.waiting_reason = view.waiting_message = ""
                probes = self.kubelet.probes
                view.started = probes.started(self.uid, name)
                view.ready = view.started and probes.readiness(self.uid, name)
            else:
                view.ready = view.started = False

    async def _ensure(self, container: Container, view: ContainerView, policy: str) -> None:
        """Start the container: first time, or a restart once its back-off allows."""
        kubelet = self.kubelet
        name = container.name or ""
        key = f"{self.uid}/{name}"
        restarting = view.current is not None
        if restarting and view.exited:
            current = view.current
            assert current is not None
            if (current.finished_at - current.started_at) / 1e9 >= kubelet.config.backoff_reset:
                kubelet.backoff.reset(key)
            seen = self._exit_seen.get(current.id, kubelet.clock.now())
            if kubelet.backoff.in_backoff_since(key, seen):
                delay = kubelet.backoff.get(key)
                meta = self.pod.metadata
                assert meta is not None
                view.waiting_reason = "CrashLoopBackOff"
                view.waiting_message = (
                    f"back-off {go_duration(delay)} restarting failed container={name} "
                    f"pod={meta.name}_{meta.namespace}({meta.uid})"
                )
                self.event(
                    "Warning",
                    "BackOff",
                    f"Back-off restarting failed container {name} in pod "
                    f"{meta.name}_{meta.namespace}({meta.uid})",
                    name,
                )
                self.wake_after(kubelet.backoff.remaining(key, seen))
                return
        image_ref = await pull_image(self, container, view)
        if image_ref is None:
            return
        try:
            # Upstream refuses to build variables before services were read once.
            await kubelet.pods.services.wait_for_sync()
            links = self.pod.spec.enable_service_links is not False  # type: ignore[union-attr]
            namespace = self.pod.metadata.namespace or "default"  # type: ignore[union-attr]
            env = await make_env(
                kubelet.client,
                self.pod,
                container,
                pod_ip=self.pod_ip,
                host_ip=kubelet.config.node_ip,
                allocatable=kubelet.node_status.allocatable,
                service_env=service_env(kubelet.pods.services_for(namespace, links)),
            )
        except ContainerConfigError as exc:
            view.waiting_reason, view.waiting_message = "CreateContainerConfigError", str(exc)
            self.event("Warning", "Failed", f"Error: {exc}", name)
            self.wake_after(kubelet.backoff.next(f"{key}/config"))
            return
        env_map = dict(env)
        attempt = view.restart_count + 1 if restarting else view.restart_count
        config = container_config(
            self.pod,
            container,
            attempt=attempt,
            image_ref=image_ref,
            env=env,
            command=expand_command(container.command, env_map),
            args=expand_command(container.args, env_map),
            log_dir=kubelet.config.log_dir,
            mounts=container_mounts(container, self.volume_paths or {}),
        )
        service = kubelet.runtime.runtime_service
        assert self.sandbox_config is not None
        try:
            ident = await service.create_container(self.sandbox_id, config, self.sandbox_config)
        except CRIError as exc:
            view.waiting_reason, view.waiting_message = "CreateContainerError", str(exc)
            self.event("Warning", "Failed", f"Error: {exc}", name)
            self.wake_after(kubelet.backoff.next(key))
            return
        if restarting:
            kubelet.backoff.next(key)
            old = self._previous_ids.get(name)
            if old:  # keep one dead instance (for logs --previous), as upstream's GC does
                with contextlib.suppress(CRIError):
                    await service.remove_container(old)
            if view.current is not None:
                self._previous_ids[name] = view.current.id
                view.previous = view.current
            view.restart_count = attempt
        self.ids[name] = ident
        view.waiting_reason = view.waiting_message = ""
        self.event("Normal", "Created", f"Created container: {name}", name)
        try:
            await service.start_container(ident)
        except ContainerStartError as exc:
            view.waiting_reason, view.waiting_message = "RunContainerError", str(exc)
            self.event("Warning", "Failed", f"Error: {exc.message}", name)
        else:
            self.event("Normal", "Started", f"Started container {name}", name)
        try:
            view.current = await service.container_status(ident)
        except NotFoundError:
            view.current = None
        if view.exited:
            self._exit_seen.setdefault(ident, kubelet.clock.now())
        if view.running:
            view.started = kubelet.probes.started(self.uid, name)
            view.ready = view.started and kubelet.probes.readiness(self.uid, name)

    def _phase(self, *, terminal: bool = False) -> str:
        init, app = self.specs()
        policy = self.pod.spec.restart_policy or "Always"  # type: ignore[union-attr]
        return pod_phase(
            [self.views[c.name or ""] for c in init],
            [self.views[c.name or ""] for c in app],
            policy,
            terminal=terminal,
        )

    def _update_probes(self) -> None:
        running = {
            n: i
            for n, i in self.ids.items()
            if self.views[n].running and not (self.views[n].init and not self.views[n].sidecar)
        }
        if running != self._probe_ids:
            self._probe_ids = running
            status = to_dict(self.pod).get("status") or {}
            status = {**status, "podIP": self.pod_ip, "hostIP": self.kubelet.config.node_ip}
            body = {**to_dict(self.pod), "status": status}
            self.kubelet.probes.add_pod(from_dict(body, Pod), dict(running))
        probes = self.kubelet.probes
        for name in running:
            view = self.views[name]
            view.started = probes.started(self.uid, name)
            view.ready = view.started and probes.readiness(self.uid, name)

    # -- status -----------------------------------------------------------------------------

    def build_status(self, *, terminal: bool = False) -> dict[str, Any]:
        kubelet = self.kubelet
        init, app = self.specs()
        init_views = [self.views[c.name or ""] for c in init]
        app_views = [self.views[c.name or ""] for c in app]
        phase = self._phase(terminal=terminal)
        old_status = self.pod.status
        old = {c.type or "": to_dict(c) for c in (old_status.conditions if old_status else ())}
        now = format_time(kubelet.clock.wall())
        conditions = pod_conditions(
            init_views,
            app_views,
            phase,
            sandbox_ready=bool(self.sandbox_id) and not terminal,
            old=old,
            now=now,
        )
        runtime = kubelet.runtime.name
        status: dict[str, Any] = {
            "phase": phase,
            "conditions": conditions,
            "hostIP": kubelet.config.node_ip,
            "hostIPs": [{"ip": kubelet.config.node_ip}],
            "startTime": format_time(old_status.start_time)
            if old_status and old_status.start_time
            else kubelet.started_times.setdefault(self.uid, now),
            "containerStatuses": [api_container_status(v, runtime) for v in app_views],
        }
        if init_views:
            status["initContainerStatuses"] = [api_container_status(v, runtime) for v in init_views]
        if self.failure is not None:
            status["phase"] = "Failed"
            status["reason"], status["message"] = self.failure
        if self.pod_ip:
            status["podIP"] = self.pod_ip
            status["podIPs"] = [{"ip": self.pod_ip}]
        return status

    async def write_status(self, *, terminal: bool = False) -> None:
        status = self.build_status(terminal=terminal)
        if status == self._posted:
            return
        meta = self.pod.metadata
        assert meta is not None
        try:
            pod = await self.kubelet.client.patch(
                Pod,
                meta.name or "",
                {"metadata": {"uid": self.uid}, "status": status},
                namespace=meta.namespace,
                patch_type="strategic",
                subresource="status",
            )
        except Exception as exc:
            if getattr(exc, "code", None) == 404:
                self.gone = True
                self.wake()
                return
            raise
        self._posted = status
        if pod.metadata and pod.metadata.uid == self.uid:
            self.pod = pod

    def event(self, type_: str, reason: str, message: str, container: str = "") -> None:
        self.kubelet.events.event(self.pod, type_, reason, message, container)

    # -- liveness ---------------------------------------------------------------------------

    def kill_container(self, name: str, message: str, grace: int | None = None) -> None:
        """A liveness (or startup) probe failed: stop the container; the sync restarts it.

        ``grace``: the failed probe's terminationGracePeriodSeconds, None for the pod's."""
        ident = self.ids.get(name)
        if not ident or ident in self._killing:
            return
        self._killing.add(ident)
        log.info("pod %s: %s", self.key, message)
        self.event("Normal", "Killing", message, name)

        async def kill() -> None:
            try:
                seconds = self.grace_period() if grace is None else max(0, grace)
                await self.kubelet.runtime.runtime_service.stop_container(ident, seconds)
            finally:
                self._killing.discard(ident)
                self.wake()

        self.kubelet.spawn(kill())

    # -- termination ------------------------------------------------------------------------

    def grace_period(self) -> int:
        meta, spec = self.pod.metadata, self.pod.spec
        assert meta is not None and spec is not None
        if meta.deletion_grace_period_seconds is not None:
            return max(0, meta.deletion_grace_period_seconds)
        grace = spec.termination_grace_period_seconds
        return 30 if grace is None else max(0, grace)
