"""Resource-name classes the fit check and the scorers branch on, and the shared pod lookup.

Upstream ``v1helper.IsExtendedResourceName`` and friends, and ``schedutil.IsScalarResourceName``
(extended, hugepages, ``kubernetes.io/``-prefixed and attachable-volume names: the resources the
scheduler's ``framework.Resource`` keeps in ``ScalarResources``). Answers are cached per name, as
the same few names come back for every pod.
"""

from __future__ import annotations

import functools

from kframe.api import is_qualified_name
from kframe.api.models import Pod
from kframe.scheduler import CycleState, PodInfo

__all__ = ["is_extended_resource_name", "is_scalar_resource_name", "pod_info"]

_NATIVE_PREFIX = "kubernetes.io/"  # v1.ResourceDefaultNamespacePrefix
_REQUESTS_PREFIX = "requests."  # v1.DefaultResourceRequestsPrefix
_HUGEPAGES_PREFIX = "hugepages-"
_ATTACHABLE_VOLUMES_PREFIX = "attachable-volumes-"


def _is_prefixed_native(name: str) -> bool:
    return _NATIVE_PREFIX in name


@functools.cache
def is_extended_resource_name(name: str) -> bool:
    """Not native (it has a domain that is not ``kubernetes.io``), and ``requests.<name>`` is a
    valid qualified name, so a quota could name it."""
    if "/" not in name or _is_prefixed_native(name) or name.startswith(_REQUESTS_PREFIX):
        return False
    return not is_qualified_name(_REQUESTS_PREFIX + name)


@functools.cache
def is_scalar_resource_name(name: str) -> bool:
    return (
        is_extended_resource_name(name)
        or name.startswith(_HUGEPAGES_PREFIX)
        or _is_prefixed_native(name)
        or name.startswith(_ATTACHABLE_VOLUMES_PREFIX)
    )


def pod_info(state: CycleState, pod: Pod) -> PodInfo:
    """The pod's :class:`PodInfo`, built at most once per cycle (the framework's cache)."""
    return state.pod_info(pod)
