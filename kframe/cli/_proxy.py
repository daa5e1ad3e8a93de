"""``kframe proxy``: one node's service proxy against an API server, until SIGINT/SIGTERM."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import socket
import sys
from pathlib import Path
from typing import Any

from kframe.cli._command import CommandError
from kframe.cli._files import load_settings
from kframe.cli._server import add_server_flags, server_url
from kframe.registry import Registry

__all__ = ["ProxyCommand"]


class ProxyCommand:
    help = "run one node's service proxy (kube-proxy) against an API server"

    def __init__(self, registry: Registry) -> None:
        self._registry = registry

    def configure(self, parser: argparse.ArgumentParser) -> None:
        from kframe.cli._controller_manager import go_duration

        add_server_flags(parser)
        parser.add_argument(
            "--mode",
            default="iptables",
            metavar="NAME",
            help="proxy backend: iptables, userspace, or a plugin's (see `kframe plugins`; "
            "default iptables)",
        )
        parser.add_argument(
            "--hostname-override",
            "--node-name",
            dest="node_name",
            default=socket.gethostname().lower(),
            metavar="NAME",
            help="the node this proxy serves: its endpoints are local (default: this host's name)",
        )
        parser.add_argument(
            "--dry-run",
            action="store_true",
            help="render the rules without touching the host (no root needed); with the "
            "iptables backend, set `output: -` in --backend-config to print them",
        )
        parser.add_argument(
            "--backend-config",
            type=Path,
            metavar="FILE",
            help="the backend's settings, a YAML or JSON mapping (docs/proxy.md lists them)",
        )
        parser.add_argument(
            "--min-sync-period",
            type=go_duration,
            default=1.0,
            metavar="DURATION",
            help="the least time between two syncs (kube-proxy's --iptables-min-sync-period; "
            "default 1s)",
        )
        parser.add_argument(
            "--sync-period",
            type=go_duration,
            default=30.0,
            metavar="DURATION",
            help="the most time between two syncs, a full resync (default 30s)",
        )
        parser.add_argument(
            "--ip-family",
            choices=("IPv4", "IPv6"),
            default="IPv4",
            help="the family proxied (default IPv4)",
        )
        parser.add_argument(
            "--once",
            action="store_true",
            help="sync once, after listing Services and EndpointSlices, then exit",
        )
        parser.add_argument(
            "--cleanup",
            action="store_true",
            help="remove everything the backend installed, then exit (kube-proxy --cleanup)",
        )

    def run(self, args: argparse.Namespace) -> int:
        from kframe.client import HttpClient
        from kframe.proxy import Proxy, ProxyError, ProxyOptions, open_backend
        from kframe.registry import UnknownNameError

        if args.min_sync_period > args.sync_period:
            raise CommandError("--min-sync-period must not exceed --sync-period", exit_code=2)
        options = ProxyOptions(
            node_name=args.node_name,
            dry_run=args.dry_run,
            ip_family=args.ip_family,
            config=load_settings("--backend-config", args.backend_config),
        )

        async def open_() -> Any:
            try:
                return await open_backend(args.mode, options, registry=self._registry)
            except UnknownNameError as exc:
                raise CommandError(f"--mode: {exc}") from None
            except ProxyError as exc:
                raise CommandError(str(exc)) from None

        if args.cleanup:

            async def cleanup() -> None:
                backend = await open_()
                try:
                    await backend.cleanup()
                except ProxyError as exc:
                    raise CommandError(str(exc)) from None
                finally:
                    await backend.close()

            asyncio.run(cleanup())
            print(f"kframe proxy: {args.mode} rules removed", file=sys.stderr)
            return 0

        server = server_url(args)

        async def main() -> None:
            from kframe.cluster import run_until_signal

            backend = await open_()
            client = HttpClient(server)
            proxy = Proxy(
                client,
                backend,
                node_name=args.node_name,
                ip_family=args.ip_family,
                min_sync_period=args.min_sync_period,
                sync_period=args.sync_period,
            )
            task: asyncio.Task[None] | None = None

            async def stop() -> None:
                if task is not None:
                    task.cancel()
                    with contextlib.suppress(asyncio.CancelledError, Exception):
                        await task
                await backend.close()
                await client.close()

            if args.once:
                task = asyncio.ensure_future(proxy.run())
                attempted = asyncio.ensure_future(proxy.attempted.wait())
                try:
                    done, _ = await asyncio.wait(
                        [task, attempted], return_when=asyncio.FIRST_COMPLETED
                    )
                    if task in done:
                        task.result()  # the proxy stopped: raise its error
                finally:
                    attempted.cancel()
                    await stop()
                state = proxy.last_state
                if state is None:
                    raise CommandError(f"{args.mode} sync failed: {proxy.last_error}")
                endpoints = sum(len(v) for v in state.endpoints.values())
                print(
                    f"kframe proxy: synced {len(state.services)} service ports, {endpoints} "
                    f"endpoints ({args.mode}{', dry run' if args.dry_run else ''}) in "
                    f"{proxy.last_sync_seconds * 1000:.1f} ms",
                    file=sys.stderr,
                )
                return

            async def start() -> None:
                nonlocal task
                task = asyncio.ensure_future(proxy.run())
                print(
                    f"kframe proxy: node {args.node_name} ({args.mode} mode"
                    f"{', dry run' if args.dry_run else ''}) against {server}",
                    flush=True,
                )

            await run_until_signal(start, stop)

        asyncio.run(main())
        return 0
