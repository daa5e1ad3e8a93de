"""The service account controller (upstream pkg/controller/serviceaccount,
serviceaccounts_controller.go).

Registered as ``serviceaccount-controller`` (``--controllers`` also accepts ``serviceaccount``):
every active namespace gets a ``default`` ServiceAccount, made again when it is deleted. See
docs/controllers-lifecycle.md.
"""

from __future__ import annotations

from collections.abc import Mapping

from kframe.controller import ControllerContext, ControllerSpec
from kframe.registry import hookimpl

from ._controller import DEFAULT_SERVICE_ACCOUNTS, ServiceAccountsController

__all__ = ["DEFAULT_SERVICE_ACCOUNTS", "NAME", "ServiceAccountsController", "build", "spec"]

NAME = "serviceaccount-controller"


def build(ctx: ControllerContext) -> ServiceAccountsController:
    return ServiceAccountsController(ctx)


def spec() -> ControllerSpec:
    # upstream startServiceAccountController runs one worker.
    return ControllerSpec(build, workers=1, aliases=("serviceaccount",))


@hookimpl
def kframe_controllers() -> Mapping[str, object]:
    return {NAME: spec()}
