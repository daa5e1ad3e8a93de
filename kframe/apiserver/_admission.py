"""Admission: plugins that may change (mutating) or refuse (validating) a write.

As kube-apiserver: after decoding and defaulting, every enabled mutating plugin runs in order,
then the kind's own validation, then every validating plugin, then the write. A plugin refuses
by raising :class:`APIError`. Plugins register by name through ``kframe_admission_plugins``;
the factory is called with no arguments and returns an object with ``admit`` and/or
``validate``.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any, Literal, Protocol, runtime_checkable

import attrs

from kframe.registry import Registry, build_registry

if TYPE_CHECKING:
    from kframe.apiserver._storage import ObjectStorage

__all__ = [
    "DEFAULT_ADMISSION_PLUGINS",
    "AdmissionChain",
    "AdmissionContext",
    "AdmissionRequest",
    "MutatingAdmission",
    "Operation",
    "ValidatingAdmission",
]

Operation = Literal["CREATE", "UPDATE", "DELETE"]

#: Enabled by default, in upstream's order. ServiceAccount joins once the service account
#: controller creates each namespace's default account.
DEFAULT_ADMISSION_PLUGINS = (
    "NamespaceLifecycle",
    "LimitRanger",
    "DefaultTolerationSeconds",
    "ResourceQuota",
)


@attrs.define
class AdmissionRequest:
    """One write under admission. Mutating plugins change ``object`` in place."""

    operation: Operation
    group: str
    version: str
    resource: str  #: the plural, e.g. "pods"
    kind: str
    subresource: str
    namespace: str | None
    name: str
    object: dict[str, Any] | None
    old_object: dict[str, Any] | None
    dry_run: bool = False

    def creates(self, resource: str, group: str = "") -> bool:
        """Whether this request creates an object of ``resource`` (not a subresource)."""
        return (
            self.operation == "CREATE"
            and self.resource == resource
            and self.group == group
            and not self.subresource
            and self.object is not None
        )


class AdmissionContext(Protocol):
    """What plugins may read: the storage of any served resource."""

    def storage(self, group: str, version: str, plural: str) -> ObjectStorage: ...


@runtime_checkable
class MutatingAdmission(Protocol):
    async def admit(self, request: AdmissionRequest, context: AdmissionContext) -> None: ...


@runtime_checkable
class ValidatingAdmission(Protocol):
    async def validate(self, request: AdmissionRequest, context: AdmissionContext) -> None: ...


class AdmissionChain:
    """The enabled plugins, in order, with the context they read through."""

    def __init__(self, plugins: Sequence[object], context: AdmissionContext) -> None:
        self._mutating = [p for p in plugins if isinstance(p, MutatingAdmission)]
        self._validating = [p for p in plugins if isinstance(p, ValidatingAdmission)]
        self.context = context

    @classmethod
    def from_registry(
        cls, names: Iterable[str], context: AdmissionContext, registry: Registry | None = None
    ) -> AdmissionChain:
        registry = registry if registry is not None else build_registry()
        plugins = []
        for name in names:
            entry = registry.get("admission-plugin", name)
            if not callable(entry.factory):
                raise TypeError(f"admission plugin {name!r} from {entry.source} is not callable")
            plugin = entry.factory()
            if not isinstance(plugin, MutatingAdmission | ValidatingAdmission):
                raise TypeError(
                    f"admission plugin {name!r} from {entry.source} has neither "
                    "admit() nor validate()"
                )
            plugins.append(plugin)
        return cls(plugins, context)

    async def admit(self, request: AdmissionRequest) -> None:
        for plugin in self._mutating:
            await plugin.admit(request, self.context)

    async def validate(self, request: AdmissionRequest) -> None:
        for plugin in self._validating:
            await plugin.validate(request, self.context)
