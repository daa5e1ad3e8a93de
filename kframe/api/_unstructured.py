"""A Kubernetes object of a kind kframe does not model, kept as decoded JSON."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import attrs

__all__ = ["Unstructured"]


@attrs.frozen
class Unstructured:
    """Any object with ``apiVersion`` and ``kind``; ``data`` is the whole JSON document.

    Like client-go's ``unstructured.Unstructured``: custom resources and kinds kframe has no
    model for pass through unchanged.
    """

    data: Mapping[str, Any]

    @property
    def api_version(self) -> str:
        return str(self.data.get("apiVersion", ""))

    @property
    def kind(self) -> str:
        return str(self.data.get("kind", ""))

    @property
    def metadata(self) -> Mapping[str, Any]:
        meta = self.data.get("metadata")
        return meta if isinstance(meta, Mapping) else {}

    @property
    def name(self) -> str | None:
        name = self.metadata.get("name")
        return name if isinstance(name, str) else None

    @property
    def namespace(self) -> str | None:
        ns = self.metadata.get("namespace")
        return ns if isinstance(ns, str) else None
