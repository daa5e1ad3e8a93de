"""Whether one write fits every matching quota, and the usage each would then record
(upstream apiserver/pkg/admission/plugin/resourcequota/controller.go ``CheckRequest``)."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from kframe.apiserver import AdmissionRequest, APIError

from ._evaluators import Evaluator
from ._resources import (
    ResourceList,
    add,
    equals,
    mask,
    pretty_names,
    pretty_print,
    remove_zeros,
    resource_list,
    subtract_non_negative,
)

__all__ = ["Charge", "check_request"]

Forbid = Callable[[str], APIError]


class Charge:
    """A quota whose ``status.used`` the write raises, and the raised usage."""

    def __init__(self, quota: dict[str, Any], used: ResourceList) -> None:
        self.quota = quota
        self.used = used

    @property
    def name(self) -> str:
        return str((self.quota.get("metadata") or {}).get("name", ""))


def _status(quota: Mapping[str, Any], field: str) -> ResourceList:
    status = quota.get("status")
    return resource_list(status.get(field) if isinstance(status, Mapping) else None)


def _name(quota: Mapping[str, Any]) -> str:
    return str((quota.get("metadata") or {}).get("name", ""))


def _has_usage_stats(quota: Mapping[str, Any], resources: Sequence[str]) -> bool:
    """``hasUsageStats``: every constrained resource in ``status.hard`` has a ``status.used``."""
    used = _status(quota, "used")
    wanted = set(resources)
    return all(name in used for name in _status(quota, "hard") if name in wanted)


def check_request(
    quotas: Sequence[dict[str, Any]],
    request: AdmissionRequest,
    evaluator: Evaluator,
    forbid: Forbid,
) -> list[Charge]:
    """The quotas the write changes, with their new usage; raises ``forbid(...)`` if it does
    not fit. Only ``status.hard`` counts: a quota the quota controller has not yet synced
    constrains nothing, as upstream."""
    obj = request.object
    assert obj is not None
    interesting: list[int] = []
    for index, quota in enumerate(quotas):
        if not evaluator.matches(quota, obj):
            continue
        restricted = evaluator.matching_resources(_status(quota, "hard"))
        problem = evaluator.constraints(restricted, obj)
        if problem is not None:
            raise forbid(f"failed quota: {_name(quota)}: {problem}")
        if not _has_usage_stats(quota, restricted):
            raise forbid(
                f"status unknown for quota: {_name(quota)}, resources: {pretty_names(restricted)}"
            )
        interesting.append(index)
    if not interesting:
        return []  # no quota tracks this write (and no limitedResources are configured)

    usage = evaluator.usage(obj)
    negative = [name for name, value in usage.items() if value < 0]
    if negative:
        raise forbid(f"quota usage is negative for resource(s): {pretty_names(negative)}")
    deltas: dict[int, ResourceList] = dict.fromkeys(interesting, usage)
    if request.operation == "UPDATE":
        old = request.old_object
        if old is None:
            raise forbid("unable to get previous usage since prior version of object was not found")
        # An update charges only its growth, to the quotas the old version was charged to.
        if (old.get("metadata") or {}).get("resourceVersion"):
            growth = subtract_non_negative(usage, evaluator.usage(old))
            for index in interesting:
                if evaluator.matches(quotas[index], old):
                    deltas[index] = growth
    deltas = {index: remove_zeros(delta) for index, delta in deltas.items()}
    deltas = {index: delta for index, delta in deltas.items() if delta}

    charges: list[Charge] = []
    for index in interesting:
        if index not in deltas:
            continue
        quota = quotas[index]
        hard, used = _status(quota, "hard"), _status(quota, "used")
        requested = mask(deltas[index], hard)
        new_used = add(used, requested)
        exceeded = [
            name
            for name, limit in hard.items()
            if name in requested and name in new_used and new_used[name] > limit
        ]
        if exceeded:
            raise forbid(
                f"exceeded quota: {_name(quota)}, requested: "
                f"{pretty_print(mask(requested, exceeded))}, used: "
                f"{pretty_print(mask(used, exceeded))}, limited: "
                f"{pretty_print(mask(hard, exceeded))}"
            )
        if not equals(used, new_used):
            charges.append(Charge(quota, new_used))
    return charges
