"""Commands that belong to kframe itself rather than to a plugin."""

from __future__ import annotations

import argparse
import asyncio
import json
import os
from pathlib import Path

import attrs

from kframe.apiserver import (
    DEFAULT_ADMISSION_PLUGINS,
    DEFAULT_NODE_PORT_RANGE,
    DEFAULT_SERVICE_CIDR,
    ServiceAllocator,
)
from kframe.bench import TARGETS
from kframe.cli._command import CommandError
from kframe.cluster import Settings
from kframe.registry import Registry

__all__ = ["ApiserverCommand", "BenchCommand", "PluginsCommand", "UpCommand"]


class PluginsCommand:
    """``kframe plugins``: what is installed, and which distribution provides it."""

    help = "list registered plugin implementations: kind, name, providing distribution"

    def __init__(self, registry: Registry) -> None:
        self._registry = registry

    def configure(self, parser: argparse.ArgumentParser) -> None:
        parser.add_argument(
            "-o",
            "--output",
            choices=("text", "json"),
            default="text",
            help="text: aligned columns (default); json: one object per line",
        )

    def run(self, args: argparse.Namespace) -> int:
        rows = [
            (e.kind, e.name, e.distribution or f"(registered as {e.plugin})")
            for e in self._registry.entries()
        ]
        if args.output == "json":
            for kind, name, dist in rows:
                print(json.dumps({"kind": kind, "name": name, "distribution": dist}))
            return 0
        widths = [max((len(r[i]) for r in rows), default=0) for i in range(2)]
        for kind, name, dist in rows:
            print(f"{kind:<{widths[0]}}  {name:<{widths[1]}}  {dist}")
        return 0


class BenchCommand:
    """``kframe bench <target>``: benchmarks printing one JSON object per result on stdout."""

    help = "run a benchmark; prints one JSON object per result (see docs/benchmarks.md)"

    def __init__(self) -> None:
        self._targets = {name: factory() for name, factory in TARGETS.items()}

    def configure(self, parser: argparse.ArgumentParser) -> None:
        sub = parser.add_subparsers(dest="target", metavar="TARGET", required=True)
        for name, target in sorted(self._targets.items()):
            target.configure(sub.add_parser(name, help=target.help, description=target.help))

    def run(self, args: argparse.Namespace) -> int:
        return self._targets[args.target].run(args)


def _port(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a port number, got {text!r}") from None
    if not 0 <= value <= 65535:
        raise argparse.ArgumentTypeError(f"port must be in 0..65535, got {value}")
    return value


def _seconds(text: str) -> float:
    try:
        value = float(text.removesuffix("s"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected seconds, got {text!r}") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"must not be negative, got {text!r}")
    return value


def _count(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"must not be negative, got {text!r}")
    return value


def add_server_flags(parser: argparse.ArgumentParser) -> None:
    """The flags `kframe up` and `kframe apiserver` share (docs/architecture.md, Contracts)."""
    parser.add_argument(
        "--data-dir",
        type=Path,
        default=Path(".kframe"),
        help="where state and the kubeconfig live (default: ./.kframe)",
    )
    parser.add_argument(
        "--store", metavar="URL", help="store URL (default: sqlite:///<data-dir>/state.db)"
    )
    parser.add_argument("--address", default="127.0.0.1", help="listen address")
    parser.add_argument("--port", type=_port, default=6443, help="listen port (0: any free)")
    parser.add_argument(
        "--enable-admission-plugins",
        metavar="NAMES",
        default=",".join(DEFAULT_ADMISSION_PLUGINS),
        help="admission plugins to run, in order, comma-separated (see `kframe plugins`; "
        f"default {','.join(DEFAULT_ADMISSION_PLUGINS)})",
    )
    parser.add_argument(
        "--etcd-compaction-interval",
        type=_seconds,
        default=300.0,
        metavar="SECONDS",
        dest="compaction_interval",
        help="compact the store's history this often, as kube-apiserver does (default 300; 0: "
        "never)",
    )
    parser.add_argument(
        "--kubeconfig",
        type=Path,
        metavar="PATH",
        help="where to write the kubeconfig (default: <data-dir>/kubeconfig)",
    )
    parser.add_argument(
        "--service-cluster-ip-range",
        type=_service_cidr,
        default=DEFAULT_SERVICE_CIDR,
        metavar="CIDR",
        help=f"the CIDR Service cluster IPs come from (default {DEFAULT_SERVICE_CIDR})",
    )
    parser.add_argument(
        "--service-node-port-range",
        type=_node_port_range,
        default=DEFAULT_NODE_PORT_RANGE,
        metavar="RANGE",
        help="the ports NodePort and LoadBalancer Services get node ports from, inclusive "
        f"(default {DEFAULT_NODE_PORT_RANGE})",
    )


def _service_cidr(text: str) -> str:
    try:
        ServiceAllocator(cluster_ip_range=text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None
    return text


def _node_port_range(text: str) -> str:
    try:
        ServiceAllocator(node_port_range=text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None
    return text


def server_settings(args: argparse.Namespace) -> Settings:
    data_dir = args.data_dir.resolve()
    return Settings(
        store=args.store or f"sqlite://{data_dir / 'state.db'}",
        address=args.address,
        port=args.port,
        kubeconfig=(args.kubeconfig or data_dir / "kubeconfig").resolve(),
        nodes=getattr(args, "nodes", 0),
        runtime=getattr(args, "runtime", ""),
        compaction_interval=args.compaction_interval,
        admission_plugins=tuple(n for n in args.enable_admission_plugins.split(",") if n),
        data_dir=data_dir,
        service_cluster_ip_range=args.service_cluster_ip_range,
        service_node_port_range=args.service_node_port_range,
    )


class ApiserverCommand:
    """``kframe apiserver``: the API server alone, in the foreground."""

    help = "run the API server alone over a store, until SIGINT/SIGTERM"

    def configure(self, parser: argparse.ArgumentParser) -> None:
        add_server_flags(parser)

    def run(self, args: argparse.Namespace) -> int:
        from kframe.cluster import run_apiserver

        asyncio.run(run_apiserver(server_settings(args)))
        return 0


class UpCommand:
    """``kframe up``: the whole cluster in one foreground process."""

    help = "run a whole cluster in one process (API server and every component), until SIGINT"

    def configure(self, parser: argparse.ArgumentParser) -> None:
        add_server_flags(parser)
        parser.add_argument(
            "--nodes", type=_count, default=0, help="kubelets to host, node-0 ... (default 0)"
        )
        parser.add_argument(
            "--runtime", default="fake", help="container runtime of the nodes (default fake)"
        )
        parser.add_argument(
            "--scheduler-config",
            type=Path,
            metavar="PATH",
            help="KubeSchedulerConfiguration for the hosted scheduler (default: the default "
            "profile)",
        )
        parser.add_argument(
            "--scheduler-port",
            type=_port,
            default=10259,
            metavar="PORT",
            help="where the hosted scheduler serves /metrics and /healthz over HTTP, on "
            "--address (default 10259, kube-scheduler's secure port; 0: not served)",
        )
        from kframe.cli._controller_manager import add_controller_flags

        add_controller_flags(parser)  # the hosted controller manager's
        from kframe.cli._cloud_controller_manager import add_cloud_flags

        add_cloud_flags(parser, required=False)  # the hosted cloud controller manager's
        parser.add_argument(
            "--dns-port",
            type=_port,
            default=53 if os.geteuid() == 0 else 1053,
            metavar="PORT",
            help="where the hosted cluster DNS serves UDP and TCP, on --address (default 53 as "
            "root, else 1053; 0: not hosted)",
        )
        parser.add_argument(
            "--cluster-domain",
            default="cluster.local",
            metavar="DOMAIN",
            help="the cluster DNS domain (default cluster.local)",
        )
        parser.add_argument(
            "--proxy-mode",
            default="",
            metavar="MODE",
            help="host a service proxy of this backend (iptables, ...) per node, in dry-run "
            "mode; userspace, and iptables with the process runtime as root: one live proxy "
            "for the whole host (default: none)",
        )

    def run(self, args: argparse.Namespace) -> int:
        from kframe.cluster import run_up
        from kframe.scheduler import ConfigError, load_config

        try:
            load_config(args.scheduler_config)  # refuse a bad file before starting anything
        except ConfigError as exc:
            raise CommandError(f"--scheduler-config: {exc}") from None
        from kframe.cli._controller_manager import (
            parse_controllers,
            parse_pairs,
            parse_workers,
        )

        settings = attrs.evolve(
            server_settings(args),
            scheduler_config=args.scheduler_config,
            scheduler_port=args.scheduler_port,
            controllers=tuple(parse_controllers(args.controllers)),
            controller_options=parse_pairs("--option", args.option),
            controller_workers=parse_workers(args.concurrent_syncs),
            cloud_provider=args.cloud_provider,
            cloud_config=args.cloud_config,
            dns_port=args.dns_port,
            cluster_domain=args.cluster_domain,
            proxy_mode=args.proxy_mode,
        )
        if args.cloud_provider and args.cluster_name != "kubernetes":
            options = {**settings.controller_options, "cluster-name": args.cluster_name}
            settings = attrs.evolve(settings, controller_options=options)
        try:
            asyncio.run(run_up(settings))
        except ValueError as exc:
            raise CommandError(str(exc), exit_code=2) from None
        return 0
