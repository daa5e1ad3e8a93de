"""The cloud-provider interface: its errors, well-known names, public API and registration."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

import kframe.cloud as cloud
from kframe.api import from_dict
from kframe.api.models import Service
from kframe.cloud import (
    CloudProviderSpec,
    ImplementedElsewhere,
    InstanceNotFound,
    RetryError,
    default_load_balancer_name,
    open_cloud_provider,
    registered_cloud_providers,
)
from kframe.registry import UnknownNameError, build_registry, hookimpl

PUBLIC = {
    "CloudProvider",
    "InstancesV2",
    "LoadBalancer",
    "Routes",
    "Zones",
    "InstanceMetadata",
    "Route",
    "Zone",
    "CloudError",
    "ImplementedElsewhere",
    "InstanceNotFound",
    "NotImplementedByProvider",
    "RetryError",
    "CloudProviderFactory",
    "CloudProviderSpec",
    "CloudTestbed",
    "TestbedFactory",
    "as_provider_spec",
    "open_cloud_provider",
    "registered_cloud_providers",
    "ANNOTATION_PROVIDED_NODE_IP",
    "LABEL_EXCLUDE_FROM_EXTERNAL_LB",
    "LABEL_INSTANCE_TYPE",
    "LABEL_INSTANCE_TYPE_BETA",
    "LABEL_REGION",
    "LABEL_REGION_BETA",
    "LABEL_ZONE",
    "LABEL_ZONE_BETA",
    "LOAD_BALANCER_CLEANUP_FINALIZER",
    "TAINT_SHUTDOWN",
    "TAINT_TO_BE_DELETED",
    "TAINT_UNINITIALIZED",
    "default_load_balancer_name",
}


def test_public_api_is_pinned() -> None:
    assert set(cloud.__all__) == PUBLIC
    assert all(hasattr(cloud, name) for name in PUBLIC)


def test_the_controllers_and_the_suite_are_pinned_too() -> None:
    import kframe.cloud.controllers as controllers
    import kframe.testing.cloud as suite

    assert set(controllers.__all__) == {
        "CLOUD_NODE",
        "CLOUD_NODE_LIFECYCLE",
        "LEASE_NAME",
        "NODE_ROUTE",
        "SERVICE_LB",
        "CloudControllerManager",
        "cloud_controller_specs",
        "CloudNodeController",
        "CloudNodeLifecycleController",
        "RouteController",
        "ServiceController",
        "is_backend",
        "needs_cleanup",
        "node_addresses",
        "node_labels",
        "pod_cidrs",
        "wants_load_balancer",
    }
    assert set(suite.__all__) == {
        "CLUSTER_NAME",
        "CloudConformance",
        "installed_cloud_providers",
        "make_node",
        "make_service",
        "run_with_testbed",
    }


def test_upstream_messages_and_names() -> None:
    assert str(InstanceNotFound()) == "instance not found"
    assert str(ImplementedElsewhere()) == "implemented by alternate to cloud provider"
    assert cloud.TAINT_UNINITIALIZED == "node.cloudprovider.kubernetes.io/uninitialized"
    assert cloud.TAINT_SHUTDOWN == "node.cloudprovider.kubernetes.io/shutdown"
    assert cloud.LOAD_BALANCER_CLEANUP_FINALIZER == "service.kubernetes.io/load-balancer-cleanup"


def test_retry_error_carries_its_delay() -> None:
    err = RetryError("still provisioning", 7.5)
    assert (str(err), err.retry_after) == ("still provisioning", 7.5)
    assert RetryError("x", -3).retry_after == 0.0


def _service(uid: str) -> Service:
    return from_dict(
        {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "s", "uid": uid}}, Service
    )


def test_default_load_balancer_name_is_upstreams() -> None:
    svc = _service("8a1b4f2e-0c3d-4e5f-9a8b-7c6d5e4f3a2b")
    assert default_load_balancer_name(svc) == "a8a1b4f2e0c3d4e5f9a8b7c6d5e4f3a2"


@given(st.uuids())
def test_default_load_balancer_names_start_with_a_letter_and_fit_32(uid: object) -> None:
    name = default_load_balancer_name(_service(str(uid)))
    assert name[0] == "a" and len(name) <= 32 and "-" not in name


class _Plugin:
    @hookimpl
    def kframe_cloud_providers(self) -> dict[str, object]:
        return {"broken": lambda config: object(), "bare": _bare}


def _bare(config: Path | None) -> object:
    return _Bare(config)


class _Bare:
    def __init__(self, config: Path | None) -> None:
        self.config = config

    async def initialize(self, client: object) -> None: ...

    async def close(self) -> None: ...

    def provider_name(self) -> str:
        return "bare"

    def has_cluster_id(self) -> bool:
        return False

    def instances_v2(self) -> None:
        return None

    def load_balancer(self) -> None:
        return None

    def routes(self) -> None:
        return None

    def zones(self) -> None:
        return None


def test_providers_open_by_name_with_their_config(tmp_path: Path) -> None:
    registry = build_registry(entry_points=False, plugins=[("test", _Plugin())])
    specs = registered_cloud_providers(registry)
    assert set(specs) == {"broken", "bare"}
    assert all(isinstance(s, CloudProviderSpec) and s.testbed is None for s in specs.values())
    provider = open_cloud_provider("bare", tmp_path / "cloud.conf", registry=registry)
    assert isinstance(provider, _Bare) and provider.config == tmp_path / "cloud.conf"
    with pytest.raises(TypeError, match=r"not a kframe\.cloud\.CloudProvider"):
        open_cloud_provider("broken", registry=registry)
    with pytest.raises(UnknownNameError, match=r"available: bare, broken"):
        open_cloud_provider("nope", registry=registry)
