"""A pod's API status from what the kubelet knows of its containers (upstream's
``generateAPIPodStatus``, ``getPhase`` and ``status.Generate*Condition``).

Pure functions over :class:`ContainerView` records the pod worker keeps, so the rules are
testable without a runtime: the phase (Pending, Running, Succeeded, Failed), the
PodReadyToStartContainers, Initialized, ContainersReady and Ready conditions, and each
container's state (waiting with a reason, running, terminated), lastState, ready and started.
"""

from __future__ import annotations

import datetime as _dt
from collections.abc import Mapping, Sequence
from typing import Any

import attrs

from kframe.api import format_time
from kframe.runtime import ContainerState, ContainerStatus

__all__ = [
    "ContainerView",
    "api_container_status",
    "pod_conditions",
    "pod_phase",
    "should_restart",
]

_EPOCH = _dt.datetime(1970, 1, 1, tzinfo=_dt.UTC)


def ns_time(nanos: int) -> str | None:
    if nanos <= 0:
        return None
    return format_time(_EPOCH + _dt.timedelta(microseconds=nanos // 1000))


@attrs.define
class ContainerView:
    """What the kubelet knows of one container of a pod (the spec's name, its instances)."""

    name: str
    image: str
    init: bool = False
    sidecar: bool = False  #: an init container with restartPolicy Always
    current: ContainerStatus | None = None  #: the newest instance's runtime status
    previous: ContainerStatus | None = None  #: the instance before it, exited
    restart_count: int = 0
    waiting_reason: str = ""  #: why there is no running instance (ContainerCreating, ...)
    waiting_message: str = ""
    ready: bool = False
    started: bool = False

    @property
    def state(self) -> ContainerState | None:
        return self.current.state if self.current is not None else None

    @property
    def running(self) -> bool:
        return self.state == ContainerState.RUNNING

    @property
    def exited(self) -> bool:
        return self.state == ContainerState.EXITED

    @property
    def succeeded(self) -> bool:
        return self.exited and self.current is not None and self.current.exit_code == 0


def _terminated(status: ContainerStatus, runtime: str) -> dict[str, Any]:
    out: dict[str, Any] = {
        "exitCode": status.exit_code,
        "reason": status.reason or ("Completed" if status.exit_code == 0 else "Error"),
        "startedAt": ns_time(status.started_at),
        "finishedAt": ns_time(status.finished_at),
        "containerID": f"{runtime}://{status.id}",
    }
    if status.message:
        out["message"] = status.message
    return {"terminated": {k: v for k, v in out.items() if v is not None}}


def api_container_status(view: ContainerView, runtime: str) -> dict[str, Any]:
    """One entry of containerStatuses / initContainerStatuses, as JSON."""
    current = view.current
    state: dict[str, Any]
    last: dict[str, Any] = {}
    if view.waiting_reason and (current is None or current.state != ContainerState.RUNNING):
        waiting: dict[str, Any] = {"reason": view.waiting_reason}
        if view.waiting_message:
            waiting["message"] = view.waiting_message
        state = {"waiting": waiting}
        shown = current if current is not None and current.state == ContainerState.EXITED else None
        if shown is not None:
            last = _terminated(shown, runtime)
        elif view.previous is not None:
            last = _terminated(view.previous, runtime)
    elif current is None or current.state in (ContainerState.CREATED, ContainerState.UNKNOWN):
        state = {"waiting": {"reason": "ContainerCreating"}}
        if view.previous is not None:
            last = _terminated(view.previous, runtime)
    elif current.state == ContainerState.RUNNING:
        state = {"running": {"startedAt": ns_time(current.started_at)}}
        if view.previous is not None:
            last = _terminated(view.previous, runtime)
    else:
        state = _terminated(current, runtime)
        if view.previous is not None:
            last = _terminated(view.previous, runtime)
    out: dict[str, Any] = {
        "name": view.name,
        "state": state,
        "lastState": last,
        "ready": view.ready,
        "restartCount": view.restart_count,
        "image": view.image,
        "imageID": current.image_ref if current is not None else "",
        "started": view.started,
    }
    if current is not None:
        out["containerID"] = f"{runtime}://{current.id}"
    return out


def _counts_as_stopped(view: ContainerView) -> bool:
    return view.exited or (view.current is None and view.previous is not None)


def pod_phase(
    init: Sequence[ContainerView],
    app: Sequence[ContainerView],
    restart_policy: str,
    *,
    terminal: bool = False,
) -> str:
    """upstream getPhase: ``terminal`` is a pod being shut down for good (deleted, finished)."""
    for view in init:
        if view.sidecar:
            continue
        if view.exited and not view.succeeded and restart_policy == "Never":
            return "Failed"
    pending_init = any(not v.sidecar and not v.succeeded for v in init)
    running = waiting = stopped = succeeded = 0
    for view in app:
        if view.running:
            running += 1
        elif view.exited:
            stopped += 1
            succeeded += view.succeeded
        elif view.previous is not None and view.waiting_reason == "CrashLoopBackOff":
            stopped += 1  # upstream counts a waiting container with a lastState as stopped
        else:
            waiting += 1
    if pending_init or waiting:
        phase = "Pending"
    elif running:
        phase = "Running"
    elif stopped:
        if restart_policy == "Always" and not terminal:
            phase = "Running"  # all of them are restarting
        elif stopped == succeeded:
            phase = "Succeeded"
        elif restart_policy == "Never" or terminal:
            phase = "Failed"
        else:
            phase = "Running"
    else:
        phase = "Pending"
    if terminal and phase not in ("Succeeded", "Failed"):
        phase = "Failed"  # upstream: a terminated pod never stays in a non-terminal phase
    return phase


def pod_conditions(
    init: Sequence[ContainerView],
    app: Sequence[ContainerView],
    phase: str,
    *,
    sandbox_ready: bool,
    old: Mapping[str, Mapping[str, Any]],
    now: str,
) -> list[dict[str, Any]]:
    """The kubelet's conditions (PodScheduled is the scheduler's and stays as it is)."""
    conds: list[tuple[str, bool, str, str]] = [("PodReadyToStartContainers", sandbox_ready, "", "")]
    incomplete = [v.name for v in init if not (v.succeeded or (v.sidecar and v.started))]
    if phase in ("Succeeded", "Failed") and not any(not v.succeeded for v in init if not v.sidecar):
        incomplete = []
    if incomplete:
        conds.append(
            (
                "Initialized",
                False,
                "ContainersNotInitialized",
                f"containers with incomplete status: [{' '.join(incomplete)}]",
            )
        )
    else:
        conds.append(("Initialized", True, "", ""))
    if phase == "Succeeded":
        ready = ("Ready", False, "PodCompleted", "")
        cready = ("ContainersReady", False, "PodCompleted", "")
    else:
        unready = [v.name for v in (*[i for i in init if i.sidecar], *app) if not v.ready]
        if unready:
            message = f"containers with unready status: [{' '.join(unready)}]"
            ready = ("Ready", False, "ContainersNotReady", message)
            cready = ("ContainersReady", False, "ContainersNotReady", message)
        else:
            ready = ("Ready", True, "", "")
            cready = ("ContainersReady", True, "", "")
    conds += [ready, cready]
    out = []
    for kind, ok, reason, message in conds:
        status = "True" if ok else "False"
        previous = old.get(kind)
        since = now
        if (
            previous is not None
            and previous.get("status") == status
            and previous.get("lastTransitionTime")
        ):
            since = previous["lastTransitionTime"]
        cond: dict[str, Any] = {
            "type": kind,
            "status": status,
            "lastProbeTime": None,
            "lastTransitionTime": since,
        }
        if reason:
            cond["reason"] = reason
        if message:
            cond["message"] = message
        out.append(cond)
    return out


def should_restart(view: ContainerView, policy: str) -> bool:
    """Whether an exited container runs again (upstream's ShouldContainerBeRestarted)."""
    if view.sidecar:
        return True
    if view.init:  # Always counts as OnFailure for init containers
        return policy != "Never" and not view.succeeded
    if policy == "Always":
        return True
    if policy == "OnFailure":
        return not view.succeeded
    return False
