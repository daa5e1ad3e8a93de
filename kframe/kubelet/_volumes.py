"""Pod volumes the kubelet prepares on the node, and the mounts each container gets.

As upstream's volume manager for the volume kinds that need no storage system: ``emptyDir``
(a directory under ``<root>/pods/<uid>/volumes/kubernetes.io~empty-dir/<name>``), ``hostPath``
(the node's path; created for ``DirectoryOrCreate``), ``configMap`` and ``secret`` (their keys,
or the listed ``items``, written as files with ``defaultMode``/``mode``), ``downwardAPI`` and
``projected`` (configMap, secret and downwardAPI sources). Other kinds are left to the
runtime. A required ConfigMap or Secret that is missing keeps the pod in ContainerCreating with
upstream's ``FailedMount`` message until it appears. Only kubelets with a root directory set
up volumes (fake nodes without one pass no mounts).
"""

from __future__ import annotations

import base64
import os
import shutil
from collections.abc import Mapping, Sequence
from typing import Any

from kframe.api.models import ConfigMap, Container, KeyToPath, Pod, Secret, Volume
from kframe.client import Client
from kframe.kubelet._env import ContainerConfigError, field_value
from kframe.runtime import Mount

__all__ = ["VolumeError", "container_mounts", "pod_dir", "prepare_volumes", "remove_pod_dir"]


class VolumeError(Exception):
    """A volume cannot be set up yet (event ``FailedMount``)."""


def pod_dir(root_dir: str, uid: str) -> str:
    return os.path.join(root_dir, "pods", uid)


async def _object_data(
    client: Client, kind: str, namespace: str, name: str
) -> dict[str, str] | None:
    cls: type[Any] = ConfigMap if kind == "configmap" else Secret
    try:
        obj = await client.get(cls, name, namespace=namespace)
    except Exception as exc:
        if getattr(exc, "code", None) == 404:
            return None
        raise
    if kind == "configmap":
        data = {
            k: base64.b64decode(v).decode("utf-8", "replace") for k, v in obj.binary_data.items()
        }
        return {**data, **obj.data}
    return {k: base64.b64decode(v).decode("utf-8", "replace") for k, v in obj.data.items()}


def _write(directory: str, relative: str, content: str, mode: int) -> None:
    path = os.path.normpath(os.path.join(directory, relative))
    if not path.startswith(os.path.normpath(directory) + os.sep):
        return  # validation forbids '..'; never write outside the volume
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w", encoding="utf-8") as f:
        f.write(content)
    os.chmod(path, mode)


def _write_keys(
    directory: str,
    data: Mapping[str, str],
    items: Sequence[KeyToPath],
    default_mode: int,
    what: str,
    optional: bool,
) -> None:
    if not items:
        for key, value in data.items():
            _write(directory, key, value, default_mode)
        return
    for item in items:
        key = item.key or ""
        if key not in data:
            if optional:
                continue
            raise VolumeError(f"{what}: key {key} not found")
        _write(
            directory,
            item.path or key,
            data[key],
            item.mode if item.mode is not None else default_mode,
        )


async def _source(
    client: Client,
    pod: Pod,
    directory: str,
    source: Any,
    kind: str,
    default_mode: int,
    volume: str,
) -> None:
    meta = pod.metadata
    assert meta is not None
    # SecretVolumeSource says secretName; projections and ConfigMap sources say name.
    name = getattr(source, "secret_name", None) or getattr(source, "name", None) or ""
    optional = bool(source.optional)
    data = await _object_data(client, kind, meta.namespace or "default", name)
    if data is None:
        if optional:
            return
        raise VolumeError(
            f'MountVolume.SetUp failed for volume "{volume}" : {kind} "{name}" not found'
        )
    what = f'MountVolume.SetUp failed for volume "{volume}" : {kind} "{name}"'
    mode = (
        source.default_mode if getattr(source, "default_mode", None) is not None else default_mode
    )
    _write_keys(directory, data, source.items, mode, what, optional)


def _downward(
    pod: Pod, directory: str, items: Sequence[Any], mode: int, pod_ip: str, host_ip: str
) -> None:
    for item in items:
        if item.field_ref is None:
            continue  # resourceFieldRef items: not yet
        try:
            value = field_value(pod, item.field_ref.field_path or "", pod_ip, host_ip)
        except ContainerConfigError:
            continue
        _write(directory, item.path or "", value, item.mode if item.mode is not None else mode)


async def _prepare(
    client: Client, pod: Pod, base: str, volume: Volume, pod_ip: str, host_ip: str
) -> str | None:
    name = volume.name or ""
    if volume.host_path is not None:
        path = volume.host_path.path or "/"
        kind = volume.host_path.type
        if kind == "DirectoryOrCreate" and not os.path.exists(path):
            os.makedirs(path, exist_ok=True)
        elif kind == "FileOrCreate" and not os.path.exists(path):
            os.makedirs(os.path.dirname(path) or "/", exist_ok=True)
            open(path, "a").close()
        return path
    if volume.empty_dir is not None:
        path = os.path.join(base, "kubernetes.io~empty-dir", name)
        os.makedirs(path, exist_ok=True)
        return path
    if volume.config_map is not None:
        path = os.path.join(base, "kubernetes.io~configmap", name)
        os.makedirs(path, exist_ok=True)
        await _source(client, pod, path, volume.config_map, "configmap", 0o644, name)
        return path
    if volume.secret is not None:
        path = os.path.join(base, "kubernetes.io~secret", name)
        os.makedirs(path, exist_ok=True)
        await _source(client, pod, path, volume.secret, "secret", 0o644, name)
        return path
    if volume.downward_api is not None:
        path = os.path.join(base, "kubernetes.io~downward-api", name)
        os.makedirs(path, exist_ok=True)
        mode = volume.downward_api.default_mode or 0o644
        _downward(pod, path, volume.downward_api.items, mode, pod_ip, host_ip)
        return path
    if volume.projected is not None:
        path = os.path.join(base, "kubernetes.io~projected", name)
        os.makedirs(path, exist_ok=True)
        mode = volume.projected.default_mode if volume.projected.default_mode is not None else 0o644
        for projection in volume.projected.sources:
            if projection.config_map is not None:
                await _source(client, pod, path, projection.config_map, "configmap", mode, name)
            if projection.secret is not None:
                await _source(client, pod, path, projection.secret, "secret", mode, name)
            if projection.downward_api is not None:
                _downward(pod, path, projection.downward_api.items, mode, pod_ip, host_ip)
        return path
    return None


async def prepare_volumes(
    client: Client, pod: Pod, root_dir: str, *, pod_ip: str = "", host_ip: str = ""
) -> dict[str, str]:
    """Set up the pod's volumes; volume name -> path on the node. VolumeError if one cannot."""
    meta, spec = pod.metadata, pod.spec
    assert meta is not None and spec is not None
    base = os.path.join(pod_dir(root_dir, meta.uid or ""), "volumes")
    paths: dict[str, str] = {}
    for volume in spec.volumes:
        path = await _prepare(client, pod, base, volume, pod_ip, host_ip)
        if path is not None:
            paths[volume.name or ""] = path
    return paths


def container_mounts(container: Container, paths: Mapping[str, str]) -> tuple[Mount, ...]:
    """The container's volumeMounts onto the prepared paths (subPath joined, created)."""
    mounts = []
    for vm in container.volume_mounts:
        host = paths.get(vm.name or "")
        if host is None:
            continue
        if vm.sub_path:
            host = os.path.join(host, vm.sub_path)
            if not os.path.exists(host):
                os.makedirs(host, exist_ok=True)
        mounts.append(
            Mount(container_path=vm.mount_path or "", host_path=host, readonly=bool(vm.read_only))
        )
    return tuple(mounts)


def remove_pod_dir(root_dir: str, uid: str) -> None:
    """The pod's directory (emptyDir contents, written ConfigMaps and Secrets) goes."""
    if root_dir and uid:
        shutil.rmtree(pod_dir(root_dir, uid), ignore_errors=True)
