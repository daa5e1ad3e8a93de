"""An example controller: labels every scheduled pod with the name of its node.

``kubectl get pods -L example.kframe.io/node`` then shows where each pod runs, and
``kubectl get pods -l example.kframe.io/node=node-0`` selects the pods of one node, which a
field selector on ``spec.nodeName`` also does, but labels reach where field selectors do not
(Service selectors, affinity terms, ``kubectl top`` filters).

Registered as ``podnode`` through the ``kframe_controllers`` hook (see ``pyproject.toml``): a
``kframe up`` or ``kframe controller-manager`` in an environment where this package is installed
runs it with the in-tree controllers. ``run.py`` beside this package runs it alone against any
API server. See docs/tutorial-controller.md.
"""

from __future__ import annotations

from collections.abc import Mapping

from kframe.controller import ControllerSpec
from kframe.registry import hookimpl
from kframe_podnode._controller import DEFAULT_LABEL, PodNodeLabeler

__all__ = ["DEFAULT_LABEL", "PodNodeLabeler", "kframe_controllers", "spec"]


def spec() -> ControllerSpec:
    """How the controller is registered: two workers, on with ``--controllers=*``."""
    return ControllerSpec(PodNodeLabeler, workers=2)


@hookimpl
def kframe_controllers() -> Mapping[str, object]:
    return {"podnode": spec()}
