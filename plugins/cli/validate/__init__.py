"""``kframe validate``: check Kubernetes manifests against kframe's models, offline.

A reference CLI plugin: registered through the ``kframe`` entry point exactly as a third-party
command would be.
"""

from __future__ import annotations

from collections.abc import Mapping

from kframe.registry import hookimpl

from ._command import ValidateCommand

__all__ = ["ValidateCommand", "kframe_cli_commands"]


@hookimpl
def kframe_cli_commands() -> Mapping[str, object]:
    return {"validate": ValidateCommand}
