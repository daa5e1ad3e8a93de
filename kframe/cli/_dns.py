"""``kframe dns``: cluster DNS against an API server, until SIGINT/SIGTERM."""

from __future__ import annotations

import argparse
import asyncio
from pathlib import Path

from kframe.cli._command import CommandError
from kframe.cli._server import add_server_flags, server_url

__all__ = ["DnsCommand", "parse_listen"]


def parse_listen(text: str) -> tuple[str, int]:
    """``host:port`` or ``[v6]:port`` (argparse type)."""
    host, sep, port_text = text.rpartition(":")
    if not sep or not host:
        raise argparse.ArgumentTypeError(f"not host:port: {text!r}")
    if host.startswith("[") and host.endswith("]"):
        host = host[1:-1]
    try:
        port = int(port_text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a port number: {port_text!r}") from None
    if not 0 <= port <= 65535:
        raise argparse.ArgumentTypeError(f"port out of range 0-65535: {port}")
    return host, port


class DnsCommand:
    help = "serve cluster DNS (<service>.<namespace>.svc.<domain>) from an API server"

    def configure(self, parser: argparse.ArgumentParser) -> None:
        add_server_flags(parser)
        parser.add_argument(
            "--listen",
            type=parse_listen,
            default=("127.0.0.1", 1053),
            metavar="HOST:PORT",
            help="where to serve UDP and TCP (default 127.0.0.1:1053; port 0: any free one)",
        )
        parser.add_argument(
            "--cluster-domain",
            default="cluster.local",
            metavar="DOMAIN",
            help="the cluster's DNS domain, as the kubelets' --cluster-domain (default "
            "cluster.local)",
        )
        parser.add_argument(
            "--ttl",
            type=int,
            default=30,
            metavar="SECONDS",
            help="TTL of the cluster's records, 0 to 3600 (default 30, as kubeadm's CoreDNS)",
        )
        parser.add_argument(
            "--pods",
            choices=("insecure", "disabled"),
            default="insecure",
            help="answer <a-b-c-d>.<ns>.pod.<domain> names (default insecure, as kubeadm's "
            "CoreDNS)",
        )
        parser.add_argument(
            "--upstream",
            action="append",
            default=None,
            metavar="IP[:PORT]",
            help="where names outside the cluster domain go (repeatable; default: the "
            "nameservers of --resolv-conf; 'none': refuse them)",
        )
        parser.add_argument(
            "--resolv-conf",
            type=Path,
            default=Path("/etc/resolv.conf"),
            metavar="FILE",
            help="the resolv.conf whose nameservers are the default upstreams",
        )

    def run(self, args: argparse.Namespace) -> int:
        from kframe.client import HttpClient
        from kframe.dns import ClusterDNS, Forwarder, parse_upstream, resolv_conf_upstreams

        server = server_url(args)
        if not 0 <= args.ttl <= 3600:
            raise CommandError(f"--ttl {args.ttl}: must be 0 to 3600 seconds")
        forwarder: Forwarder | None
        if args.upstream is None:
            forwarder = Forwarder(resolv_conf_upstreams(args.resolv_conf))
        elif args.upstream == ["none"]:
            forwarder = None
        else:
            try:
                forwarder = Forwarder(parse_upstream(text) for text in args.upstream)
            except ValueError as exc:
                raise CommandError(f"--upstream: {exc}") from None
        host, port = args.listen

        async def main() -> None:
            from kframe.cluster import run_until_signal

            client = HttpClient(server)
            cdns = ClusterDNS(
                client,
                cluster_domain=args.cluster_domain,
                host=host,
                port=port,
                ttl=args.ttl,
                pods=args.pods,
                forwarder=forwarder,
            )
            started = False

            async def start() -> None:
                nonlocal started
                try:
                    await cdns.start()
                except OSError as exc:
                    raise CommandError(
                        f"--listen {host}:{port}: cannot listen: {exc.strerror or exc}"
                    ) from None
                started = True
                upstreams = cdns.server.forwarder.upstreams if cdns.server.forwarder else ()
                print(
                    f"kframe dns: {args.cluster_domain} from {server}, serving on "
                    f"{host}:{cdns.port} (UDP and TCP); other names: "
                    f"{', '.join(map(str, upstreams)) or 'refused'}",
                    flush=True,
                )

            async def stop() -> None:
                if started:
                    await cdns.stop()
                await client.close()

            await run_until_signal(start, stop)

        asyncio.run(main())
        return 0
