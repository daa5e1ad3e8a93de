"""Table cells against upstream's printer tests.

Each case is a test case of kubernetes/kubernetes ``pkg/printers/internalversion/printers_test.go``
(named in the case id), with the Go object written as the JSON kframe stores and the expected row
copied from upstream. ``time.Now()`` there is the fixed ``NOW`` here; ``int64`` cells stay ints
and are checked as such. Rows are the priority-0 columns, or all of them for upstream's
``Wide: true`` cases.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from kframe.apiserver._cells import cell
from kframe.apiserver._resources import PRINT_COLUMNS, by_plural
from kframe.apiserver._table import age, table

NOW = dt.datetime(2024, 5, 1, 12, 0, 0, tzinfo=dt.UTC)
MIN, HOUR, DAY = 60, 3600, 86400
YEAR = 365 * DAY


def ts(seconds: float) -> str:
    """``NOW + seconds`` as a metav1.Time/MicroTime."""
    when = NOW + dt.timedelta(seconds=seconds)
    return when.strftime("%Y-%m-%dT%H:%M:%S.%fZ" if when.microsecond else "%Y-%m-%dT%H:%M:%SZ")


SOON = ts(1.9)  # upstream's time.Now().Add(1.9e9): "almost now", printed as 0s


def meta(name: str, created: str | None = None, **extra: Any) -> dict[str, Any]:
    out: dict[str, Any] = {"name": name, **extra}
    if created is not None:
        out["creationTimestamp"] = created
    return out


def row(plural: str, obj: dict[str, Any], *, wide: bool = False) -> list[Any]:
    return [
        cell(plural, c.name, obj, NOW) for c in PRINT_COLUMNS[plural] if wide or c.priority == 0
    ]


def typed(cells: list[Any]) -> list[tuple[str, Any]]:
    """Cells with their types, so 6 and "6" (and 1 and True) differ."""
    return [(type(c).__name__, c) for c in cells]


def check(plural: str, obj: dict[str, Any], expected: list[Any], wide: bool) -> None:
    assert typed(row(plural, obj, wide=wide)) == typed(expected)


# --- pods --------------------------------------------------------------------------------------

RUNNING: dict[str, Any] = {"running": {}}


def cs(
    restarts: int = 0,
    *,
    ready: bool = False,
    state: dict[str, Any] | None = None,
    finished: str | None = None,
    **extra: Any,
) -> dict[str, Any]:
    """A container status; ``finished`` is the last termination's finishedAt."""
    out: dict[str, Any] = {"ready": ready, "restartCount": restarts, **extra}
    if state is not None:
        out["state"] = state
    if finished is not None:
        out["lastState"] = {"terminated": {"exitCode": 0, "finishedAt": finished}}
    return out


def pod(
    name: str,
    status: dict[str, Any],
    *,
    containers: int = 2,
    init: list[dict[str, Any]] | int = 0,
    **metadata: Any,
) -> dict[str, Any]:
    spec: dict[str, Any] = {"containers": [{} for _ in range(containers)]}
    if init:
        spec["initContainers"] = init if isinstance(init, list) else [{} for _ in range(init)]
    return {"metadata": meta(name, **metadata), "spec": spec, "status": status}


def waiting(reason: str = "") -> dict[str, Any]:
    return {"waiting": {"reason": reason} if reason else {}}


def terminated(reason: str = "", code: int = 0) -> dict[str, Any]:
    body: dict[str, Any] = {"exitCode": code}
    if reason:
        body["reason"] = reason
    return {"terminated": body}


SIDECARS = [
    {"name": "restartable-init-1", "restartPolicy": "Always"},
    {"name": "restartable-init-2", "restartPolicy": "Always"},
]
DELETED = ts(-10)
TWO_RUNNING = [cs(3, ready=True, state=RUNNING), cs(3)]

POD_CASES = [
    # TestPrintPod
    (
        pod("test1", {"phase": "podPhase", "containerStatuses": TWO_RUNNING}),
        ["test1", "1/2", "podPhase", "6", "<unknown>"],
    ),
    (
        pod(
            "test2",
            {
                "phase": "podPhase",
                "containerStatuses": [
                    cs(3, ready=True, state=RUNNING),
                    cs(3, state=waiting("ContainerWaitingReason")),
                ],
            },
        ),
        ["test2", "1/2", "ContainerWaitingReason", "6", "<unknown>"],
    ),
    (
        pod(
            "test3",
            {
                "phase": "podPhase",
                "containerStatuses": [
                    cs(3, state=waiting("ContainerWaitingReason")),
                    cs(3, state=terminated("ContainerTerminatedReason")),
                ],
            },
        ),
        ["test3", "0/2", "ContainerWaitingReason", "6", "<unknown>"],
    ),
    (
        pod(
            "test4",
            {
                "phase": "podPhase",
                "containerStatuses": [cs(3, ready=True, state=RUNNING), cs(3, ready=True)],
            },
        ),
        ["test4", "1/2", "podPhase", "6", "<unknown>"],
    ),
    (
        pod(
            "test5",
            {
                "reason": "podReason",
                "phase": "podPhase",
                "containerStatuses": [cs(3, ready=True, state=RUNNING), cs(3, ready=True)],
            },
        ),
        ["test5", "1/2", "podReason", "6", "<unknown>"],
    ),
    (
        pod(
            "test6",
            {
                "phase": "Running",
                "containerStatuses": [
                    cs(3, ready=True, state=terminated("Completed")),
                    cs(3, ready=True, state=RUNNING),
                ],
            },
        ),
        ["test6", "1/2", "NotReady", "6", "<unknown>"],
    ),
    (
        pod(
            "test6",
            {
                "phase": "Running",
                "containerStatuses": [
                    cs(3, ready=True, state=terminated("Completed")),
                    cs(3, ready=True, state=RUNNING),
                ],
                "conditions": [{"type": "Ready", "status": "True", "lastProbeTime": ts(0)}],
            },
        ),
        ["test6", "1/2", "Running", "6", "<unknown>"],
    ),
    (
        pod(
            "test7",
            {
                "phase": "podPhase",
                "initContainerStatuses": [cs(3, state=RUNNING, finished=ts(-10))],
                "containerStatuses": [cs(0, state=waiting())],
            },
            containers=1,
            init=1,
        ),
        ["test7", "0/1", "Init:0/1", "3 (10s ago)", "<unknown>"],
    ),
    (
        pod(
            "test8",
            {
                "phase": "podPhase",
                "initContainerStatuses": [
                    cs(3, state=RUNNING, finished=ts(-10)),
                    cs(state=waiting()),
                ],
                "containerStatuses": [cs(state=waiting())],
            },
            containers=1,
            init=2,
        ),
        ["test8", "0/1", "Init:0/2", "3 (10s ago)", "<unknown>"],
    ),
    (
        pod(
            "test9",
            {
                "phase": "podPhase",
                "initContainerStatuses": [
                    cs(state={"terminated": {}}),
                    cs(3, state=RUNNING, finished=ts(-10)),
                ],
                "containerStatuses": [cs(state=waiting())],
            },
            containers=1,
            init=2,
        ),
        ["test9", "0/1", "Init:1/2", "3 (10s ago)", "<unknown>"],
    ),
    (
        pod(
            "test10",
            {
                "phase": "podPhase",
                "initContainerStatuses": [
                    cs(2, state={"terminated": {}}, finished=ts(-2 * MIN)),
                    cs(3, state=RUNNING, finished=ts(-10)),
                ],
                "containerStatuses": [cs(state=waiting())],
            },
            containers=1,
            init=2,
        ),
        ["test10", "0/1", "Init:1/2", "5 (10s ago)", "<unknown>"],
    ),
    (
        pod(
            "test11",
            {
                "phase": "Running",
                "initContainerStatuses": [cs(2, state={"terminated": {}}, finished=ts(-2 * MIN))],
                "containerStatuses": [cs(4, state=RUNNING, finished=ts(-20))],
            },
            containers=1,
            init=1,
        ),
        ["test11", "0/1", "Running", "4 (20s ago)", "<unknown>"],
    ),
    (
        pod(
            "test12",
            {
                "phase": "Running",
                "containerStatuses": [cs(3, ready=True, state=RUNNING, finished=ts(-5 * DAY))],
            },
            containers=1,
        ),
        ["test12", "1/1", "Running", "3 (5d ago)", "<unknown>"],
    ),
    (
        pod(
            "test13",
            {
                "phase": "Running",
                "containerStatuses": [
                    cs(0, ready=True, state=RUNNING),
                    cs(3, ready=True, state=RUNNING, finished=ts(-10 * DAY)),
                ],
            },
        ),
        ["test13", "2/2", "Running", "3 (10d ago)", "<unknown>"],
    ),
    (
        pod(
            "test14",
            {
                "phase": "Running",
                "containerStatuses": [
                    cs(6, ready=True, state=RUNNING, finished=ts(-5 * DAY)),
                    cs(3, ready=True, state=RUNNING, finished=ts(-20 * DAY)),
                ],
            },
        ),
        ["test14", "2/2", "Running", "9 (5d ago)", "<unknown>"],
    ),
    (
        pod(
            "test15",
            {
                "phase": "podPhase",
                "conditions": [
                    {"type": "PodScheduled", "status": "False", "reason": "SchedulingGated"}
                ],
            },
        ),
        ["test15", "0/2", "SchedulingGated", "0", "<unknown>"],
    ),
    (
        pod(
            "test16",
            {"phase": "Succeeded", "containerStatuses": [cs(state=terminated("Completed"))]},
            containers=1,
        ),
        ["test16", "0/1", "Completed", "0", "<unknown>"],
    ),
    (
        pod(
            "test17",
            {"phase": "Failed", "containerStatuses": [cs(state=terminated("Error", 1))]},
            containers=1,
        ),
        ["test17", "0/1", "Error", "0", "<unknown>"],
    ),
    (
        pod(
            "test18",
            {"phase": "Succeeded", "containerStatuses": [cs(state=terminated("Completed"))]},
            containers=1,
            deletionTimestamp=DELETED,
        ),
        ["test18", "0/1", "Completed", "0", "<unknown>"],
    ),
    (
        pod(
            "test19",
            {"phase": "Running", "containerStatuses": [cs(state=RUNNING)]},
            containers=1,
            deletionTimestamp=DELETED,
        ),
        ["test19", "0/1", "Terminating", "0", "<unknown>"],
    ),
    (
        pod("test20", {"phase": "Pending"}, containers=1, deletionTimestamp=DELETED),
        ["test20", "0/1", "Terminating", "0", "<unknown>"],
    ),
    # TestPrintPodWithRestartableInitContainer
    (
        pod(
            "test1",
            {
                "phase": "Pending",
                "initContainerStatuses": [
                    cs(
                        3, name="restartable-init-1", state=RUNNING, started=False, finished=ts(-10)
                    ),
                    cs(name="restartable-init-2", state=waiting(), started=False),
                ],
                "containerStatuses": [cs(state=waiting())],
                "conditions": [{"type": "Initialized", "status": "False"}],
            },
            containers=1,
            init=SIDECARS,
        ),
        ["test1", "0/3", "Init:0/2", "3 (10s ago)", "<unknown>"],
    ),
    (
        pod(
            "test1",
            {
                "phase": "Pending",
                "initContainerStatuses": [
                    cs(3, name="restartable-init-1", state=RUNNING, started=True, finished=ts(-10)),
                    cs(name="restartable-init-2", state=RUNNING, started=False),
                ],
                "containerStatuses": [cs(state=waiting())],
                "conditions": [{"type": "Initialized", "status": "False"}],
            },
            containers=1,
            init=SIDECARS,
        ),
        ["test1", "0/3", "Init:1/2", "3 (10s ago)", "<unknown>"],
    ),
    (
        pod(
            "test2",
            {
                "phase": "Running",
                "initContainerStatuses": [
                    cs(3, name="restartable-init-1", state=RUNNING, started=True, finished=ts(-10)),
                    cs(name="restartable-init-2", state=RUNNING, started=True),
                ],
                "containerStatuses": [cs(4, ready=True, state=RUNNING, finished=ts(-20))],
                "conditions": [{"type": "Initialized", "status": "True"}],
            },
            containers=1,
            init=SIDECARS,
        ),
        ["test2", "1/3", "Running", "7 (10s ago)", "<unknown>"],
    ),
    (
        pod(
            "test3",
            {
                "phase": "Succeeded",
                "initContainerStatuses": [
                    cs(
                        3,
                        name="restartable-init-1",
                        state=terminated("Error", 137),
                        started=False,
                        finished=ts(-10),
                    ),
                    cs(name="restartable-init-2", state=terminated("Error", 137), started=False),
                ],
                "containerStatuses": [cs(4, state=terminated("Completed"), finished=ts(-20))],
                "conditions": [{"type": "Initialized", "status": "True"}],
            },
            containers=1,
            init=SIDECARS,
        ),
        ["test3", "0/3", "Completed", "7 (10s ago)", "<unknown>"],
    ),
    (
        {
            "metadata": {"name": "test4"},
            "spec": {
                "initContainers": [
                    {"name": "init1", "image": "initimage"},
                    {"name": "sidecar1", "image": "sidecarimage", "restartPolicy": "Always"},
                ],
                "containers": [{"name": "container1", "image": "containerimage"}],
            },
            "status": {
                "phase": "Running",
                "initContainerStatuses": [
                    {"name": "initinvalid"},
                    {"name": "init1"},
                    {"name": "sidecar1"},
                ],
                "containerStatuses": [{"name": "containerinvalid"}, {"name": "container1"}],
            },
        },
        ["test4", "0/2", "Init:0/2", "0", "<unknown>"],
    ),
    # TestPrintNonTerminatedPod
    (
        pod("test3", {"phase": "Unknown", "containerStatuses": TWO_RUNNING}),
        ["test3", "1/2", "Unknown", "6", "<unknown>"],
    ),
]

GATES = [{"conditionType": c} for c in ("condition1", "condition2", "condition3")]
GATE_CONDITIONS = [
    {"type": "condition1", "status": "False"},
    {"type": "condition2", "status": "True"},
]

POD_WIDE_CASES = [
    # TestPrintPodwide
    (
        {
            "metadata": {"name": "test1"},
            "spec": {"containers": [{}, {}], "nodeName": "test1", "readinessGates": GATES},
            "status": {
                "conditions": GATE_CONDITIONS,
                "phase": "podPhase",
                "podIPs": [{"ip": "1.1.1.1"}],
                "containerStatuses": TWO_RUNNING,
                "nominatedNodeName": "node1",
            },
        },
        ["test1", "1/2", "podPhase", "6", "<unknown>", "1.1.1.1", "test1", "node1", "1/3"],
    ),
    (
        {
            "metadata": {"name": "test1"},
            "spec": {"containers": [{}, {}], "nodeName": "test1", "readinessGates": GATES},
            "status": {
                "conditions": GATE_CONDITIONS,
                "phase": "podPhase",
                "podIPs": [{"ip": "1.1.1.1"}, {"ip": "2001:db8::"}],
                "containerStatuses": TWO_RUNNING,
                "nominatedNodeName": "node1",
            },
        },
        ["test1", "1/2", "podPhase", "6", "<unknown>", "1.1.1.1", "test1", "node1", "1/3"],
    ),
    (
        pod(
            "test2",
            {
                "phase": "podPhase",
                "containerStatuses": [
                    cs(3, ready=True, state=RUNNING),
                    cs(3, state=waiting("ContainerWaitingReason")),
                ],
            },
        ),
        ["test2", "1/2", "ContainerWaitingReason", "6", "<unknown>"] + ["<none>"] * 4,
    ),
]


@pytest.mark.parametrize(("obj", "expected"), POD_CASES)
def test_pod(obj: dict[str, Any], expected: list[Any]) -> None:
    check("pods", obj, expected, wide=False)


@pytest.mark.parametrize(("obj", "expected"), POD_WIDE_CASES)
def test_pod_wide(obj: dict[str, Any], expected: list[Any]) -> None:
    check("pods", obj, expected, wide=True)


def test_pod_status_beyond_upstream_cases() -> None:
    """Branches of printPod that printers_test.go leaves out."""

    def status(**fields: Any) -> str:
        body = {"phase": "Running", **fields}
        return str(cell("pods", "Status", pod("p", body, containers=1, init=1), NOW))

    assert status(initContainerStatuses=[cs(state=waiting("CrashLoopBackOff"))]) == (
        "Init:CrashLoopBackOff"
    )
    assert status(initContainerStatuses=[cs(state=terminated("", 2))]) == "Init:ExitCode:2"
    signalled = {"terminated": {"exitCode": 137, "signal": 9}}
    assert status(initContainerStatuses=[cs(state=signalled)]) == "Init:Signal:9"
    assert status(containerStatuses=[cs(state=terminated("", 3))]) == "ExitCode:3"
    lost = pod("p", {"phase": "Running", "reason": "NodeLost"}, deletionTimestamp=DELETED)
    assert cell("pods", "Status", lost, NOW) == "Unknown"
    lost["metadata"].pop("deletionTimestamp")
    assert cell("pods", "Status", lost, NOW) == "NodeLost"
    # A lone podIP (no podIPs) is what the v1 -> internal conversion turns into podIPs[0].
    assert cell("pods", "IP", {"status": {"podIP": "10.0.0.7"}}, NOW) == "10.0.0.7"


# --- workloads ---------------------------------------------------------------------------------

TWO_CONTAINERS = {
    "spec": {
        "containers": [
            {"name": "fake-container1", "image": "fake-image1"},
            {"name": "fake-container2", "image": "fake-image2"},
        ]
    }
}
JOB_CONTAINERS = {
    "spec": {
        "containers": [
            {"name": "fake-job-container1", "image": "fake-job-image1"},
            {"name": "fake-job-container2", "image": "fake-job-image2"},
        ]
    }
}
FOO_BAR = {"matchLabels": {"foo": "bar"}}
DEPLOYMENT = {
    "metadata": meta("test1", SOON),
    "spec": {"replicas": 5, "template": TWO_CONTAINERS, "selector": FOO_BAR},
    "status": {
        "replicas": 10,
        "updatedReplicas": 2,
        "availableReplicas": 1,
        "unavailableReplicas": 4,
    },
}
DAEMON_SET = {
    "metadata": meta("test1", SOON),
    "spec": {"template": TWO_CONTAINERS, "selector": FOO_BAR},
    "status": {
        "currentNumberScheduled": 2,
        "desiredNumberScheduled": 3,
        "numberReady": 1,
        "updatedNumberScheduled": 2,
        "numberAvailable": 0,
    },
}
REPLICA_SET = {
    "metadata": meta("test1", SOON),
    "spec": {"replicas": 5, "template": TWO_CONTAINERS, "selector": FOO_BAR},
    "status": {"replicas": 5, "readyReplicas": 2},
}
STATEFUL_SET = {
    "metadata": meta("test1", SOON),
    "spec": {"replicas": 5, "template": TWO_CONTAINERS},
    "status": {"replicas": 5, "readyReplicas": 2},
}


def job(name: str, created: str, status: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {"metadata": meta(name, created, **extra), "spec": {}, "status": status}


def job_condition(kind: str) -> dict[str, Any]:
    return {"succeeded": 0, "conditions": [{"type": kind, "status": "True"}]}


JOB1 = {
    "metadata": meta("job1", SOON),
    "spec": {
        "completions": 2,
        "template": JOB_CONTAINERS,
        "selector": {"matchLabels": {"job-label": "job-label-value"}},
    },
    "status": {"succeeded": 1},
}


def cronjob(name: str, created: str, **spec: Any) -> dict[str, Any]:
    status = {"lastScheduleTime": spec.pop("last")} if "last" in spec else {}
    body = {"schedule": "0/5 * * * ?", "suspend": False, **spec}
    return {"metadata": meta(name, created), "spec": body, "status": status}


CRON_TEMPLATE = {
    "spec": {"completions": 2, "template": JOB_CONTAINERS, "selector": {"matchLabels": {"a": "b"}}}
}


def revision(name: str, number: int, owners: list[dict[str, Any]] | None) -> dict[str, Any]:
    metadata = meta(name, SOON)
    if owners is not None:
        metadata["ownerReferences"] = owners
    return {"metadata": metadata, "revision": number}


def hpa(
    metrics: list[dict[str, Any]] | None = None,
    current: list[dict[str, Any]] | None = None,
    min_replicas: int | None = 2,
) -> dict[str, Any]:
    spec: dict[str, Any] = {
        "scaleTargetRef": {"name": "some-rc", "kind": "ReplicationController"},
        "maxReplicas": 10,
    }
    if min_replicas is not None:
        spec["minReplicas"] = min_replicas
    if metrics is not None:
        spec["metrics"] = metrics
    status: dict[str, Any] = {"currentReplicas": 4, "desiredReplicas": 5}
    if current is not None:
        status["currentMetrics"] = current
    return {"metadata": {"name": "some-hpa"}, "spec": spec, "status": status}


SELECTOR = {"matchLabels": {"label": "value"}}
EXTERNAL_AVG = {
    "type": "External",
    "external": {
        "metric": {"name": "some-external-metric", "selector": SELECTOR},
        "target": {"type": "AverageValue", "averageValue": "100m"},
    },
}
EXTERNAL_VALUE = {
    "type": "External",
    "external": {
        "metric": {"name": "some-external-metric", "selector": SELECTOR},
        "target": {"type": "Value", "value": "100m"},
    },
}
PODS_METRIC = {
    "type": "Pods",
    "pods": {
        "metric": {"name": "some-pods-metric"},
        "target": {"type": "AverageValue", "averageValue": "100m"},
    },
}
OBJECT_METRIC = {
    "type": "Object",
    "object": {
        "describedObject": {"name": "some-service", "kind": "Service"},
        "metric": {"name": "some-service-metric"},
        "target": {"type": "Value", "value": "100m"},
    },
}
CPU_VALUE = {
    "type": "Resource",
    "resource": {"name": "cpu", "target": {"type": "AverageValue", "averageValue": "100m"}},
}
CPU_UTIL = {
    "type": "Resource",
    "resource": {"name": "cpu", "target": {"type": "Utilization", "averageUtilization": 80}},
}
CONTAINER_CPU_VALUE = {
    "type": "ContainerResource",
    "containerResource": {
        "name": "cpu",
        "container": "application",
        "target": {"type": "AverageValue", "averageValue": "100m"},
    },
}
CONTAINER_CPU_UTIL = {
    "type": "ContainerResource",
    "containerResource": {
        "name": "cpu",
        "container": "application",
        "target": {"type": "Utilization", "averageUtilization": 80},
    },
}
CPU_NOW = {
    "type": "Resource",
    "resource": {"name": "cpu", "current": {"averageUtilization": 50, "averageValue": "40m"}},
}


def hpa_row(targets: str, min_pods: str = "2") -> list[Any]:
    return ["some-hpa", "ReplicationController/some-rc", targets, min_pods, 10, 4, "<unknown>"]


def pdb(name: str, spec: dict[str, Any], allowed: int) -> dict[str, Any]:
    return {
        "metadata": meta(name, SOON, namespace="ns1"),
        "spec": spec,
        "status": {"disruptionsAllowed": allowed},
    }


WORKLOAD_CASES = [
    # TestPrintDeployment
    ("deployments", DEPLOYMENT, False, ["test1", "0/5", 2, 1, "0s"]),
    (
        "deployments",
        DEPLOYMENT,
        True,
        [
            "test1",
            "0/5",
            2,
            1,
            "0s",
            "fake-container1,fake-container2",
            "fake-image1,fake-image2",
            "foo=bar",
        ],
    ),
    # TestPrintDaemonSet
    ("daemonsets", DAEMON_SET, False, ["test1", 3, 2, 1, 2, 0, "<none>", "0s"]),
    (
        "daemonsets",
        DAEMON_SET,
        True,
        [
            "test1",
            3,
            2,
            1,
            2,
            0,
            "<none>",
            "0s",
            "fake-container1,fake-container2",
            "fake-image1,fake-image2",
            "foo=bar",
        ],
    ),
    # TestPrintReplicaSet
    ("replicasets", REPLICA_SET, False, ["test1", 5, 5, 2, "0s"]),
    (
        "replicasets",
        REPLICA_SET,
        True,
        [
            "test1",
            5,
            5,
            2,
            "0s",
            "fake-container1,fake-container2",
            "fake-image1,fake-image2",
            "foo=bar",
        ],
    ),
    # TestPrintStatefulSet
    ("statefulsets", STATEFUL_SET, False, ["test1", "2/5", "0s"]),
    (
        "statefulsets",
        STATEFUL_SET,
        True,
        ["test1", "2/5", "0s", "fake-container1,fake-container2", "fake-image1,fake-image2"],
    ),
    # TestPrintJob
    ("jobs", JOB1, False, ["job1", "Running", "1/2", "", "0s"]),
    (
        "jobs",
        JOB1,
        True,
        [
            "job1",
            "Running",
            "1/2",
            "",
            "0s",
            "fake-job-container1,fake-job-container2",
            "fake-job-image1,fake-job-image2",
            "job-label=job-label-value",
        ],
    ),
    (
        "jobs",
        job("job2", ts(-10 * YEAR), {"succeeded": 0}),
        False,
        ["job2", "Running", "0/1", "", "10y"],
    ),
    (
        "jobs",
        job("job3", ts(-10 * YEAR), {"startTime": ts(MIN), "completionTime": ts(31 * MIN)}),
        False,
        ["job3", "Running", "0/1", "30m", "10y"],
    ),
    (
        "jobs",
        job("job4", ts(-10 * YEAR), {"startTime": ts(-20 * MIN)}),
        False,
        ["job4", "Running", "0/1", "20m", "10y"],
    ),
    (
        "jobs",
        job("job5", SOON, job_condition("Complete")),
        False,
        ["job5", "Complete", "0/1", "", "0s"],
    ),
    (
        "jobs",
        job("job6", SOON, job_condition("Failed")),
        False,
        ["job6", "Failed", "0/1", "", "0s"],
    ),
    (
        "jobs",
        job("job7", SOON, job_condition("Suspended")),
        False,
        ["job7", "Suspended", "0/1", "", "0s"],
    ),
    (
        "jobs",
        job("job8", SOON, job_condition("FailureTarget")),
        False,
        ["job8", "FailureTarget", "0/1", "", "0s"],
    ),
    (
        "jobs",
        job("job9", SOON, {}, deletionTimestamp=SOON),
        False,
        ["job9", "Terminating", "0/1", "", "0s"],
    ),
    # TestPrintJobList
    (
        "jobs",
        {
            **JOB1,
            "metadata": meta("job2", SOON),
            "status": {"succeeded": 2, "startTime": ts(-20 * MIN)},
        },
        False,
        ["job2", "Running", "2/2", "20m", "0s"],
    ),
    # TestPrintCronJob
    (
        "cronjobs",
        cronjob("cronjob1", SOON, jobTemplate=CRON_TEMPLATE, last=SOON),
        False,
        ["cronjob1", "0/5 * * * ?", "<none>", "False", 0, "0s", "0s"],
    ),
    (
        "cronjobs",
        cronjob("cronjob1", SOON, timeZone="LOCAL", jobTemplate=CRON_TEMPLATE, last=SOON),
        False,
        ["cronjob1", "0/5 * * * ?", "LOCAL", "False", 0, "0s", "0s"],
    ),
    (
        "cronjobs",
        cronjob("cronjob1", SOON, jobTemplate=CRON_TEMPLATE, last=SOON),
        True,
        [
            "cronjob1",
            "0/5 * * * ?",
            "<none>",
            "False",
            0,
            "0s",
            "0s",
            "fake-job-container1,fake-job-container2",
            "fake-job-image1,fake-job-image2",
            "a=b",
        ],
    ),
    (
        "cronjobs",
        cronjob("cronjob2", ts(-300), last=ts(-30)),
        False,
        ["cronjob2", "0/5 * * * ?", "<none>", "False", 0, "30s", "5m"],
    ),
    (
        "cronjobs",
        cronjob("cronjob3", ts(-300)),
        False,
        ["cronjob3", "0/5 * * * ?", "<none>", "False", 0, "<none>", "5m"],
    ),
    # TestPrintControllerRevision
    (
        "controllerrevisions",
        revision(
            "test1",
            1,
            [{"controller": True, "apiVersion": "apps/v1", "kind": "DaemonSet", "name": "foo"}],
        ),
        False,
        ["test1", "daemonset.apps/foo", 1, "0s"],
    ),
    (
        "controllerrevisions",
        revision("test2", 2, [{"controller": False, "kind": "ABC", "name": "foo"}]),
        False,
        ["test2", "<none>", 2, "0s"],
    ),
    ("controllerrevisions", revision("test3", 3, []), False, ["test3", "<none>", 3, "0s"]),
    ("controllerrevisions", revision("test4", 4, None), False, ["test4", "<none>", 4, "0s"]),
    # TestPrintHPA
    ("horizontalpodautoscalers", hpa(min_replicas=None), False, hpa_row("<none>", "<unset>")),
    ("horizontalpodautoscalers", hpa([EXTERNAL_AVG]), False, hpa_row("<unknown>/100m (avg)")),
    (
        "horizontalpodautoscalers",
        hpa(
            [EXTERNAL_AVG], [{"type": "External", "external": {"current": {"averageValue": "50m"}}}]
        ),
        False,
        hpa_row("50m/100m (avg)"),
    ),
    ("horizontalpodautoscalers", hpa([EXTERNAL_VALUE]), False, hpa_row("<unknown>/100m")),
    (
        "horizontalpodautoscalers",
        hpa([EXTERNAL_VALUE], [{"type": "External", "external": {"current": {"value": "50m"}}}]),
        False,
        hpa_row("50m/100m"),
    ),
    ("horizontalpodautoscalers", hpa([PODS_METRIC]), False, hpa_row("<unknown>/100m")),
    (
        "horizontalpodautoscalers",
        hpa([PODS_METRIC], [{"type": "Pods", "pods": {"current": {"averageValue": "50m"}}}]),
        False,
        hpa_row("50m/100m"),
    ),
    ("horizontalpodautoscalers", hpa([OBJECT_METRIC]), False, hpa_row("<unknown>/100m")),
    (
        "horizontalpodautoscalers",
        hpa([OBJECT_METRIC], [{"type": "Object", "object": {"current": {"value": "50m"}}}]),
        False,
        hpa_row("50m/100m"),
    ),
    ("horizontalpodautoscalers", hpa([CPU_VALUE]), False, hpa_row("cpu: <unknown>/100m")),
    (
        "horizontalpodautoscalers",
        hpa(
            [CPU_VALUE],
            [{"type": "Resource", "resource": {"name": "cpu", "current": {"averageValue": "50m"}}}],
        ),
        False,
        hpa_row("cpu: 50m/100m"),
    ),
    ("horizontalpodautoscalers", hpa([CPU_UTIL]), False, hpa_row("cpu: <unknown>/80%")),
    ("horizontalpodautoscalers", hpa([CPU_UTIL], [CPU_NOW]), False, hpa_row("cpu: 50%/80%")),
    ("horizontalpodautoscalers", hpa([CONTAINER_CPU_VALUE]), False, hpa_row("cpu: <unknown>/100m")),
    (
        "horizontalpodautoscalers",
        hpa(
            [CONTAINER_CPU_VALUE],
            [
                {
                    "type": "ContainerResource",
                    "containerResource": {"name": "cpu", "current": {"averageValue": "50m"}},
                }
            ],
        ),
        False,
        hpa_row("cpu: 50m/100m"),
    ),
    ("horizontalpodautoscalers", hpa([CONTAINER_CPU_UTIL]), False, hpa_row("cpu: <unknown>/80%")),
    (
        "horizontalpodautoscalers",
        hpa(
            [CONTAINER_CPU_UTIL],
            [{"type": "ContainerResource", "containerResource": CPU_NOW["resource"]}],
        ),
        False,
        hpa_row("cpu: 50%/80%"),
    ),
    (
        "horizontalpodautoscalers",
        hpa(
            [
                PODS_METRIC,
                CPU_UTIL,
                {
                    "type": "Pods",
                    "pods": {
                        "metric": {"name": "other-pods-metric"},
                        "target": {"type": "AverageValue", "averageValue": "400m"},
                    },
                },
            ],
            [{"type": "Pods", "pods": {"current": {"averageValue": "50m"}}}, CPU_NOW],
        ),
        False,
        hpa_row("50m/100m, cpu: 50%/80% + 1 more..."),
    ),
    # TestPrintPodDisruptionBudget
    (
        "poddisruptionbudgets",
        pdb("pdb1", {"minAvailable": 22}, 5),
        False,
        ["pdb1", "22", "N/A", 5, "0s"],
    ),
    (
        "poddisruptionbudgets",
        pdb("pdb2", {"maxUnavailable": 11}, 5),
        False,
        ["pdb2", "N/A", "11", 5, "0s"],
    ),
]


@pytest.mark.parametrize(
    ("plural", "obj", "wide", "expected"),
    WORKLOAD_CASES,
    ids=[f"{c[0]}-{i}" for i, c in enumerate(WORKLOAD_CASES)],
)
def test_workloads(plural: str, obj: dict[str, Any], wide: bool, expected: list[Any]) -> None:
    check(plural, obj, expected, wide)


# --- services, nodes, events -------------------------------------------------------------------


def service(name: str, **spec: Any) -> dict[str, Any]:
    status = {"loadBalancer": {"ingress": spec.pop("ingress")}} if "ingress" in spec else {}
    return {"metadata": {"name": name}, "spec": spec, "status": status}


TCP_2233 = [{"protocol": "tcp", "port": 2233}]
TCP_8888 = [{"protocol": "tcp", "port": 8888}]
THREE_PORTS = [
    {"port": 80, "protocol": "TCP"},
    {"port": 8090, "protocol": "UDP"},
    {"port": 8000, "protocol": "TCP"},
]

SERVICE_CASES = [
    # TestPrintService
    (
        service(
            "test1",
            type="ClusterIP",
            ports=TCP_2233,
            clusterIPs=["10.9.8.7"],
            selector={"foo": "bar"},
        ),
        False,
        ["test1", "ClusterIP", "10.9.8.7", "<none>", "2233/tcp", "<unknown>"],
    ),
    (
        service(
            "test1",
            type="ClusterIP",
            ports=TCP_2233,
            clusterIPs=["10.9.8.7"],
            selector={"foo": "bar"},
        ),
        True,
        ["test1", "ClusterIP", "10.9.8.7", "<none>", "2233/tcp", "<unknown>", "foo=bar"],
    ),
    (
        service(
            "test2",
            type="NodePort",
            ports=[{"protocol": "tcp", "port": 8888, "nodePort": 9999}],
            clusterIPs=["10.9.8.7"],
        ),
        False,
        ["test2", "NodePort", "10.9.8.7", "<none>", "8888:9999/tcp", "<unknown>"],
    ),
    (
        service("test3", type="LoadBalancer", ports=TCP_8888, clusterIPs=["10.9.8.7"]),
        False,
        ["test3", "LoadBalancer", "10.9.8.7", "<pending>", "8888/tcp", "<unknown>"],
    ),
    (
        service(
            "test4",
            type="LoadBalancer",
            ports=TCP_8888,
            clusterIPs=["10.9.8.7"],
            externalIPs=["80.11.12.10"],
        ),
        False,
        ["test4", "LoadBalancer", "10.9.8.7", "80.11.12.10", "8888/tcp", "<unknown>"],
    ),
    (
        service(
            "test5",
            type="LoadBalancer",
            ports=TCP_8888,
            clusterIPs=["10.9.8.7"],
            externalIPs=["80.11.12.10"],
            ingress=[{"ip": "3.4.5.6", "hostname": "test.cluster.com"}],
        ),
        False,
        ["test5", "LoadBalancer", "10.9.8.7", "3.4.5.6,80.11.12.10", "8888/tcp", "<unknown>"],
    ),
    (
        service(
            "test6",
            type="LoadBalancer",
            ports=TCP_8888,
            clusterIPs=["10.9.8.7"],
            externalIPs=["80.11.12.10", "80.11.12.11"],
            ingress=[
                {"ip": "2.3.4.5", "hostname": "test.cluster.local"},
                {"ip": "3.4.5.6", "hostname": "test.cluster.com"},
            ],
        ),
        False,
        [
            "test6",
            "LoadBalancer",
            "10.9.8.7",
            "2.3.4.5,3.4.5.6,80.11.12.10,80.11.12.11",
            "8888/tcp",
            "<unknown>",
        ],
    ),
    (
        service("test7", type="ExternalName", externalName="my.database.example.com"),
        False,
        ["test7", "ExternalName", "<none>", "my.database.example.com", "<none>", "<unknown>"],
    ),
    # TestPrintServiceLoadBalancer (server-side tables are wide: the IP list is never clipped)
    (
        service(
            "service2",
            type="LoadBalancer",
            clusterIPs=["1.3.4.5"],
            ports=[
                *THREE_PORTS[:2],
                {"port": 8000, "protocol": "TCP"},
                {"port": 7777, "protocol": "SCTP"},
            ],
        ),
        False,
        [
            "service2",
            "LoadBalancer",
            "1.3.4.5",
            "<pending>",
            "80/TCP,8090/UDP,8000/TCP,7777/SCTP",
            "<unknown>",
        ],
    ),
    (
        service(
            "service4",
            type="LoadBalancer",
            clusterIPs=["1.5.6.7"],
            ports=THREE_PORTS,
            selector={"foo": "bar"},
            ingress=[
                {"ip": "2.3.4.5"},
                {"ip": "3.4.5.6"},
                {"ip": "5.6.7.8", "hostname": "host5678"},
            ],
        ),
        True,
        [
            "service4",
            "LoadBalancer",
            "1.5.6.7",
            "2.3.4.5,3.4.5.6,5.6.7.8",
            "80/TCP,8090/UDP,8000/TCP",
            "<unknown>",
            "foo=bar",
        ],
    ),
]


@pytest.mark.parametrize(("obj", "wide", "expected"), SERVICE_CASES)
def test_service(obj: dict[str, Any], wide: bool, expected: list[Any]) -> None:
    check("services", obj, expected, wide)


def node(name: str, **fields: Any) -> dict[str, Any]:
    metadata = meta(name, labels=fields.pop("labels")) if "labels" in fields else meta(name)
    spec = {"unschedulable": True} if fields.pop("unschedulable", False) else {}
    return {"metadata": metadata, "spec": spec, "status": fields}


READY = [{"type": "Ready", "status": "True"}]
NOT_READY = [{"type": "Ready", "status": "False"}]
INVALID = [{"type": "InvalidValue", "status": "True"}]


def node_row(name: str, status: str, roles: str = "<none>") -> list[Any]:
    return [name, status, roles, "<unknown>", ""]


def node_wide(name: str, internal: str, external: str, *info: str) -> list[Any]:
    return [*node_row(name, "Unknown"), internal, external, *info]


NODE_CASES = [
    # TestPrintNodeStatus
    (node("foo1", conditions=READY), False, node_row("foo1", "Ready")),
    (
        node("foo2", conditions=READY, unschedulable=True),
        False,
        node_row("foo2", "Ready,SchedulingDisabled"),
    ),
    (node("foo3", conditions=READY + READY), False, node_row("foo3", "Ready")),
    (node("foo4", conditions=NOT_READY), False, node_row("foo4", "NotReady")),
    (
        node("foo5", conditions=NOT_READY, unschedulable=True),
        False,
        node_row("foo5", "NotReady,SchedulingDisabled"),
    ),
    (node("foo6", conditions=INVALID), False, node_row("foo6", "Unknown")),
    (node("foo7", conditions=[{}]), False, node_row("foo7", "Unknown")),
    (
        node("foo8", conditions=INVALID, unschedulable=True),
        False,
        node_row("foo8", "Unknown,SchedulingDisabled"),
    ),
    (
        node("foo9", conditions=[{}], unschedulable=True),
        False,
        node_row("foo9", "Unknown,SchedulingDisabled"),
    ),
    # TestPrintNodeRole
    (node("foo9"), False, node_row("foo9", "Unknown")),
    (
        node(
            "foo10",
            labels={
                "node-role.kubernetes.io/master": "",
                "node-role.kubernetes.io/control-plane": "",
                "node-role.kubernetes.io/proxy": "",
                "kubernetes.io/role": "node",
            },
        ),
        False,
        node_row("foo10", "Unknown", "control-plane,master,node,proxy"),
    ),
    (
        node("foo11", labels={"kubernetes.io/role": "node"}),
        False,
        node_row("foo11", "Unknown", "node"),
    ),
    # TestPrintNodeOSImage, TestPrintNodeKernelVersion, TestPrintNodeContainerRuntimeVersion
    (
        node(
            "foo1",
            nodeInfo={"osImage": "fake-os-image"},
            addresses=[{"type": "ExternalIP", "address": "1.1.1.1"}],
        ),
        True,
        node_wide("foo1", "<none>", "1.1.1.1", "fake-os-image", "<unknown>", "<unknown>"),
    ),
    (
        node(
            "foo2",
            nodeInfo={"kernelVersion": "fake-kernel-version"},
            addresses=[{"type": "ExternalIP", "address": "1.1.1.1"}],
        ),
        True,
        node_wide("foo2", "<none>", "1.1.1.1", "<unknown>", "fake-kernel-version", "<unknown>"),
    ),
    (
        node(
            "foo1",
            nodeInfo={"containerRuntimeVersion": "foo://1.2.3"},
            addresses=[{"type": "ExternalIP", "address": "1.1.1.1"}],
        ),
        True,
        node_wide("foo1", "<none>", "1.1.1.1", "<unknown>", "<unknown>", "foo://1.2.3"),
    ),
    # TestPrintNodeName
    (node("127.0.0.1"), False, node_row("127.0.0.1", "Unknown")),
    # TestPrintNodeExternalIP, TestPrintNodeInternalIP
    (
        node(
            "foo3",
            addresses=[
                {"type": "ExternalIP", "address": "2.2.2.2"},
                {"type": "InternalIP", "address": "3.3.3.3"},
                {"type": "ExternalIP", "address": "4.4.4.4"},
            ],
        ),
        True,
        node_wide("foo3", "3.3.3.3", "2.2.2.2", "<unknown>", "<unknown>", "<unknown>"),
    ),
    (
        node(
            "foo3",
            addresses=[
                {"type": "InternalIP", "address": "2.2.2.2"},
                {"type": "ExternalIP", "address": "3.3.3.3"},
                {"type": "InternalIP", "address": "4.4.4.4"},
            ],
        ),
        True,
        node_wide("foo3", "2.2.2.2", "3.3.3.3", "<unknown>", "<unknown>", "<unknown>"),
    ),
]


@pytest.mark.parametrize(("obj", "wide", "expected"), NODE_CASES)
def test_node(obj: dict[str, Any], wide: bool, expected: list[Any]) -> None:
    check("nodes", obj, expected, wide)


def event(name: str, kind: str = "Deployment", **fields: Any) -> dict[str, Any]:
    return {
        "metadata": {"name": name},
        "source": fields.pop("source", {"component": "kubelet", "host": "Node1"}),
        "involvedObject": {
            "kind": kind,
            "name": f"{kind} Name",
            "fieldPath": "spec.containers{foo}",
        },
        "reason": "Event Reason",
        "message": "Message Data",
        "type": "Warning",
        **fields,
    }


def event_row(last: str, name: str, count: int, source: str = "kubelet, Node1") -> list[Any]:
    return [
        last,
        "Warning",
        "Event Reason",
        "deployment/Deployment Name",
        "spec.containers{foo}",
        source,
        "Message Data",
        "3d",
        count,
        name,
    ]


EVENT_CASES = [
    # TestPrintEvent
    (
        event(
            "event1",
            "Pod",
            source={"component": "kubelet"},
            firstTimestamp=ts(-3 * DAY),
            lastTimestamp=ts(-2 * DAY),
            count=6,
            type="Normal",
        ),
        False,
        ["2d", "Normal", "Event Reason", "pod/Pod Name", "Message Data"],
    ),
    (
        event("event2", firstTimestamp=ts(-3 * DAY), lastTimestamp=ts(-2 * DAY), count=6),
        True,
        event_row("2d", "event2", 6),
    ),
    (
        event("event3", eventTime=ts(-3 * DAY), lastTimestamp=ts(-3 * DAY), count=1),
        True,
        event_row("3d", "event3", 1),
    ),
    (
        event("event4", eventTime=ts(-3 * DAY), firstTimestamp=ts(-3 * DAY), count=1),
        True,
        event_row("3d", "event4", 1),
    ),
    (event("event5", eventTime=ts(-3 * DAY), count=1), True, event_row("3d", "event5", 1)),
    (
        event(
            "event6",
            series={"count": 2, "lastObservedTime": ts(-2 * DAY)},
            eventTime=ts(-3 * DAY),
        ),
        True,
        event_row("2d", "event6", 2),
    ),
    (event("event7", eventTime=ts(-3 * DAY)), True, event_row("3d", "event7", 1)),
    (
        event(
            "event2",
            source={},
            reportingComponent="kubelet",
            reportingInstance="test",
            firstTimestamp=ts(-3 * DAY),
            lastTimestamp=ts(-2 * DAY),
            count=6,
        ),
        True,
        event_row("2d", "event2", 6, "kubelet, test"),
    ),
]


@pytest.mark.parametrize(("obj", "wide", "expected"), EVENT_CASES)
def test_event(obj: dict[str, Any], wide: bool, expected: list[Any]) -> None:
    check("events", obj, expected, wide)


# --- the other kinds ---------------------------------------------------------------------------

CLAIM = {"name": "test", "namespace": "default"}


def pv(name: str, phase: str, modes: list[str], size: str, **spec: Any) -> dict[str, Any]:
    body = {"claimRef": CLAIM, "accessModes": modes, "capacity": {"storage": size}, **spec}
    return {"metadata": {"name": name}, "spec": body, "status": {"phase": phase}}


def pvc(name: str, phase: str, modes: list[str], size: str, **spec: Any) -> dict[str, Any]:
    status = {"phase": phase, "accessModes": modes, "capacity": {"storage": size}}
    return {"metadata": {"name": name}, "spec": spec, "status": status}


def binding(name: str, subjects: list[dict[str, Any]], role: str) -> dict[str, Any]:
    return {
        "metadata": meta(name, SOON),
        "subjects": subjects,
        "roleRef": {"kind": "Role", "name": role},
    }


SUBJECTS = [
    {"kind": "User", "name": "user-name"},
    {"kind": "Group", "name": "group-name"},
    {
        "kind": "ServiceAccount",
        "name": "service-account-name",
        "namespace": "service-account-namespace",
    },
]
CONTROLLER_MANAGER = [{"kind": "User", "name": "system:kube-controller-manager"}]


def addresses(*ips: str) -> list[dict[str, Any]]:
    return [{"ip": ip} for ip in ips]


def slice_ports(*ports: tuple[str, int]) -> list[dict[str, Any]]:
    return [{"name": n, "port": p, "protocol": "TCP"} for n, p in ports]


TWO_ENDPOINTS = [
    {"addresses": ["10.1.2.3", "2001:db8::1234:5678"]},
    {"addresses": ["10.2.3.4", "2001:db8::2345:6789"]},
]

OTHER_CASES = [
    # TestPrintNamespace
    (
        "namespaces",
        {"metadata": meta("namespace1", SOON), "status": {"phase": "FooStatus"}},
        False,
        ["namespace1", "FooStatus", "0s"],
    ),
    ("namespaces", {"metadata": {"name": "namespace2"}}, False, ["namespace2", "", "<unknown>"]),
    # TestPrintSecret
    (
        "secrets",
        {
            "metadata": meta("secret1", SOON),
            "type": "kubernetes.io/service-account-token",
            "data": {"token": "c2VjcmV0IGRhdGE="},
        },
        False,
        ["secret1", "kubernetes.io/service-account-token", 1, "0s"],
    ),
    (
        "secrets",
        {"metadata": meta("secret1", SOON), "type": "kubernetes.io/service-account-token"},
        False,
        ["secret1", "kubernetes.io/service-account-token", 0, "0s"],
    ),
    # TestPrintServiceAccount
    ("serviceaccounts", {"metadata": meta("sa1", SOON), "secrets": []}, False, ["sa1", 0, "0s"]),
    (
        "serviceaccounts",
        {"metadata": meta("sa1", SOON), "secrets": [{"name": "Secret1"}, {"name": "Secret2"}]},
        False,
        ["sa1", 2, "0s"],
    ),
    # TestPrintConfigMap
    ("configmaps", {"metadata": meta("configmap1", SOON)}, False, ["configmap1", 0, "0s"]),
    (
        "configmaps",
        {"metadata": meta("configmap2", SOON), "data": {"foo": "bar"}},
        False,
        ["configmap2", 1, "0s"],
    ),
    (
        "configmaps",
        {
            "metadata": meta("configmap3", SOON),
            "data": {"foo": "bar"},
            "binaryData": {"bin": "YmluYXJ5IGRhdGE="},
        },
        False,
        ["configmap3", 2, "0s"],
    ),
    # TestPrintPersistentVolume
    (
        "persistentvolumes",
        pv("test1", "Bound", ["ReadOnlyMany"], "4Gi"),
        True,
        [
            "test1",
            "4Gi",
            "ROX",
            "",
            "Bound",
            "default/test",
            "",
            "<unset>",
            "",
            "<unknown>",
            "<unset>",
        ],
    ),
    (
        "persistentvolumes",
        pv("test3", "Pending", ["ReadWriteMany"], "10Gi"),
        True,
        [
            "test3",
            "10Gi",
            "RWX",
            "",
            "Pending",
            "default/test",
            "",
            "<unset>",
            "",
            "<unknown>",
            "<unset>",
        ],
    ),
    (
        "persistentvolumes",
        pv(
            "test4",
            "Pending",
            ["ReadWriteOnce"],
            "10Gi",
            storageClassName="my-scn",
            volumeAttributesClassName="my-vacn",
        ),
        True,
        [
            "test4",
            "10Gi",
            "RWO",
            "",
            "Pending",
            "default/test",
            "my-scn",
            "my-vacn",
            "",
            "<unknown>",
            "<unset>",
        ],
    ),
    (
        "persistentvolumes",
        pv("test6", "Released", ["ReadWriteOnce"], "10Gi", storageClassName="my-scn"),
        True,
        [
            "test6",
            "10Gi",
            "RWO",
            "",
            "Released",
            "default/test",
            "my-scn",
            "<unset>",
            "",
            "<unknown>",
            "<unset>",
        ],
    ),
    # TestPrintPersistentVolumeClaim
    (
        "persistentvolumeclaims",
        pvc(
            "test1",
            "Bound",
            ["ReadOnlyMany"],
            "4Gi",
            volumeName="my-volume",
            volumeMode="Filesystem",
        ),
        True,
        ["test1", "Bound", "my-volume", "4Gi", "ROX", "", "<unset>", "<unknown>", "Filesystem"],
    ),
    (
        "persistentvolumeclaims",
        pvc("test2", "Lost", ["ReadOnlyMany"], "4Gi", volumeMode="Filesystem"),
        True,
        ["test2", "Lost", "", "", "", "", "<unset>", "<unknown>", "Filesystem"],
    ),
    (
        "persistentvolumeclaims",
        pvc(
            "test5",
            "Pending",
            ["ReadWriteOnce"],
            "10Gi",
            volumeName="my-volume",
            storageClassName="my-scn",
            volumeAttributesClassName="my-vacn",
        ),
        True,
        [
            "test5",
            "Pending",
            "my-volume",
            "10Gi",
            "RWO",
            "my-scn",
            "my-vacn",
            "<unknown>",
            "<unset>",
        ],
    ),
    # TestPrintLease
    (
        "leases",
        {"metadata": meta("lease1", SOON), "spec": {"holderIdentity": "holder1"}},
        False,
        ["lease1", "holder1", "0s"],
    ),
    (
        "leases",
        {"metadata": meta("lease2", ts(-300)), "spec": {"holderIdentity": "holder2"}},
        False,
        ["lease2", "holder2", "5m"],
    ),
    # TestPrintPriorityClass (wide: server-side tables always carry PreemptionPolicy)
    (
        "priorityclasses",
        {
            "metadata": meta("pc2", ts(-300)),
            "value": 1000000000,
            "globalDefault": True,
            "preemptionPolicy": "PreemptLowerPriority",
        },
        True,
        ["pc2", 1000000000, True, "5m", "PreemptLowerPriority"],
    ),
    (
        "priorityclasses",
        {"metadata": meta("pc2", ts(-300)), "value": 1000000000, "globalDefault": True},
        True,
        ["pc2", 1000000000, True, "5m", ""],
    ),
    (
        "priorityclasses",
        {"metadata": meta("pc1", SOON), "value": 1, "preemptionPolicy": "Never"},
        True,
        ["pc1", 1, False, "0s", "Never"],
    ),
    # TestPrintRuntimeClass
    (
        "runtimeclasses",
        {"metadata": meta("rc1", SOON), "handler": "h1"},
        False,
        ["rc1", "h1", "0s"],
    ),
    (
        "runtimeclasses",
        {"metadata": meta("rc2", ts(-300)), "handler": "h2"},
        False,
        ["rc2", "h2", "5m"],
    ),
    # TestPrintEndpoint
    ("endpoints", {"metadata": meta("endpoint1", SOON)}, False, ["endpoint1", "<none>", "0s"]),
    (
        "endpoints",
        {
            "metadata": meta("endpoint3", ts(-300)),
            "subsets": [{"addresses": addresses("1.2.3.4", "5.6.7.8")}],
        },
        False,
        ["endpoint3", "1.2.3.4,5.6.7.8", "5m"],
    ),
    (
        "endpoints",
        {
            "metadata": meta("endpoint2", SOON),
            "subsets": [
                {
                    "addresses": addresses("1.2.3.4", "5.6.7.8"),
                    "ports": [{"port": 8001, "protocol": "tcp"}],
                }
            ],
        },
        False,
        ["endpoint2", "1.2.3.4:8001,5.6.7.8:8001", "0s"],
    ),
    (
        "endpoints",
        {
            "metadata": meta("endpoint2", SOON),
            "subsets": [
                {
                    "addresses": addresses("1.2.3.4", "5.6.7.8", "9.8.7.6", "6.6.6.6"),
                    "ports": [{"port": 8001, "protocol": "tcp"}],
                }
            ],
        },
        False,
        ["endpoint2", "1.2.3.4:8001,5.6.7.8:8001,9.8.7.6:8001 + 1 more...", "0s"],
    ),
    # TestPrintEndpointSlice
    (
        "endpointslices",
        {
            "metadata": meta("abcslice.123", SOON),
            "addressType": "IPv4",
            "ports": slice_ports(("http", 80)),
            "endpoints": [{"addresses": ["10.1.2.3", "2001:db8::1234:5678"]}],
        },
        False,
        ["abcslice.123", "IPv4", "80", "10.1.2.3,2001:db8::1234:5678", "0s"],
    ),
    (
        "endpointslices",
        {
            "metadata": meta("longerslicename.123", ts(-300)),
            "addressType": "IPv6",
            "ports": slice_ports(("http", 80), ("https", 443)),
            "endpoints": TWO_ENDPOINTS,
        },
        False,
        [
            "longerslicename.123",
            "IPv6",
            "80,443",
            "10.1.2.3,2001:db8::1234:5678,10.2.3.4 + 1 more...",
            "5m",
        ],
    ),
    (
        "endpointslices",
        {
            "metadata": meta("multiportslice.123", ts(-300)),
            "addressType": "IPv4",
            "ports": slice_ports(("http", 80), ("https", 443), ("extra1", 3000), ("extra2", 3001)),
            "endpoints": TWO_ENDPOINTS,
        },
        False,
        [
            "multiportslice.123",
            "IPv4",
            "80,443,3000 + 1 more...",
            "10.1.2.3,2001:db8::1234:5678,10.2.3.4 + 1 more...",
            "5m",
        ],
    ),
    # TestPrintRoleBinding, TestPrintClusterRoleBinding
    (
        "rolebindings",
        binding("binding1", CONTROLLER_MANAGER, "extension-apiserver-authentication-reader"),
        False,
        ["binding1", "Role/extension-apiserver-authentication-reader", "0s"],
    ),
    (
        "rolebindings",
        binding("binding2", SUBJECTS, "role-name"),
        True,
        [
            "binding2",
            "Role/role-name",
            "0s",
            "user-name",
            "group-name",
            "service-account-namespace/service-account-name",
        ],
    ),
    (
        "clusterrolebindings",
        binding("binding2", SUBJECTS, "role-name"),
        True,
        [
            "binding2",
            "Role/role-name",
            "0s",
            "user-name",
            "group-name",
            "service-account-namespace/service-account-name",
        ],
    ),
]


@pytest.mark.parametrize(
    ("plural", "obj", "wide", "expected"),
    OTHER_CASES,
    ids=[f"{c[0]}-{i}" for i, c in enumerate(OTHER_CASES)],
)
def test_other_kinds(plural: str, obj: dict[str, Any], wide: bool, expected: list[Any]) -> None:
    check(plural, obj, expected, wide)


def test_resource_quota() -> None:
    """printResourceQuota: sorted ``name: used/hard``, ``limits.*`` in the Limit column."""
    quota = {
        "metadata": meta("q", ts(-300)),
        "status": {
            "hard": {"pods": "10", "requests.cpu": "1", "limits.memory": "2Gi", "limits.cpu": "2"},
            "used": {"pods": "3", "requests.cpu": "500m", "limits.cpu": "1000m"},
        },
    }
    assert row("resourcequotas", quota) == [
        "q",
        "pods: 3/10, requests.cpu: 500m/1",
        "limits.cpu: 1/2, limits.memory: 0/2Gi",
        "5m",
    ]


# --- generic columns and the durations ---------------------------------------------------------


@pytest.mark.parametrize(
    ("offset", "expected"),
    [
        # TestTranslateTimestampSince
        (2.1, "<invalid>"),
        (1.9, "0s"),
        (0, "0s"),
        (-30, "30s"),
        (-300, "5m"),
        (-6000, "100m"),
        (-2 * DAY, "2d"),
        (-90 * DAY, "90d"),
        (-10 * YEAR, "10y"),
    ],
)
def test_age_is_human_duration(offset: float, expected: str) -> None:
    assert age(ts(offset), NOW) == expected
    assert cell("configmaps", "Age", {"metadata": meta("c", ts(offset))}, NOW) == expected


def test_generic_columns() -> None:
    obj = {"metadata": meta("r", "2024-04-30T08:15:00+02:00")}
    assert cell("roles", "Name", obj, NOW) == "r"
    # The default table convertor: RFC 3339 in UTC; the zero time when unset.
    assert cell("roles", "Created At", obj, NOW) == "2024-04-30T06:15:00Z"
    assert cell("roles", "Created At", {"metadata": {}}, NOW) == "0001-01-01T00:00:00Z"
    assert cell("roles", "Age", {"metadata": {}}, NOW) == "<unknown>"
    assert cell("pods", "No Such Column", obj, NOW) == "<unknown>"


def test_table_uses_the_printers() -> None:
    pods = by_plural("", "v1", "pods")
    assert pods is not None
    obj = pod("web-1", {"phase": "Running", "containerStatuses": TWO_RUNNING}, containers=2)
    rendered = table(pods, [obj], include_object="None")
    assert rendered["rows"] == [
        {
            "cells": [
                "web-1",
                "1/2",
                "Running",
                "6",
                "<unknown>",
                "<none>",
                "<none>",
                "<none>",
                "<none>",
            ]
        }
    ]
