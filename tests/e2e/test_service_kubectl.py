"""The real kubectl against ``kframe apiserver`` with small Service ranges: ``kubectl expose``
and ``kubectl create service`` get cluster IPs and node ports, and see upstream's errors."""

from __future__ import annotations

import ipaddress
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from kframe.testing.cluster import running_apiserver

if TYPE_CHECKING:
    from tests.e2e.conftest import Kubectl

pytestmark = pytest.mark.e2e

CIDR = "10.0.0.0/24"  # dynamic IPs come from above .16, so .5 is free to ask for


@pytest.fixture(scope="module")
def apiserver(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    flags = ("--service-cluster-ip-range", CIDR, "--service-node-port-range", "30000-30010")
    with running_apiserver(tmp_path_factory.mktemp("kframe"), *flags) as kubeconfig:
        yield kubeconfig


def test_expose_allocates_a_cluster_ip_and_a_node_port(kubectl: Kubectl) -> None:
    kubectl.run("create", "deployment", "web", "--image=nginx:1.27", "--port=80")
    kubectl.run("expose", "deployment", "web", "--port=80", "--type=NodePort")
    spec = kubectl.json("get", "svc", "web")["spec"]
    assert ipaddress.ip_address(spec["clusterIP"]) in ipaddress.ip_network(CIDR)
    assert spec["clusterIPs"] == [spec["clusterIP"]]
    node_port = spec["ports"][0]["nodePort"]
    assert 30000 <= node_port <= 30010
    table = kubectl.run("get", "svc", "web").stdout
    assert spec["clusterIP"] in table and f"80:{node_port}/TCP" in table


def test_requested_cluster_ips_and_their_errors(kubectl: Kubectl) -> None:
    kubectl.run("create", "service", "clusterip", "dns", "--clusterip=10.0.0.5", "--tcp=53:53")
    assert kubectl.json("get", "svc", "dns")["spec"]["clusterIP"] == "10.0.0.5"
    taken = kubectl.run(
        "create", "service", "clusterip", "dns2", "--clusterip=10.0.0.5", "--tcp=53:53", check=False
    )
    assert taken.returncode != 0
    assert "failed to allocate IP 10.0.0.5: provided IP is already allocated" in taken.stderr
    outside = kubectl.run(
        "create", "service", "clusterip", "far", "--clusterip=1.1.1.1", "--tcp=80", check=False
    )
    assert "The range of valid IPs is 10.0.0.0/24" in outside.stderr
    kubectl.run("delete", "svc", "dns")
    kubectl.run("create", "service", "clusterip", "dns2", "--clusterip=10.0.0.5", "--tcp=53:53")


def test_the_kubernetes_service_and_its_endpoints(kubectl: Kubectl) -> None:
    from kframe.apiserver._kubernetes_service import resolve_advertise_address

    table = kubectl.run("get", "svc", "kubernetes").stdout
    assert "10.0.0.1" in table and "443/TCP" in table  # the range's first IP
    server = kubectl.json("config", "view", "--minify")["clusters"][0]["cluster"]["server"]
    port = server.rsplit(":", 1)[1]
    address = resolve_advertise_address("127.0.0.1")  # the host's own: the bind is loopback
    endpoints = kubectl.run("get", "endpoints", "kubernetes").stdout
    assert f"{address}:{port}" in endpoints
    assert kubectl.json("get", "svc", "kubernetes")["spec"]["ports"][0]["targetPort"] == int(port)
