"""Discovery documents: /api, /apis, and the resource list of each group/version."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from kframe.apiserver._resources import Resource

__all__ = ["api_group", "api_group_list", "api_resource_list", "api_versions", "group_versions"]


def group_versions(resources: Iterable[Resource]) -> dict[str, list[str]]:
    """group -> its versions, preferred (newest) first, core ("") included."""
    out: dict[str, list[str]] = {}
    for r in resources:
        versions = out.setdefault(r.group, [])
        if r.version not in versions:
            versions.append(r.version)
    for versions in out.values():
        versions.sort(key=_version_rank, reverse=True)
    return out


def _version_rank(version: str) -> tuple[int, int, int]:
    # v2 > v1 > v1beta1 > v1alpha1, as Kubernetes' version priority.
    digits = version[1:].split("beta")[0].split("alpha")[0]
    stability = 0 if "alpha" in version else 1 if "beta" in version else 2
    return (stability, int(digits or 0), 0)


def api_versions(server_address: str) -> dict[str, Any]:
    return {
        "kind": "APIVersions",
        "versions": ["v1"],
        "serverAddressByClientCIDRs": [
            {"clientCIDR": "0.0.0.0/0", "serverAddress": server_address}
        ],
    }


def api_group(group: str, versions: list[str]) -> dict[str, Any]:
    entries = [{"groupVersion": f"{group}/{v}", "version": v} for v in versions]
    return {
        "kind": "APIGroup",
        "apiVersion": "v1",
        "name": group,
        "versions": entries,
        "preferredVersion": entries[0],
    }


def api_group_list(resources: Iterable[Resource]) -> dict[str, Any]:
    groups = group_versions(resources)
    return {
        "kind": "APIGroupList",
        "apiVersion": "v1",
        "groups": [api_group(g, v) for g, v in sorted(groups.items()) if g],
    }


def api_resource_list(resources: Iterable[Resource], group: str, version: str) -> dict[str, Any]:
    entries: list[dict[str, Any]] = []
    for r in resources:
        if (r.group, r.version) != (group, version):
            continue
        entry: dict[str, Any] = {
            "name": r.plural,
            "singularName": r.singular,
            "namespaced": r.namespaced,
            "kind": r.kind,
            "verbs": list(r.verbs),
        }
        if r.short_names:
            entry["shortNames"] = list(r.short_names)
        if r.categories:
            entry["categories"] = list(r.categories)
        entries.append(entry)
        for sub in r.subresources:
            entries.append(_subresource(r, sub))
    return {
        "kind": "APIResourceList",
        "apiVersion": "v1",
        "groupVersion": f"{group}/{version}" if group else version,
        "resources": entries,
    }


# Upstream's subresource kinds and verbs.
_SUBRESOURCES: dict[str, tuple[str | None, tuple[str, ...]]] = {
    "status": (None, ("get", "patch", "update")),
    "scale": ("Scale", ("get", "patch", "update")),
    "binding": ("Binding", ("create",)),
    "eviction": ("Eviction", ("create",)),
    "log": ("Pod", ("get",)),
    "exec": ("PodExecOptions", ("create", "get")),
    "attach": ("PodAttachOptions", ("create", "get")),
    "portforward": ("PodPortForwardOptions", ("create", "get")),
    "proxy": (None, ("create", "delete", "get", "patch", "update")),  # kind: <Kind>ProxyOptions
    "token": ("TokenRequest", ("create",)),
    "finalize": ("Namespace", ("update",)),
    "ephemeralcontainers": ("Pod", ("get", "patch", "update")),
    "resize": ("Pod", ("get", "patch", "update")),
}


def _subresource(r: Resource, sub: str) -> dict[str, Any]:
    kind, verbs = _SUBRESOURCES.get(sub, (None, ("get",)))
    if sub == "proxy":
        kind = f"{r.kind}ProxyOptions"
    entry: dict[str, Any] = {
        "name": f"{r.plural}/{sub}",
        "singularName": "",
        "namespaced": r.namespaced,
        "kind": kind or r.kind,
        "verbs": list(verbs),
    }
    if sub == "scale":
        entry["group"], entry["version"] = "autoscaling", "v1"
    if sub == "eviction":
        entry["group"], entry["version"] = "policy", "v1"
    if sub == "token":
        entry["group"], entry["version"] = "authentication.k8s.io", "v1"
    return entry
