"""NamespaceLifecycle: no new objects in a missing or terminating namespace, and the system
namespaces cannot be deleted (upstream plugin/pkg/admission/namespace/lifecycle)."""

from __future__ import annotations

from collections.abc import Mapping

from kframe.apiserver import AdmissionContext, AdmissionRequest, APIError, Cause
from kframe.registry import hookimpl

__all__ = ["NAME", "NamespaceLifecycle", "kframe_admission_plugins"]

NAME = "NamespaceLifecycle"
IMMORTAL = ("default", "kube-system", "kube-public")


class NamespaceLifecycle:
    async def validate(self, request: AdmissionRequest, context: AdmissionContext) -> None:
        if request.resource == "namespaces" and not request.group:
            if request.operation == "DELETE" and request.name in IMMORTAL:
                raise APIError(
                    403,
                    "Forbidden",
                    f'namespaces "{request.name}" is forbidden: this namespace may not be deleted',
                    name=request.name,
                    kind="namespaces",
                )
            return
        if request.operation != "CREATE" or request.namespace is None:
            return
        namespaces = context.storage("", "v1", "namespaces")
        try:
            namespace = await namespaces.get(None, request.namespace)
        except APIError as exc:
            if exc.code == 404:
                raise APIError(
                    404,
                    "NotFound",
                    f'namespaces "{request.namespace}" not found',
                    name=request.namespace,
                    kind="namespaces",
                ) from None
            raise
        terminating = (namespace.get("metadata") or {}).get("deletionTimestamp") or (
            (namespace.get("status") or {}).get("phase") == "Terminating"
        )
        # Events may still be written while a namespace terminates, as upstream allows.
        if terminating and not (request.resource == "events" and not request.group):
            what = f"{request.resource}.{request.group}" if request.group else request.resource
            raise APIError(
                403,
                "Forbidden",
                f'{what} "{request.name}" is forbidden: unable to create new content in '
                f"namespace {request.namespace} because it is being terminated",
                name=request.name,
                kind=request.resource,
                group=request.group,
                causes=[
                    Cause(
                        "metadata.namespace",
                        f"namespace {request.namespace} is being terminated",
                        "NamespaceTerminating",
                    )
                ],
            )


@hookimpl
def kframe_admission_plugins() -> Mapping[str, object]:
    return {NAME: NamespaceLifecycle}
