"""Where ``kframe up`` finds its pods' network: the process runtime as root with iproute2."""

from __future__ import annotations

from pathlib import Path

import pytest

from kframe.cluster import Settings, _run


def settings(**kwargs: object) -> Settings:
    base: dict[str, object] = {
        "store": "memory://",
        "address": "127.0.0.1",
        "port": 0,
        "kubeconfig": Path("kubeconfig"),
        "nodes": 2,
        "runtime": "process",
    }
    return Settings(**{**base, **kwargs})  # type: ignore[arg-type]


@pytest.fixture
def root(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("os.geteuid", lambda: 0)
    monkeypatch.setattr("shutil.which", lambda name: f"/usr/sbin/{name}")


@pytest.mark.usefixtures("root")
def test_as_root_the_pods_gateway_is_node_0s_and_the_node_ip_the_hosts() -> None:
    net = _run.pod_network(settings())
    assert net is not None
    assert (net.bridge, net.gateway, net.prefixlen) == ("kframe0", "10.244.0.1", 24)
    assert net.cluster_cidr == "10.244.0.0/16"
    assert net.node_ip == _run._host_ip()
    big = _run.pod_network(settings(nodes=300))
    assert big is not None and big.cluster_cidr == "10.244.0.0/15"  # 10.245.* past 256


@pytest.mark.usefixtures("root")
def test_other_runtimes_and_no_nodes_have_none() -> None:
    assert _run.pod_network(settings(runtime="fake")) is None
    assert _run.pod_network(settings(nodes=0)) is None


def test_without_root_or_ip_pods_share_the_host_network(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("os.geteuid", lambda: 1000)
    assert _run.pod_network(settings()) is None
    monkeypatch.setattr("os.geteuid", lambda: 0)
    monkeypatch.setattr("shutil.which", lambda name: None)
    assert _run.pod_network(settings()) is None
