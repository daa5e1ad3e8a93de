"""API defaulting: the cases of upstream's ``pkg/apis/*/v*/defaults_test.go``, plus properties.

Each table case names the upstream test (and, where it has several, the case) it comes from;
cases citing a ``SetDefaults_*`` function check a rule upstream tests only indirectly.
"""

from __future__ import annotations

import copy
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kframe.api import from_dict, to_dict
from kframe.api.models import PodSpec
from kframe.apiserver import RESOURCES
from kframe.apiserver._defaults import DEFAULTERS, apply_defaults
from kframe.apiserver._defaults_core import pull_policy
from kframe.testing import objects

JSON = dict[str, Any]

_PODSPEC_DEFAULTS = {
    "dnsPolicy": "ClusterFirst",
    "restartPolicy": "Always",
    "securityContext": {},
    "terminationGracePeriodSeconds": 30,
    "schedulerName": "default-scheduler",
}
_RBAC = "rbac.authorization.k8s.io"


def defaulted(plural: str, obj: JSON) -> JSON:
    out = copy.deepcopy(obj)
    apply_defaults(plural, out)
    return out


def container(**fields: Any) -> JSON:
    return {"name": "c", "image": "busybox:1.36", **fields}


def pod(**spec: Any) -> JSON:
    return {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"}, "spec": spec}


def deployment_template(**spec: Any) -> JSON:
    return {"spec": {"template": {"metadata": {"labels": {"a": "b"}}, "spec": spec}}}


# -- core/v1: pods -------------------------------------------------------------------------------


def test_pod_defaults() -> None:
    """TestPodDefaults: every default a bare Pod's spec and containers get."""
    probe = {"httpGet": {"port": 80}}
    handler = {"httpGet": {"port": 80}}
    got = defaulted(
        "pods",
        pod(
            containers=[
                container(
                    ports=[{"containerPort": 80}],
                    env=[{"name": "IP", "valueFrom": {"fieldRef": {"fieldPath": "status.podIP"}}}],
                    livenessProbe=probe,
                    readinessProbe=probe,
                    startupProbe=probe,
                    lifecycle={"postStart": handler, "preStop": handler},
                )
            ]
        ),
    )
    spec = got["spec"]
    assert {k: spec[k] for k in _PODSPEC_DEFAULTS} == _PODSPEC_DEFAULTS
    assert spec["enableServiceLinks"] is True
    c = spec["containers"][0]
    assert c["imagePullPolicy"] == "IfNotPresent"
    assert c["terminationMessagePath"] == "/dev/termination-log"
    assert c["terminationMessagePolicy"] == "File"
    assert c["ports"] == [{"containerPort": 80, "protocol": "TCP"}]
    assert c["env"][0]["valueFrom"]["fieldRef"] == {"fieldPath": "status.podIP", "apiVersion": "v1"}
    for key in ("livenessProbe", "readinessProbe", "startupProbe"):
        assert c[key] == {
            "httpGet": {"port": 80, "path": "/", "scheme": "HTTP"},
            "timeoutSeconds": 1,
            "periodSeconds": 10,
            "successThreshold": 1,
            "failureThreshold": 3,
        }
    for key in ("postStart", "preStop"):
        assert c["lifecycle"][key] == {"httpGet": {"port": 80, "path": "/", "scheme": "HTTP"}}


def test_workload_defaults_leave_out_pod_only_ones() -> None:
    """TestWorkloadDefaults and TestDefaultRequestIsNotSetForReplicationController."""
    got = defaulted(
        "deployments",
        deployment_template(containers=[container(resources={"limits": {"cpu": "100m"}})]),
    )
    spec = got["spec"]["template"]["spec"]
    assert {k: spec[k] for k in _PODSPEC_DEFAULTS} == _PODSPEC_DEFAULTS
    assert "enableServiceLinks" not in spec
    assert spec["containers"][0]["resources"] == {"limits": {"cpu": "100m"}}


def test_pod_keeps_what_is_set() -> None:
    spec: JSON = {
        "dnsPolicy": "Default",
        "restartPolicy": "Never",
        "securityContext": {"runAsUser": 1},
        "terminationGracePeriodSeconds": 0,
        "schedulerName": "mine",
        "enableServiceLinks": False,
        "containers": [
            container(
                imagePullPolicy="Never",
                terminationMessagePath="/x",
                terminationMessagePolicy="FallbackToLogsOnError",
                ports=[{"containerPort": 53, "protocol": "UDP"}],
                readinessProbe={"exec": {"command": ["true"]}, "periodSeconds": 3},
            )
        ],
    }
    got = defaulted("pods", pod(**spec))
    assert got["spec"] == {
        **spec,
        "containers": [
            {
                **spec["containers"][0],
                "readinessProbe": {
                    "exec": {"command": ["true"]},
                    "periodSeconds": 3,
                    "timeoutSeconds": 1,
                    "successThreshold": 1,
                    "failureThreshold": 3,
                },
            }
        ],
    }


@pytest.mark.parametrize(
    ("image", "policy"),
    [
        ("busybox", "Always"),  # TestSetDefaultReplicationControllerInitContainers/imagePullIPolicy
        ("nginx:latest", "Always"),
        ("registry.k8s.io:5000/pause", "Always"),
        ("nginx:1.27", "IfNotPresent"),
        ("nginx@sha256:" + "a" * 64, "IfNotPresent"),
        ("nginx:latest@sha256:" + "a" * 64, "Always"),
        ("Not/A:Reference!", "IfNotPresent"),
        ("", "IfNotPresent"),
    ],
)
def test_image_pull_policy(image: str, policy: str) -> None:
    """SetDefaults_Container: Always for :latest (or no tag and no digest), else IfNotPresent."""
    assert pull_policy(image) == policy
    got = defaulted("deployments", deployment_template(initContainers=[container(image=image)]))
    assert got["spec"]["template"]["spec"]["initContainers"][0]["imagePullPolicy"] == policy


def test_ephemeral_containers_are_defaulted() -> None:
    """TestPodDefaults: .Spec.EphemeralContainers[0] gets the container defaults."""
    got = defaulted("pods", pod(ephemeralContainers=[container(image="debug", ports=[{}])]))
    eph = got["spec"]["ephemeralContainers"][0]
    assert eph["imagePullPolicy"] == "Always"
    assert eph["terminationMessagePolicy"] == "File"
    assert eph["ports"] == [{"protocol": "TCP"}]


def test_set_default_requests_pod() -> None:
    """TestSetDefaultRequestsPod: requests default to limits, an explicit request stays."""
    resources = {"requests": {"memory": "0"}, "limits": {"cpu": "100m", "memory": "1Gi"}}
    got = defaulted(
        "pods",
        pod(
            containers=[container(resources=resources)],
            initContainers=[container(resources=resources)],
        ),
    )
    for key in ("containers", "initContainers"):
        assert got["spec"][key][0]["resources"]["requests"] == {"memory": "0", "cpu": "100m"}
    got = defaulted("pods", pod(containers=[container()], initContainers=[container()]))
    assert "resources" not in got["spec"]["containers"][0]


def test_set_default_pod_spec_host_network() -> None:
    """TestSetDefaultPodSpecHostNetwork: with hostNetwork, hostPort defaults to containerPort."""
    ports = [{"containerPort": 8080}]
    got = defaulted(
        "pods",
        pod(
            hostNetwork=True,
            containers=[container(ports=ports)],
            initContainers=[container(ports=ports)],
        ),
    )
    for key in ("containers", "initContainers"):
        assert got["spec"][key][0]["ports"][0]["hostPort"] == 8080
    got = defaulted("pods", pod(containers=[container(ports=ports)]))
    assert "hostPort" not in got["spec"]["containers"][0]["ports"][0]


def test_set_default_probe() -> None:
    """TestSetDefaultProbe, and the generated GRPC service default."""
    got = defaulted("pods", pod(containers=[container(livenessProbe={"grpc": {"port": 9}})]))
    assert got["spec"]["containers"][0]["livenessProbe"] == {
        "grpc": {"port": 9, "service": ""},
        "timeoutSeconds": 1,
        "periodSeconds": 10,
        "successThreshold": 1,
        "failureThreshold": 3,
    }


@pytest.mark.parametrize(
    ("volume", "expected"),
    [
        # TestPodDefaults: .Spec.Volumes[0].VolumeSource.EmptyDir
        ({"name": "v"}, {"name": "v", "emptyDir": {}}),
        # TestSetDefaultSecretVolumeSource, ...ConfigMapVolumeSource, ...DownwardAPIVolumeSource
        ({"name": "v", "secret": {}}, {"name": "v", "secret": {"defaultMode": 420}}),
        ({"name": "v", "configMap": {}}, {"name": "v", "configMap": {"defaultMode": 420}}),
        (
            {
                "name": "v",
                "downwardAPI": {"items": [{"path": "p", "fieldRef": {"fieldPath": "x"}}]},
            },
            {
                "name": "v",
                "downwardAPI": {
                    "defaultMode": 420,
                    "items": [{"path": "p", "fieldRef": {"fieldPath": "x", "apiVersion": "v1"}}],
                },
            },
        ),
        # TestSetDefaultProjectedVolumeSource and TestPodDefaults' projected sources
        (
            {
                "name": "v",
                "projected": {
                    "sources": [
                        {"serviceAccountToken": {"path": "t"}},
                        {"downwardAPI": {"items": [{"path": "p", "fieldRef": {"fieldPath": "x"}}]}},
                    ]
                },
            },
            {
                "name": "v",
                "projected": {
                    "defaultMode": 420,
                    "sources": [
                        {"serviceAccountToken": {"path": "t", "expirationSeconds": 3600}},
                        {
                            "downwardAPI": {
                                "items": [
                                    {
                                        "path": "p",
                                        "fieldRef": {"fieldPath": "x", "apiVersion": "v1"},
                                    }
                                ]
                            }
                        },
                    ],
                },
            },
        ),
        # TestSetDefaultHostPathVolumeSource
        (
            {"name": "v", "hostPath": {"path": "foo"}},
            {"name": "v", "hostPath": {"path": "foo", "type": ""}},
        ),
        (
            {"name": "v", "secret": {"defaultMode": 256}},
            {"name": "v", "secret": {"defaultMode": 256}},
        ),
        # TestPodDefaults: the legacy in-tree sources
        (
            {"name": "v", "rbd": {"image": "i"}},
            {
                "name": "v",
                "rbd": {
                    "image": "i",
                    "pool": "rbd",
                    "user": "admin",
                    "keyring": "/etc/ceph/keyring",
                },
            },
        ),
        (
            {"name": "v", "iscsi": {"iqn": "q"}},
            {"name": "v", "iscsi": {"iqn": "q", "iscsiInterface": "default"}},
        ),
        (
            {"name": "v", "azureDisk": {"diskName": "d"}},
            {
                "name": "v",
                "azureDisk": {
                    "diskName": "d",
                    "cachingMode": "ReadWrite",
                    "kind": "Shared",
                    "fsType": "ext4",
                    "readOnly": False,
                },
            },
        ),
        (
            {"name": "v", "scaleIO": {"system": "s"}},
            {
                "name": "v",
                "scaleIO": {"system": "s", "storageMode": "ThinProvisioned", "fsType": "xfs"},
            },
        ),
        # The ephemeral volume's claim template gets SetDefaults_PersistentVolumeClaimSpec.
        (
            {"name": "v", "ephemeral": {"volumeClaimTemplate": {"spec": {}}}},
            {
                "name": "v",
                "ephemeral": {"volumeClaimTemplate": {"spec": {"volumeMode": "Filesystem"}}},
            },
        ),
        # SetDefaults_Volume: an image volume's pull policy, as for a container image.
        (
            {"name": "v", "image": {"reference": "img:latest"}},
            {"name": "v", "image": {"reference": "img:latest", "pullPolicy": "Always"}},
        ),
    ],
)
def test_volume_defaults(volume: JSON, expected: JSON) -> None:
    for plural, obj, path in (
        ("pods", pod(volumes=[volume]), ("spec",)),
        ("statefulsets", deployment_template(volumes=[volume]), ("spec", "template", "spec")),
    ):
        got = defaulted(plural, obj)
        for key in path:
            got = got[key]
        assert got["volumes"] == [expected]


def test_set_default_object_field_selector_api_version() -> None:
    """TestSetDefaultObjectFieldSelectorAPIVersion."""
    env = [{"name": "e", "valueFrom": {"fieldRef": {}}}]
    got = defaulted("pods", pod(containers=[container(env=env)]))
    assert got["spec"]["containers"][0]["env"][0]["valueFrom"]["fieldRef"]["apiVersion"] == "v1"


# -- core/v1: services and endpoints --------------------------------------------------------------


def test_set_default_service() -> None:
    """TestSetDefaultService and the internalTrafficPolicy default."""
    got = defaulted("services", {"spec": {}})
    assert got["spec"] == {
        "sessionAffinity": "None",
        "type": "ClusterIP",
        "internalTrafficPolicy": "Cluster",
    }


def test_session_affinity_none_drops_config() -> None:
    """TestSetDefaultService: no sessionAffinityConfig with affinity None."""
    got = defaulted(
        "services", {"spec": {"sessionAffinityConfig": {"clientIP": {"timeoutSeconds": 5}}}}
    )
    assert "sessionAffinityConfig" not in got["spec"]


@pytest.mark.parametrize(
    "config",
    [None, {}, {"clientIP": None}, {"clientIP": {}}],
    ids=[
        "SessionAffinityConfig is empty",
        "ClientIP is empty",
        "ClientIP null",
        "TimeoutSeconds is empty",
    ],
)
def test_set_default_service_session_affinity_config(config: JSON | None) -> None:
    """TestSetDefaultServiceSessionAffinityConfig."""
    spec: JSON = {"sessionAffinity": "ClientIP"}
    if config is not None:
        spec["sessionAffinityConfig"] = config
    got = defaulted("services", {"spec": spec})
    assert got["spec"]["sessionAffinityConfig"] == {"clientIP": {"timeoutSeconds": 10800}}
    kept = {"clientIP": {"timeoutSeconds": 60}}
    got = defaulted(
        "services", {"spec": {"sessionAffinity": "ClientIP", "sessionAffinityConfig": kept}}
    )
    assert got["spec"]["sessionAffinityConfig"] == kept


def test_set_default_service_target_port() -> None:
    """TestSetDefaulServiceTargetPort."""
    got = defaulted("services", {"spec": {"ports": [{"port": 1234}]}})
    assert got["spec"]["ports"] == [{"port": 1234, "protocol": "TCP", "targetPort": 1234}]
    got = defaulted("services", {"spec": {"ports": [{"port": 1234, "targetPort": 5678}]}})
    assert got["spec"]["ports"][0]["targetPort"] == 5678


def test_set_default_service_port() -> None:
    """TestSetDefaultServicePort: set values are kept; "" and 0 target ports are defaulted."""
    ports = [
        {"protocol": "UDP", "port": 9376, "targetPort": "p"},
        {"protocol": "UDP", "port": 8675, "targetPort": 309},
    ]
    assert defaulted("services", {"spec": {"ports": ports}})["spec"]["ports"] == ports
    ports = [
        {"protocol": "", "port": 9376, "targetPort": ""},
        {"protocol": "", "port": 8675, "targetPort": 0},
    ]
    assert defaulted("services", {"spec": {"ports": ports}})["spec"]["ports"] == [
        {"protocol": "TCP", "port": 9376, "targetPort": 9376},
        {"protocol": "TCP", "port": 8675, "targetPort": 8675},
    ]


@pytest.mark.parametrize(
    ("spec", "policy"),
    [
        ({}, None),
        ({"type": "NodePort"}, "Cluster"),
        ({"type": "LoadBalancer"}, "Cluster"),
        ({"type": "ClusterIP", "externalIPs": ["1.2.3.4"]}, "Cluster"),  # ExternallyAccessible
        ({"type": "NodePort", "externalTrafficPolicy": "Local"}, "Local"),
    ],
)
def test_set_default_service_external_traffic(spec: JSON, policy: str | None) -> None:
    """TestSetDefaulServiceExternalTraffic."""
    assert defaulted("services", {"spec": spec})["spec"].get("externalTrafficPolicy") == policy


def test_external_name_service_has_no_internal_traffic_policy() -> None:
    """SetDefaults_Service: internalTrafficPolicy only for ClusterIP, NodePort, LoadBalancer."""
    got = defaulted("services", {"spec": {"type": "ExternalName", "externalName": "x.y"}})
    assert "internalTrafficPolicy" not in got["spec"]


def test_load_balancer_defaults() -> None:
    """SetDefaults_Service: allocateLoadBalancerNodePorts, and ipMode VIP on ingress IPs."""
    svc = {
        "spec": {"type": "LoadBalancer"},
        "status": {"loadBalancer": {"ingress": [{"ip": "1.2.3.4"}, {"hostname": "lb"}]}},
    }
    got = defaulted("services", svc)
    assert got["spec"]["allocateLoadBalancerNodePorts"] is True
    assert got["status"]["loadBalancer"]["ingress"] == [
        {"ip": "1.2.3.4", "ipMode": "VIP"},
        {"hostname": "lb"},
    ]
    got = defaulted(
        "services", {"spec": {"type": "LoadBalancer", "allocateLoadBalancerNodePorts": False}}
    )
    assert got["spec"]["allocateLoadBalancerNodePorts"] is False


def test_set_default_endpoints_protocol() -> None:
    """TestSetDefaulEndpointsProtocol."""
    got = defaulted("endpoints", {"subsets": [{"ports": [{}, {"protocol": "UDP"}, {}]}]})
    assert got["subsets"][0]["ports"] == [
        {"protocol": "TCP"},
        {"protocol": "UDP"},
        {"protocol": "TCP"},
    ]


def test_set_default_endpoint_port() -> None:
    """discovery/v1 TestSetDefaultEndpointPort."""
    got = defaulted("endpointslices", {"addressType": "IPv4", "ports": [{"port": 80}]})
    assert got["ports"] == [{"port": 80, "name": "", "protocol": "TCP"}]
    ports = [{"name": "foo", "protocol": "UDP"}]
    assert defaulted("endpointslices", {"ports": ports})["ports"] == ports


# -- core/v1: the rest ----------------------------------------------------------------------------


def test_set_default_secret() -> None:
    """TestSetDefaultSecret."""
    assert defaulted("secrets", {})["type"] == "Opaque"
    assert defaulted("secrets", {"type": "kubernetes.io/tls"})["type"] == "kubernetes.io/tls"


@pytest.mark.parametrize(
    ("mode", "expected"),
    [(None, "Filesystem"), ("Filesystem", "Filesystem"), ("Block", "Block")],
    ids=["volume mode nil", "volume mode filesystem", "volume mode block"],
)
def test_set_default_persistent_volume(mode: str | None, expected: str) -> None:
    """TestSetDefaultPersistentVolume."""
    spec = {} if mode is None else {"volumeMode": mode}
    got = defaulted("persistentvolumes", {"spec": spec})
    assert got["status"]["phase"] == "Pending"
    assert got["spec"]["persistentVolumeReclaimPolicy"] == "Retain"
    assert got["spec"]["volumeMode"] == expected


@pytest.mark.parametrize(
    ("mode", "expected"),
    [(None, "Filesystem"), ("Filesystem", "Filesystem"), ("Block", "Block")],
    ids=["volume mode nil", "volume mode filesystem", "volume mode block"],
)
def test_set_default_persistent_volume_claim(mode: str | None, expected: str) -> None:
    """TestSetDefaultPersistentVolumeClaim."""
    spec = {} if mode is None else {"volumeMode": mode}
    got = defaulted("persistentvolumeclaims", {"spec": spec})
    assert got["status"]["phase"] == "Pending"
    assert got["spec"]["volumeMode"] == expected


def test_persistent_volume_sources() -> None:
    """SetObjectDefaults_PersistentVolume: hostPath type and the in-tree sources' defaults."""
    got = defaulted("persistentvolumes", {"spec": {"hostPath": {"path": "/d"}}})
    assert got["spec"]["hostPath"] == {"path": "/d", "type": ""}
    got = defaulted("persistentvolumes", {"spec": {"rbd": {"image": "i"}}})
    assert got["spec"]["rbd"]["pool"] == "rbd"


def test_set_default_namespace() -> None:
    """TestSetDefaultNamespace, and SetDefaults_Namespace's name label."""
    got = defaulted("namespaces", {"metadata": {"name": "team-a"}})
    assert got["status"] == {"phase": "Active"}
    assert got["metadata"]["labels"] == {"kubernetes.io/metadata.name": "team-a"}
    got = defaulted("namespaces", {"metadata": {"generateName": "team-"}})
    assert "labels" not in got["metadata"]


_CAPACITY = {"cpu": "1000m", "memory": "10G"}
_ALLOCATABLE = {"cpu": "500m", "memory": "5G"}


@pytest.mark.parametrize(
    ("capacity", "allocatable", "expected"),
    [
        (_CAPACITY, _ALLOCATABLE, _ALLOCATABLE),  # Everything set, no defaulting.
        (None, _ALLOCATABLE, _ALLOCATABLE),  # Allocatable set, no defaulting.
        (_CAPACITY, None, _CAPACITY),  # Capacity set, allocatable defaults to capacity.
        (None, None, None),  # Nothing set.
    ],
)
def test_set_default_node_status_allocatable(
    capacity: JSON | None, allocatable: JSON | None, expected: JSON | None
) -> None:
    """TestSetDefaultNodeStatusAllocatable."""
    status = {k: v for k, v in (("capacity", capacity), ("allocatable", allocatable)) if v}
    got = defaulted("nodes", {"status": status})
    assert got["status"].get("allocatable") == expected


def test_set_default_limit_range_item() -> None:
    """TestSetDefaultLimitRangeItem."""
    lr = {
        "spec": {
            "limits": [
                {"type": "Container", "max": {"cpu": "100m"}, "min": {"memory": "100Mi"}},
                {"type": "Pod", "max": {"cpu": "1"}},
            ]
        }
    }
    got = defaulted("limitranges", lr)
    item = got["spec"]["limits"][0]
    assert item["default"] == {"cpu": "100m"}
    assert item["defaultRequest"] == {"cpu": "100m", "memory": "100Mi"}
    assert got["spec"]["limits"][1] == {"type": "Pod", "max": {"cpu": "1"}}


def test_limit_range_keeps_explicit_defaults() -> None:
    item = {
        "type": "Container",
        "max": {"cpu": "2"},
        "default": {"cpu": "1"},
        "defaultRequest": {"cpu": "500m"},
    }
    got = defaulted("limitranges", {"spec": {"limits": [item]}})
    assert got["spec"]["limits"] == [item]


# -- apps/v1 --------------------------------------------------------------------------------------


def test_set_default_deployment() -> None:
    """TestSetDefaultDeployment."""
    got = defaulted("deployments", deployment_template())
    spec = got["spec"]
    assert spec["replicas"] == 1
    assert spec["strategy"] == {
        "type": "RollingUpdate",
        "rollingUpdate": {"maxUnavailable": "25%", "maxSurge": "25%"},
    }
    assert spec["revisionHistoryLimit"] == 10
    assert spec["progressDeadlineSeconds"] == 600
    assert spec["template"]["spec"] == _PODSPEC_DEFAULTS
    explicit = {
        "replicas": 5,
        "strategy": {
            "type": "RollingUpdate",
            "rollingUpdate": {"maxUnavailable": 1, "maxSurge": "50%"},
        },
        "revisionHistoryLimit": 0,
        "progressDeadlineSeconds": 30,
    }
    got = defaulted("deployments", {"spec": {**explicit, "template": {"spec": {}}}})
    assert {k: got["spec"][k] for k in explicit} == explicit
    got = defaulted("deployments", {"spec": {"strategy": {"type": "Recreate"}}})
    assert got["spec"]["strategy"] == {"type": "Recreate"}


def test_set_default_replica_set_replicas() -> None:
    """TestSetDefaultReplicaSetReplicas."""
    assert defaulted("replicasets", deployment_template())["spec"]["replicas"] == 1
    assert defaulted("replicasets", {"spec": {"replicas": 0}})["spec"]["replicas"] == 0


def test_set_default_daemon_set_spec() -> None:
    """TestSetDefaultDaemonSetSpec."""
    got = defaulted("daemonsets", deployment_template())
    assert got["spec"]["updateStrategy"] == {
        "type": "RollingUpdate",
        "rollingUpdate": {"maxUnavailable": 1, "maxSurge": 0},
    }
    assert got["spec"]["revisionHistoryLimit"] == 10
    assert got["spec"]["template"]["spec"] == _PODSPEC_DEFAULTS
    got = defaulted("daemonsets", {"spec": {"revisionHistoryLimit": 1}})
    assert got["spec"]["revisionHistoryLimit"] == 1
    got = defaulted("daemonsets", {"spec": {"updateStrategy": {"type": "OnDelete"}}})
    assert got["spec"]["updateStrategy"] == {"type": "OnDelete"}


@pytest.mark.parametrize(
    ("strategy", "expected"),
    [
        # labels and default update strategy
        (None, {"type": "RollingUpdate", "rollingUpdate": {"partition": 0}}),
        # Alternate update strategy
        ({"type": "OnDelete"}, {"type": "OnDelete"}),
        # MaxUnavailable disabled, with default maxUnavailable specified
        (
            {"rollingUpdate": {"partition": 0, "maxUnavailable": 1}},
            {"type": "RollingUpdate", "rollingUpdate": {"partition": 0, "maxUnavailable": 1}},
        ),
        # MaxUnavailable disabled, with non default maxUnavailable specified
        (
            {"rollingUpdate": {"partition": 42, "maxUnavailable": 3}},
            {"type": "RollingUpdate", "rollingUpdate": {"partition": 42, "maxUnavailable": 3}},
        ),
        # An explicit RollingUpdate without rollingUpdate gets none.
        ({"type": "RollingUpdate"}, {"type": "RollingUpdate"}),
    ],
)
def test_set_default_stateful_set(strategy: JSON | None, expected: JSON) -> None:
    """TestSetDefaultStatefulSet."""
    sts = deployment_template()
    if strategy is not None:
        sts["spec"]["updateStrategy"] = strategy
    spec = defaulted("statefulsets", sts)["spec"]
    assert spec["updateStrategy"] == expected
    assert spec["replicas"] == 1
    assert spec["podManagementPolicy"] == "OrderedReady"
    assert spec["revisionHistoryLimit"] == 10
    # StatefulSetAutoDeletePVC enabled
    assert spec["persistentVolumeClaimRetentionPolicy"] == {
        "whenDeleted": "Retain",
        "whenScaled": "Retain",
    }
    assert spec["template"]["spec"] == _PODSPEC_DEFAULTS


def test_stateful_set_parallel_and_claim_templates() -> None:
    """TestSetDefaultStatefulSet/Parallel pod management policy; claim template defaults."""
    sts = {
        "spec": {
            "podManagementPolicy": "Parallel",
            "persistentVolumeClaimRetentionPolicy": {"whenDeleted": "Delete"},
            "volumeClaimTemplates": [
                {"metadata": {"name": "data"}, "spec": {"accessModes": ["ReadWriteOnce"]}}
            ],
        }
    }
    spec = defaulted("statefulsets", sts)["spec"]
    assert spec["podManagementPolicy"] == "Parallel"
    assert spec["persistentVolumeClaimRetentionPolicy"] == {
        "whenDeleted": "Delete",
        "whenScaled": "Retain",
    }
    assert spec["volumeClaimTemplates"] == [
        {
            "metadata": {"name": "data"},
            "spec": {"accessModes": ["ReadWriteOnce"], "volumeMode": "Filesystem"},
            "status": {"phase": "Pending"},
        }
    ]


# -- batch/v1 -------------------------------------------------------------------------------------

_JOB_DEFAULTS = {
    "completions": 1,
    "parallelism": 1,
    "backoffLimit": 6,
    "completionMode": "NonIndexed",
    "suspend": False,
    "podReplacementPolicy": "TerminatingOrFailed",
    "manualSelector": False,
}


def job(**spec: Any) -> JSON:
    return {
        "metadata": {"name": "j"},
        "spec": {"template": {"metadata": {"labels": {"default": "default"}}}, **spec},
    }


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        ({}, _JOB_DEFAULTS),  # All unspecified and podReplacementPolicyEnabled -> ...
        ({"suspend": True}, {**_JOB_DEFAULTS, "suspend": True}),  # suspend set, ...
        (  # WQ: Parallelism explicitly 0 and completions unset -> BackoffLimit is defaulted
            {"parallelism": 0},
            {k: v for k, v in _JOB_DEFAULTS.items() if k != "completions"} | {"parallelism": 0},
        ),
        (  # WQ: Parallelism explicitly 2 and completions unset -> BackoffLimit is defaulted
            {"parallelism": 2},
            {k: v for k, v in _JOB_DEFAULTS.items() if k != "completions"} | {"parallelism": 2},
        ),
        ({"completions": 2}, {**_JOB_DEFAULTS, "completions": 2}),  # Completions explicitly 2 ...
        (
            {"backoffLimit": 5},
            {**_JOB_DEFAULTS, "backoffLimit": 5},
        ),  # BackoffLimit explicitly 5 ...
        (  # All set, flipped -> no change
            {
                "completions": 11,
                "parallelism": 10,
                "backoffLimit": 9,
                "completionMode": "Indexed",
                "suspend": True,
                "podReplacementPolicy": "Failed",
                "manualSelector": True,
            },
            None,
        ),
        # BackoffLimitPerIndex specified, but no BackoffLimit -> default BackoffLimit to max int32
        (
            {
                "completions": 11,
                "parallelism": 10,
                "backoffLimitPerIndex": 1,
                "completionMode": "Indexed",
            },
            {
                **_JOB_DEFAULTS,
                "completions": 11,
                "parallelism": 10,
                "backoffLimit": 2147483647,
                "backoffLimitPerIndex": 1,
                "completionMode": "Indexed",
            },
        ),
    ],
)
def test_set_default_job(spec: JSON, expected: JSON | None) -> None:
    """TestSetDefaultJob."""
    got = defaulted("jobs", job(**spec))
    expected = spec if expected is None else expected
    assert {k: v for k, v in got["spec"].items() if k != "template"} == expected
    assert got["metadata"]["labels"] == {"default": "default"}
    assert got["spec"]["template"]["spec"] == _PODSPEC_DEFAULTS


def test_set_default_job_keeps_own_labels() -> None:
    """TestSetDefaultJob/All unspecified -> all pointers are defaulted and no default labels."""
    j = job()
    j["metadata"]["labels"] = {"mylabel": "myvalue"}
    assert defaulted("jobs", j)["metadata"]["labels"] == {"mylabel": "myvalue"}


def test_set_default_job_pod_failure_policy() -> None:
    """TestSetDefaultJob/Pod failure policy with some field values unspecified -> set defaults."""
    rules = [
        {
            "action": "FailJob",
            "onPodConditions": [
                {"type": "DisruptionTarget", "status": "True"},
                {"type": "MemoryLimitExceeded", "status": "False"},
                {"type": "DiskLimitExceeded"},
            ],
        },
        {"action": "FailJob", "onExitCodes": {"operator": "In", "values": [1]}},
    ]
    got = defaulted("jobs", job(podFailurePolicy={"rules": rules}))
    conditions = got["spec"]["podFailurePolicy"]["rules"][0]["onPodConditions"]
    assert [c["status"] for c in conditions] == ["True", "False", "True"]
    # Pod failure policy and defaulting for pod replacement policy
    assert got["spec"]["podReplacementPolicy"] == "Failed"


def test_set_default_cron_job() -> None:
    """TestSetDefaultCronJob: the CronJob's own defaults; its job template gets no Job defaults."""
    cron = {"spec": {"schedule": "* * * * *", "jobTemplate": {"spec": {"template": {"spec": {}}}}}}
    spec = defaulted("cronjobs", cron)["spec"]
    assert {k: spec[k] for k in ("concurrencyPolicy", "suspend")} == {
        "concurrencyPolicy": "Allow",
        "suspend": False,
    }
    assert spec["successfulJobsHistoryLimit"] == 3
    assert spec["failedJobsHistoryLimit"] == 1
    assert spec["jobTemplate"]["spec"] == {"template": {"spec": _PODSPEC_DEFAULTS}}
    explicit = {
        "concurrencyPolicy": "Forbid",
        "suspend": True,
        "successfulJobsHistoryLimit": 0,
        "failedJobsHistoryLimit": 0,
    }
    got = defaulted("cronjobs", {"spec": dict(explicit)})["spec"]
    assert {k: got[k] for k in explicit} == explicit


# -- autoscaling/v2 -------------------------------------------------------------------------------

_SCALE_UP = {
    "selectPolicy": "Max",
    "stabilizationWindowSeconds": 0,
    "policies": [
        {"type": "Pods", "value": 4, "periodSeconds": 15},
        {"type": "Percent", "value": 100, "periodSeconds": 15},
    ],
}
_SCALE_DOWN = {
    "selectPolicy": "Max",
    "policies": [{"type": "Percent", "value": 100, "periodSeconds": 15}],
}


def test_hpa_defaults() -> None:
    """SetDefaults_HorizontalPodAutoscaler: minReplicas 1 and a CPU target of 80%."""
    got = defaulted("horizontalpodautoscalers", {"spec": {"maxReplicas": 3}})
    assert got["spec"] == {
        "maxReplicas": 3,
        "minReplicas": 1,
        "metrics": [
            {
                "type": "Resource",
                "resource": {
                    "name": "cpu",
                    "target": {"type": "Utilization", "averageUtilization": 80},
                },
            }
        ],
    }
    metrics = [
        {"type": "Pods", "pods": {"metric": {"name": "qps"}, "target": {"type": "AverageValue"}}}
    ]
    got = defaulted("horizontalpodautoscalers", {"spec": {"minReplicas": 2, "metrics": metrics}})
    assert got["spec"] == {"minReplicas": 2, "metrics": metrics}


def test_hpa_behavior_default_values() -> None:
    """TestGenerateScaleUpRules/TestGenerateScaleDownRules: Default values."""
    got = defaulted("horizontalpodautoscalers", {"spec": {"behavior": {}}})
    assert got["spec"]["behavior"] == {"scaleUp": _SCALE_UP, "scaleDown": _SCALE_DOWN}


@pytest.mark.parametrize(
    ("direction", "rules", "expected"),
    [
        (  # TestGenerateScaleUpRules/Pod policy is specified
            "scaleUp",
            {"selectPolicy": "Min", "policies": [{"type": "Pods", "value": 1, "periodSeconds": 2}]},
            {
                "selectPolicy": "Min",
                "stabilizationWindowSeconds": 0,
                "policies": [{"type": "Pods", "value": 1, "periodSeconds": 2}],
            },
        ),
        (  # TestGenerateScaleUpRules/Percent policy and stabilization window are specified
            "scaleUp",
            {
                "stabilizationWindowSeconds": 25,
                "policies": [{"type": "Percent", "value": 7, "periodSeconds": 60}],
            },
            {
                "selectPolicy": "Max",
                "stabilizationWindowSeconds": 25,
                "policies": [{"type": "Percent", "value": 7, "periodSeconds": 60}],
            },
        ),
        (  # TestGenerateScaleDownRules/Pods policy is specified
            "scaleDown",
            {"policies": [{"type": "Pods", "value": 3, "periodSeconds": 4}]},
            {"selectPolicy": "Max", "policies": [{"type": "Pods", "value": 3, "periodSeconds": 4}]},
        ),
        (  # TestGenerateScaleDownRules/All parameters are specified
            "scaleDown",
            {"stabilizationWindowSeconds": 25, "selectPolicy": "Max", "policies": []},
            {"stabilizationWindowSeconds": 25, "selectPolicy": "Max", "policies": []},
        ),
    ],
)
def test_hpa_behavior_rules(direction: str, rules: JSON, expected: JSON) -> None:
    got = defaulted("horizontalpodautoscalers", {"spec": {"behavior": {direction: rules}}})
    assert got["spec"]["behavior"][direction] == expected


# -- rbac, scheduling -----------------------------------------------------------------------------


@pytest.mark.parametrize("plural", ["rolebindings", "clusterrolebindings"])
def test_role_binding_defaults(plural: str) -> None:
    """SetDefaults_RoleBinding/ClusterRoleBinding and SetDefaults_Subject."""
    binding = {
        "roleRef": {"kind": "ClusterRole", "name": "view"},
        "subjects": [
            {"kind": "User", "name": "alice"},
            {"kind": "Group", "name": "devs"},
            {"kind": "ServiceAccount", "name": "default", "namespace": "ns"},
            {"kind": "User", "name": "bob", "apiGroup": "other.io"},
        ],
    }
    got = defaulted(plural, binding)
    assert got["roleRef"]["apiGroup"] == _RBAC
    assert [s.get("apiGroup") for s in got["subjects"]] == [_RBAC, _RBAC, None, "other.io"]


def test_set_default_preemption_policy() -> None:
    """scheduling/v1 TestSetDefaultPreemptionPolicy."""
    assert defaulted("priorityclasses", {"value": 1})["preemptionPolicy"] == "PreemptLowerPriority"
    got = defaulted("priorityclasses", {"value": 1, "preemptionPolicy": "Never"})
    assert got["preemptionPolicy"] == "Never"


@pytest.mark.parametrize(
    "plural",
    ["configmaps", "serviceaccounts", "events", "resourcequotas", "leases", "poddisruptionbudgets"],
)
def test_kinds_without_defaults_are_unchanged(plural: str) -> None:
    obj = {"metadata": {"name": "x"}, "spec": {}, "data": {}}
    assert defaulted(plural, obj) == obj


def test_malformed_parts_are_left_for_decoding() -> None:
    obj = {"spec": {"template": "nope", "strategy": 3, "replicas": 2}}
    assert defaulted("deployments", obj)["spec"] == {
        "template": "nope",
        "strategy": 3,
        "replicas": 2,
        "revisionHistoryLimit": 10,
        "progressDeadlineSeconds": 600,
    }
    assert (
        defaulted("pods", {"spec": {"containers": "x", "volumes": [1]}})["spec"]["containers"]
        == "x"
    )


# -- properties -----------------------------------------------------------------------------------

_MODELS = {r.plural: r.model for r in RESOURCES}


def test_every_defaulted_plural_is_served() -> None:
    assert set(DEFAULTERS) <= set(_MODELS)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data(), plural=st.sampled_from(sorted(_MODELS)))
def test_defaulting_is_idempotent_and_decodes(data: st.DataObject, plural: str) -> None:
    model = _MODELS[plural]
    obj = to_dict(data.draw(objects(model), label="object"))
    once = defaulted(plural, obj)
    assert defaulted(plural, once) == once
    from_dict(once, model)
    # Only fills: everything set before is still there (bar the documented upstream rewrites).
    if plural not in ("services", "namespaces"):
        assert _contains(once, obj)


def _is_zero(value: Any) -> bool:
    return value is None or value == "" or (type(value) is int and value == 0)


def _contains(big: Any, small: Any) -> bool:
    """Whether every value set in ``small`` is in ``big`` (``""``/``0`` may have been filled)."""
    if isinstance(small, dict):
        return isinstance(big, dict) and all(
            k in big and (_contains(big[k], v) or _is_zero(v)) for k, v in small.items()
        )
    if isinstance(small, list):
        return (
            isinstance(big, list)
            and len(big) == len(small)
            and all(_contains(b, s) for b, s in zip(big, small, strict=True))
        )
    return bool(big == small)


@given(spec=objects(PodSpec, max_fields=16, max_items=3), plural=st.sampled_from(["pods", "jobs"]))
@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_pod_spec_defaulting_is_idempotent_and_decodes(spec: PodSpec, plural: str) -> None:
    """Deeper pod specs than the per-kind property draws: containers, probes, volumes."""
    model = _MODELS[plural]
    body = to_dict(spec)
    obj = {"spec": body} if plural == "pods" else {"spec": {"template": {"spec": body}}}
    once = defaulted(plural, obj)
    assert defaulted(plural, once) == once
    from_dict(once, model)
    assert _contains(once, obj)
