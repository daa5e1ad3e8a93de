"""Pod volumes and claim specs of ``pkg/apis/core/validation`` (``ValidateVolumes``,
``validateVolumeSource``, ``ValidatePersistentVolumeClaimSpec``).

Every volume source counts towards "may not specify more than 1 volume type"; the sources pods
commonly use (emptyDir, hostPath, secret, configMap, PVC, projected, downwardAPI, NFS, CSI,
ephemeral, image) also get their own rules, the legacy in-tree ones only the count.
"""

from __future__ import annotations

from typing import Any

from kframe.api import is_dns1123_subdomain
from kframe.apiserver._errors import Cause
from kframe.apiserver._validate_containers import field_ref
from kframe.apiserver._validate_field import (
    Obj,
    duplicate,
    forbidden,
    go_quote,
    invalid,
    not_supported,
    quantity,
    required,
    too_long,
)
from kframe.apiserver._validate_formats import dns_label, dns_subdomain, label_selector
from kframe.apiserver._validate_probes import local_descending_path

# JSON name of each source, in upstream's order, and the path upstream names it by when it is
# one too many (two are misspelt upstream, and users see them so).
SOURCES = (
    ("emptyDir", "emptyDir"), ("hostPath", "hostPath"), ("gitRepo", "gitRepo"),
    ("gcePersistentDisk", "gcePersistentDisk"), ("awsElasticBlockStore", "awsElasticBlockStore"),
    ("secret", "secret"), ("nfs", "nfs"), ("iscsi", "iscsi"), ("glusterfs", "glusterfs"),
    ("flocker", "flocker"), ("persistentVolumeClaim", "persistentVolumeClaim"), ("rbd", "rbd"),
    ("cinder", "cinder"), ("cephfs", "cephFS"), ("quobyte", "quobyte"),
    ("downwardAPI", "downwarAPI"), ("fc", "fc"), ("flexVolume", "flexVolume"),
    ("configMap", "configMap"), ("azureFile", "azureFile"), ("vsphereVolume", "vsphereVolume"),
    ("photonPersistentDisk", "photonPersistentDisk"), ("portworxVolume", "portworxVolume"),
    ("azureDisk", "azureDisk"), ("storageos", "storageos"), ("projected", "projected"),
    ("scaleIO", "scaleIO"), ("csi", "csi"), ("ephemeral", "ephemeral"), ("image", "image"),
)  # fmt: skip
HOST_PATH_TYPES = ("", "BlockDevice", "CharDevice", "Directory", "DirectoryOrCreate", "File",
                   "FileOrCreate", "Socket")  # fmt: skip
ACCESS_MODES = ("ReadOnlyMany", "ReadWriteMany", "ReadWriteOnce", "ReadWriteOncePod")
VOLUME_MODES = ("Block", "Filesystem")
_FILE_MODE = "must be a number between 0 and 0777 (octal), both inclusive"
_VOLUME_FIELD_PATHS = ("metadata.annotations", "metadata.labels", "metadata.name",
                       "metadata.namespace", "metadata.uid")  # fmt: skip


def no_backsteps(target: str, path: str) -> list[Cause]:
    if ".." in target.replace("\\", "/").split("/"):
        return [invalid(path, target, "must not contain '..'")]
    return []


def non_reserved_path(target: str, path: str) -> list[Cause]:
    """``ValidateLocalNonReservedPath``."""
    errs = local_descending_path(target, path)
    if target.startswith("..") and not target.startswith("../"):
        errs.append(invalid(path, target, "must not start with '..'"))
    return errs


def _mode(value: Any, path: str) -> list[Cause]:
    return (
        [invalid(path, value, _FILE_MODE)] if value is not None and not 0 <= value <= 0o777 else []
    )


def _key_to_path(item: Obj, path: str) -> list[Cause]:
    errs = [] if item.get("key") else [required(f"{path}.key")]
    target = item.get("path") or ""
    if not target:
        errs.append(required(f"{path}.path"))
    return (
        errs + non_reserved_path(target, f"{path}.path") + _mode(item.get("mode"), f"{path}.mode")
    )


def _downward_file(item: Obj, path: str) -> list[Cause]:
    target = item.get("path") or ""
    errs = [] if target else [required(f"{path}.path")]
    errs += non_reserved_path(target, f"{path}.path")
    if item.get("fieldRef") is not None:
        errs += field_ref(item["fieldRef"], f"{path}.fieldRef", _VOLUME_FIELD_PATHS)
        if item.get("resourceFieldRef") is not None:
            detail = "fieldRef and resourceFieldRef can not be specified simultaneously"
            errs.append(invalid(path, "resource", detail))
    elif (ref := item.get("resourceFieldRef")) is not None:
        if not ref.get("containerName"):
            errs.append(required(f"{path}.resourceFieldRef.containerName"))
    else:
        errs.append(required(path, "one of fieldRef and resourceFieldRef is required"))
    return errs + _mode(item.get("mode"), f"{path}.mode")


def _projected(src: Obj, path: str) -> list[Cause]:
    errs = _mode(src.get("defaultMode"), f"{path}.defaultMode")
    paths: set[str] = set()
    for i, source in enumerate(src.get("sources") or []):
        spath = f"{path}.sources[{i}]"
        count = 0
        for key in ("secret", "configMap"):
            if (ref := source.get(key)) is None:
                continue
            count += 1
            if not ref.get("name"):
                errs.append(required(f"{spath}.{key}.name"))
            for j, item in enumerate(ref.get("items") or []):
                errs += _key_to_path(item, f"{spath}.{key}.items[{j}]")
                if target := item.get("path"):
                    if target in paths:
                        errs.append(
                            invalid(path, ref.get("name", ""), "conflicting duplicate paths")
                        )
                    paths.add(target)
        if (downward := source.get("downwardAPI")) is not None:
            count += 1
            for item in downward.get("items") or []:
                errs += _downward_file(item, f"{spath}.downwardAPI")
                if target := item.get("path"):
                    if target in paths:
                        errs.append(invalid(path, target, "conflicting duplicate paths"))
                    paths.add(target)
        if (token := source.get("serviceAccountToken")) is not None:
            count += 1
            seconds, tpath = token.get("expirationSeconds", 3600), f"{spath}.serviceAccountToken"
            if seconds < 600:
                detail = "may not specify a duration less than 10 minutes"
                errs.append(invalid(f"{tpath}.expirationSeconds", seconds, detail))
            if seconds > 1 << 32:
                detail = "may not specify a duration larger than 2^32 seconds"
                errs.append(invalid(f"{tpath}.expirationSeconds", seconds, detail))
            target = token.get("path") or ""
            errs += (
                non_reserved_path(target, f"{path}.path") if target else [required(f"{path}.path")]
            )
        count += source.get("clusterTrustBundle") is not None
        if count > 1:
            errs.append(forbidden(spath, "may not specify more than 1 volume type per source"))
    return errs


def csi_driver(name: str, path: str) -> list[Cause]:
    errs = [] if name else [required(path)]
    if len(name) > 63:
        errs.append(too_long(path, 63))
    return errs + [invalid(path, name, m) for m in is_dns1123_subdomain(name.lower())]


def _source(key: str, src: Obj, path: str, name: str, pod_name: str, is_pod: bool) -> list[Cause]:
    """The rules of one volume source (``path`` names the source)."""
    errs: list[Cause] = []
    if key == "emptyDir":
        limit = quantity(src.get("sizeLimit")) if src.get("sizeLimit") is not None else None
        if limit is not None and limit < 0:
            detail = "SizeLimit field must be a valid resource quantity"
            errs.append(forbidden(f"{path}.sizeLimit", detail))
    elif key == "hostPath":
        target = src.get("path") or ""
        if not target:
            return [required(f"{path}.path")]
        errs += no_backsteps(target, f"{path}.path")
        if src.get("type", "") not in HOST_PATH_TYPES:
            errs.append(not_supported(f"{path}.type", src["type"], HOST_PATH_TYPES))
    elif key in ("secret", "configMap"):
        ref_key = "secretName" if key == "secret" else "name"
        if not src.get(ref_key):
            errs.append(required(f"{path}.{ref_key}"))
        errs += _mode(src.get("defaultMode"), f"{path}.defaultMode")
        for i, item in enumerate(src.get("items") or []):
            errs += _key_to_path(item, f"{path}.items[{i}]")
    elif key == "persistentVolumeClaim" and not src.get("claimName"):
        errs.append(required(f"{path}.claimName"))
    elif key == "nfs":
        errs += [] if src.get("server") else [required(f"{path}.server")]
        target = src.get("path") or ""
        errs += [] if target else [required(f"{path}.path")]
        if not target.startswith("/"):
            errs.append(invalid(f"{path}.path", target, "must be an absolute path"))
    elif key == "downwardAPI":
        errs += _mode(src.get("defaultMode"), f"{path}.defaultMode")
        for item in src.get("items") or []:
            errs += _downward_file(item, path)
    elif key == "projected":
        errs += _projected(src, path)
    elif key == "csi":
        errs += csi_driver(src.get("driver") or "", f"{path}.driver")
    elif key == "ephemeral":
        template = src.get("volumeClaimTemplate")
        if template is None:
            return [required(f"{path}.volumeClaimTemplate")]
        errs += pvc_spec(template.get("spec") or {}, f"{path}.volumeClaimTemplate.spec")
        if pod_name and name:
            claim = f"{pod_name}-{name}"
            errs += [
                invalid(path.rsplit(".", 1)[0] + ".name", name, f"PVC name {go_quote(claim)}: {m}")
                for m in is_dns1123_subdomain(claim)
            ]
    elif key == "image":
        if is_pod and not src.get("reference"):
            errs.append(required(f"{path}.reference"))
        pull = src.get("pullPolicy", "IfNotPresent")
        if pull not in ("Always", "IfNotPresent", "Never"):
            supported = ("Always", "IfNotPresent", "Never")
            errs.append(not_supported(f"{path}.pullPolicy", pull, supported))
    return errs


def volumes(
    items: list[Obj], pod_name: str, path: str, is_pod: bool
) -> tuple[dict[str, Obj], list[Cause]]:
    """``ValidateVolumes``: the valid volumes by name, and every problem found."""
    errs: list[Cause] = []
    found: dict[str, Obj] = {}
    for i, vol in enumerate(items):
        ipath = f"{path}[{i}]"
        name = vol.get("name") or ""
        el: list[Cause] = []
        count = 0
        for key, shown in SOURCES:
            if vol.get(key) is None:
                continue
            if count:
                el.append(forbidden(f"{ipath}.{shown}", "may not specify more than 1 volume type"))
                continue
            count += 1
            checked = {"gcePersistentDisk": "persistentDisk"}.get(key, key)
            el += _source(key, vol[key], f"{ipath}.{checked}", name, pod_name, is_pod)
        if count == 0:
            el.append(required(ipath, "must specify a volume type"))
        el += dns_label(name, f"{ipath}.name") if name else [required(f"{ipath}.name")]
        if name in found:
            el.append(duplicate(f"{ipath}.name", name))
        if el:
            errs += el
        else:
            found[name] = vol
    return found, errs


def pvc_spec(spec: Obj, path: str) -> list[Cause]:
    """``ValidatePersistentVolumeClaimSpec``."""
    modes = spec.get("accessModes") or []
    errs = [] if modes else [required(f"{path}.accessModes", "at least 1 access mode is required")]
    errs += label_selector(spec.get("selector"), f"{path}.selector")
    errs += access_modes(modes, f"{path}.accessModes")
    storage_path = f"{path}.resources[storage]"
    requests = (spec.get("resources") or {}).get("requests") or {}
    if "storage" not in requests:
        errs.append(required(storage_path))
    elif (q := quantity(requests["storage"])) is not None and q <= 0:
        errs.append(invalid(storage_path, str(q), "must be greater than zero"))
    if spec.get("storageClassName"):
        errs += dns_subdomain(spec["storageClassName"], f"{path}.storageClassName")
    mode = spec.get("volumeMode")
    if mode is not None and mode not in VOLUME_MODES:
        errs.append(not_supported(f"{path}.volumeMode", mode, VOLUME_MODES))
    for key in ("dataSource", "dataSourceRef"):
        if (ref := spec.get(key)) is None:
            continue
        rpath = f"{path}.{key}"
        errs += [required(f"{rpath}.{k}") for k in ("name", "kind") if not ref.get(k)]
        group = ref.get("apiGroup") or ""
        if not group and ref.get("kind") != "PersistentVolumeClaim":
            detail = "must be 'PersistentVolumeClaim' when referencing the default apiGroup"
            errs.append(invalid(rpath, ref.get("kind", ""), detail))
        if group:
            errs += dns_subdomain(group, f"{rpath}.apiGroup")
    return errs


def access_modes(modes: list[str], path: str) -> list[Cause]:
    errs = [not_supported(path, m, ACCESS_MODES) for m in modes if m not in ACCESS_MODES]
    if "ReadWriteOncePod" in modes and any(
        m != "ReadWriteOncePod" and m in ACCESS_MODES for m in modes
    ):
        errs.append(forbidden(path, "may not use ReadWriteOncePod with other access modes"))
    return errs
