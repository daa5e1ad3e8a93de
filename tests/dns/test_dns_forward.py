"""Upstream addresses and the host's resolv.conf, for names outside the cluster domain."""

from __future__ import annotations

from pathlib import Path

import pytest

from kframe.dns import Forwarder, Upstream, parse_upstream, resolv_conf_upstreams


def test_parse_upstream() -> None:
    assert parse_upstream("10.0.0.2") == Upstream("10.0.0.2", 53)
    assert parse_upstream("10.0.0.2:5353") == Upstream("10.0.0.2", 5353)
    assert parse_upstream("[fd00::2]:54") == Upstream("fd00::2", 54)
    assert parse_upstream("fd00::2") == Upstream("fd00::2", 53)
    assert str(Upstream("fd00::2", 54)) == "[fd00::2]:54"
    for bad in ("dns.example", "10.0.0.2:0", "10.0.0.2:x", "[fd00::2", "[fd00::2]x"):
        with pytest.raises(ValueError):  # noqa: PT011 - each parse failure has its own message
            parse_upstream(bad)


def test_resolv_conf_upstreams(tmp_path: Path) -> None:
    path = tmp_path / "resolv.conf"
    path.write_text(
        "# a comment\nnameserver 127.0.0.53\nnameserver fe80::1%eth0\n"
        "nameserver not-an-ip\nsearch lan\noptions edns0\n"
    )
    assert resolv_conf_upstreams(path) == [Upstream("127.0.0.53"), Upstream("fe80::1")]
    assert resolv_conf_upstreams(tmp_path / "missing") == []


def test_forwarder_never_forwards_to_itself() -> None:
    forwarder = Forwarder(
        [Upstream("127.0.0.1", 1053), Upstream("127.0.0.1"), Upstream("10.0.0.2")]
    )
    assert forwarder.without("127.0.0.1", 1053).upstreams == (
        Upstream("127.0.0.1"),
        Upstream("10.0.0.2"),
    )
    assert forwarder.without("0.0.0.0", 53).upstreams == (
        Upstream("127.0.0.1", 1053),
        Upstream("10.0.0.2"),
    )
