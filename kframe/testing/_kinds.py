"""One strategy per modelled kind, named as Kubernetes names the resource: ``pods()``, ..."""

from __future__ import annotations

from typing import Protocol, TypeVar

from hypothesis import strategies as st

from kframe.api import models as m
from kframe.testing._models import objects

T_co = TypeVar("T_co", covariant=True)


class KindStrategy(Protocol[T_co]):
    """A strategy function for one kind; the knobs are those of :func:`objects`."""

    def __call__(self, *, max_fields: int = 6, max_items: int = 2) -> st.SearchStrategy[T_co]: ...


def _kind(cls: type[T_co]) -> KindStrategy[T_co]:
    def strategy(*, max_fields: int = 6, max_items: int = 2) -> st.SearchStrategy[T_co]:
        return objects(cls, max_fields=max_fields, max_items=max_items)

    kind = getattr(cls, "KIND", cls.__name__)
    api_version = getattr(cls, "API_VERSION", "")
    strategy.__doc__ = f"``{api_version} {kind}`` objects (knobs as for ``objects()``)."
    strategy.__qualname__ = strategy.__name__ = f"strategy_for_{kind}"
    return strategy


pods = _kind(m.Pod)
nodes = _kind(m.Node)
services = _kind(m.Service)
endpoints = _kind(m.Endpoints)
namespaces = _kind(m.Namespace)
config_maps = _kind(m.ConfigMap)
secrets = _kind(m.Secret)
service_accounts = _kind(m.ServiceAccount)
events = _kind(m.core_v1.Event)
persistent_volumes = _kind(m.PersistentVolume)
persistent_volume_claims = _kind(m.PersistentVolumeClaim)
bindings = _kind(m.Binding)
limit_ranges = _kind(m.LimitRange)
resource_quotas = _kind(m.ResourceQuota)
deployments = _kind(m.Deployment)
replica_sets = _kind(m.ReplicaSet)
daemon_sets = _kind(m.DaemonSet)
stateful_sets = _kind(m.StatefulSet)
controller_revisions = _kind(m.ControllerRevision)
jobs = _kind(m.Job)
cron_jobs = _kind(m.CronJob)
scales = _kind(m.Scale)
horizontal_pod_autoscalers = _kind(m.HorizontalPodAutoscaler)
leases = _kind(m.Lease)
endpoint_slices = _kind(m.EndpointSlice)
pod_disruption_budgets = _kind(m.PodDisruptionBudget)
evictions = _kind(m.Eviction)
roles = _kind(m.Role)
cluster_roles = _kind(m.ClusterRole)
role_bindings = _kind(m.RoleBinding)
cluster_role_bindings = _kind(m.ClusterRoleBinding)
priority_classes = _kind(m.PriorityClass)
runtime_classes = _kind(m.RuntimeClass)
statuses = _kind(m.Status)


def kinds(*, max_fields: int = 6, max_items: int = 2) -> st.SearchStrategy[object]:
    """An object of any modelled kind, list kinds included."""
    return st.sampled_from(sorted(m.KINDS.values(), key=lambda c: c.__qualname__)).flatmap(
        lambda cls: objects(cls, max_fields=max_fields, max_items=max_items)
    )
