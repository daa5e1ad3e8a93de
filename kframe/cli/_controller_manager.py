"""``kframe controller-manager``: the enabled controllers against an API server, behind leader
election on the Lease ``kube-system/kube-controller-manager``, until SIGINT/SIGTERM.

The flags are kube-controller-manager's where one exists (``--controllers``, ``--leader-elect``
and its timings, as Go durations or seconds); per-controller settings, which upstream spreads
over flags such as ``--concurrent-deployment-syncs``, are the generic ``--concurrent-syncs
NAME=N`` and ``--option NAME=VALUE``.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import signal
from typing import TYPE_CHECKING

from kframe.cli._command import CommandError
from kframe.cli._server import add_server_flags, server_url
from kframe.registry import Registry

if TYPE_CHECKING:
    from kframe.controller import ControllerManager, LeaderElection

__all__ = [
    "ControllerManagerCommand",
    "election_from",
    "go_duration",
    "parse_bool",
    "parse_pairs",
]


def go_duration(text: str) -> float:
    """Seconds of a Go duration (``15s``, ``1m30s``, ``500ms``) or a bare number of seconds;
    a positive value."""
    from kframe.controller import parse_duration  # here: the CLI starts without it

    try:
        value = parse_duration(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected a duration such as 15s or 1m, got {text!r}"
        ) from None
    if not value > 0:
        raise argparse.ArgumentTypeError(f"must be greater than zero, got {text!r}")
    return value


def parse_bool(text: str) -> bool:
    """A Go flag boolean: true/false, 1/0, t/f (any case)."""
    lowered = text.lower()
    if lowered in ("true", "t", "1"):
        return True
    if lowered in ("false", "f", "0"):
        return False
    raise argparse.ArgumentTypeError(f"expected true or false, got {text!r}")


def parse_pairs(flag: str, items: list[str] | None) -> dict[str, str]:
    """``NAME=VALUE`` items (each maybe comma-separated) as a mapping; a malformed one is a
    CommandError naming ``flag``."""
    pairs: dict[str, str] = {}
    for item in items or ():
        for part in filter(None, (p.strip() for p in item.split(","))):
            name, sep, value = part.partition("=")
            if not sep or not name.strip():
                raise CommandError(f"{flag}: {part!r} is not NAME=VALUE", exit_code=2)
            pairs[name.strip()] = value.strip()
    return pairs


def parse_workers(items: list[str] | None) -> dict[str, int]:
    workers: dict[str, int] = {}
    for name, value in parse_pairs("--concurrent-syncs", items).items():
        try:
            count = int(value)
        except ValueError:
            count = 0
        if count < 1:
            raise CommandError(
                f"--concurrent-syncs: {name}={value!r}: expected a whole number of at least 1",
                exit_code=2,
            )
        workers[name] = count
    return workers


def parse_controllers(text: str) -> list[str]:
    return [part.strip() for part in text.split(",") if part.strip()]


def add_controller_flags(parser: argparse.ArgumentParser) -> None:
    """``--controllers``, ``--option`` and ``--concurrent-syncs``: shared with ``kframe up``."""
    parser.add_argument(
        "--controllers",
        default="*",
        metavar="LIST",
        help="controllers to run, comma-separated: '*' is every controller on by default, NAME "
        "enables one, -NAME disables one (the first entry naming a controller decides); "
        "default '*'; `kframe plugins` lists them (kind controller)",
    )
    parser.add_argument(
        "--option",
        action="append",
        metavar="NAME=VALUE",
        help="a setting controllers read (ctx.option); repeatable, or comma-separated",
    )
    parser.add_argument(
        "--concurrent-syncs",
        action="append",
        metavar="CONTROLLER=N",
        help="how many keys a controller reconciles at once (upstream's "
        "--concurrent-<name>-syncs); repeatable, or comma-separated",
    )


class ControllerManagerCommand:
    help = "run the controllers against an API server, behind leader election"

    def __init__(self, registry: Registry) -> None:
        self._registry = registry

    def configure(self, parser: argparse.ArgumentParser) -> None:
        add_server_flags(parser)
        add_controller_flags(parser)
        parser.add_argument(
            "--leader-elect",
            type=parse_bool,
            nargs="?",
            const=True,
            default=True,
            metavar="BOOL",
            help="run controllers only while holding the leader lease (default true; "
            "--leader-elect=false runs them at once)",
        )
        parser.add_argument(
            "--leader-elect-lease-duration",
            type=go_duration,
            default=15.0,
            metavar="DURATION",
            help="how long candidates wait, after the leader last renewed, before taking over "
            "(default 15s)",
        )
        parser.add_argument(
            "--leader-elect-renew-deadline",
            type=go_duration,
            default=10.0,
            metavar="DURATION",
            help="how long the leader retries renewing before it stops leading (default 10s)",
        )
        parser.add_argument(
            "--leader-elect-retry-period",
            type=go_duration,
            default=2.0,
            metavar="DURATION",
            help="the wait between tries to acquire or renew (default 2s)",
        )
        parser.add_argument(
            "--leader-elect-resource-lock",
            choices=("leases",),
            default="leases",
            help="the kind of lock object (only leases, as upstream's default)",
        )
        parser.add_argument(
            "--leader-elect-resource-name",
            default="kube-controller-manager",
            metavar="NAME",
            help="the Lease's name (default kube-controller-manager)",
        )
        parser.add_argument(
            "--leader-elect-resource-namespace",
            default="kube-system",
            metavar="NAMESPACE",
            help="the Lease's namespace (default kube-system)",
        )

    def run(self, args: argparse.Namespace) -> int:
        from kframe.client import HttpClient
        from kframe.controller import ControllerManager, registered_controllers

        options = parse_pairs("--option", args.option)
        workers = parse_workers(args.concurrent_syncs)
        election = election_from(args)
        specs = registered_controllers(self._registry)
        server = server_url(args)

        async def main() -> None:
            client = HttpClient(server)
            try:
                manager = ControllerManager(
                    client,
                    specs,
                    controllers=parse_controllers(args.controllers),
                    options=options,
                    workers=workers,
                    leader_election=election,
                )
                # Each controller reads its --option values as it is built: a bad one is a
                # flag error before anything starts (the client has not connected yet).
                manager.build()
            except ValueError as exc:
                await client.close()
                raise CommandError(str(exc), exit_code=2) from None
            try:
                await _run(manager, server, election)
            finally:
                await client.close()

        asyncio.run(main())
        return 0


def election_from(args: argparse.Namespace) -> LeaderElection:
    """The ``--leader-elect*`` flags as a LeaderElection, checked when it is enabled."""
    from kframe.controller import LeaderElection, default_identity

    election = LeaderElection(
        enabled=args.leader_elect,
        lease_duration=args.leader_elect_lease_duration,
        renew_deadline=args.leader_elect_renew_deadline,
        retry_period=args.leader_elect_retry_period,
        name=args.leader_elect_resource_name,
        namespace=args.leader_elect_resource_namespace,
        identity=default_identity(),
    )
    if election.enabled:
        _check_election(election)
    return election


def _check_election(election: LeaderElection) -> None:
    """The rules client-go's NewLeaderElector enforces, named by the flags."""
    from kframe.client._leaderelection import JITTER_FACTOR

    def seconds(value: float) -> str:
        return f"{value:g}s"

    if election.lease_duration <= election.renew_deadline:
        raise CommandError(
            f"--leader-elect-lease-duration ({seconds(election.lease_duration)}) must be greater "
            f"than --leader-elect-renew-deadline ({seconds(election.renew_deadline)})",
            exit_code=2,
        )
    if election.renew_deadline <= JITTER_FACTOR * election.retry_period:
        raise CommandError(
            f"--leader-elect-renew-deadline ({seconds(election.renew_deadline)}) must be greater "
            f"than {JITTER_FACTOR:g} x --leader-elect-retry-period "
            f"({seconds(election.retry_period)})",
            exit_code=2,
        )
    for flag, value in (
        ("--leader-elect-resource-name", election.name),
        ("--leader-elect-resource-namespace", election.namespace),
    ):
        if not value:
            raise CommandError(f"{flag} must not be empty", exit_code=2)


async def _run(
    manager: ControllerManager,
    server: str,
    election: LeaderElection,
    *,
    prog: str = "kframe controller-manager",
    intro: str = "",
) -> None:
    """Until SIGINT/SIGTERM, or until the manager stops (leadership lost: a CommandError)."""
    from kframe.controller import LeadershipLost

    names = ", ".join(manager.names) or "none"
    how = (
        f"leader election on lease {election.namespace}/{election.name} as {election.identity}"
        if election.enabled
        else "no leader election"
    )
    print(f"{prog}: {intro}controllers {names} against {server} ({how})", flush=True)
    loop = asyncio.get_running_loop()
    stopping = asyncio.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stopping.set)

    async def announce() -> None:
        # A standby says nothing until it leads; then one line, as upstream's log
        # "successfully acquired lease".
        await manager.synced.wait()
        lease = f"acquired lease {election.namespace}/{election.name}; " if election.enabled else ""
        print(f"{prog}: {lease}controllers started", flush=True)

    task = asyncio.ensure_future(manager.run())
    stopper = asyncio.ensure_future(stopping.wait())
    announcer = asyncio.ensure_future(announce())
    try:
        await asyncio.wait({task, stopper}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(sig)
        stopper.cancel()
        announcer.cancel()
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            try:
                await task
            except LeadershipLost as exc:
                # Upstream exits here too ("leaderelection lost"); a supervisor restarts it.
                raise CommandError(str(exc)) from None
