"""The resource table: one entry per modelled kind, consistent with the models, upstream's facts."""

from __future__ import annotations

from collections import Counter

import pytest

from kframe.api import models
from kframe.apiserver._resources import PRINT_COLUMNS, RESOURCES, Resource, by_kind, by_plural

# Modelled kinds that are not top-level resources: subresource bodies and meta kinds.
_NOT_RESOURCES = {"Scale", "Eviction"}

_KNOWN_VERBS = {"create", "delete", "deletecollection", "get", "list", "patch", "update", "watch"}
_KNOWN_SUBRESOURCES = {
    "attach",
    "binding",
    "ephemeralcontainers",
    "eviction",
    "exec",
    "finalize",
    "log",
    "portforward",
    "proxy",
    "resize",
    "scale",
    "status",
    "token",
}


def _top_level_kinds() -> list[tuple[str, str]]:
    return sorted(
        (api_version, kind)
        for (api_version, kind), cls in models.KINDS.items()
        if cls.__module__ != models.meta_v1.__name__
        and kind not in _NOT_RESOURCES
        and not kind.endswith("List")
    )


@pytest.mark.parametrize(("api_version", "kind"), _top_level_kinds())
def test_every_modelled_kind_has_exactly_one_resource(api_version: str, kind: str) -> None:
    matches = [r for r in RESOURCES if (r.api_version, r.kind) == (api_version, kind)]
    assert len(matches) == 1, matches


def test_every_resource_is_a_modelled_kind() -> None:
    assert sorted((r.api_version, r.kind) for r in RESOURCES) == _top_level_kinds()


@pytest.mark.parametrize("resource", RESOURCES, ids=lambda r: f"{r.api_version}/{r.plural}")
def test_resource_agrees_with_its_model(resource: Resource) -> None:
    assert resource.model is models.KINDS[(resource.api_version, resource.kind)]
    assert getattr(resource.model, "API_VERSION", None) == resource.api_version
    assert getattr(resource.model, "KIND", None) == resource.kind
    assert resource.list_kind == resource.kind + "List"
    if "list" in resource.verbs:
        assert (resource.api_version, resource.list_kind) in models.KINDS


@pytest.mark.parametrize("resource", RESOURCES, ids=lambda r: f"{r.api_version}/{r.plural}")
def test_resource_is_well_formed(resource: Resource) -> None:
    assert resource.singular == resource.kind.lower()
    assert resource.plural == resource.plural.lower()
    assert list(resource.verbs) == sorted(resource.verbs)
    assert set(resource.verbs) <= _KNOWN_VERBS
    assert list(resource.subresources) == sorted(resource.subresources)
    assert set(resource.subresources) <= _KNOWN_SUBRESOURCES
    assert len(set(resource.field_selectors)) == len(resource.field_selectors)
    assert not {"metadata.name", "metadata.namespace"} & set(resource.field_selectors)
    assert resource.api_version == (
        f"{resource.group}/{resource.version}" if resource.group else resource.version
    )


def test_names_are_unique_within_a_group() -> None:
    by_group: dict[str, list[Resource]] = {}
    for r in RESOURCES:
        by_group.setdefault(r.group, []).append(r)
    for group, resources in by_group.items():
        names = [r.plural for r in resources] + [n for r in resources for n in r.short_names]
        duplicates = [n for n, count in Counter(names).items() if count > 1]
        assert not duplicates, (group, duplicates)
        kinds = [r.kind for r in resources]
        assert len(kinds) == len(set(kinds)), group


def test_lookups() -> None:
    deployments = by_plural("apps", "v1", "deployments")
    assert deployments is not None and deployments.kind == "Deployment"
    assert by_kind("apps/v1", "Deployment") is deployments
    pods = by_plural("", "v1", "pods")
    assert pods is not None and pods.api_version == "v1"
    assert by_kind("v1", "Pod") is pods
    assert by_plural("", "v1", "pod") is None
    assert by_plural("extensions", "v1beta1", "deployments") is None
    assert by_kind("apps/v1beta1", "Deployment") is None
    for r in RESOURCES:
        assert by_plural(r.group, r.version, r.plural) is r
        assert by_kind(r.api_version, r.kind) is r


_CRUD = ("create", "delete", "deletecollection", "get", "list", "patch", "update", "watch")

# What `kubectl api-resources -o wide` and /api/v1, /apis/<group>/<version> report upstream.
_UPSTREAM: list[tuple[str, str, str, bool, tuple[str, ...], tuple[str, ...]]] = [
    # group, plural, short names, namespaced, categories, subresources
    (
        "",
        "pods",
        "po",
        True,
        ("all",),
        (
            "attach",
            "binding",
            "ephemeralcontainers",
            "eviction",
            "exec",
            "log",
            "portforward",
            "proxy",
            "resize",
            "status",
        ),
    ),
    ("", "services", "svc", True, ("all",), ("proxy", "status")),
    ("", "nodes", "no", False, (), ("proxy", "status")),
    ("", "namespaces", "ns", False, (), ("finalize", "status")),
    ("", "configmaps", "cm", True, (), ()),
    ("", "secrets", "", True, (), ()),
    ("", "endpoints", "ep", True, (), ()),
    ("", "events", "ev", True, (), ()),
    ("", "serviceaccounts", "sa", True, (), ("token",)),
    ("", "persistentvolumes", "pv", False, (), ("status",)),
    ("", "persistentvolumeclaims", "pvc", True, (), ("status",)),
    ("", "limitranges", "limits", True, (), ()),
    ("", "resourcequotas", "quota", True, (), ("status",)),
    ("apps", "deployments", "deploy", True, ("all",), ("scale", "status")),
    ("apps", "replicasets", "rs", True, ("all",), ("scale", "status")),
    ("apps", "statefulsets", "sts", True, ("all",), ("scale", "status")),
    ("apps", "daemonsets", "ds", True, ("all",), ("status",)),
    ("apps", "controllerrevisions", "", True, (), ()),
    ("batch", "jobs", "", True, ("all",), ("status",)),
    ("batch", "cronjobs", "cj", True, ("all",), ("status",)),
    ("autoscaling", "horizontalpodautoscalers", "hpa", True, ("all",), ("status",)),
    ("coordination.k8s.io", "leases", "", True, (), ()),
    ("discovery.k8s.io", "endpointslices", "", True, (), ()),
    ("policy", "poddisruptionbudgets", "pdb", True, (), ("status",)),
    ("rbac.authorization.k8s.io", "clusterroles", "", False, (), ()),
    ("rbac.authorization.k8s.io", "roles", "", True, (), ()),
    ("scheduling.k8s.io", "priorityclasses", "pc", False, (), ()),
    ("node.k8s.io", "runtimeclasses", "", False, (), ()),
]


@pytest.mark.parametrize(
    ("group", "plural", "short", "namespaced", "categories", "subresources"),
    _UPSTREAM,
    ids=[f"{row[0] or 'core'}/{row[1]}" for row in _UPSTREAM],
)
def test_upstream_discovery_facts(
    group: str,
    plural: str,
    short: str,
    namespaced: bool,
    categories: tuple[str, ...],
    subresources: tuple[str, ...],
) -> None:
    matches = [r for r in RESOURCES if (r.group, r.plural) == (group, plural)]
    assert len(matches) == 1
    r = matches[0]
    assert r.short_names == ((short,) if short else ())
    assert r.namespaced is namespaced
    assert r.categories == categories
    assert r.subresources == subresources


def test_upstream_verbs() -> None:
    namespaces = by_plural("", "v1", "namespaces")
    bindings = by_plural("", "v1", "bindings")
    assert namespaces is not None and bindings is not None
    # Namespaces have no deletecollection; bindings are create-only.
    assert namespaces.verbs == ("create", "delete", "get", "list", "patch", "update", "watch")
    assert bindings.verbs == ("create",) and bindings.namespaced
    others = [r for r in RESOURCES if r.plural not in ("namespaces", "bindings")]
    assert all(r.verbs == _CRUD for r in others)


def test_upstream_versions() -> None:
    assert {r.api_version for r in RESOURCES} == {
        "v1",
        "apps/v1",
        "batch/v1",
        "autoscaling/v2",
        "coordination.k8s.io/v1",
        "discovery.k8s.io/v1",
        "policy/v1",
        "rbac.authorization.k8s.io/v1",
        "scheduling.k8s.io/v1",
        "node.k8s.io/v1",
    }


@pytest.mark.parametrize(
    ("plural", "fields"),
    [
        (
            "pods",
            {
                "spec.nodeName",
                "spec.restartPolicy",
                "spec.schedulerName",
                "spec.serviceAccountName",
                "spec.hostNetwork",
                "status.phase",
                "status.podIP",
                "status.podIPs",
                "status.nominatedNodeName",
            },
        ),
        (
            "events",
            {
                "involvedObject.kind",
                "involvedObject.namespace",
                "involvedObject.name",
                "involvedObject.uid",
                "involvedObject.apiVersion",
                "involvedObject.resourceVersion",
                "involvedObject.fieldPath",
                "reason",
                "reportingComponent",
                "source",
                "type",
            },
        ),
        ("secrets", {"type"}),
        ("namespaces", {"status.phase"}),
        ("nodes", {"spec.unschedulable"}),
        ("services", {"spec.clusterIP", "spec.type"}),
        ("replicasets", {"status.replicas"}),
        ("jobs", {"status.successful"}),
        ("deployments", set()),
        ("configmaps", set()),
    ],
)
def test_upstream_field_selectors(plural: str, fields: set[str]) -> None:
    [r] = [r for r in RESOURCES if r.plural == plural]
    assert set(r.field_selectors) == fields


def test_print_columns_cover_every_resource() -> None:
    assert set(PRINT_COLUMNS) == {r.plural for r in RESOURCES}
    for plural, columns in PRINT_COLUMNS.items():
        names = [c.name for c in columns]
        assert len(names) == len(set(names)), plural
        assert [c.name for c in columns if c.format == "name"] == ["Name"], plural
        assert {c.type for c in columns} <= {"string", "integer", "boolean", "date"}, plural
        assert {c.priority for c in columns} <= {0, 1}, plural
        assert all(c.format in ("", "name") for c in columns), plural


def _shown(plural: str, priority: int) -> list[str]:
    return [c.name for c in PRINT_COLUMNS[plural] if c.priority == priority]


@pytest.mark.parametrize(
    ("plural", "default", "wide"),
    [
        (
            "pods",
            ["Name", "Ready", "Status", "Restarts", "Age"],
            ["IP", "Node", "Nominated Node", "Readiness Gates"],
        ),
        (
            "deployments",
            ["Name", "Ready", "Up-to-date", "Available", "Age"],
            ["Containers", "Images", "Selector"],
        ),
        (
            "nodes",
            ["Name", "Status", "Roles", "Age", "Version"],
            ["Internal-IP", "External-IP", "OS-Image", "Kernel-Version", "Container-Runtime"],
        ),
        ("services", ["Name", "Type", "Cluster-IP", "External-IP", "Port(s)", "Age"], ["Selector"]),
        (
            "events",
            ["Last Seen", "Type", "Reason", "Object", "Message"],
            ["Subobject", "Source", "First Seen", "Count", "Name"],
        ),
        ("configmaps", ["Name", "Data", "Age"], []),
        ("namespaces", ["Name", "Status", "Age"], []),
        ("statefulsets", ["Name", "Ready", "Age"], ["Containers", "Images"]),
        (
            "jobs",
            ["Name", "Status", "Completions", "Duration", "Age"],
            ["Containers", "Images", "Selector"],
        ),
        ("roles", ["Name", "Created At"], []),
        ("priorityclasses", ["Name", "Value", "Global-Default", "Age", "PreemptionPolicy"], []),
    ],
)
def test_upstream_print_columns(plural: str, default: list[str], wide: list[str]) -> None:
    assert _shown(plural, 0) == default
    assert _shown(plural, 1) == wide


def test_print_column_details() -> None:
    [restarts] = [c for c in PRINT_COLUMNS["pods"] if c.name == "Restarts"]
    assert restarts.type == "string"
    [created] = [c for c in PRINT_COLUMNS["clusterroles"] if c.name == "Created At"]
    assert created.type == "date"
    assert created.description.startswith("CreationTimestamp is a timestamp")
    [name] = [c for c in PRINT_COLUMNS["pods"] if c.name == "Name"]
    assert name.description.startswith("Name must be unique within a namespace.")
    [desired] = [c for c in PRINT_COLUMNS["daemonsets"] if c.name == "Desired"]
    assert desired.type == "integer"
