"""``--service-cluster-ip-range`` and ``--service-node-port-range`` of ``kframe up`` and
``kframe apiserver``: parsed, checked, and handed to the API server's settings."""

from __future__ import annotations

import argparse

import pytest

from kframe.cli._builtin import add_server_flags, server_settings


def parse(*args: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser(exit_on_error=False)
    add_server_flags(parser)
    return parser.parse_args(list(args))


def test_defaults_are_kube_apiservers() -> None:
    settings = server_settings(parse())
    assert settings.service_cluster_ip_range == "10.96.0.0/12"
    assert settings.service_node_port_range == "30000-32767"


def test_given_ranges_reach_the_settings() -> None:
    args = parse(
        "--service-cluster-ip-range", "10.0.0.0/29", "--service-node-port-range", "31000+9"
    )
    settings = server_settings(args)
    assert (settings.service_cluster_ip_range, settings.service_node_port_range) == (
        "10.0.0.0/29",
        "31000+9",
    )


@pytest.mark.parametrize(
    ("flag", "value"),
    [
        ("--service-cluster-ip-range", "10.0.0.0/33"),
        ("--service-cluster-ip-range", "not-a-cidr"),
        ("--service-cluster-ip-range", "10.0.0.0/8"),
        ("--service-node-port-range", "32767-30000"),
        ("--service-node-port-range", "30000-70000"),
    ],
)
def test_bad_ranges_are_refused(flag: str, value: str) -> None:
    with pytest.raises(argparse.ArgumentError, match=flag):
        parse(flag, value)
