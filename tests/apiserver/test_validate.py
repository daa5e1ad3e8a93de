"""Per-kind validation against upstream's own cases.

Each table row is (case id, plural, object, old object or None, expected causes), the expected
causes being (field, message, reason) exactly as kube-apiserver reports them. Case ids name the
upstream test the case comes from: ``TestValidatePodSpec`` and friends in
pkg/apis/core/validation/validation_test.go, ``TestValidateDeployment`` ... in
pkg/apis/apps/validation, ``TestValidateJob``/``TestValidateCronJob`` in pkg/apis/batch/validation,
and the tests of the scheduling, coordination, policy, autoscaling, rbac, discovery and node groups.
"""

from __future__ import annotations

import copy
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import kframe.testing as kt
from kframe.api import to_dict
from kframe.apiserver._errors import Cause
from kframe.apiserver._validate import VALIDATORS, validate
from kframe.apiserver._validate_cron import schedule_error

Obj = dict[str, Any]
Expected = list[tuple[str, str, str]]

LABEL_MSG = (
    "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and "
    "must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used "
    "for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')"
)
LABEL_VALUE_MSG = (
    "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or "
    "'.', and must start and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  "
    "or '12345', regex used for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')"
)
EMPTY_NAME_PART = "name part must be non-empty"
NAME_PART_MSG = (
    "name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end "
    "with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for "
    "validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')"
)
CONFIG_KEY_MSG = (
    "a valid config key must consist of alphanumeric characters, '-', '_' or '.' (e.g. "
    "'key.name',  or 'KEY_NAME',  or 'key-name', regex used for validation is '[-._a-zA-Z0-9]+')"
)
PERCENT_MSG = (
    "a valid percent string must be a numeric string followed by an ending '%' (e.g. '1%',  or "
    "'93%', regex used for validation is '[0-9]+%')"
)
PORT_RANGE = "must be between 1 and 65535, inclusive"
NEGATIVE = "must be greater than or equal to 0"
MISMATCH = "`selector` does not match template `labels`"

REQ, INV, UNS = "FieldValueRequired", "FieldValueInvalid", "FieldValueNotSupported"
DUP, FORB, NOTF = "FieldValueDuplicate", "FieldValueForbidden", "FieldValueNotFound"


# --- object builders -------------------------------------------------------------------------


def ctr(name: str = "web", **fields: Any) -> Obj:
    return {"name": name, "image": "nginx", **fields}


def pod(**spec: Any) -> Obj:
    return {"metadata": {"name": "web"}, "spec": {"containers": [ctr()], **spec}}


def template(labels: dict[str, str] | None = None, **spec: Any) -> Obj:
    meta = {"labels": {"app": "web"} if labels is None else labels}
    return {"metadata": meta, "spec": {"containers": [ctr()], **spec}}


def deployment(**spec: Any) -> Obj:
    base = {"selector": {"matchLabels": {"app": "web"}}, "template": template()}
    return {"metadata": {"name": "web"}, "spec": {**base, **spec}}


def job(**spec: Any) -> Obj:
    base = {"template": template(restartPolicy="Never")}
    return {"metadata": {"name": "pi"}, "spec": {**base, **spec}}


def cronjob(**spec: Any) -> Obj:
    job_template = {"spec": {"template": template(restartPolicy="OnFailure")}}
    base = {"schedule": "*/1 * * * *", "jobTemplate": job_template}
    return {"metadata": {"name": "hello"}, "spec": {**base, **spec}}


def service(**spec: Any) -> Obj:
    base = {"selector": {"app": "web"}, "ports": [{"port": 80}]}
    return {"metadata": {"name": "web"}, "spec": {**base, **spec}}


def with_(obj: Obj, path: str, value: Any) -> Obj:
    """A copy of ``obj`` with the dotted ``path`` (list indexes as numbers) set to ``value``."""
    out = copy.deepcopy(obj)
    *parents, last = path.split(".")
    node: Any = out
    for key in parents:
        node = node[int(key)] if key.isdigit() else node.setdefault(key, {})
    node[int(last) if last.isdigit() else last] = value
    return out


def causes(plural: str, obj: Obj, old: Obj | None = None) -> Expected:
    return [(c.field, c.message, c.reason) for c in validate(plural, obj, old)]


# --- valid objects stay valid ----------------------------------------------------------------

VALID: list[tuple[str, Obj]] = [
    ("pods", pod()),
    ("deployments", deployment()),
    ("replicasets", deployment()),
    ("daemonsets", deployment()),
    ("statefulsets", deployment(serviceName="web")),
    ("jobs", job()),
    ("cronjobs", cronjob()),
    ("services", service()),
    ("configmaps", {"metadata": {"name": "c"}, "data": {"a.conf": "x"}}),
    ("secrets", {"metadata": {"name": "s"}, "stringData": {"password": "x"}}),
    ("namespaces", {"metadata": {"name": "ns"}, "spec": {"finalizers": ["kubernetes"]}}),
    ("priorityclasses", {"metadata": {"name": "high"}, "value": 1000}),
    ("clusterroles", {"metadata": {"name": "system:aggregate-to-view"}, "rules": []}),
]


@pytest.mark.parametrize(("plural", "obj"), VALID, ids=[p for p, _ in VALID])
def test_valid_objects_have_no_causes(plural: str, obj: Obj) -> None:
    assert causes(plural, obj) == []
    assert causes(plural, obj, obj) == []


def test_unknown_kinds_are_not_validated() -> None:
    assert validate("widgets", {"spec": {"anything": -1}}, None) == []
    assert "pods" in VALIDATORS


# --- pods ------------------------------------------------------------------------------------

PODS: list[tuple[str, Obj, Obj | None, Expected]] = [
    (
        "TestValidatePodSpec/no containers",
        pod(containers=[]),
        None,
        [("spec.containers", "Required value", REQ)],
    ),
    (
        "TestValidateContainers/zero-length image",
        pod(containers=[{"name": "web"}]),
        None,
        [("spec.containers[0].image", "Required value", REQ)],
    ),
    (
        "TestValidateContainers/zero-length name",
        pod(containers=[ctr("")]),
        None,
        [("spec.containers[0].name", "Required value", REQ)],
    ),
    (
        "TestValidateContainers/name not a DNS label",
        pod(containers=[ctr("Web_1")]),
        None,
        [("spec.containers[0].name", f'Invalid value: "Web_1": {LABEL_MSG}', INV)],
    ),
    (
        "TestValidateContainers/name not unique",
        pod(containers=[ctr("a"), ctr("a")], initContainers=[ctr("a")]),
        None,
        [
            ("spec.containers[1].name", 'Duplicate value: "a"', DUP),
            ("spec.initContainers[0].name", 'Duplicate value: "a"', DUP),
        ],
    ),
    (
        "TestValidatePorts/containerPort out of range",
        pod(containers=[ctr(ports=[{"containerPort": 70000}])]),
        None,
        [("spec.containers[0].ports[0].containerPort", f"Invalid value: 70000: {PORT_RANGE}", INV)],
    ),
    (
        "TestValidatePorts/zero container port",
        pod(containers=[ctr(ports=[{"containerPort": 0}])]),
        None,
        [("spec.containers[0].ports[0].containerPort", "Required value", REQ)],
    ),
    (
        "TestValidatePorts/invalid name",
        pod(containers=[ctr(ports=[{"containerPort": 80, "name": "HTTP_1"}])]),
        None,
        [
            (
                "spec.containers[0].ports[0].name",
                'Invalid value: "HTTP_1": must contain only alpha-numeric characters (a-z, 0-9), '
                "and hyphens (-)",
                INV,
            ),
            (
                "spec.containers[0].ports[0].name",
                'Invalid value: "HTTP_1": must contain at least one letter (a-z)',
                INV,
            ),
        ],
    ),
    (
        "TestValidatePorts/name not unique",
        pod(
            containers=[
                ctr(
                    ports=[
                        {"containerPort": 80, "name": "http"},
                        {"containerPort": 81, "name": "http"},
                    ]
                )
            ]
        ),
        None,
        [("spec.containers[0].ports[1].name", 'Duplicate value: "http"', DUP)],
    ),
    (
        "TestValidatePorts/invalid protocol",
        pod(containers=[ctr(ports=[{"containerPort": 80, "protocol": "ICMP"}])]),
        None,
        [
            (
                "spec.containers[0].ports[0].protocol",
                'Unsupported value: "ICMP": supported values: "SCTP", "TCP", "UDP"',
                UNS,
            )
        ],
    ),
    (
        "TestValidateEnv/zero-length name, name with =",
        pod(containers=[ctr(env=[{"name": ""}, {"name": "A=B"}])]),
        None,
        [
            ("spec.containers[0].env[0].name", "Required value", REQ),
            (
                "spec.containers[0].env[1].name",
                'Invalid value: "A=B": a valid environment variable name must consist only of '
                "printable ASCII characters other than '='",
                INV,
            ),
        ],
    ),
    (
        "TestValidateEnv/value and valueFrom together",
        pod(
            containers=[
                ctr(
                    env=[
                        {
                            "name": "A",
                            "value": "x",
                            "valueFrom": {"fieldRef": {"fieldPath": "metadata.name"}},
                        }
                    ]
                )
            ]
        ),
        None,
        [
            (
                "spec.containers[0].env[0].valueFrom",
                'Invalid value: "": may not be specified when `value` is not empty',
                INV,
            )
        ],
    ),
    (
        "TestValidateEnv/unsupported fieldPath",
        pod(
            containers=[
                ctr(env=[{"name": "A", "valueFrom": {"fieldRef": {"fieldPath": "status.phase"}}}])
            ]
        ),
        None,
        [
            (
                "spec.containers[0].env[0].valueFrom.fieldRef.fieldPath",
                'Unsupported value: "status.phase": supported values: "metadata.name", '
                '"metadata.namespace", "metadata.uid", "spec.nodeName", '
                '"spec.serviceAccountName", "status.hostIP", "status.hostIPs", "status.podIP", '
                '"status.podIPs"',
                UNS,
            )
        ],
    ),
    (
        "TestValidateResourceRequirements/request greater than limit",
        pod(containers=[ctr(resources={"requests": {"cpu": "2"}, "limits": {"cpu": "1"}})]),
        None,
        [
            (
                "spec.containers[0].resources.requests",
                'Invalid value: "2": must be less than or equal to cpu limit of 1',
                INV,
            )
        ],
    ),
    (
        "TestValidateResourceRequirements/negative and unknown resources",
        pod(containers=[ctr(resources={"limits": {"memory": "-1", "foo": "1"}})]),
        None,
        [
            (
                "spec.containers[0].resources.limits[memory]",
                f'Invalid value: "-1": {NEGATIVE}',
                INV,
            ),
            (
                "spec.containers[0].resources.limits[foo]",
                'Invalid value: "foo": must be a standard resource type or fully qualified',
                INV,
            ),
            (
                "spec.containers[0].resources.limits[foo]",
                'Invalid value: "foo": must be a standard resource for containers',
                INV,
            ),
        ],
    ),
    (
        "TestValidateResourceRequirements/extended resource request without limit",
        pod(containers=[ctr(resources={"requests": {"example.com/gpu": "1"}})]),
        None,
        [
            (
                "spec.containers[0].resources.limits",
                "Required value: Limit must be set for non overcommitable resources",
                REQ,
            )
        ],
    ),
    (
        "TestValidateVolumes/name not unique, no volume type",
        pod(volumes=[{"name": "v", "emptyDir": {}}, {"name": "v", "emptyDir": {}}, {"name": "x"}]),
        None,
        [
            ("spec.volumes[1].name", 'Duplicate value: "v"', DUP),
            ("spec.volumes[2]", "Required value: must specify a volume type", REQ),
        ],
    ),
    (
        "TestValidateVolumes/more than one source",
        pod(volumes=[{"name": "v", "emptyDir": {}, "hostPath": {"path": "/tmp"}}]),
        None,
        [("spec.volumes[0].hostPath", "Forbidden: may not specify more than 1 volume type", FORB)],
    ),
    (
        "TestValidateVolumes/secret without secretName, bad defaultMode",
        pod(volumes=[{"name": "v", "secret": {"defaultMode": 1000}}]),
        None,
        [
            ("spec.volumes[0].secret.secretName", "Required value", REQ),
            (
                "spec.volumes[0].secret.defaultMode",
                "Invalid value: 1000: must be a number between 0 and 0777 (octal), both inclusive",
                INV,
            ),
        ],
    ),
    (
        "TestValidateVolumeMounts/name not found, empty mountPath",
        pod(containers=[ctr(volumeMounts=[{"name": "data", "mountPath": ""}])]),
        None,
        [
            ("spec.containers[0].volumeMounts[0].name", 'Not found: "data"', NOTF),
            ("spec.containers[0].volumeMounts[0].mountPath", "Required value", REQ),
        ],
    ),
    (
        "TestValidateVolumeMounts/mountPath not unique",
        pod(
            volumes=[{"name": "v", "emptyDir": {}}],
            containers=[
                ctr(
                    volumeMounts=[
                        {"name": "v", "mountPath": "/a"},
                        {"name": "v", "mountPath": "/a"},
                    ]
                )
            ],
        ),
        None,
        [
            (
                "spec.containers[0].volumeMounts[1].mountPath",
                'Invalid value: "/a": must be unique',
                INV,
            )
        ],
    ),
    (
        "TestValidateProbe/no handler",
        pod(containers=[ctr(livenessProbe={"initialDelaySeconds": 1})]),
        None,
        [("spec.containers[0].livenessProbe", "Required value: must specify a handler type", REQ)],
    ),
    (
        "TestValidateProbe/multiple handlers",
        pod(
            containers=[
                ctr(readinessProbe={"exec": {"command": ["true"]}, "httpGet": {"port": 80}})
            ]
        ),
        None,
        [
            (
                "spec.containers[0].readinessProbe.httpGet",
                "Forbidden: may not specify more than 1 handler type",
                FORB,
            )
        ],
    ),
    (
        "TestValidateProbe/liveness successThreshold",
        pod(containers=[ctr(livenessProbe={"tcpSocket": {"port": 80}, "successThreshold": 2})]),
        None,
        [("spec.containers[0].livenessProbe.successThreshold", "Invalid value: 2: must be 1", INV)],
    ),
    (
        "TestValidateInitContainers/probes need restartPolicy Always",
        pod(initContainers=[ctr("init", livenessProbe={"exec": {"command": ["true"]}})]),
        None,
        [
            (
                "spec.initContainers[0].livenessProbe",
                "Forbidden: may not be set for init containers without restartPolicy=Always",
                FORB,
            )
        ],
    ),
    (
        "TestValidateRestartPolicy/unsupported",
        pod(restartPolicy="Sometimes"),
        None,
        [
            (
                "spec.restartPolicy",
                'Unsupported value: "Sometimes": supported values: "Always", "OnFailure", "Never"',
                UNS,
            )
        ],
    ),
    (
        "TestValidatePodSpec/bad nodeSelector value",
        pod(nodeSelector={"disk": "a b"}),
        None,
        [("spec.nodeSelector", f'Invalid value: "a b": {LABEL_VALUE_MSG}', INV)],
    ),
    (
        "TestValidatePodSpec/activeDeadlineSeconds 0",
        pod(activeDeadlineSeconds=0),
        None,
        [
            (
                "spec.activeDeadlineSeconds",
                "Invalid value: 0: must be between 1 and 2147483647, inclusive",
                INV,
            )
        ],
    ),
    (
        "TestValidatePodSpec/hostNetwork hostPort mismatch",
        pod(hostNetwork=True, containers=[ctr(ports=[{"containerPort": 80, "hostPort": 8080}])]),
        None,
        [
            (
                "spec.containers[0].ports[0].hostPort",
                "Invalid value: 8080: must match `containerPort` when `hostNetwork` is true",
                INV,
            )
        ],
    ),
    (
        "TestValidateTolerations/empty key with Equal, Exists with value, seconds not NoExecute",
        pod(
            tolerations=[
                {"operator": "Equal", "value": "bar"},
                {"key": "foo", "operator": "Exists", "value": "bar"},
                {
                    "key": "foo",
                    "operator": "Exists",
                    "effect": "NoSchedule",
                    "tolerationSeconds": 5,
                },
            ]
        ),
        None,
        [
            (
                "spec.tolerations[0].operator",
                'Invalid value: "Equal": operator must be Exists when `key` is empty, which means '
                '"match all values and all keys"',
                INV,
            ),
            (
                "spec.tolerations[1].operator",
                "Invalid value: \"bar\": value must be empty when `operator` is 'Exists'",
                INV,
            ),
            (
                "spec.tolerations[2].effect",
                "Invalid value: \"NoSchedule\": effect must be 'NoExecute' when "
                "`tolerationSeconds` is set",
                INV,
            ),
        ],
    ),
    (
        "TestValidateAffinity/In without values, empty node selector terms",
        pod(
            affinity={
                "nodeAffinity": {
                    "requiredDuringSchedulingIgnoredDuringExecution": {
                        "nodeSelectorTerms": [
                            {"matchExpressions": [{"key": "zone", "operator": "In"}]}
                        ]
                    }
                }
            }
        ),
        None,
        [
            (
                "spec.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution."
                "nodeSelectorTerms[0].matchExpressions[0].values",
                "Required value: must be specified when `operator` is 'In' or 'NotIn'",
                REQ,
            )
        ],
    ),
    (
        "TestValidateAffinity/pod anti-affinity without topologyKey, weight 0",
        pod(
            affinity={
                "podAntiAffinity": {
                    "preferredDuringSchedulingIgnoredDuringExecution": [
                        {
                            "weight": 0,
                            "podAffinityTerm": {"labelSelector": {"matchLabels": {"app": "web"}}},
                        }
                    ]
                }
            }
        ),
        None,
        [
            (
                "spec.affinity.podAntiAffinity.preferredDuringSchedulingIgnoredDuringExecution[0]"
                ".weight",
                "Invalid value: 0: must be in the range 1-100",
                INV,
            ),
            (
                "spec.affinity.podAntiAffinity.preferredDuringSchedulingIgnoredDuringExecution[0]"
                ".podAffinityTerm.topologyKey",
                "Required value: can not be empty",
                REQ,
            ),
            (
                "spec.affinity.podAntiAffinity.preferredDuringSchedulingIgnoredDuringExecution[0]"
                ".podAffinityTerm.topologyKey",
                f'Invalid value: "": {EMPTY_NAME_PART}',
                INV,
            ),
            (
                "spec.affinity.podAntiAffinity.preferredDuringSchedulingIgnoredDuringExecution[0]"
                ".podAffinityTerm.topologyKey",
                f'Invalid value: "": {NAME_PART_MSG}',
                INV,
            ),
        ],
    ),
    (
        "TestValidateTopologySpreadConstraints/maxSkew 0, bad whenUnsatisfiable",
        pod(
            topologySpreadConstraints=[
                {"maxSkew": 0, "topologyKey": "zone", "whenUnsatisfiable": "N"}
            ]
        ),
        None,
        [
            (
                "spec.topologySpreadConstraints[0].maxSkew",
                "Invalid value: 0: must be greater than zero",
                INV,
            ),
            (
                "spec.topologySpreadConstraints[0].whenUnsatisfiable",
                'Unsupported value: "N": supported values: "DoNotSchedule", "ScheduleAnyway"',
                UNS,
            ),
        ],
    ),
    (
        "TestValidatePod/image with whitespace",
        pod(containers=[ctr(image=" nginx")]),
        None,
        [
            (
                "spec.containers[0].image",
                'Invalid value: " nginx": must not have leading or trailing whitespace',
                INV,
            )
        ],
    ),
]


@pytest.mark.parametrize(("case", "obj", "old", "expected"), PODS, ids=[c[0] for c in PODS])
def test_pods(case: str, obj: Obj, old: Obj | None, expected: Expected) -> None:
    assert causes("pods", obj, old) == expected


POD_UPDATES: list[tuple[str, Obj, Obj, Expected]] = [
    (
        "TestValidatePodUpdate/image change",
        with_(pod(), "spec.containers.0.image", "nginx:2"),
        pod(),
        [],
    ),
    (
        "TestValidatePodUpdate/added container",
        pod(containers=[ctr("a"), ctr("b")]),
        pod(containers=[ctr("a")]),
        [("spec.containers", "Forbidden: pod updates may not add or remove containers", FORB)],
    ),
    (
        "TestValidatePodUpdate/activeDeadlineSeconds raised",
        pod(activeDeadlineSeconds=20),
        pod(activeDeadlineSeconds=10),
        [
            (
                "spec.activeDeadlineSeconds",
                "Invalid value: 20: must be less than or equal to previous value",
                INV,
            )
        ],
    ),
    (
        "TestValidatePodUpdate/activeDeadlineSeconds removed",
        pod(),
        pod(activeDeadlineSeconds=10),
        [
            (
                "spec.activeDeadlineSeconds",
                "Invalid value: null: must not update from a positive integer to nil value",
                INV,
            )
        ],
    ),
    (
        "TestValidatePodUpdate/toleration modified",
        pod(tolerations=[{"key": "a", "operator": "Exists", "effect": "NoSchedule"}]),
        pod(tolerations=[{"key": "a", "operator": "Exists", "effect": "NoExecute"}]),
        [
            (
                "spec.tolerations",
                "Forbidden: existing toleration can not be modified except its tolerationSeconds",
                FORB,
            )
        ],
    ),
]


@pytest.mark.parametrize(
    ("case", "obj", "old", "expected"), POD_UPDATES, ids=[c[0] for c in POD_UPDATES]
)
def test_pod_updates(case: str, obj: Obj, old: Obj, expected: Expected) -> None:
    assert causes("pods", obj, old) == expected


def test_pod_update_of_other_fields_is_forbidden() -> None:
    # TestValidatePodUpdate/"spec: Forbidden: pod updates may not change fields other than ..."
    (cause,) = validate("pods", pod(restartPolicy="Never"), pod())
    assert (cause.field, cause.reason) == ("spec", FORB)
    assert cause.message.startswith(
        "Forbidden: pod updates may not change fields other than `spec.containers[*].image`,"
        "`spec.initContainers[*].image`,`spec.activeDeadlineSeconds`,`spec.tolerations` (only "
        "additions to existing tolerations),`spec.terminationGracePeriodSeconds` (allow it to be "
        "set to 1 if it was previously negative)\n"
    )
    assert '+ spec.restartPolicy: "Never"' in cause.message


# --- services and endpoints ------------------------------------------------------------------

SERVICES: list[tuple[str, Obj, Obj | None, Expected]] = [
    (
        "TestValidateService/missing ports",
        service(ports=[]),
        None,
        [("spec.ports", "Required value", REQ)],
    ),
    ("TestValidateService/headless without ports", service(ports=[], clusterIP="None"), None, []),
    (
        "TestValidateService/missing port names with several ports",
        service(ports=[{"port": 80}, {"port": 81}]),
        None,
        [
            ("spec.ports[0].name", "Required value", REQ),
            ("spec.ports[1].name", "Required value", REQ),
        ],
    ),
    (
        "TestValidateService/invalid port, dup port name",
        service(ports=[{"name": "p", "port": 70000}, {"name": "p", "port": 81}]),
        None,
        [
            ("spec.ports[0].port", f"Invalid value: 70000: {PORT_RANGE}", INV),
            # targetPort is defaulted to port, so it is out of range too
            ("spec.ports[0].targetPort", f"Invalid value: 70000: {PORT_RANGE}", INV),
            ("spec.ports[1].name", 'Duplicate value: "p"', DUP),
        ],
    ),
    (
        "TestValidateService/invalid targetPort name",
        service(ports=[{"port": 80, "targetPort": "bad_name"}]),
        None,
        [
            (
                "spec.ports[0].targetPort",
                'Invalid value: "bad_name": must contain only alpha-numeric characters (a-z, 0-9), '
                "and hyphens (-)",
                INV,
            )
        ],
    ),
    (
        "TestValidateService/nodePort on ClusterIP",
        service(ports=[{"port": 80, "nodePort": 30001}]),
        None,
        [("spec.ports[0].nodePort", "Forbidden: may not be used when `type` is 'ClusterIP'", FORB)],
    ),
    (
        "TestValidateService/duplicate port",
        service(ports=[{"name": "a", "port": 80}, {"name": "b", "port": 80}]),
        None,
        [
            (
                "spec.ports[1]",
                'Duplicate value: core.ServicePort{Name:"", Protocol:"TCP", '
                "AppProtocol:(*string)(nil), Port:80, "
                'TargetPort:intstr.IntOrString{Type:0, IntVal:0, StrVal:""}, NodePort:0}',
                DUP,
            )
        ],
    ),
    (
        "TestValidateService/invalid type",
        service(type="Foo"),
        None,
        [
            (
                "spec.type",
                'Unsupported value: "Foo": supported values: "ClusterIP", "ExternalName", '
                '"LoadBalancer", "NodePort"',
                UNS,
            )
        ],
    ),
    (
        "TestValidateService/ExternalName without externalName",
        service(type="ExternalName"),
        None,
        [("spec.externalName", "Required value", REQ)],
    ),
    (
        "TestValidateService/headless NodePort",
        service(type="NodePort", clusterIP="None"),
        None,
        [
            (
                "spec.clusterIPs[0]",
                "Invalid value: \"None\": may not be set to 'None' for NodePort services",
                INV,
            )
        ],
    ),
    (
        "TestValidateService/externalTrafficPolicy on ClusterIP",
        service(externalTrafficPolicy="Local"),
        None,
        [
            (
                "spec.externalTrafficPolicy",
                'Invalid value: "Local": may only be set for externally-accessible services',
                INV,
            )
        ],
    ),
    (
        "TestValidateService/invalid clusterIP",
        service(clusterIP="10.0.0.256"),
        None,
        [
            (
                "spec.clusterIPs[0]",
                'Invalid value: "10.0.0.256": must be a valid IP address, (e.g. 10.9.8.7 or '
                "2001:db8::ffff)",
                INV,
            )
        ],
    ),
    (
        "TestValidateServiceUpdate/change clusterIP",
        service(clusterIP="10.0.0.2", clusterIPs=["10.0.0.2"]),
        service(clusterIP="10.0.0.1", clusterIPs=["10.0.0.1"]),
        [
            (
                "spec.clusterIPs[0]",
                'Invalid value: []string{"10.0.0.2"}: may not change once set',
                INV,
            )
        ],
    ),
    (
        "TestValidateServiceUpdate/clusterIP left out is kept",
        service(),
        service(clusterIP="10.0.0.1", clusterIPs=["10.0.0.1"]),
        [],
    ),
    (
        "TestValidateEndpointsCreate/no addresses, loopback ip",
        {
            "metadata": {"name": "e"},
            "subsets": [{"ports": [{"port": 80}]}, {"addresses": [{"ip": "127.0.0.1"}]}],
        },
        None,
        [
            ("subsets[0]", "Required value: must specify `addresses` or `notReadyAddresses`", REQ),
            (
                "subsets[1].addresses[0].ip",
                'Invalid value: "127.0.0.1": may not be in the loopback range '
                "(127.0.0.0/8, ::1/128)",
                INV,
            ),
        ],
    ),
]


@pytest.mark.parametrize(("case", "obj", "old", "expected"), SERVICES, ids=[c[0] for c in SERVICES])
def test_services(case: str, obj: Obj, old: Obj | None, expected: Expected) -> None:
    plural = "endpoints" if "subsets" in obj else "services"
    assert causes(plural, obj, old) == expected


# --- apps ------------------------------------------------------------------------------------

EMPTY_SELECTOR = (
    "v1.LabelSelector{MatchLabels:map[string]string(nil), "
    "MatchExpressions:[]v1.LabelSelectorRequirement(nil)}"
)

APPS: list[tuple[str, str, Obj, Obj | None, Expected]] = [
    (
        "TestValidateDeployment/selector does not match template labels",
        "deployments",
        deployment(template=template({"app": "other"})),
        None,
        [
            (
                "spec.template.metadata.labels",
                f'Invalid value: map[string]string{{"app":"other"}}: {MISMATCH}',
                INV,
            )
        ],
    ),
    (
        "TestValidateDeployment/missing selector",
        "deployments",
        deployment(selector=None),
        None,
        [
            ("spec.selector", "Required value", REQ),
            (
                "spec.template.metadata.labels",
                f'Invalid value: map[string]string{{"app":"web"}}: {MISMATCH}',
                INV,
            ),
        ],
    ),
    (
        "TestValidateDeployment/empty selector",
        "deployments",
        deployment(selector={}),
        None,
        [
            (
                "spec.selector",
                f"Invalid value: {EMPTY_SELECTOR}: empty selector is invalid for deployment",
                INV,
            )
        ],
    ),
    (
        "TestValidateDeployment/negative replicas, template restartPolicy",
        "deployments",
        deployment(replicas=-1, template=template(restartPolicy="Never")),
        None,
        [
            ("spec.replicas", f"Invalid value: -1: {NEGATIVE}", INV),
            (
                "spec.template.spec.restartPolicy",
                'Unsupported value: "Never": supported values: "Always"',
                UNS,
            ),
        ],
    ),
    (
        "TestValidateDeployment/maxSurge and maxUnavailable both 0",
        "deployments",
        deployment(
            strategy={
                "type": "RollingUpdate",
                "rollingUpdate": {"maxSurge": 0, "maxUnavailable": 0},
            }
        ),
        None,
        [
            (
                "spec.strategy.rollingUpdate.maxUnavailable",
                'Invalid value: intstr.IntOrString{Type:0, IntVal:0, StrVal:""}: may not be 0 when '
                "`maxSurge` is 0",
                INV,
            )
        ],
    ),
    (
        "TestValidateDeployment/maxUnavailable over 100%, bad maxSurge",
        "deployments",
        deployment(strategy={"rollingUpdate": {"maxUnavailable": "110%", "maxSurge": "abc"}}),
        None,
        [
            (
                "spec.strategy.rollingUpdate.maxUnavailable",
                'Invalid value: intstr.IntOrString{Type:1, IntVal:0, StrVal:"110%"}: must not be '
                "greater than 100%",
                INV,
            ),
            (
                "spec.strategy.rollingUpdate.maxSurge",
                'Invalid value: intstr.IntOrString{Type:1, IntVal:0, StrVal:"abc"}: '
                f"{PERCENT_MSG}",
                INV,
            ),
        ],
    ),
    (
        "TestValidateDeployment/rollingUpdate with Recreate",
        "deployments",
        deployment(strategy={"type": "Recreate", "rollingUpdate": {}}),
        None,
        [
            (
                "spec.strategy.rollingUpdate",
                "Forbidden: may not be specified when strategy `type` is 'Recreate'",
                FORB,
            )
        ],
    ),
    (
        "TestValidateDeployment/progressDeadlineSeconds not above minReadySeconds",
        "deployments",
        deployment(minReadySeconds=10, progressDeadlineSeconds=10),
        None,
        [
            (
                "spec.progressDeadlineSeconds",
                "Invalid value: 10: must be greater than minReadySeconds",
                INV,
            )
        ],
    ),
    (
        "TestValidateDeploymentUpdate (strategy)/selector is immutable",
        "deployments",
        deployment(
            selector={"matchLabels": {"app": "web", "v": "2"}},
            template=template({"app": "web", "v": "2"}),
        ),
        deployment(),
        [
            (
                "spec.selector",
                "Invalid value: v1.LabelSelector{"
                'MatchLabels:map[string]string{"app":"web", "v":"2"}, '
                "MatchExpressions:[]v1.LabelSelectorRequirement(nil)}: field is immutable",
                INV,
            )
        ],
    ),
    (
        "TestValidateReplicaSet/invalid selector operator",
        "replicasets",
        deployment(
            selector={"matchExpressions": [{"key": "app", "operator": "Is", "values": ["web"]}]}
        ),
        None,
        [
            (
                "spec.selector.matchExpressions[0].operator",
                'Invalid value: "Is": not a valid selector operator',
                INV,
            ),
            (
                "spec.selector",
                "Invalid value: v1.LabelSelector{MatchLabels:map[string]string(nil), "
                "MatchExpressions:[]v1.LabelSelectorRequirement{"
                'v1.LabelSelectorRequirement{Key:"app", '
                'Operator:"Is", Values:[]string{"web"}}}}: invalid label selector',
                INV,
            ),
        ],
    ),
    (
        "TestValidateStatefulSet/invalid podManagementPolicy",
        "statefulsets",
        deployment(podManagementPolicy="Random"),
        None,
        [
            (
                "spec.podManagementPolicy",
                "Invalid value: \"Random\": must be 'OrderedReady' or 'Parallel'",
                INV,
            )
        ],
    ),
    (
        "TestValidateStatefulSetUpdate/updating serviceName",
        "statefulsets",
        deployment(serviceName="b"),
        deployment(serviceName="a"),
        [
            (
                "spec",
                "Forbidden: updates to statefulset spec for fields other than 'replicas', "
                "'ordinals', 'template', 'updateStrategy', 'persistentVolumeClaimRetentionPolicy' "
                "and 'minReadySeconds' are forbidden",
                FORB,
            )
        ],
    ),
    (
        "TestValidateStatefulSetUpdate/scaling",
        "statefulsets",
        deployment(replicas=5),
        deployment(),
        [],
    ),
    (
        "TestValidateDaemonSet/maxSurge with maxUnavailable",
        "daemonsets",
        deployment(
            updateStrategy={
                "type": "RollingUpdate",
                "rollingUpdate": {"maxUnavailable": 1, "maxSurge": 1},
            }
        ),
        None,
        [
            (
                "spec.updateStrategy.rollingUpdate.maxSurge",
                'Invalid value: intstr.IntOrString{Type:0, IntVal:1, StrVal:""}: may not be set '
                "when maxUnavailable is non-zero",
                INV,
            )
        ],
    ),
    (
        "TestValidateDaemonSet/empty selector, template mismatch",
        "daemonsets",
        deployment(selector={"matchLabels": {"app": "x"}}),
        None,
        [
            (
                "spec.template.metadata.labels",
                f'Invalid value: map[string]string{{"app":"web"}}: {MISMATCH}',
                INV,
            )
        ],
    ),
    (
        "TestValidateControllerRevision/missing data",
        "controllerrevisions",
        {"metadata": {"name": "r"}, "revision": -1},
        None,
        [
            ("data", "Required value: data is mandatory", REQ),
            ("revision", f"Invalid value: -1: {NEGATIVE}", INV),
        ],
    ),
]


@pytest.mark.parametrize(
    ("case", "plural", "obj", "old", "expected"), APPS, ids=[c[0] for c in APPS]
)
def test_apps(case: str, plural: str, obj: Obj, old: Obj | None, expected: Expected) -> None:
    assert causes(plural, obj, old) == expected


def test_statefulset_names_are_dns_labels() -> None:
    # TestValidateStatefulSet: names are DNS-1123 labels (the generic check allows subdomains).
    obj = with_(deployment(), "metadata.name", "web.v1")
    expected = [("metadata.name", 'Invalid value: "web.v1": must not contain dots', INV)]
    assert causes("statefulsets", obj) == expected


# --- batch -----------------------------------------------------------------------------------

BATCH: list[tuple[str, str, Obj, Obj | None, Expected]] = [
    (
        "TestValidateJob/restartPolicy defaulted to Always",
        "jobs",
        job(template=template()),
        None,
        [
            (
                "spec.template.spec.restartPolicy",
                'Required value: valid values: "OnFailure", "Never"',
                REQ,
            )
        ],
    ),
    (
        "TestValidateJob/negative parallelism, completions, backoffLimit",
        "jobs",
        job(parallelism=-1, completions=-1, backoffLimit=-1),
        None,
        [
            ("spec.parallelism", f"Invalid value: -1: {NEGATIVE}", INV),
            ("spec.completions", f"Invalid value: -1: {NEGATIVE}", INV),
            ("spec.backoffLimit", f"Invalid value: -1: {NEGATIVE}", INV),
        ],
    ),
    (
        "TestValidateJob/manualSelector without selector",
        "jobs",
        job(manualSelector=True),
        None,
        [
            ("spec.selector", "Required value", REQ),
            # a nil selector selects nothing, so it does not match the template either
            (
                "spec.template.metadata.labels",
                f'Invalid value: map[string]string{{"app":"web"}}: {MISMATCH}',
                INV,
            ),
        ],
    ),
    (
        "TestValidateJob/selector does not match template",
        "jobs",
        job(manualSelector=True, selector={"matchLabels": {"app": "other"}}),
        None,
        [
            (
                "spec.template.metadata.labels",
                f'Invalid value: map[string]string{{"app":"web"}}: {MISMATCH}',
                INV,
            )
        ],
    ),
    (
        "TestValidateJob/unsupported restartPolicy",
        "jobs",
        job(template=template(restartPolicy="Sometimes")),
        None,
        [
            (
                "spec.template.spec.restartPolicy",
                'Unsupported value: "Sometimes": supported values: "Always", "OnFailure", "Never"',
                UNS,
            ),
            (
                "spec.template.spec.restartPolicy",
                'Unsupported value: "Sometimes": supported values: "OnFailure", "Never"',
                UNS,
            ),
        ],
    ),
    (
        "TestValidateJobUpdate/immutable completions and template",
        "jobs",
        job(completions=3, template=template(restartPolicy="OnFailure")),
        job(completions=2),
        [
            ("spec.completions", "Invalid value: 3: field is immutable", INV),
            ("spec.template", "Invalid value: core.PodTemplateSpec{...}: field is immutable", INV),
        ],
    ),
    (
        "TestValidateCronJob/bad schedule",
        "cronjobs",
        cronjob(schedule="* * * *"),
        None,
        [
            (
                "spec.schedule",
                'Invalid value: "* * * *": expected exactly 5 fields, found 4: [* * * *]',
                INV,
            )
        ],
    ),
    (
        "TestValidateCronJob/TZ in schedule",
        "cronjobs",
        cronjob(schedule="TZ=UTC 0 * * * *"),
        None,
        [
            (
                "spec.schedule",
                'Invalid value: "TZ=UTC 0 * * * *": cannot use TZ or CRON_TZ in schedule, use '
                "timeZone field instead",
                INV,
            )
        ],
    ),
    (
        "TestValidateCronJob/unknown time zone, bad concurrencyPolicy",
        "cronjobs",
        cronjob(timeZone="Mars/Olympus_Mons", concurrencyPolicy="Sometimes"),
        None,
        [
            (
                "spec.timeZone",
                'Invalid value: "Mars/Olympus_Mons": unknown time zone Mars/Olympus_Mons',
                INV,
            ),
            (
                "spec.concurrencyPolicy",
                'Unsupported value: "Sometimes": supported values: "Allow", "Forbid", "Replace"',
                UNS,
            ),
        ],
    ),
    (
        "TestValidateCronJob/job template restartPolicy, selector",
        "cronjobs",
        cronjob(
            jobTemplate={"spec": {"selector": {"matchLabels": {"a": "b"}}, "template": template()}}
        ),
        None,
        [
            (
                "spec.jobTemplate.spec.template.spec.restartPolicy",
                'Required value: valid values: "OnFailure", "Never"',
                REQ,
            ),
            (
                "spec.jobTemplate.spec.selector",
                'Invalid value: v1.LabelSelector{MatchLabels:map[string]string{"a":"b"}, '
                "MatchExpressions:[]v1.LabelSelectorRequirement(nil)}: "
                "`selector` will be auto-generated",
                INV,
            ),
        ],
    ),
    (
        "TestValidateCronJob/name too long",
        "cronjobs",
        with_(cronjob(), "metadata.name", "a" * 53),
        None,
        [
            (
                "metadata.name",
                f'Invalid value: "{"a" * 53}": must be no more than 52 characters',
                INV,
            )
        ],
    ),
]


@pytest.mark.parametrize(
    ("case", "plural", "obj", "old", "expected"), BATCH, ids=[c[0] for c in BATCH]
)
def test_batch(case: str, plural: str, obj: Obj, old: Obj | None, expected: Expected) -> None:
    assert causes(plural, obj, old) == expected


SCHEDULES = [
    # robfig/cron/v3 parser_test.go (TestParseScheduleErrors, TestStandardSpecSchedule)
    ("@hourly", None),
    ("@every 1h30m", None),
    ("0 0 * * MON-FRI", None),
    ("*/15 9-17 1,15 jan-jun ?", None),
    ("@weekly2", "unrecognized descriptor: @weekly2"),
    ("@every 5", 'failed to parse duration @every 5: time: missing unit in duration "5"'),
    ("60 * * * *", "end of range (60) above maximum (59): 60"),
    ("a * * * *", 'failed to parse int from a: strconv.Atoi: parsing "a": invalid syntax'),
    ("5-1 * * * *", "beginning of range (5) beyond end of range (1): 5-1"),
    ("* * 0 * *", "beginning of range (0) below minimum (1): 0"),
    ("*/0 * * * *", "step of range should be a positive number: */0"),
    ("1-2-3 * * * *", "too many hyphens: 1-2-3"),
    ("* * * * * *", "expected exactly 5 fields, found 6: [* * * * * *]"),
]


@pytest.mark.parametrize(("spec", "error"), SCHEDULES)
def test_cron_schedules(spec: str, error: str | None) -> None:
    assert schedule_error(spec) == error


# --- config and storage ----------------------------------------------------------------------

BIG = "x" * (1024 * 1024 + 1)
BIG64 = "eHh4" * (350 * 1024)  # "xxx" * 350Ki, base64: decodes to 1075200 bytes

CORE: list[tuple[str, str, Obj, Obj | None, Expected]] = [
    (
        "TestValidateConfigMap/invalid key, chdir key",
        "configmaps",
        {"metadata": {"name": "c"}, "data": {"a b": "x", "..": "y"}},
        None,
        [
            ("data[a b]", f'Invalid value: "a b": {CONFIG_KEY_MSG}', INV),
            ("data[..]", "Invalid value: \"..\": must not be '..'", INV),
        ],
    ),
    (
        "TestValidateConfigMap/key in both data and binaryData",
        "configmaps",
        {"metadata": {"name": "c"}, "data": {"k": "x"}, "binaryData": {"k": "eA=="}},
        None,
        [("data[k]", 'Invalid value: "k": duplicate of key present in binaryData', INV)],
    ),
    (
        "TestValidateConfigMap/too big",
        "configmaps",
        {"metadata": {"name": "c"}, "data": {"k": BIG}},
        None,
        [("", "Too long: must have at most 1048576 bytes", "FieldValueTooLong")],
    ),
    (
        "TestValidateConfigMapUpdate/immutable data",
        "configmaps",
        {"metadata": {"name": "c"}, "immutable": True, "data": {"k": "y"}},
        {"metadata": {"name": "c"}, "immutable": True, "data": {"k": "x"}},
        [("data", "Forbidden: field is immutable when `immutable` is set", FORB)],
    ),
    (
        "TestValidateSecret/too big",
        "secrets",
        {"metadata": {"name": "s"}, "data": {"k": BIG64}},
        None,
        [("data", "Too long: must have at most 1048576 bytes", "FieldValueTooLong")],
    ),
    (
        "TestValidateSecret/tls secret without key",
        "secrets",
        {"metadata": {"name": "s"}, "type": "kubernetes.io/tls", "data": {"tls.crt": "YQ=="}},
        None,
        [("data[tls.key]", "Required value", REQ)],
    ),
    (
        "TestValidateSecret/service account token without name annotation",
        "secrets",
        {"metadata": {"name": "s"}, "type": "kubernetes.io/service-account-token"},
        None,
        [("metadata.annotations[kubernetes.io/service-account.name]", "Required value", REQ)],
    ),
    (
        "TestValidateSecret/valid dockerconfigjson",
        "secrets",
        {
            "metadata": {"name": "s"},
            "type": "kubernetes.io/dockerconfigjson",
            "data": {".dockerconfigjson": "e30="},
        },
        None,
        [],
    ),
    (
        "TestValidateSecret/invalid dockerconfigjson",
        "secrets",
        {
            "metadata": {"name": "s"},
            "type": "kubernetes.io/dockerconfigjson",
            "data": {".dockerconfigjson": "ew=="},
        },
        None,
        [
            (
                "data[.dockerconfigjson]",
                'Invalid value: "<secret contents redacted>": unexpected end of JSON input',
                INV,
            )
        ],
    ),
    (
        "TestValidateSecretUpdate/type is immutable",
        "secrets",
        {
            "metadata": {"name": "s"},
            "type": "kubernetes.io/basic-auth",
            "data": {"username": "YQ=="},
        },
        {"metadata": {"name": "s"}, "data": {"username": "YQ=="}},
        [("type", 'Invalid value: "kubernetes.io/basic-auth": field is immutable', INV)],
    ),
    (
        "TestValidateNamespace/non-standard finalizer",
        "namespaces",
        {"metadata": {"name": "ns"}, "spec": {"finalizers": ["foo"]}},
        None,
        [
            (
                "spec.finalizers",
                'Invalid value: "foo": name is neither a standard finalizer name nor is it '
                "fully qualified",
                INV,
            )
        ],
    ),
    (
        "TestValidateNode/taint without effect, duplicate taint",
        "nodes",
        {
            "metadata": {"name": "n"},
            "spec": {
                "taints": [
                    {"key": "a"},
                    {"key": "b", "effect": "NoSchedule"},
                    {"key": "b", "effect": "NoSchedule"},
                ]
            },
        },
        None,
        [
            ("metadata.taints[0].effect", "Required value", REQ),
            (
                "metadata.taints[2]",
                'Duplicate value: core.Taint{Key:"b", Value:"", Effect:"NoSchedule", '
                "TimeAdded:(*v1.Time)(nil)}: taints must be unique by key and effect pair",
                DUP,
            ),
        ],
    ),
    (
        "TestValidateNodeUpdate/podCIDRs changed",
        "nodes",
        {"metadata": {"name": "n"}, "spec": {"podCIDRs": ["10.0.1.0/24"]}},
        {"metadata": {"name": "n"}, "spec": {"podCIDRs": ["10.0.0.0/24"]}},
        [
            (
                "spec.podCIDRs",
                'Forbidden: node updates may not change podCIDR except from "" to valid',
                FORB,
            )
        ],
    ),
    (
        "TestValidatePersistentVolumes/missing accessModes, capacity and volume type",
        "persistentvolumes",
        {"metadata": {"name": "pv"}, "spec": {}},
        None,
        [
            ("spec.accessModes", "Required value", REQ),
            ("spec.capacity", "Required value", REQ),
            (
                "spec.capacity",
                'Unsupported value: core.ResourceList{...}: supported values: "storage"',
                UNS,
            ),
            ("spec", "Required value: must specify a volume type", REQ),
        ],
    ),
    (
        "TestValidatePersistentVolumeClaim/missing accessModes and storage",
        "persistentvolumeclaims",
        {"metadata": {"name": "c"}, "spec": {}},
        None,
        [
            ("spec.accessModes", "Required value: at least 1 access mode is required", REQ),
            ("spec.resources[storage]", "Required value", REQ),
        ],
    ),
    (
        "TestValidatePersistentVolumeClaim/bad access modes, zero storage",
        "persistentvolumeclaims",
        {
            "metadata": {"name": "c"},
            "spec": {
                "accessModes": ["ReadWriteOncePod", "ReadWriteOnce", "Sometimes"],
                "resources": {"requests": {"storage": "0"}},
            },
        },
        None,
        [
            (
                "spec.accessModes",
                'Unsupported value: "Sometimes": supported values: "ReadOnlyMany", '
                '"ReadWriteMany", "ReadWriteOnce", "ReadWriteOncePod"',
                UNS,
            ),
            (
                "spec.accessModes",
                "Forbidden: may not use ReadWriteOncePod with other access modes",
                FORB,
            ),
            ("spec.resources[storage]", 'Invalid value: "0": must be greater than zero', INV),
        ],
    ),
]


@pytest.mark.parametrize(
    ("case", "plural", "obj", "old", "expected"), CORE, ids=[c[0] for c in CORE]
)
def test_core(case: str, plural: str, obj: Obj, old: Obj | None, expected: Expected) -> None:
    assert causes(plural, obj, old) == expected


def test_pvc_spec_is_immutable_but_bound_claims_may_grow() -> None:
    # TestValidatePersistentVolumeClaimUpdate
    spec = {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "1Gi"}}}
    old = {"metadata": {"name": "c"}, "spec": spec, "status": {"phase": "Bound"}}
    grown = with_(old, "spec.resources.requests.storage", "2Gi")
    assert causes("persistentvolumeclaims", grown, old) == []
    changed = with_(old, "spec.storageClassName", "fast")
    (cause,) = validate(
        "persistentvolumeclaims", changed, with_(old, "spec.storageClassName", "slow")
    )
    assert (cause.field, cause.reason) == ("spec", FORB)
    assert cause.message.startswith(
        "Forbidden: spec is immutable after creation except resources.requests and "
        "volumeAttributesClassName for bound claims\n"
    )


# --- scheduling, coordination, policy, autoscaling, rbac, discovery, node -------------------

GROUPS: list[tuple[str, str, Obj, Obj | None, Expected]] = [
    (
        "TestValidatePriorityClass/user value too high",
        "priorityclasses",
        {"metadata": {"name": "tier"}, "value": 2000000000},
        None,
        [
            (
                "value",
                "Forbidden: maximum allowed value of a user defined priority is 1000000000",
                FORB,
            )
        ],
    ),
    (
        "TestValidatePriorityClass/system- prefix",
        "priorityclasses",
        {"metadata": {"name": "system-foo"}, "value": 1},
        None,
        [
            (
                "metadata.name",
                "Forbidden: priority class names with 'system-' prefix are reserved for system use "
                "only. error: system-foo is not a known system priority class",
                FORB,
            )
        ],
    ),
    (
        "TestValidatePriorityClass/system class",
        "priorityclasses",
        {"metadata": {"name": "system-node-critical"}, "value": 2000001000},
        None,
        [],
    ),
    (
        "TestValidatePriorityClassUpdate/value changed",
        "priorityclasses",
        {"metadata": {"name": "tier"}, "value": 2},
        {"metadata": {"name": "tier"}, "value": 1},
        [("value", "Forbidden: may not be changed in an update.", FORB)],
    ),
    (
        "TestValidateLeaseSpec/zero duration, negative transitions",
        "leases",
        {"metadata": {"name": "l"}, "spec": {"leaseDurationSeconds": 0, "leaseTransitions": -1}},
        None,
        [
            ("spec.leaseDurationSeconds", "Invalid value: 0: must be greater than 0", INV),
            ("spec.leaseTransitions", "Invalid value: -1: must be greater than or equal to 0", INV),
        ],
    ),
    (
        "TestValidatePodDisruptionBudgetSpec/minAvailable and maxUnavailable",
        "poddisruptionbudgets",
        {"metadata": {"name": "p"}, "spec": {"minAvailable": 1, "maxUnavailable": "120%"}},
        None,
        [
            (
                "spec",
                "Invalid value: policy.PodDisruptionBudgetSpec{MinAvailable:(*intstr.IntOrString)"
                "(0xc000000000), Selector:(*v1.LabelSelector)(nil), MaxUnavailable:"
                "(*intstr.IntOrString)(0xc000000000), UnhealthyPodEvictionPolicy:"
                "(*policy.UnhealthyPodEvictionPolicyType)(nil)}: minAvailable and maxUnavailable "
                "cannot be both set",
                INV,
            ),
            (
                "spec.maxUnavailable",
                'Invalid value: intstr.IntOrString{Type:1, IntVal:0, StrVal:"120%"}: must not be '
                "greater than 100%",
                INV,
            ),
        ],
    ),
    (
        "TestValidateMinAvailablePodDisruptionBudgetSpec/negative",
        "poddisruptionbudgets",
        {"metadata": {"name": "p"}, "spec": {"minAvailable": -1}},
        None,
        [("spec.minAvailable", f"Invalid value: -1: {NEGATIVE}", INV)],
    ),
    (
        "TestValidateHorizontalPodAutoscaler/minReplicas 0, max below min, no target name",
        "horizontalpodautoscalers",
        {
            "metadata": {"name": "h"},
            "spec": {"minReplicas": 0, "maxReplicas": -1, "scaleTargetRef": {"kind": "Deployment"}},
        },
        None,
        [
            ("spec.minReplicas", "Invalid value: 0: must be greater than or equal to 1", INV),
            ("spec.maxReplicas", "Invalid value: -1: must be greater than 0", INV),
            (
                "spec.maxReplicas",
                "Invalid value: -1: must be greater than or equal to `minReplicas`",
                INV,
            ),
            ("spec.scaleTargetRef.name", "Required value", REQ),
        ],
    ),
    (
        "TestValidateHorizontalPodAutoscaler/resource metric without target",
        "horizontalpodautoscalers",
        {
            "metadata": {"name": "h"},
            "spec": {
                "maxReplicas": 3,
                "scaleTargetRef": {"kind": "Deployment", "name": "web"},
                "metrics": [
                    {
                        "type": "Resource",
                        "resource": {"name": "cpu", "target": {"type": "Utilization"}},
                    }
                ],
            },
        },
        None,
        [
            (
                "spec.metrics[0].resource.target.averageUtilization",
                "Required value: must set either a target raw value or a target utilization",
                REQ,
            )
        ],
    ),
    (
        "TestValidateRole/rule without verbs, namespaced non-resource URL",
        "roles",
        {
            "metadata": {"name": "r"},
            "rules": [
                {"apiGroups": [""], "resources": ["pods"]},
                {"nonResourceURLs": ["/healthz"], "verbs": ["get"]},
            ],
        },
        None,
        [
            ("rules[0].verbs", "Required value: verbs must contain at least one value", REQ),
            (
                "rules[1].nonResourceURLs",
                'Invalid value: []string{"/healthz"}: namespaced rules cannot apply to '
                "non-resource URLs",
                INV,
            ),
        ],
    ),
    (
        "TestValidateClusterRole/aggregation without selectors",
        "clusterroles",
        {"metadata": {"name": "agg"}, "aggregationRule": {"clusterRoleSelectors": []}},
        None,
        [
            (
                "aggregationRule.clusterRoleSelectors",
                "Required value: at least one clusterRoleSelector required if aggregationRule is "
                "non-nil",
                REQ,
            )
        ],
    ),
    (
        "TestValidateClusterRole/aggregation with a bad selector",
        "clusterroles",
        {
            "metadata": {"name": "agg"},
            "aggregationRule": {
                "clusterRoleSelectors": [{"matchExpressions": [{"key": "a", "operator": "In"}]}]
            },
        },
        None,
        [
            (
                "aggregationRule.clusterRoleSelectors[0].matchExpressions[0].values",
                "Required value: must be specified when `operator` is 'In' or 'NotIn'",
                REQ,
            ),
            (
                "aggregationRule.clusterRoleSelectors[0]",
                "Invalid value: null: invalid label selector.",
                INV,
            ),
        ],
    ),
    (
        "TestValidateRoleBinding/empty roleRef, bad subject kind",
        "rolebindings",
        {"metadata": {"name": "b"}, "roleRef": {}, "subjects": [{"kind": "Robot", "name": "r2d2"}]},
        None,
        [
            (
                "roleRef.apiGroup",
                'Unsupported value: "": supported values: "rbac.authorization.k8s.io"',
                UNS,
            ),
            ("roleRef.kind", 'Unsupported value: "": supported values: "Role", "ClusterRole"', UNS),
            ("roleRef.name", "Required value", REQ),
            (
                "subjects[0].kind",
                'Unsupported value: "Robot": supported values: "ServiceAccount", "User", "Group"',
                UNS,
            ),
        ],
    ),
    (
        "TestValidateClusterRoleBinding/service account without namespace, bad name",
        "clusterrolebindings",
        {
            "metadata": {"name": "a/b"},
            "roleRef": {
                "apiGroup": "rbac.authorization.k8s.io",
                "kind": "ClusterRole",
                "name": "view",
            },
            "subjects": [{"kind": "ServiceAccount", "name": "default"}],
        },
        None,
        [
            ("metadata.name", "Invalid value: \"a/b\": may not contain '/'", INV),
            ("subjects[0].namespace", "Required value", REQ),
        ],
    ),
    (
        "TestValidateRoleBindingUpdate/roleRef changed",
        "rolebindings",
        {
            "metadata": {"name": "b"},
            "roleRef": {
                "apiGroup": "rbac.authorization.k8s.io",
                "kind": "ClusterRole",
                "name": "edit",
            },
        },
        {
            "metadata": {"name": "b"},
            "roleRef": {
                "apiGroup": "rbac.authorization.k8s.io",
                "kind": "ClusterRole",
                "name": "view",
            },
        },
        [
            (
                "roleRef",
                'Invalid value: rbac.RoleRef{APIGroup:"rbac.authorization.k8s.io", '
                'Kind:"ClusterRole", Name:"edit"}: cannot change roleRef',
                INV,
            )
        ],
    ),
    (
        "TestValidateEndpointSlice/missing addressType, bad IPv4 and empty addresses",
        "endpointslices",
        {"metadata": {"name": "e"}, "endpoints": [{"addresses": []}]},
        None,
        [
            ("addressType", "Required value", REQ),
            ("endpoints[0].addresses", "Required value: must contain at least 1 address", REQ),
        ],
    ),
    (
        "TestValidateEndpointSlice/invalid IPv4",
        "endpointslices",
        {"metadata": {"name": "e"}, "addressType": "IPv4", "endpoints": [{"addresses": ["foo"]}]},
        None,
        [
            (
                "endpoints[0].addresses[0]",
                'Invalid value: "foo": must be a valid IPv4 address',
                INV,
            ),
            ("endpoints[0].addresses[0]", 'Invalid value: "foo": must be a valid IP address', INV),
        ],
    ),
    (
        "TestValidateEndpointSliceUpdate/addressType is immutable",
        "endpointslices",
        {"metadata": {"name": "e"}, "addressType": "IPv6"},
        {"metadata": {"name": "e"}, "addressType": "IPv4"},
        [("addressType", 'Invalid value: "IPv6": field is immutable', INV)],
    ),
    (
        "TestValidateRuntimeClass/invalid handler",
        "runtimeclasses",
        {"metadata": {"name": "rc"}, "handler": "Bad_Handler"},
        None,
        [("handler", f'Invalid value: "Bad_Handler": {LABEL_MSG}', INV)],
    ),
    (
        "TestValidateRuntimeClassUpdate/handler is immutable",
        "runtimeclasses",
        {"metadata": {"name": "rc"}, "handler": "crun"},
        {"metadata": {"name": "rc"}, "handler": "runc"},
        [("handler", 'Invalid value: "crun": field is immutable', INV)],
    ),
]


@pytest.mark.parametrize(
    ("case", "plural", "obj", "old", "expected"), GROUPS, ids=[c[0] for c in GROUPS]
)
def test_groups(case: str, plural: str, obj: Obj, old: Obj | None, expected: Expected) -> None:
    assert causes(plural, obj, old) == expected


# --- volumes, DNS, security contexts, scheduling details ------------------------------------

SYSCTL_RE = "^([a-z0-9]([-_a-z0-9]*[a-z0-9])?[\\./])*[a-z0-9]([-_a-z0-9]*[a-z0-9])?$"
HOST_PATH_TYPES = (
    '"", "BlockDevice", "CharDevice", "Directory", "DirectoryOrCreate", "File", "FileOrCreate", '
    '"Socket"'
)
TOKEN = {"serviceAccountToken": {"path": "token", "expirationSeconds": 60}}
TERM = {"matchFields": [{"key": "metadata.labels", "operator": "In", "values": ["a"]}]}
NODE_AFFINITY = {"requiredDuringSchedulingIgnoredDuringExecution": {"nodeSelectorTerms": [TERM]}}
REQUIRED_TERM = (
    "spec.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms[0]"
)

DETAILS: list[tuple[str, str, Obj, Expected]] = [
    (
        "TestValidateVolumes/projected token expiring too soon",
        "pods",
        pod(volumes=[{"name": "t", "projected": {"sources": [TOKEN]}}]),
        [
            (
                "spec.volumes[0].projected.sources[0].serviceAccountToken.expirationSeconds",
                "Invalid value: 60: may not specify a duration less than 10 minutes",
                INV,
            )
        ],
    ),
    (
        "TestValidateVolumes/configMap items: missing key, backsteps, reserved path",
        "pods",
        pod(
            volumes=[
                {
                    "name": "c",
                    "configMap": {
                        "name": "c",
                        "items": [{"path": "../x"}, {"key": "k", "path": "..x"}],
                    },
                }
            ]
        ),
        [
            ("spec.volumes[0].configMap.items[0].key", "Required value", REQ),
            (
                "spec.volumes[0].configMap.items[0].path",
                "Invalid value: \"../x\": must not contain '..'",
                INV,
            ),
            (
                "spec.volumes[0].configMap.items[1].path",
                "Invalid value: \"..x\": must not start with '..'",
                INV,
            ),
        ],
    ),
    (
        "TestValidateVolumes/hostPath type",
        "pods",
        pod(volumes=[{"name": "h", "hostPath": {"path": "/x", "type": "Foo"}}]),
        [
            (
                "spec.volumes[0].hostPath.type",
                f'Unsupported value: "Foo": supported values: {HOST_PATH_TYPES}',
                UNS,
            )
        ],
    ),
    (
        "TestValidatePodDNSConfig/None policy without config",
        "pods",
        pod(dnsPolicy="None"),
        [
            (
                "spec.dnsConfig",
                "Required value: must provide `dnsConfig` when `dnsPolicy` is None",
                REQ,
            )
        ],
    ),
    (
        "TestValidatePodDNSConfig/too many nameservers",
        "pods",
        pod(dnsConfig={"nameservers": ["1.1.1.1", "1.1.1.2", "1.1.1.3", "1.1.1.4"]}),
        [
            (
                "spec.dnsConfig.nameservers",
                'Invalid value: []string{"1.1.1.1", "1.1.1.2", "1.1.1.3", "1.1.1.4"}: '
                "must not have more than 3 nameservers",
                INV,
            )
        ],
    ),
    (
        "TestValidatePodSpec/invalid sysctl name",
        "pods",
        pod(securityContext={"sysctls": [{"name": "a..b", "value": "1"}]}),
        [
            (
                "spec.securityContext.sysctls[0].name",
                'Invalid value: "a..b": must have at most 253 characters and match regex '
                f"{SYSCTL_RE}",
                INV,
            )
        ],
    ),
    (
        "TestValidateResourceRequirements/hugepages without cpu or memory",
        "pods",
        pod(
            containers=[
                ctr(
                    resources={
                        "limits": {"hugepages-2Mi": "2Mi"},
                        "requests": {"hugepages-2Mi": "2Mi"},
                    }
                )
            ]
        ),
        [("spec.containers[0].resources", "Forbidden: HugePages require cpu or memory", FORB)],
    ),
    (
        "TestValidatePodCreate/nodeName with scheduling gates, ephemeral containers",
        "pods",
        pod(
            nodeName="n1",
            schedulingGates=[{"name": "example.com/gate"}],
            ephemeralContainers=[{"name": "debug", "image": "busybox"}],
        ),
        [
            ("spec.ephemeralContainers", "Forbidden: cannot be set on create", FORB),
            (
                "spec.nodeName",
                "Forbidden: cannot be set until all schedulingGates have been cleared",
                FORB,
            ),
        ],
    ),
    (
        "TestValidateAffinity/node field selector key",
        "pods",
        pod(affinity={"nodeAffinity": NODE_AFFINITY}),
        [
            (
                f"{REQUIRED_TERM}.matchFields[0].key",
                'Invalid value: "metadata.labels": not a valid field selector key',
                INV,
            )
        ],
    ),
    (
        "TestValidateService/source ranges on ClusterIP, affinity timeout 0",
        "services",
        service(
            loadBalancerSourceRanges=["10.0.0.0/8"],
            sessionAffinity="ClientIP",
            sessionAffinityConfig={"clientIP": {"timeoutSeconds": 0}},
        ),
        [
            (
                "spec.sessionAffinityConfig.clientIP.timeoutSeconds",
                "Invalid value: 0: must be greater than 0 and less than 86400",
                INV,
            ),
            (
                "spec.LoadBalancerSourceRanges",
                "Forbidden: may only be used when `type` is 'LoadBalancer'",
                FORB,
            ),
        ],
    ),
    (
        "TestValidateEndpointSlice/FQDN with one segment",
        "endpointslices",
        {
            "metadata": {"name": "e"},
            "addressType": "FQDN",
            "endpoints": [{"addresses": ["example"]}],
        },
        [
            (
                "endpoints[0].addresses[0]",
                'Invalid value: "example": should be a domain with at least two segments '
                "separated by dots",
                INV,
            )
        ],
    ),
    (
        "TestValidateHorizontalPodAutoscaler/metric without type",
        "horizontalpodautoscalers",
        {
            "metadata": {"name": "h"},
            "spec": {
                "maxReplicas": 1,
                "scaleTargetRef": {"kind": "Deployment", "name": "web"},
                "metrics": [{}],
            },
        },
        [
            ("spec.metrics[0].type", "Required value: must specify a metric source type", REQ),
            (
                "spec.metrics[0].type",
                'Unsupported value: "": supported values: "ContainerResource", "External", '
                '"Object", "Pods", "Resource"',
                UNS,
            ),
            (
                "spec.metrics[0].type",
                'Unsupported value: "": supported values: "ContainerResource", "External", '
                '"Object", "Pods", "Resource"',
                UNS,
            ),
        ],
    ),
]


@pytest.mark.parametrize(
    ("case", "plural", "obj", "expected"), DETAILS, ids=[c[0] for c in DETAILS]
)
def test_details(case: str, plural: str, obj: Obj, expected: Expected) -> None:
    assert causes(plural, obj) == expected


# --- robustness ------------------------------------------------------------------------------

STRATEGIES = {
    "pods": kt.pods, "services": kt.services, "endpoints": kt.endpoints,
    "namespaces": kt.namespaces, "configmaps": kt.config_maps, "secrets": kt.secrets,
    "nodes": kt.nodes, "persistentvolumes": kt.persistent_volumes,
    "persistentvolumeclaims": kt.persistent_volume_claims, "deployments": kt.deployments,
    "replicasets": kt.replica_sets, "daemonsets": kt.daemon_sets,
    "statefulsets": kt.stateful_sets, "controllerrevisions": kt.controller_revisions,
    "jobs": kt.jobs, "cronjobs": kt.cron_jobs,
    "horizontalpodautoscalers": kt.horizontal_pod_autoscalers,
    "leases": kt.leases, "endpointslices": kt.endpoint_slices,
    "poddisruptionbudgets": kt.pod_disruption_budgets, "roles": kt.roles,
    "clusterroles": kt.cluster_roles, "rolebindings": kt.role_bindings,
    "clusterrolebindings": kt.cluster_role_bindings, "priorityclasses": kt.priority_classes,
    "runtimeclasses": kt.runtime_classes,
}  # fmt: skip


def test_every_validated_kind_has_a_strategy() -> None:
    assert set(STRATEGIES) == set(VALIDATORS)


@settings(max_examples=300, deadline=None)
@given(st.data())
def test_any_decodable_object_validates_without_raising(data: st.DataObject) -> None:
    plural = data.draw(st.sampled_from(sorted(STRATEGIES)))
    strategy = STRATEGIES[plural](max_fields=10, max_items=3)
    new, old = to_dict(data.draw(strategy)), to_dict(data.draw(strategy))
    for found in (validate(plural, new, None), validate(plural, new, old)):
        assert all(isinstance(c, Cause) and c.message for c in found)
