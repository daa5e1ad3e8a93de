"""Resource lists as quota arithmetic sees them (upstream apiserver/pkg/quota/v1/resources.go)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from kframe.api import Quantity, ResourceList, resource_list

__all__ = [
    "ResourceList",
    "add",
    "equals",
    "mask",
    "pretty_names",
    "pretty_print",
    "remove_zeros",
    "resource_list",
    "subtract_non_negative",
]


def add(a: Mapping[str, Quantity], b: Mapping[str, Quantity]) -> ResourceList:
    """``quota.Add``; each sum keeps the format of its left operand, as Go's Quantity.Add."""
    result: ResourceList = {
        name: value + b[name] if name in b else value for name, value in a.items()
    }
    for name, value in b.items():
        result.setdefault(name, value)
    return result


def subtract_non_negative(a: Mapping[str, Quantity], b: Mapping[str, Quantity]) -> ResourceList:
    """``quota.SubtractWithNonNegativeResult``: a - b per name, never below zero."""
    zero = Quantity("0")
    result: ResourceList = {}
    for name, value in a.items():
        difference = value - b[name] if name in b else value
        result[name] = difference if difference > zero else zero
    for name in b:
        result.setdefault(name, zero)
    return result


def mask(resources: Mapping[str, Quantity], names: Iterable[str]) -> ResourceList:
    keep = set(names)
    return {name: value for name, value in resources.items() if name in keep}


def remove_zeros(resources: Mapping[str, Quantity]) -> ResourceList:
    return {name: value for name, value in resources.items() if not value.is_zero()}


def equals(a: Mapping[str, Quantity], b: Mapping[str, Quantity]) -> bool:
    return len(a) == len(b) and all(name in b and b[name] == value for name, value in a.items())


def pretty_print(resources: Mapping[str, Quantity]) -> str:
    """``prettyPrint``: ``name=value`` sorted by name, comma separated."""
    return ",".join(f"{name}={resources[name]}" for name in sorted(resources))


def pretty_names(names: Iterable[str]) -> str:
    """``prettyPrintResourceNames``: sorted, comma separated."""
    return ",".join(sorted(names))
