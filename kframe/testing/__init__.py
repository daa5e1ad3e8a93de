"""Testing toolkit for kframe users: Hypothesis strategies and pytest helpers.

Strategies are plural nouns with keyword-only knobs: ``pods()``, ``nodes()``, ``quantities()``.
They are also registered with Hypothesis, so ``st.from_type(Pod)`` works in any suite once kframe
is installed. The pytest plugin (loaded automatically) adds fixtures and ``KFRAME_REQUIRE_ALL``.
"""

from __future__ import annotations

import pytest

from kframe.testing._kinds import (
    KindStrategy,
    bindings,
    cluster_role_bindings,
    cluster_roles,
    config_maps,
    controller_revisions,
    cron_jobs,
    daemon_sets,
    deployments,
    endpoint_slices,
    endpoints,
    events,
    evictions,
    horizontal_pod_autoscalers,
    jobs,
    kinds,
    leases,
    limit_ranges,
    namespaces,
    nodes,
    persistent_volume_claims,
    persistent_volumes,
    pod_disruption_budgets,
    pods,
    priority_classes,
    replica_sets,
    resource_quotas,
    role_bindings,
    roles,
    runtime_classes,
    scales,
    secrets,
    service_accounts,
    services,
    stateful_sets,
    statuses,
)
from kframe.testing._models import objects
from kframe.testing._names import (
    dns1123_labels,
    dns1123_subdomains,
    label_keys,
    label_values,
    labels,
)
from kframe.testing._values import (
    int_or_strings,
    label_selectors,
    micro_times,
    quantities,
    selectors,
    times,
)
from kframe.testing.pytest_plugin import require_all

__all__ = [
    # generic
    "objects",
    "kinds",
    "KindStrategy",
    # kinds
    "bindings",
    "cluster_role_bindings",
    "cluster_roles",
    "config_maps",
    "controller_revisions",
    "cron_jobs",
    "daemon_sets",
    "deployments",
    "endpoint_slices",
    "endpoints",
    "events",
    "evictions",
    "horizontal_pod_autoscalers",
    "jobs",
    "leases",
    "limit_ranges",
    "namespaces",
    "nodes",
    "persistent_volume_claims",
    "persistent_volumes",
    "pod_disruption_budgets",
    "pods",
    "priority_classes",
    "replica_sets",
    "resource_quotas",
    "role_bindings",
    "roles",
    "runtime_classes",
    "scales",
    "secrets",
    "service_accounts",
    "services",
    "stateful_sets",
    "statuses",
    # values
    "dns1123_labels",
    "dns1123_subdomains",
    "int_or_strings",
    "label_keys",
    "label_selectors",
    "label_values",
    "labels",
    "micro_times",
    "quantities",
    "selectors",
    "times",
    # pytest helpers
    "require",
    "require_all",
]


def require(available: bool, reason: str) -> None:
    """Skip the calling test unless ``available``; under ``KFRAME_REQUIRE_ALL=1``, fail instead.

    ``reason`` says what is missing and how to get it (``"etcd not found: apt-get install
    etcd-server"``).
    """
    if available:
        return
    if require_all():
        pytest.fail(f"required but unavailable (KFRAME_REQUIRE_ALL=1): {reason}")
    pytest.skip(reason)
