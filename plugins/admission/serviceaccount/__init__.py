"""ServiceAccount: pods run as ``default`` unless they name an account, which must exist
(upstream plugin/pkg/admission/serviceaccount; token volume projection is not done yet)."""

from __future__ import annotations

from collections.abc import Mapping

from kframe.apiserver import AdmissionContext, AdmissionRequest, APIError
from kframe.registry import hookimpl

__all__ = ["NAME", "ServiceAccount", "kframe_admission_plugins"]

NAME = "ServiceAccount"
MIRROR_POD_ANNOTATION = "kubernetes.io/config.mirror"


class ServiceAccount:
    async def admit(self, request: AdmissionRequest, context: AdmissionContext) -> None:
        if not request.creates("pods") or request.object is None:
            return
        annotations = (request.object.get("metadata") or {}).get("annotations") or {}
        if MIRROR_POD_ANNOTATION in annotations:
            return  # static pods mirrored by a kubelet are exempt, as upstream
        spec = request.object.setdefault("spec", {})
        name = spec.get("serviceAccountName") or spec.get("serviceAccount") or "default"
        spec["serviceAccountName"] = name
        accounts = context.storage("", "v1", "serviceaccounts")
        try:
            await accounts.get(request.namespace, name)
        except APIError as exc:
            if exc.code != 404:
                raise
            raise APIError(
                403,
                "Forbidden",
                f'pods "{request.name}" is forbidden: error looking up service account '
                f'{request.namespace}/{name}: serviceaccount "{name}" not found',
                name=request.name,
                kind="pods",
            ) from None


@hookimpl
def kframe_admission_plugins() -> Mapping[str, object]:
    return {NAME: ServiceAccount}
