"""ConfigMaps, Secrets, Namespaces, Nodes, PersistentVolumes and PersistentVolumeClaims:
``pkg/apis/core/validation``.
"""

from __future__ import annotations

import base64
import binascii
import json
from typing import Any

from kframe.apiserver._errors import Cause
from kframe.apiserver._validate_containers import quantity_value
from kframe.apiserver._validate_field import (
    Go,
    Obj,
    diff,
    duplicate,
    forbidden,
    immutable,
    invalid,
    not_supported,
    quantity,
    required,
    same,
    too_long,
)
from kframe.apiserver._validate_formats import (
    cidr_causes,
    dns_subdomain,
    is_config_map_key,
    parse_ip,
    qualified_name,
)
from kframe.apiserver._validate_scheduling import node_selector, taints
from kframe.apiserver._validate_volumes import (
    VOLUME_MODES,
    access_modes,
    csi_driver,
    no_backsteps,
    pvc_spec,
)

MAX_SIZE = 1024 * 1024
_IMMUTABLE_SET = "field is immutable when `immutable` is set"
_STANDARD_FINALIZERS = ("kubernetes", "orphan", "foregroundDeletion")
_PV_SOURCES = (
    "hostPath", "gcePersistentDisk", "awsElasticBlockStore", "glusterfs", "flocker", "nfs", "rbd",
    "quobyte", "cephfs", "iscsi", "cinder", "fc", "flexVolume", "azureFile", "vsphereVolume",
    "photonPersistentDisk", "portworxVolume", "azureDisk", "scaleIO", "local", "storageos", "csi",
)  # fmt: skip


def _decoded_len(value: Any) -> int:
    try:
        return len(base64.b64decode(str(value), validate=True))
    except (binascii.Error, ValueError):
        return len(str(value))


def _immutable_data(obj: Obj, old: Obj | None, keys: tuple[str, ...]) -> list[Cause]:
    if old is None or not old.get("immutable"):
        return []
    errs = [] if obj.get("immutable") else [forbidden("immutable", _IMMUTABLE_SET)]
    return errs + [forbidden(k, _IMMUTABLE_SET) for k in keys if obj.get(k) != old.get(k)]


def validate_configmap(obj: Obj, old: Obj | None) -> list[Cause]:
    errs = _immutable_data(obj, old, ("data", "binaryData"))
    data, binary = obj.get("data") or {}, obj.get("binaryData") or {}
    total = 0
    for key, value in data.items():
        errs += [invalid(f"data[{key}]", key, m) for m in is_config_map_key(key)]
        if key in binary:
            errs.append(invalid(f"data[{key}]", key, "duplicate of key present in binaryData"))
        total += len(str(value).encode())
    for key, value in binary.items():
        errs += [invalid(f"binaryData[{key}]", key, m) for m in is_config_map_key(key)]
        total += _decoded_len(value)
    if total > MAX_SIZE:
        errs.append(too_long("", MAX_SIZE))
    return errs


def _json_error(raw: Any) -> str | None:
    """What Go's ``json.Unmarshal`` into a map says about a docker config, roughly."""
    try:
        text = base64.b64decode(str(raw)).decode("utf-8", "replace")
    except (binascii.Error, ValueError):
        text = str(raw)
    try:
        value = json.loads(text)
    except json.JSONDecodeError as err:
        if not text.strip() or err.pos >= len(text):
            return "unexpected end of JSON input"
        return f"invalid character {text[err.pos]!r} looking for beginning of value"
    if not isinstance(value, dict):
        kind = {list: "array", str: "string", bool: "bool"}.get(type(value), "number")
        return f"json: cannot unmarshal {kind} into Go value of type map[string]interface {{}}"
    return None


def validate_secret(obj: Obj, old: Obj | None) -> list[Cause]:
    errs: list[Cause] = []
    kind = obj.get("type") or "Opaque"
    if old is not None and kind != (old.get("type") or "Opaque"):
        errs.append(immutable("type", kind))
    errs += _immutable_data(obj, old, ("data",))
    data: dict[str, Any] = dict(obj.get("data") or {})
    for key, value in (obj.get("stringData") or {}).items():  # merged into data upstream
        data[key] = base64.b64encode(str(value).encode()).decode()
    total = 0
    for key, value in data.items():
        errs += [invalid(f"data[{key}]", key, m) for m in is_config_map_key(key)]
        total += _decoded_len(value)
    if total > MAX_SIZE:
        errs.append(too_long("data", MAX_SIZE))
    annotations = (obj.get("metadata") or {}).get("annotations") or {}
    if kind == "kubernetes.io/service-account-token":
        name_key = "kubernetes.io/service-account.name"
        if not annotations.get(name_key):
            errs.append(required(f"metadata.annotations[{name_key}]"))
    elif kind in ("kubernetes.io/dockercfg", "kubernetes.io/dockerconfigjson"):
        key = ".dockercfg" if kind == "kubernetes.io/dockercfg" else ".dockerconfigjson"
        if key not in data:
            errs.append(required(f"data[{key}]"))
        elif problem := _json_error(data[key]):
            errs.append(invalid(f"data[{key}]", "<secret contents redacted>", problem))
    elif kind == "kubernetes.io/basic-auth":
        if "username" not in data and "password" not in data:
            errs += [required("data[username]"), required("data[password]")]
    elif kind == "kubernetes.io/ssh-auth":
        if not data.get("ssh-privatekey"):
            errs.append(required("data[ssh-privatekey]"))
    elif kind == "kubernetes.io/tls":
        errs += [required(f"data[{k}]") for k in ("tls.crt", "tls.key") if k not in data]
    return errs


def validate_namespace(obj: Obj, old: Obj | None) -> list[Cause]:
    errs: list[Cause] = []
    for name in (obj.get("spec") or {}).get("finalizers") or []:
        errs += qualified_name(name, "spec.finalizers")
        if "/" not in name and name not in _STANDARD_FINALIZERS:
            detail = "name is neither a standard finalizer name nor is it fully qualified"
            errs.append(invalid("spec.finalizers", name, detail))
    return errs


def validate_node(obj: Obj, old: Obj | None) -> list[Cause]:
    spec, status = obj.get("spec") or {}, obj.get("status") or {}
    errs = taints(spec.get("taints") or [], "metadata.taints")
    for kind in ("capacity", "allocatable"):
        for name, raw in (status.get(kind) or {}).items():
            if (q := quantity(raw)) is not None:
                errs += quantity_value(name, q, f"status.{kind}.{name}")
    cidrs = spec.get("podCIDRs") or []
    for i, cidr in enumerate(cidrs):
        errs += cidr_causes(f"spec.podCIDRs[{i}]", cidr)
    if len(cidrs) > 1 and not errs:
        versions = {4 if parse_ip(c.split("/")[0]) and ":" not in c else 6 for c in cidrs}
        if len(cidrs) > 2 or len(versions) != 2:
            detail = "may specify no more than one CIDR for each IP family"
            errs.append(invalid("spec.podCIDRs", cidrs, detail))
        errs += [duplicate(f"spec.podCIDRs[{i}]", c) for i, c in enumerate(cidrs) if c in cidrs[:i]]
    if old is None:
        return errs
    old_spec = old.get("spec") or {}
    seen: list[Any] = []
    for i, address in enumerate(status.get("addresses") or []):
        if address in seen:
            shown = Go(
                f'core.NodeAddress{{Type:"{address.get("type", "")}", '
                f'Address:"{address.get("address", "")}"}}'
            )
            errs.append(duplicate(f"status.addresses[{i}]", shown))
        seen.append(address)
    old_cidrs = old_spec.get("podCIDRs") or []
    detail = 'node updates may not change podCIDR except from "" to valid'
    if old_cidrs and len(old_cidrs) != len(cidrs):
        errs.append(forbidden("spec.podCIDRs", detail))
    elif old_cidrs:
        changed = [a for a, b in zip(old_cidrs, cidrs, strict=True) if a != b]
        errs += [forbidden("spec.podCIDRs", detail) for _ in changed]
    if old_spec.get("providerID") and old_spec.get("providerID") != spec.get("providerID"):
        detail = 'node updates may not change providerID except from "" to valid'
        errs.append(forbidden("spec.providerID", detail))
    if spec.get("externalID") != old_spec.get("externalID"):
        errs.append(forbidden("spec.externalID", "may not be updated"))
    return errs


def _pv_source(spec: Obj, has_affinity: bool) -> list[Cause]:
    errs: list[Cause] = []
    count = 0
    for key in _PV_SOURCES:
        src = spec.get(key)
        if src is None:
            continue
        if count and key != "flexVolume":
            errs.append(forbidden(f"spec.{key}", "may not specify more than 1 volume type"))
            continue
        count += 1
        path = f"spec.{key}"
        if key in ("hostPath", "local"):
            target = src.get("path") or ""
            if not target:
                errs.append(required(f"{path}.path"))
                continue
            errs += no_backsteps(target, f"{path}.path")
            if key == "local" and not has_affinity:
                errs.append(required("spec.nodeAffinity", "Local volume requires node affinity"))
        elif key == "nfs":
            errs += [] if src.get("server") else [required(f"{path}.server")]
            errs += [] if src.get("path") else [required(f"{path}.path")]
            if not (src.get("path") or "").startswith("/"):
                errs.append(
                    invalid(f"{path}.path", src.get("path") or "", "must be an absolute path")
                )
        elif key == "csi":
            errs += csi_driver(src.get("driver") or "", f"{path}.driver")
            errs += [] if src.get("volumeHandle") else [required(f"{path}.volumeHandle")]
    if count == 0:
        errs.append(required("spec", "must specify a volume type"))
    return errs


def validate_pv(obj: Obj, old: Obj | None) -> list[Cause]:
    spec = obj.get("spec") or {}
    modes = spec.get("accessModes") or []
    errs = [] if modes else [required("spec.accessModes")]
    errs += access_modes(modes, "spec.accessModes")
    capacity = spec.get("capacity") or {}
    if not capacity:
        errs.append(required("spec.capacity"))
    if "storage" not in capacity or len(capacity) > 1:
        errs.append(not_supported("spec.capacity", Go("core.ResourceList{...}"), ("storage",)))
    for name, raw in capacity.items():
        if (q := quantity(raw)) is not None:
            if q.value() < 0:
                errs.append(
                    invalid(
                        f"spec.capacity[{name}]", q.value(), "must be a valid resource quantity"
                    )
                )
            if q <= 0:
                errs.append(invalid(f"spec.capacity[{name}]", str(q), "must be greater than zero"))
    policy = spec.get("persistentVolumeReclaimPolicy", "Retain")
    if policy and policy not in ("Delete", "Recycle", "Retain"):
        supported = ("Delete", "Recycle", "Retain")
        errs.append(not_supported("spec.persistentVolumeReclaimPolicy", policy, supported))
    affinity = spec.get("nodeAffinity")
    if affinity is not None:
        if affinity.get("required") is not None:
            errs += node_selector(affinity["required"], "spec.nodeAffinity.required")
        else:
            detail = "must specify required node constraints"
            errs.append(required("spec.nodeAffinity.required", detail))
    errs += _pv_source(spec, affinity is not None)
    host = (spec.get("hostPath") or {}).get("path")
    if host is not None and host.rstrip("/") == "" and host.startswith("/") and policy == "Recycle":
        detail = "may not be 'recycle' for a hostPath mount of '/'"
        errs.append(forbidden("spec.persistentVolumeReclaimPolicy", detail))
    if spec.get("storageClassName"):
        errs += dns_subdomain(spec["storageClassName"], "spec.storageClassName")
    mode = spec.get("volumeMode")
    if mode is not None and mode not in VOLUME_MODES:
        errs.append(not_supported("spec.volumeMode", mode, VOLUME_MODES))
    if old is None:
        return errs
    old_spec = old.get("spec") or {}
    source = {k: spec.get(k) for k in _PV_SOURCES}
    old_source = {k: old_spec.get(k) for k in _PV_SOURCES}
    if not same(source, old_source):
        changes = "\n".join(diff(old_source, source))
        detail = f"spec.persistentvolumesource is immutable after creation\n{changes}"
        errs.append(forbidden("spec.persistentvolumesource", detail))
    if spec.get("volumeMode") != old_spec.get("volumeMode"):
        errs.append(immutable("volumeMode", spec.get("volumeMode")))
    if old_spec.get("nodeAffinity") is not None and not same(affinity, old_spec["nodeAffinity"]):
        detail = "field is immutable, except for updating from beta label to GA"
        errs.append(invalid("nodeAffinity", Go("core.VolumeNodeAffinity{...}"), detail))
    return errs


def _requests(spec: Obj) -> dict[str, Any]:
    requests: dict[str, Any] = (spec.get("resources") or {}).get("requests") or {}
    return requests


def validate_pvc(obj: Obj, old: Obj | None) -> list[Cause]:
    spec = obj.get("spec") or {}
    errs = pvc_spec(spec, "spec")
    if old is None:
        return errs
    old_spec = dict(old.get("spec") or {})
    munged = dict(spec)
    if not old_spec.get("volumeName"):
        old_spec["volumeName"] = spec.get("volumeName")
    if old_spec.get("storageClassName") is None and spec.get("storageClassName") is not None:
        beta = ((old.get("metadata") or {}).get("annotations") or {}).get(
            "volume.beta.kubernetes.io/storage-class"
        )
        if beta is None or beta == spec["storageClassName"]:
            munged["storageClassName"] = None
    bound = (obj.get("status") or {}).get("phase") == "Bound"
    if bound and "storage" in _requests(munged):
        munged["resources"] = {
            **(munged.get("resources") or {}),
            "requests": {**_requests(munged), "storage": _requests(old_spec).get("storage")},
        }
    if not same(munged, old_spec):
        changes = "\n".join(diff(old_spec, munged, "spec"))
        detail = (
            "spec is immutable after creation except resources.requests and "
            f"volumeAttributesClassName for bound claims\n{changes}"
        )
        errs.append(forbidden("spec", detail))
    new_size, old_size = (
        quantity(_requests(spec).get("storage")),
        quantity(_requests(old_spec).get("storage")),
    )
    capacity = quantity(((old.get("status") or {}).get("capacity") or {}).get("storage", 0))
    shrunk = new_size is not None and old_size is not None and new_size < old_size
    if shrunk and capacity is not None and new_size is not None and new_size <= capacity:
        detail = "field can not be less than status.capacity"
        errs.append(forbidden("spec.resources.requests.storage", detail))
    if spec.get("volumeMode") != old_spec.get("volumeMode"):
        errs.append(immutable("volumeMode", spec.get("volumeMode")))
    return errs
