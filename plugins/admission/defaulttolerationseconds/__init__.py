"""DefaultTolerationSeconds: pods tolerate not-ready and unreachable nodes for 300 seconds
unless they say otherwise (upstream plugin/pkg/admission/defaulttolerationseconds)."""

from __future__ import annotations

from collections.abc import Mapping

from kframe.apiserver import AdmissionContext, AdmissionRequest
from kframe.registry import hookimpl

__all__ = ["NAME", "DefaultTolerationSeconds", "kframe_admission_plugins"]

NAME = "DefaultTolerationSeconds"
NOT_READY = "node.kubernetes.io/not-ready"
UNREACHABLE = "node.kubernetes.io/unreachable"


class DefaultTolerationSeconds:
    def __init__(self, not_ready_seconds: int = 300, unreachable_seconds: int = 300) -> None:
        self._defaults = ((NOT_READY, not_ready_seconds), (UNREACHABLE, unreachable_seconds))

    async def admit(self, request: AdmissionRequest, context: AdmissionContext) -> None:
        if not request.creates("pods") or request.object is None:
            return
        spec = request.object.setdefault("spec", {})
        tolerations = list(spec.get("tolerations") or [])
        for key, seconds in self._defaults:
            # An existing NoExecute (or all-effects) toleration of the key wins.
            if any(
                t.get("key") == key and t.get("effect") in (None, "", "NoExecute")
                for t in tolerations
            ):
                continue
            tolerations.append(
                {
                    "key": key,
                    "operator": "Exists",
                    "effect": "NoExecute",
                    "tolerationSeconds": seconds,
                }
            )
        spec["tolerations"] = tolerations


@hookimpl
def kframe_admission_plugins() -> Mapping[str, object]:
    return {NAME: DefaultTolerationSeconds}
