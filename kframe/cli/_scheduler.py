"""``kframe scheduler``: run the scheduler against an API server, or ``explain`` offline."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import sys
from pathlib import Path

from kframe.api import load_yaml
from kframe.cli._builtin import _port
from kframe.cli._command import CommandError
from kframe.cli._server import add_server_flags, server_url
from kframe.registry import Registry
from kframe.scheduler import (
    METRICS_PORT,
    ConfigError,
    explain_objects,
    load_config,
    registry_factories,
)

__all__ = ["SchedulerCommand"]


class SchedulerCommand:
    help = "run the scheduler against an API server; `explain`: where a pod would go, offline"

    def __init__(self, registry: Registry) -> None:
        self._registry = registry

    def configure(self, parser: argparse.ArgumentParser) -> None:
        add_server_flags(parser)
        parser.add_argument(
            "--config",
            type=Path,
            metavar="CONFIG.yaml",
            dest="run_config",
            help="a KubeSchedulerConfiguration (default: kube-scheduler's default profile)",
        )
        parser.add_argument(
            "--seed",
            type=int,
            dest="run_seed",
            help="seed of the tie-break among equally scored nodes (default: random)",
        )
        parser.add_argument(
            "--bind-address",
            default="127.0.0.1",
            metavar="ADDRESS",
            help="where to serve /metrics, /healthz, /livez and /readyz (plain HTTP; default "
            "127.0.0.1, kube-scheduler's is 0.0.0.0)",
        )
        parser.add_argument(
            "--metrics-port",
            type=_port,
            default=METRICS_PORT,
            metavar="PORT",
            help=f"port of /metrics and the health endpoints (default {METRICS_PORT}, "
            "kube-scheduler's secure port; 0: do not serve)",
        )
        sub = parser.add_subparsers(dest="scheduler_command", metavar="COMMAND")
        explain = sub.add_parser(
            "explain",
            help="evaluate every node for one pod of a cluster file and print JSON",
            description="Evaluate every node of CLUSTER.yaml (Nodes, Pods; pods with "
            "spec.nodeName are bound) for the named pod, with the scheduler's plugins, and "
            "print one JSON object: each node's filter verdict and scores, and the node the "
            "scheduler would pick. No server is needed.",
        )
        explain.add_argument(
            "-f",
            "--filename",
            type=Path,
            required=True,
            metavar="CLUSTER.yaml",
            help="multi-document YAML holding Nodes and Pods (and Namespaces, Services, ...)",
        )
        explain.add_argument(
            "--pod", required=True, metavar="NAMESPACE/NAME", help="the pod to schedule"
        )
        explain.add_argument(
            "--config",
            type=Path,
            metavar="CONFIG.yaml",
            help="a KubeSchedulerConfiguration (kubescheduler.config.k8s.io/v1); default: "
            "kube-scheduler's default profile",
        )
        explain.add_argument(
            "--seed",
            type=int,
            default=0,
            help="seed of the tie-break among equally scored nodes (default 0)",
        )

    def run(self, args: argparse.Namespace) -> int:
        if args.scheduler_command is None:
            return self._serve(args)
        try:
            config = load_config(args.config)
            objects = load_yaml(args.filename.read_text())
            document = explain_objects(
                objects,
                args.pod,
                config=config,
                factories=registry_factories(self._registry),
                seed=args.seed,
            )
        except (ConfigError, ValueError) as exc:
            raise CommandError(str(exc)) from None
        json.dump(document, sys.stdout, indent=2)
        sys.stdout.write("\n")
        return 0

    def _serve(self, args: argparse.Namespace) -> int:
        from kframe.client import HttpClient
        from kframe.scheduler import MetricsServer, Scheduler

        server = server_url(args)
        try:
            config = load_config(args.run_config)
            scheduler = Scheduler(
                HttpClient(server), config, registry_factories(self._registry), seed=args.run_seed
            )
        except ConfigError as exc:
            raise CommandError(str(exc)) from None

        async def main() -> None:
            from kframe.cluster import run_until_signal

            task: asyncio.Task[None] | None = None
            endpoint = MetricsServer(scheduler.metrics, lambda: scheduler.synced)

            async def start() -> None:
                nonlocal task
                if args.metrics_port:
                    try:
                        await endpoint.start(args.bind_address, args.metrics_port)
                    except OSError as exc:
                        reason = os.strerror(exc.errno) if exc.errno else str(exc)
                        raise CommandError(
                            f"--metrics-port: cannot serve on {args.bind_address}:"
                            f"{args.metrics_port}: {reason}"
                        ) from None
                task = asyncio.ensure_future(scheduler.run())
                print(f"kframe scheduler: scheduling against {server}", flush=True)
                if args.metrics_port:
                    print(f"metrics: {endpoint.url}/metrics", flush=True)

            async def stop() -> None:
                await endpoint.stop()
                if task is not None:
                    task.cancel()
                    with contextlib.suppress(asyncio.CancelledError):
                        await task
                await scheduler.client.close()

            await run_until_signal(start, stop)

        asyncio.run(main())
        return 0
