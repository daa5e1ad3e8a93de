"""Pod cells: a port of upstream's ``printPod`` (``pkg/printers/internalversion/printers.go``)."""

from __future__ import annotations

import datetime as _dt
from typing import Any, NamedTuple

from kframe.apiserver._cells_common import Cells, go_int, go_str, m, parse, seq, since

__all__ = ["POD_CELLS"]

_TERMINAL_PHASES = ("Failed", "Succeeded")
_NODE_UNREACHABLE = "NodeLost"  # node.NodeUnreachablePodReason


class _Summary(NamedTuple):
    ready: str
    status: str
    restarts: str


class _LastRestart:
    """The latest ``lastState.terminated.finishedAt`` seen, as the timestamp text."""

    def __init__(self) -> None:
        self.when: _dt.datetime | None = None
        self.text = ""

    def see(self, container: dict[str, Any]) -> None:
        terminated = m(container, "lastState").get("terminated")
        if not isinstance(terminated, dict):
            return
        finished = parse(terminated.get("finishedAt"))
        if finished is not None and (self.when is None or self.when < finished):
            self.when, self.text = finished, terminated["finishedAt"]


def _terminated_reason(terminated: dict[str, Any], prefix: str) -> str:
    if reason := go_str(terminated.get("reason")):
        return prefix + reason
    if signal := go_int(terminated.get("signal")):
        return f"{prefix}Signal:{signal}"
    return f"{prefix}ExitCode:{go_int(terminated.get('exitCode'))}"


def _condition_true(conditions: list[Any], kind: str, *, first_only: bool) -> bool:
    for condition in conditions:
        if m(condition).get("type") == kind:
            if m(condition).get("status") == "True":
                return True
            if first_only:
                return False
    return False


def _summary(pod: dict[str, Any], now: _dt.datetime | None) -> _Summary:
    spec, status = m(pod, "spec"), m(pod, "status")
    conditions = seq(status, "conditions")
    init_specs = seq(spec, "initContainers")
    # Go's map by name: a later init container of the same name wins.
    init_by_name = {go_str(m(c).get("name")): m(c) for c in init_specs}
    sidecars = sum(1 for c in init_specs if m(c).get("restartPolicy") == "Always")
    total = len(seq(spec, "containers")) + sidecars
    ready = restarts = sidecar_restarts = 0
    last, sidecar_last = _LastRestart(), _LastRestart()

    phase = go_str(status.get("phase"))
    reason = go_str(status.get("reason")) or phase
    for condition in conditions:
        c = m(condition)
        if c.get("type") == "PodScheduled" and c.get("reason") == "SchedulingGated":
            reason = "SchedulingGated"

    initializing = False
    for i, raw in enumerate(seq(status, "initContainerStatuses")):
        container = m(raw)
        state = m(container, "state")
        terminated, waiting = state.get("terminated"), state.get("waiting")
        init_spec = init_by_name.get(go_str(container.get("name")), {})
        is_sidecar = init_spec.get("restartPolicy") == "Always"
        restarts += go_int(container.get("restartCount"))
        last.see(container)
        if is_sidecar:
            sidecar_restarts += go_int(container.get("restartCount"))
            sidecar_last.see(container)
        if isinstance(terminated, dict) and go_int(terminated.get("exitCode")) == 0:
            continue
        if is_sidecar and container.get("started") is True:
            ready += 1 if container.get("ready") is True else 0
            continue
        if isinstance(terminated, dict):
            reason = _terminated_reason(terminated, "Init:")
        elif (
            isinstance(waiting, dict)
            and go_str(waiting.get("reason"))
            and waiting.get("reason") != "PodInitializing"
        ):
            reason = "Init:" + go_str(waiting.get("reason"))
        else:
            reason = f"Init:{i}/{len(init_specs)}"
        initializing = True
        break

    if not initializing or _condition_true(conditions, "Initialized", first_only=True):
        restarts, last = sidecar_restarts, sidecar_last
        has_running = False
        for raw in reversed(seq(status, "containerStatuses")):
            container = m(raw)
            state = m(container, "state")
            terminated, waiting = state.get("terminated"), state.get("waiting")
            restarts += go_int(container.get("restartCount"))
            last.see(container)
            if isinstance(waiting, dict) and go_str(waiting.get("reason")):
                reason = go_str(waiting.get("reason"))
            elif isinstance(terminated, dict):
                reason = _terminated_reason(terminated, "")
            elif container.get("ready") is True and isinstance(state.get("running"), dict):
                has_running = True
                ready += 1
        # At least one container still runs: the pod is not "Completed" yet.
        if reason == "Completed" and has_running:
            ready_condition = _condition_true(conditions, "Ready", first_only=False)
            reason = "Running" if ready_condition else "NotReady"

    deleting = bool(m(pod, "metadata").get("deletionTimestamp"))
    if deleting and status.get("reason") == _NODE_UNREACHABLE:
        reason = "Unknown"
    elif deleting and phase not in _TERMINAL_PHASES:
        reason = "Terminating"

    restarts_text = str(restarts)
    if restarts and last.when is not None:
        restarts_text = f"{restarts} ({since(last.text, now)} ago)"
    return _Summary(f"{ready}/{total}", reason, restarts_text)


def _ip(pod: dict[str, Any], now: _dt.datetime | None) -> str:
    status = m(pod, "status")
    ips = seq(status, "podIPs")
    # The v1 -> internal conversion fills podIPs from a lone podIP.
    ip = go_str(m(ips[0]).get("ip")) if ips else go_str(status.get("podIP"))
    return ip or "<none>"


def _readiness_gates(pod: dict[str, Any], now: _dt.datetime | None) -> str:
    gates = seq(m(pod, "spec"), "readinessGates")
    if not gates:
        return "<none>"
    conditions = [m(c) for c in seq(m(pod, "status"), "conditions")]
    passed = 0
    for gate in gates:
        wanted = m(gate).get("conditionType")
        for condition in conditions:
            if condition.get("type") == wanted:
                if condition.get("status") == "True":
                    passed += 1
                break
    return f"{passed}/{len(gates)}"


POD_CELLS: Cells = {
    "Ready": lambda o, now: _summary(o, now).ready,
    "Status": lambda o, now: _summary(o, now).status,
    "Restarts": lambda o, now: _summary(o, now).restarts,
    "IP": _ip,
    "Node": lambda o, now: go_str(m(o, "spec").get("nodeName")) or "<none>",
    "Nominated Node": lambda o, now: go_str(m(o, "status").get("nominatedNodeName")) or "<none>",
    "Readiness Gates": _readiness_gates,
}
