"""Forwarding questions outside the cluster domain to upstream name servers.

As CoreDNS's ``forward . /etc/resolv.conf`` in kubeadm's Corefile: the upstreams are the
``nameserver`` lines of a resolv.conf (the host's by default), tried in order, over UDP with a
retry over TCP when the answer is truncated. :class:`kframe.dns.DNSServer` calls it.
"""

from __future__ import annotations

import ipaddress
import logging
from collections.abc import Iterable, Sequence
from pathlib import Path

import attrs
import dns.asyncquery
import dns.exception
import dns.message

__all__ = ["Forwarder", "Upstream", "parse_upstream", "resolv_conf_upstreams"]

log = logging.getLogger("kframe.dns")


@attrs.frozen
class Upstream:
    """One upstream name server."""

    host: str
    port: int = 53

    def __str__(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{host}:{self.port}"


def parse_upstream(text: str) -> Upstream:
    """``10.0.0.2``, ``10.0.0.2:5353``, ``[fd00::2]:53`` or ``fd00::2``; ValueError if not."""
    text = text.strip()
    host, port = text, 53
    if text.startswith("["):
        host, sep, rest = text[1:].partition("]")
        if not sep or (rest and not rest.startswith(":")):
            raise ValueError(f"not an address: {text!r}")
        if rest:
            port = int(rest[1:])
    elif text.count(":") == 1:
        host, _, port_text = text.partition(":")
        port = int(port_text)
    ipaddress.ip_address(host)  # ValueError for anything but an IP address
    if not 0 < port < 65536:
        raise ValueError(f"port out of range: {port}")
    return Upstream(host, port)


def resolv_conf_upstreams(path: str | Path = "/etc/resolv.conf") -> list[Upstream]:
    """The ``nameserver`` lines of a resolv.conf ([] when the file is missing)."""
    try:
        text = Path(path).read_text()
    except OSError:
        return []
    found = []
    for line in text.splitlines():
        fields = line.split("#", 1)[0].split()
        if len(fields) >= 2 and fields[0] == "nameserver":
            address = fields[1].split("%", 1)[0]  # drop an IPv6 zone index
            try:
                found.append(Upstream(str(ipaddress.ip_address(address))))
            except ValueError:
                continue
    return found


class Forwarder:
    """Asks the upstreams in order; the first answer wins."""

    def __init__(self, upstreams: Iterable[Upstream], *, timeout: float = 2.0) -> None:
        self.upstreams: Sequence[Upstream] = tuple(upstreams)
        self.timeout = timeout

    def without(self, host: str, port: int) -> Forwarder:
        """This forwarder less any upstream that is ``host:port`` (the server itself, so that a
        resolv.conf naming it does not make a loop); a wildcard ``host`` covers loopback."""
        wildcard = host in ("0.0.0.0", "::", "")

        def is_self(upstream: Upstream) -> bool:
            if upstream.port != port:
                return False
            return upstream.host == host or (
                wildcard and ipaddress.ip_address(upstream.host).is_loopback
            )

        kept = [u for u in self.upstreams if not is_self(u)]
        return Forwarder(kept, timeout=self.timeout)

    async def query(self, query: dns.message.Message) -> dns.message.Message | None:
        """The first upstream's response to ``query``, or None when none answered."""
        for upstream in self.upstreams:
            try:
                response, _ = await dns.asyncquery.udp_with_fallback(
                    query, upstream.host, timeout=self.timeout, port=upstream.port
                )
            except (OSError, dns.exception.DNSException) as exc:
                log.debug("upstream %s: %s", upstream, exc)
                continue
            return response
        return None
