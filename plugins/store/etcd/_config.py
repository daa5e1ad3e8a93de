"""What an ``etcd://`` URL asks for: endpoints, the gRPC target, the key prefix, timeouts.

``open_etcd_store`` calls :func:`parse_config` first, so a malformed URL fails before any
connection is tried.
"""

from __future__ import annotations

import ipaddress
import socket

import attrs

from kframe.store import StoreURL, StoreURLError

__all__ = ["DEFAULT_PORT", "EtcdConfig", "parse_config", "resolve_target"]

DEFAULT_PORT = 2379
_OPTIONS = {"timeout": 5.0, "dial_timeout": 3.0}
_TLS_OPTIONS = ("cacert", "cert", "key", "tls")


@attrs.frozen
class EtcdConfig:
    """A parsed ``etcd://`` URL.

    ``endpoints`` are ``(host, port)`` pairs, ``prefix`` the key prefix every key is stored
    under ("" for none, else it starts with "/" and has no trailing "/"). ``timeout`` bounds
    each request (retries included), ``dial_timeout`` the probe made when the store opens.
    """

    url: str
    endpoints: tuple[tuple[str, int], ...]
    prefix: str
    timeout: float
    dial_timeout: float

    @property
    def endpoint_list(self) -> str:
        """The endpoints as the user wrote them, for error messages."""
        return ",".join(_join(host, port) for host, port in self.endpoints)


def _join(host: str, port: int) -> str:
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def _split_host(url: str, entry: str) -> tuple[str, int]:
    host, port_text = entry, ""
    if entry.startswith("["):
        host, _, rest = entry[1:].partition("]")
        if rest and not rest.startswith(":"):
            raise StoreURLError(f"invalid etcd endpoint {entry!r} in {url!r}")
        port_text = rest[1:]
    elif entry.count(":") == 1:
        host, _, port_text = entry.partition(":")
    elif ":" in entry:
        raise StoreURLError(
            f"invalid etcd endpoint {entry!r} in {url!r}: write IPv6 as [addr]:port"
        )
    if not host:
        raise StoreURLError(f"invalid etcd endpoint {entry!r} in {url!r}: no host")
    if not port_text:
        return host, DEFAULT_PORT
    if not port_text.isdigit() or not 0 < int(port_text) < 65536:
        raise StoreURLError(f"invalid etcd endpoint {entry!r} in {url!r}: bad port")
    return host, int(port_text)


def parse_config(url: StoreURL) -> EtcdConfig:
    """Check and split an ``etcd://`` URL; StoreURLError says what is wrong with it."""
    if not url.hosts:
        raise StoreURLError(
            f"etcd store URL needs at least one host:port, as etcd://127.0.0.1:2379: {url.raw!r}"
        )
    endpoints = tuple(_split_host(url.raw, h) for h in url.hosts)
    tls = [name for name in _TLS_OPTIONS if name in url.options]
    if tls:
        raise StoreURLError(
            f"etcd store: TLS is not supported yet ({', '.join(tls)} in {url.raw!r}); "
            "see docs/store-etcd.md"
        )
    unknown = sorted(set(url.options) - set(_OPTIONS))
    if unknown:
        known = ", ".join(_OPTIONS)
        raise StoreURLError(
            f"unknown etcd store option(s) {', '.join(unknown)} in {url.raw!r} (known: {known})"
        )
    values = dict(_OPTIONS)
    for name, text in url.options.items():
        try:
            values[name] = float(text)
        except ValueError:
            values[name] = -1.0
        if not values[name] > 0:
            raise StoreURLError(f"etcd store option {name} must be a positive number of seconds")
    prefix = url.path.rstrip("/")
    if prefix and "\x00" in prefix:
        raise StoreURLError(f"etcd key prefix may not contain NUL: {url.raw!r}")
    return EtcdConfig(url.raw, endpoints, prefix, values["timeout"], values["dial_timeout"])


def _literal(host: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        return ipaddress.ip_address(host)
    except ValueError:
        return None


def resolve_target(config: EtcdConfig) -> str:
    """The gRPC target for the endpoints, balanced round-robin by the channel.

    One host name is left to gRPC's resolver (it balances over every address of the name and
    re-resolves); several endpoints become a fixed address list, names resolved once here.
    Raises OSError when a name does not resolve.
    """
    if len(config.endpoints) == 1 and _literal(config.endpoints[0][0]) is None:
        host, port = config.endpoints[0]
        return f"dns:///{host}:{port}"
    v4: list[str] = []
    v6: list[str] = []
    for host, port in config.endpoints:
        address = _literal(host)
        if address is None:
            infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
            found = [ipaddress.ip_address(str(info[4][0])) for info in infos]
            four = [a for a in found if a.version == 4]
            address = four[0] if four else found[0]
        if address.version == 4:
            v4.append(f"{address}:{port}")
        else:
            v6.append(f"[{address}]:{port}")
    if v4 and v6:
        raise OSError("etcd endpoints mix IPv4 and IPv6 addresses; use one address family")
    return "ipv4:" + ",".join(v4) if v4 else "ipv6:" + ",".join(v6)
