"""Which kinds the API server behind a Client serves, for the controllers that work over every
kind (the garbage collector, the namespace controller), as upstream's find them by discovery.

A kind counts when ``kframe.api`` models it (``all_kinds``, custom resources registered with
``register_kind`` included) and the server lists it; what the server does not serve (a
TypeError from the Client) or cannot list (404, 405: Binding, Eviction) is left out.
"""

from __future__ import annotations

from typing import Any

import attrs

from kframe.api import all_kinds
from kframe.client import Client

__all__ = ["guess_plural", "listable_kinds"]

# Create-only upstream (discovery verbs ["create"]): the in-process Client does not check verbs,
# so a list of bindings answers, but there is nothing to own or delete.
_CREATE_ONLY = {("v1", "Binding")}


def _is_object_kind(cls: type) -> bool:
    if not attrs.has(cls):
        return False
    names = {f.name for f in attrs.fields(cls)}
    # Lists have items; Status, APIGroup and the like have no object metadata to own or delete.
    return "metadata" in names and "items" not in names


async def listable_kinds(client: Client) -> list[type[Any]]:
    """Every object kind of ``kframe.api`` that ``client``'s server lists, in a stable order."""
    found: list[type[Any]] = []
    for key, cls in sorted(all_kinds().items()):
        if key in _CREATE_ONLY or not _is_object_kind(cls):
            continue
        try:
            await client.list(cls, limit=1)
        except TypeError:
            continue  # not a kind the server serves
        except Exception as exc:
            if getattr(exc, "code", None) in (404, 405):
                continue
            raise
        found.append(cls)
    return found


def guess_plural(kind: str) -> str:
    """The resource name of ``kind`` as upstream's meta.UnsafeGuessKindToResource guesses it
    (``Endpoints`` -> ``endpoints``, ``PriorityClass`` -> ``priorityclasses``)."""
    singular = kind.lower()
    if singular.endswith("endpoints"):
        return singular
    if singular.endswith("s"):
        return singular + "es"
    if singular.endswith("y"):
        return singular[:-1] + "ies"
    return singular + "s"
