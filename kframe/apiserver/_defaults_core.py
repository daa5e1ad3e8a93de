"""Defaulting of core/v1 pods, services and storage, as kube-apiserver applies it on decode.

The facts are upstream's ``pkg/apis/core/v1/defaults.go`` and the generated
``zz_generated.defaults.go`` (which decides which defaulters run inside which objects), at the
Kubernetes release kframe's models come from. Objects stay JSON-shaped dicts: a default only fills
a field that is missing or ``null`` (or, for a Go field that is not a pointer, holds the zero value
``""``/``0``, which Go cannot tell from unset); malformed parts (a string where an object belongs)
are left alone for decoding to reject.

The pod template defaulters (:func:`pod_template_spec`) are what every workload's template gets;
the pod-only ones (:func:`pod`) add what upstream's ``SetDefaults_Pod`` sets on a ``Pod`` alone.
The smaller core/v1 kinds are defaulted in ``_defaults``; the helpers here serve all modules.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import attrs

from kframe.api import models

__all__ = [
    "JSON",
    "fill",
    "fill_zero",
    "items",
    "obj",
    "persistent_volume",
    "persistent_volume_claim",
    "pod",
    "pod_template_spec",
    "pull_policy",
    "pvc_template",
    "service",
    "struct",
]

JSON = dict[str, Any]

# -- helpers ------------------------------------------------------------------------------------


def fill(d: JSON, key: str, value: Any) -> None:
    """Default a pointer field: set it when missing or ``null``."""
    if d.get(key) is None:
        d[key] = value


def fill_zero(d: JSON, key: str, value: Any) -> None:
    """Default a non-pointer string or integer field: also replace ``""`` and ``0``."""
    current = d.get(key)
    if current is None or current == "" or (type(current) is int and current == 0):
        d[key] = value


def obj(d: JSON, key: str) -> JSON | None:
    """The object at ``d[key]`` if there is one (a pointer struct: never created)."""
    value = d.get(key)
    return value if isinstance(value, dict) else None


def struct(d: JSON, key: str) -> JSON | None:
    """The object at ``d[key]``, created empty if missing (a Go struct that is not a pointer).

    ``None`` when the field holds something other than an object: decoding will reject it.
    """
    value = d.get(key)
    if value is None:
        value = d[key] = {}
    return value if isinstance(value, dict) else None


def items(d: JSON | None, key: str) -> Iterator[JSON]:
    """The objects of the list at ``d[key]``, skipping anything malformed."""
    value = d.get(key) if d is not None else None
    if isinstance(value, list):
        yield from (item for item in value if isinstance(item, dict))


# -- image references (k8s.io/kubernetes/pkg/util/parsers.ParseImageName) ------------------------

_DOMAIN_COMPONENT = r"(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])"
_DOMAIN = rf"(?:{_DOMAIN_COMPONENT}(?:\.{_DOMAIN_COMPONENT})*|\[[a-fA-F0-9:]+\])(?::[0-9]+)?"
_PATH_COMPONENT = r"[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*"
_REFERENCE = re.compile(
    rf"((?:{_DOMAIN}/)?{_PATH_COMPONENT}(?:/{_PATH_COMPONENT})*)"
    r"(?::([\w][\w.-]{0,127}))?"
    r"(?:@([A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,}))?"
)
_IDENTIFIER = re.compile(r"[a-f0-9]{64}")
_DIGEST_LENGTHS = {"sha256": 64, "sha384": 96, "sha512": 128}


def _image_tag(image: str) -> str | None:
    """The tag ``ParseImageName`` finds (``latest`` if neither tag nor digest); None if invalid."""
    if _IDENTIFIER.fullmatch(image):
        return None  # a bare image ID is not a repository name
    match = _REFERENCE.fullmatch(image)
    if match is None or len(match[1]) > 255:
        return None
    _name, tag, digest = match.groups()
    if digest is not None:
        algorithm, _, encoded = digest.partition(":")
        if len(encoded) != _DIGEST_LENGTHS.get(algorithm) or not re.fullmatch("[a-f0-9]+", encoded):
            return None
    if tag is None and digest is None:
        return "latest"
    return tag or ""


def pull_policy(image: Any) -> str:
    """``Always`` for an image tagged (or defaulting to) ``latest``, else ``IfNotPresent``."""
    tag = _image_tag(image) if isinstance(image, str) else None
    return "Always" if tag == "latest" else "IfNotPresent"


# -- containers ---------------------------------------------------------------------------------

_CONTAINER_LISTS = ("initContainers", "containers", "ephemeralContainers")


def _field_ref(holder: JSON | None) -> None:
    """SetDefaults_ObjectFieldSelector on ``holder.fieldRef``."""
    ref = obj(holder, "fieldRef") if holder is not None else None
    if ref is not None:
        fill_zero(ref, "apiVersion", "v1")


def _http_get(handler: JSON | None) -> None:
    action = obj(handler, "httpGet") if handler is not None else None
    if action is not None:
        fill_zero(action, "path", "/")
        fill_zero(action, "scheme", "HTTP")


def _probe(probe: JSON) -> None:
    fill_zero(probe, "timeoutSeconds", 1)
    fill_zero(probe, "periodSeconds", 10)
    fill_zero(probe, "successThreshold", 1)
    fill_zero(probe, "failureThreshold", 3)
    _http_get(probe)
    grpc = obj(probe, "grpc")
    if grpc is not None:
        fill(grpc, "service", "")


def _container(c: JSON) -> None:
    """SetDefaults_Container plus the nested defaulters zz_generated runs on a container."""
    fill_zero(c, "imagePullPolicy", pull_policy(c.get("image")))
    fill_zero(c, "terminationMessagePath", "/dev/termination-log")
    fill_zero(c, "terminationMessagePolicy", "File")
    for port in items(c, "ports"):
        fill_zero(port, "protocol", "TCP")
    for env in items(c, "env"):
        _field_ref(obj(env, "valueFrom"))
    for key in ("livenessProbe", "readinessProbe", "startupProbe"):
        probe = obj(c, key)
        if probe is not None:
            _probe(probe)
    lifecycle = obj(c, "lifecycle")
    if lifecycle is not None:
        _http_get(obj(lifecycle, "postStart"))
        _http_get(obj(lifecycle, "preStop"))


# -- volumes ------------------------------------------------------------------------------------

#: VolumeSource's fields: a volume with none of them set is an emptyDir.
_VOLUME_SOURCES = frozenset(f.metadata["json"] for f in attrs.fields(models.Volume)) - {"name"}


def _rbd(rbd: JSON) -> None:
    fill_zero(rbd, "pool", "rbd")
    fill_zero(rbd, "user", "admin")
    fill_zero(rbd, "keyring", "/etc/ceph/keyring")


def _azure_disk(disk: JSON) -> None:
    fill(disk, "cachingMode", "ReadWrite")
    fill(disk, "kind", "Shared")
    fill(disk, "fsType", "ext4")
    fill(disk, "readOnly", False)


def _scale_io(scale_io: JSON) -> None:
    fill_zero(scale_io, "storageMode", "ThinProvisioned")
    fill_zero(scale_io, "fsType", "xfs")


def _host_path(host_path: JSON | None) -> None:
    if host_path is not None:
        fill(host_path, "type", "")  # HostPathUnset


def _downward_api_items(source: JSON) -> None:
    for item in items(source, "items"):
        _field_ref(item)


def _volume(v: JSON) -> None:
    if all(v.get(key) is None for key in _VOLUME_SOURCES):
        v["emptyDir"] = {}
    image = obj(v, "image")
    if image is not None:  # the ImageVolume feature's default
        fill_zero(image, "pullPolicy", pull_policy(image.get("reference")))
    _host_path(obj(v, "hostPath"))
    for key in ("secret", "configMap"):
        source = obj(v, key)
        if source is not None:
            fill(source, "defaultMode", 0o644)
    iscsi = obj(v, "iscsi")
    if iscsi is not None:
        fill_zero(iscsi, "iscsiInterface", "default")
    rbd = obj(v, "rbd")
    if rbd is not None:
        _rbd(rbd)
    downward = obj(v, "downwardAPI")
    if downward is not None:
        fill(downward, "defaultMode", 0o644)
        _downward_api_items(downward)
    disk = obj(v, "azureDisk")
    if disk is not None:
        _azure_disk(disk)
    projected = obj(v, "projected")
    if projected is not None:
        fill(projected, "defaultMode", 0o644)
        for source in items(projected, "sources"):
            downward = obj(source, "downwardAPI")
            if downward is not None:
                _downward_api_items(downward)
            token = obj(source, "serviceAccountToken")
            if token is not None:
                fill(token, "expirationSeconds", 3600)
    scale_io = obj(v, "scaleIO")
    if scale_io is not None:
        _scale_io(scale_io)
    ephemeral = obj(v, "ephemeral")
    template = obj(ephemeral, "volumeClaimTemplate") if ephemeral is not None else None
    if template is not None:
        spec = struct(template, "spec")
        if spec is not None:
            _pvc_spec(spec)


# -- pods ---------------------------------------------------------------------------------------


def pod_spec(spec: JSON) -> None:
    """SetDefaults_PodSpec and the volume and container defaulters: every pod template's."""
    fill_zero(spec, "dnsPolicy", "ClusterFirst")
    fill_zero(spec, "restartPolicy", "Always")
    fill(spec, "securityContext", {})
    fill(spec, "terminationGracePeriodSeconds", 30)
    fill_zero(spec, "schedulerName", "default-scheduler")
    for volume in items(spec, "volumes"):
        _volume(volume)
    for key in _CONTAINER_LISTS:
        for container in items(spec, key):
            _container(container)


def pod_template_spec(holder: JSON, key: str = "template") -> None:
    """Default the (non-pointer) pod template at ``holder[key]``."""
    template = struct(holder, key)
    spec = struct(template, "spec") if template is not None else None
    if spec is not None:
        pod_spec(spec)


def pod(pod: JSON) -> None:
    """SetObjectDefaults_Pod: the template defaults plus SetDefaults_Pod's."""
    spec = struct(pod, "spec")
    if spec is None:
        return
    for key in ("containers", "initContainers"):
        for container in items(spec, key):
            # Requests default to limits on a Pod only, never in a template.
            resources = obj(container, "resources")
            limits = obj(resources, "limits") if resources is not None else None
            if resources is None or limits is None:
                continue
            requests = resources.get("requests")
            if requests is None:
                requests = {}
            if isinstance(requests, dict):
                for name, value in limits.items():
                    requests.setdefault(name, value)
                if requests:
                    resources["requests"] = requests
    fill(spec, "enableServiceLinks", True)
    if spec.get("hostNetwork") is True:
        for key in ("containers", "initContainers"):
            for container in items(spec, key):
                for port in items(container, "ports"):
                    container_port = port.get("containerPort")
                    if type(container_port) is int and container_port:
                        fill_zero(port, "hostPort", container_port)
    pod_spec(spec)


# -- services and endpoints ---------------------------------------------------------------------

_EXTERNAL_TYPES = ("NodePort", "LoadBalancer")


def service(svc: JSON) -> None:
    spec = struct(svc, "spec")
    if spec is None:
        return
    fill_zero(spec, "sessionAffinity", "None")
    if spec["sessionAffinity"] == "None":
        spec.pop("sessionAffinityConfig", None)
    elif spec["sessionAffinity"] == "ClientIP":
        config = obj(spec, "sessionAffinityConfig")
        client_ip = obj(config, "clientIP") if config is not None else None
        if client_ip is None or client_ip.get("timeoutSeconds") is None:
            spec["sessionAffinityConfig"] = {"clientIP": {"timeoutSeconds": 10800}}
    fill_zero(spec, "type", "ClusterIP")
    kind = spec["type"]
    for port in items(spec, "ports"):
        fill_zero(port, "protocol", "TCP")
        number = port.get("port")
        if type(number) is int:
            fill_zero(port, "targetPort", number)
    external_ips = spec.get("externalIPs")
    if kind in _EXTERNAL_TYPES or (kind == "ClusterIP" and external_ips):
        fill_zero(spec, "externalTrafficPolicy", "Cluster")
    if kind in (*_EXTERNAL_TYPES, "ClusterIP"):
        fill(spec, "internalTrafficPolicy", "Cluster")
    if kind == "LoadBalancer":
        fill(spec, "allocateLoadBalancerNodePorts", True)
        status = obj(svc, "status")
        balancer = obj(status, "loadBalancer") if status is not None else None
        for ingress in items(balancer, "ingress"):
            if ingress.get("ip"):
                fill(ingress, "ipMode", "VIP")


# -- storage ------------------------------------------------------------------------------------


def _pvc_spec(spec: JSON) -> None:
    fill(spec, "volumeMode", "Filesystem")


def pvc_template(claim: JSON) -> None:
    """SetDefaults_PersistentVolumeClaim and its spec's: a claim or a StatefulSet's template."""
    status = struct(claim, "status")
    if status is not None:
        fill_zero(status, "phase", "Pending")
    spec = struct(claim, "spec")
    if spec is not None:
        _pvc_spec(spec)


def persistent_volume_claim(claim: JSON) -> None:
    pvc_template(claim)


def persistent_volume(pv: JSON) -> None:
    status = struct(pv, "status")
    if status is not None:
        fill_zero(status, "phase", "Pending")
    spec = struct(pv, "spec")
    if spec is None:
        return
    fill_zero(spec, "persistentVolumeReclaimPolicy", "Retain")
    fill(spec, "volumeMode", "Filesystem")
    _host_path(obj(spec, "hostPath"))
    rbd = obj(spec, "rbd")
    if rbd is not None:
        _rbd(rbd)
    iscsi = obj(spec, "iscsi")
    if iscsi is not None:
        fill_zero(iscsi, "iscsiInterface", "default")
    disk = obj(spec, "azureDisk")
    if disk is not None:
        _azure_disk(disk)
    scale_io = obj(spec, "scaleIO")
    if scale_io is not None:
        _scale_io(scale_io)
