"""kframe.runtime's messages, errors and helpers: filters, conditions, resources, timestamps."""

from __future__ import annotations

import datetime as dt

import attrs
import pytest

from kframe.runtime import (
    NETWORK_READY,
    RUNTIME_READY,
    AlreadyExistsError,
    Capabilities,
    Container,
    ContainerFilter,
    ContainerMetadata,
    ContainerStartError,
    ContainerState,
    CRIError,
    ImagePullError,
    ImageSpec,
    InvalidArgumentError,
    LinuxContainerResources,
    LinuxPodSandboxConfig,
    LinuxSandboxSecurityContext,
    NamespaceMode,
    NamespaceOption,
    NotFoundError,
    PodSandbox,
    PodSandboxConfig,
    PodSandboxFilter,
    PodSandboxMetadata,
    PodSandboxState,
    RuntimeCondition,
    RuntimeStatus,
    UnimplementedError,
    exit_reason,
    labels_match,
    wall_nanos,
)


class _Clock:
    def __init__(self, wall: dt.datetime) -> None:
        self._wall = wall

    def now(self) -> float:
        return 0.0

    def wall(self) -> dt.datetime:
        return self._wall

    async def sleep(self, seconds: float) -> None:
        return None


def test_errors_carry_grpc_codes_and_one_line_messages() -> None:
    cases: list[tuple[CRIError, str, str]] = [
        (NotFoundError("container", "c1"), "NotFound", "container 'c1' not found"),
        (
            AlreadyExistsError("pod sandbox", "ns/web", "s1"),
            "AlreadyExists",
            "pod sandbox 'ns/web' already exists as 's1'",
        ),
        (InvalidArgumentError("image is empty"), "InvalidArgument", "image is empty"),
        (
            UnimplementedError("mine", "Exec"),
            "Unimplemented",
            "runtime 'mine' does not implement Exec",
        ),
        (ImagePullError("nginx", "denied"), "Unknown", "failed to pull image 'nginx': denied"),
        (
            ContainerStartError("c1", "StartError", "no such file"),
            "Unknown",
            "failed to start container 'c1': StartError: no such file",
        ),
    ]
    for error, code, message in cases:
        assert error.code == code and str(error) == message and "\n" not in str(error)
    assert isinstance(NotFoundError("x", "y"), LookupError)
    assert isinstance(UnimplementedError("x", "y"), NotImplementedError)


def test_wall_nanos_is_nanoseconds_since_the_epoch() -> None:
    clock = _Clock(dt.datetime(2024, 1, 1, 0, 0, 1, 500, tzinfo=dt.UTC))
    assert wall_nanos(clock) == 1_704_067_201_000_500_000


def test_exit_reasons() -> None:
    assert exit_reason(0) == "Completed"
    assert exit_reason(1) == "Error" == exit_reason(137)


def test_label_selector_is_a_subset_match() -> None:
    assert labels_match({}, {"a": "1"})
    assert labels_match({"a": "1"}, {"a": "1", "b": "2"})
    assert not labels_match({"a": "1"}, {"a": "2"})
    assert not labels_match({"c": ""}, {"a": "1"})


def test_filters_and_every_field_must_match() -> None:
    meta = PodSandboxMetadata(name="web", namespace="ns", uid="u")
    sandbox = PodSandbox(
        id="s1", metadata=meta, state=PodSandboxState.READY, created_at=1, labels={"app": "web"}
    )
    assert PodSandboxFilter().matches(sandbox)
    assert PodSandboxFilter(id="s1", state=PodSandboxState.READY).matches(sandbox)
    assert not PodSandboxFilter(id="s1", state=PodSandboxState.NOTREADY).matches(sandbox)
    assert not PodSandboxFilter(label_selector={"app": "db"}).matches(sandbox)
    container = Container(
        id="c1",
        pod_sandbox_id="s1",
        metadata=ContainerMetadata(name="c"),
        image=ImageSpec(image="nginx"),
        image_ref="sha256:x",
        state=ContainerState.RUNNING,
        created_at=1,
        labels={"tier": "front"},
    )
    assert ContainerFilter(pod_sandbox_id="s1", state=ContainerState.RUNNING).matches(container)
    assert not ContainerFilter(pod_sandbox_id="s2").matches(container)
    assert not ContainerFilter(state=ContainerState.EXITED).matches(container)
    assert not ContainerFilter(id="c2").matches(container)


def test_runtime_status_is_ready_with_both_conditions() -> None:
    up = RuntimeCondition(type=RUNTIME_READY, status=True)
    net = RuntimeCondition(type=NETWORK_READY, status=True)
    assert RuntimeStatus(conditions=(up, net)).ready
    assert not RuntimeStatus(conditions=(up,)).ready
    assert not RuntimeStatus(conditions=(up, attrs.evolve(net, status=False))).ready
    assert RuntimeStatus(conditions=(up, net)).condition(NETWORK_READY) == net


@pytest.mark.parametrize(
    ("resources", "cores"),
    [
        (LinuxContainerResources(), 0.0),
        (LinuxContainerResources(cpu_shares=2), 0.0),
        (LinuxContainerResources(cpu_shares=512), 0.5),
        (LinuxContainerResources(cpu_shares=512, cpu_period=100_000, cpu_quota=200_000), 2.0),
    ],
)
def test_cpu_cores_prefers_the_limit(resources: LinuxContainerResources, cores: float) -> None:
    assert resources.cpu_cores == cores


def test_host_network_is_the_node_network_namespace() -> None:
    meta = PodSandboxMetadata(name="p")
    assert not PodSandboxConfig(metadata=meta).host_network
    node = LinuxSandboxSecurityContext(
        namespace_options=NamespaceOption(network=NamespaceMode.NODE)
    )
    linux = LinuxPodSandboxConfig(security_context=node)
    assert PodSandboxConfig(metadata=meta, linux=linux).host_network


def test_messages_are_frozen_and_capabilities_list_their_names() -> None:
    meta = PodSandboxMetadata(name="p")
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        meta.name = "q"  # type: ignore[misc]
    names = Capabilities(exec=False).names()
    assert names["exec"] is False and names["exec_sync"] is True
    assert set(names) == {
        "exec_sync",
        "exec",
        "attach",
        "logs",
        "stats",
        "update_resources",
        "reopen_log",
        "pod_network",
        "reachable_pod_ips",
    }
