"""``kframe cloud-controller-manager``: the cloud controllers of one provider against an API
server, behind leader election on the Lease ``kube-system/cloud-controller-manager``, until
SIGINT/SIGTERM.

Flags as upstream's cloud-controller-manager where one exists: ``--cloud-provider``,
``--cloud-config``, ``--cluster-name``, ``--controllers`` and the ``--leader-elect*`` family
(the lease name defaults to ``cloud-controller-manager``); other settings are ``--option``.
"""

from __future__ import annotations

import argparse
import asyncio
from pathlib import Path
from typing import TYPE_CHECKING

from kframe.cli._command import CommandError
from kframe.cli._server import server_url
from kframe.registry import PluginError, Registry

if TYPE_CHECKING:
    from kframe.cloud import CloudProvider

__all__ = ["CloudControllerManagerCommand", "add_cloud_flags", "open_provider"]


def add_cloud_flags(parser: argparse.ArgumentParser, *, required: bool) -> None:
    """``--cloud-provider``, ``--cloud-config`` and ``--cluster-name``: shared with ``up``."""
    parser.add_argument(
        "--cloud-provider",
        required=required,
        default="",
        metavar="NAME",
        help="the cloud provider; `kframe plugins` lists them (kind cloud-provider)"
        + ("" if required else "; hosts the cloud controller manager (default: none)"),
    )
    parser.add_argument(
        "--cloud-config",
        type=Path,
        metavar="FILE",
        help="the provider's configuration file, handed to its factory",
    )
    parser.add_argument(
        "--cluster-name",
        default="kubernetes",
        metavar="NAME",
        help="the cluster's name, which providers tag their resources with (default kubernetes)",
    )


def open_provider(name: str, config: Path | None, registry: Registry) -> CloudProvider:
    """The provider, or a CommandError (exit 2) naming the flag at fault."""
    from kframe.cloud import open_cloud_provider

    if config is not None and not config.is_file():
        raise CommandError(f"--cloud-config: no such file: {config}", exit_code=2)
    try:
        return open_cloud_provider(name, config, registry=registry)
    except PluginError as exc:
        raise CommandError(f"--cloud-provider: {exc}", exit_code=2) from None
    except (ValueError, TypeError, OSError) as exc:
        raise CommandError(f"--cloud-provider {name}: {exc}", exit_code=2) from None


class CloudControllerManagerCommand:
    help = "run the cloud controllers of a cloud provider against an API server"

    def __init__(self, registry: Registry) -> None:
        self._registry = registry

    def configure(self, parser: argparse.ArgumentParser) -> None:
        from kframe.cli._controller_manager import ControllerManagerCommand

        # The controller manager's flags (--kubeconfig, --controllers, --leader-elect*), with
        # upstream's cloud-controller-manager lease name.
        ControllerManagerCommand(self._registry).configure(parser)
        for action in parser._actions:
            if action.dest == "leader_elect_resource_name":
                action.default = "cloud-controller-manager"
                action.help = "the Lease's name (default cloud-controller-manager)"
            if action.dest == "controllers":
                action.help = (
                    "controllers to run, comma-separated: '*' is every one the provider supports "
                    "(cloud-node-controller, cloud-node-lifecycle-controller, "
                    "service-lb-controller, node-route-controller), -NAME disables one"
                )
        add_cloud_flags(parser, required=True)

    def run(self, args: argparse.Namespace) -> int:
        from kframe.cli._controller_manager import (
            _run,
            election_from,
            parse_controllers,
            parse_pairs,
            parse_workers,
        )
        from kframe.client import HttpClient
        from kframe.cloud.controllers import CloudControllerManager

        options = {"cluster-name": args.cluster_name, **parse_pairs("--option", args.option)}
        workers = parse_workers(args.concurrent_syncs)
        election = election_from(args)
        cloud = open_provider(args.cloud_provider, args.cloud_config, self._registry)
        server = server_url(args)

        async def main() -> None:
            client = HttpClient(server)
            try:
                manager = CloudControllerManager(
                    client,
                    cloud,
                    controllers=parse_controllers(args.controllers),
                    options=options,
                    workers=workers,
                    leader_election=election,
                )
            except ValueError as exc:
                await client.close()
                raise CommandError(str(exc), exit_code=2) from None
            try:
                await _run(
                    manager,
                    server,
                    election,
                    prog="kframe cloud-controller-manager",
                    intro=f"cloud {args.cloud_provider}, ",
                )
            finally:
                await cloud.close()
                await client.close()

        asyncio.run(main())
        return 0
