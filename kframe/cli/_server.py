"""Where a component finds its API server: ``--kubeconfig PATH`` or ``--server URL``, shared by
every command that runs against one (scheduler, controller managers, kubelet, proxy, dns)."""

from __future__ import annotations

import argparse
from pathlib import Path

from kframe.cli._command import CommandError
from kframe.cli._files import load_settings

__all__ = ["DEFAULT_KUBECONFIG", "add_server_flags", "server_from_kubeconfig", "server_url"]

DEFAULT_KUBECONFIG = Path(".kframe/kubeconfig")


def add_server_flags(parser: argparse.ArgumentParser) -> None:
    """The mutually exclusive ``--kubeconfig`` and ``--server``."""
    where = parser.add_mutually_exclusive_group()
    where.add_argument(
        "--kubeconfig",
        type=Path,
        metavar="PATH",
        help="kubeconfig of the API server (its current context's server); "
        "default ./.kframe/kubeconfig, as `kframe up` writes it",
    )
    where.add_argument("--server", metavar="URL", help="the API server's URL")


def server_url(args: argparse.Namespace) -> str:
    """The URL the flags added by :func:`add_server_flags` name."""
    if args.server:
        return str(args.server)
    return server_from_kubeconfig(args.kubeconfig or DEFAULT_KUBECONFIG)


def server_from_kubeconfig(path: Path) -> str:
    """The server URL of a kubeconfig's current context."""
    data = load_settings("--kubeconfig", path)
    try:
        contexts = {c["name"]: c["context"] for c in data.get("contexts") or ()}
        clusters = {c["name"]: c["cluster"] for c in data.get("clusters") or ()}
        context = contexts[data["current-context"]]
        return str(clusters[context["cluster"]]["server"])
    except (KeyError, TypeError, AttributeError):
        raise CommandError(
            f"--kubeconfig {path}: no current context with a cluster server"
        ) from None
