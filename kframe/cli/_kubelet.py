"""``kframe kubelet``: one node's kubelet against an API server, until SIGINT/SIGTERM."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import ipaddress
import socket
from pathlib import Path

from kframe.cli._command import CommandError
from kframe.cli._files import load_settings
from kframe.cli._server import add_server_flags, server_url
from kframe.registry import Registry

__all__ = ["KubeletCommand"]


def _port(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a port number: {text!r}") from None
    if not 0 <= value <= 65535:
        raise argparse.ArgumentTypeError(f"port out of range 0-65535: {value}")
    return value


class KubeletCommand:
    help = "run one node's kubelet against an API server (registers the node, runs its pods)"

    def __init__(self, registry: Registry) -> None:
        self._registry = registry

    def configure(self, parser: argparse.ArgumentParser) -> None:
        add_server_flags(parser)
        parser.add_argument(
            "--node-name",
            default=socket.gethostname().lower(),
            metavar="NAME",
            help="the Node to register (default: this host's name)",
        )
        parser.add_argument(
            "--runtime",
            default="fake",
            metavar="NAME",
            help="container runtime (see `kframe plugins`; default fake)",
        )
        parser.add_argument(
            "--runtime-config",
            type=Path,
            metavar="FILE",
            help="the runtime's settings, a YAML or JSON mapping",
        )
        parser.add_argument(
            "--address",
            default="127.0.0.1",
            help="where the kubelet server (logs, exec, attach) listens; also the node's "
            "InternalIP (default 127.0.0.1)",
        )
        parser.add_argument(
            "--port", type=_port, default=10250, help="kubelet server port (default 10250; 0: any)"
        )
        parser.add_argument(
            "--pod-cidr", default="", metavar="CIDR", help="the node's spec.podCIDR"
        )
        parser.add_argument(
            "--root-dir",
            type=Path,
            metavar="DIR",
            help="where the runtime keeps state and pod logs go (default: none)",
        )
        parser.add_argument(
            "--node-labels", default="", metavar="K=V,...", help="labels to register the node with"
        )
        parser.add_argument(
            "--capacity",
            default="",
            metavar="K=V,...",
            help="the node's resources, e.g. cpu=8,memory=32Gi,pods=110 (default: this host's)",
        )
        parser.add_argument(
            "--cluster-dns",
            default="",
            metavar="IP,...",
            help="nameservers of dnsPolicy ClusterFirst pods, e.g. the cluster DNS Service's IP "
            "(default none: pods get the host's resolv.conf)",
        )
        parser.add_argument(
            "--cloud-provider",
            default="",
            metavar="external",
            help="'external': register the node with the taint "
            "node.cloudprovider.kubernetes.io/uninitialized=true:NoSchedule for a cloud "
            "controller manager to initialise (default '': no cloud)",
        )
        parser.add_argument(
            "--cluster-domain",
            default="cluster.local",
            metavar="DOMAIN",
            help="the cluster's DNS domain, for the pods' search list (default cluster.local)",
        )

    def _pairs(self, flag: str, text: str) -> dict[str, str]:
        pairs = {}
        for item in filter(None, text.split(",")):
            key, sep, value = item.partition("=")
            if not sep or not key:
                raise CommandError(f"{flag}: {item!r} is not key=value")
            pairs[key] = value
        return pairs

    def run(self, args: argparse.Namespace) -> int:
        from kframe.client import HttpClient
        from kframe.kubelet import Kubelet, KubeletConfig, KubeletServer
        from kframe.kubelet._summary import kubelet_summaries
        from kframe.registry import UnknownNameError
        from kframe.runtime import CRIError, RuntimeOptions, open_runtime

        server = server_url(args)
        runtime_config = load_settings("--runtime-config", args.runtime_config)
        from kframe.api import Quantity, QuantityError

        labels = self._pairs("--node-labels", args.node_labels)
        capacity = self._pairs("--capacity", args.capacity)
        for name, value in capacity.items():
            try:
                Quantity.parse(value)
            except QuantityError:
                raise CommandError(f"--capacity: {name}={value!r} is not a quantity") from None
        cluster_dns = tuple(filter(None, args.cluster_dns.split(",")))
        for ip in cluster_dns:
            try:
                ipaddress.ip_address(ip)
            except ValueError:
                raise CommandError(f"--cluster-dns: {ip!r} is not an IP address") from None
        from kframe.kubelet._config import cloud_provider_error

        cloud_error = cloud_provider_error(args.cloud_provider)
        if cloud_error is not None:
            raise CommandError(f"--cloud-provider: {cloud_error}")
        root = str(args.root_dir.resolve()) if args.root_dir else ""
        if root:
            with contextlib.suppress(OSError):
                Path(root).mkdir(parents=True, exist_ok=True)
        config = KubeletConfig(
            node_name=args.node_name,
            runtime=args.runtime,
            runtime_config=runtime_config,
            pod_cidr=args.pod_cidr,
            labels=labels,
            capacity=capacity,
            node_ip=args.address if args.address not in ("0.0.0.0", "::") else "127.0.0.1",
            port=args.port,
            root_dir=root,
            log_dir=str(Path(root) / "pods") if root else "",
            cluster_dns=cluster_dns,
            cluster_domain=args.cluster_domain,
            cloud_provider=args.cloud_provider,
        )

        async def main() -> None:
            from kframe.cluster import run_until_signal

            try:
                runtime = await open_runtime(
                    args.runtime,
                    RuntimeOptions(
                        node_name=config.node_name, root_dir=root, config=runtime_config
                    ),
                    registry=self._registry,
                )
            except UnknownNameError as exc:
                raise CommandError(f"--runtime: {exc}") from None
            except CRIError as exc:
                raise CommandError(f"--runtime-config: {exc}") from None
            client = HttpClient(server)
            kubelet = Kubelet(client, runtime, config)
            task: asyncio.Task[None] | None = None
            kserver: KubeletServer | None = None

            async def start() -> None:
                nonlocal task, kserver
                kserver = KubeletServer(
                    args.address,
                    args.port,
                    kubelet.lookup,
                    summary=kubelet_summaries(lambda: [kubelet]),
                )
                try:
                    await kserver.start()
                except OSError as exc:
                    kserver = None
                    raise CommandError(
                        f"--port {args.port}: cannot listen: {exc.strerror or exc}"
                    ) from None
                kubelet.port = kserver.port
                task = asyncio.ensure_future(kubelet.run())
                print(
                    f"kframe kubelet: node {config.node_name} ({args.runtime} runtime) "
                    f"against {server}, serving on {args.address}:{kubelet.port}",
                    flush=True,
                )

            async def stop() -> None:
                if task is not None:
                    task.cancel()
                    with contextlib.suppress(asyncio.CancelledError):
                        await task
                if kserver is not None:
                    await kserver.stop()
                await runtime.close()
                await client.close()

            await run_until_signal(start, stop)

        asyncio.run(main())
        return 0
