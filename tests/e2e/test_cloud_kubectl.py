"""The cloud controller manager end to end: ``kframe up --nodes 2 --runtime fake
--cloud-provider simulated`` with the real kubectl and the simulated cloud's console
(issue #9's acceptance).

The instances ``node-0`` and ``node-1`` exist in the simulated cloud before the cluster starts,
as a real cloud's machines exist before their kubelets register. Then, checked with kubectl:

- both Nodes lose the ``node.cloudprovider.kubernetes.io/uninitialized`` taint and get their
  instance's provider ID, zone, region and instance type;
- the cloud has a route per node for its pod CIDR (``kframe up`` gives node ``i`` the pod CIDR
  ``10.244.<i>.0/24``);
- a LoadBalancer Service gets the ``service.kubernetes.io/load-balancer-cleanup`` finalizer
  and an ingress address whose listener carries a connection to the nodes' ``nodePort``;
  deleting the Service deletes the load balancer first;
- deleting ``node-1``'s instance deletes the Node (and its route), and the Deployment's pods
  are all on ``node-0`` again.

The fake runtime runs no processes, so nothing of the cluster listens on a node port: a TCP
server on the host, on the node's InternalIP (127.0.0.1) at the Service's ``nodePort``, stands
in for what kube-proxy would serve there. As root, a second cluster (``--runtime process
--proxy-mode userspace``, instances at the host's address) carries the load balancer's
traffic to real pods: the userspace proxy serves the node port on every address.

``kframe up --cloud-provider`` runs its kubelets as the cloud's machines: when a node's instance
is deleted its kubelet stops, as a real machine takes its kubelet with it. The node lifecycle
controller then marks the Node's Ready condition Unknown after the (shortened) grace period, and
the cloud node lifecycle controller, which acts only on Nodes that are not Ready as upstream's
does, deletes it.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import socket
import socketserver
import subprocess
import threading
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from kframe.testing import require
from tests.e2e.conftest import KFRAME
from tests.e2e.test_controllers_kubectl import Kubectl, until
from tests.e2e.test_up import start, stop

pytestmark = pytest.mark.e2e

UNINITIALIZED = "node.cloudprovider.kubernetes.io/uninitialized"
FINALIZER = "service.kubernetes.io/load-balancer-cleanup"
NODES = ("node-0", "node-1")
ZONES = {"node-0": "sim-region-1a", "node-1": "sim-region-1b"}
POD_CIDRS = {"node-0": "10.244.0.0/24", "node-1": "10.244.1.0/24"}
GREETING = b"hello from node port\n"
# Short periods, so a deleted instance's Node goes within seconds and its pods soon after
# (upstream: node-monitor-period 5s; podgc checks every 20 s, quarantines 40 s).
OPTIONS = {
    "node-monitor-period": "1s",
    "route-reconciliation-period": "1s",
    "pod-gc-check-period": "1s",
    "pod-gc-quarantine-time": "2s",
    "node-monitor-grace-period": "15s",  # above the kubelets' 10 s lease renewals
}


class Cloud:
    """The simulated cloud's console (``kframe cloud-simulated``) on the test's config."""

    def __init__(self, config: Path) -> None:
        self.config = config

    def run(self, *args: str) -> str:
        result = subprocess.run(
            [KFRAME, "cloud-simulated", "--cloud-config", str(self.config), *args],
            capture_output=True,
            text=True,
            timeout=30,
            check=False,
        )
        assert result.returncode == 0, result.stderr
        return result.stdout

    def rows(self, resource: str) -> list[dict[str, str]]:
        """A ``list``'s rows as header -> value."""
        header, *lines = self.run(resource, "list").splitlines()
        keys = header.split("\t")
        return [dict(zip(keys, line.split("\t"), strict=True)) for line in lines]


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Kubectl, Cloud]]:
    require(shutil.which("kubectl") is not None, "kubectl not found on PATH")
    tmp = tmp_path_factory.mktemp("kframe-cloud")
    config = tmp / "cloud.conf"
    # A range of its own: the listeners of other clusters on this host stay out of the way.
    config.write_text("db: cloud.db\nloadBalancerCIDR: 127.0.109.0/24\n")
    cloud = Cloud(config)
    for node in NODES:
        cloud.run("instances", "add", node, "--zone", ZONES[node], "--type", "sim.large")
    options = [f for name, value in OPTIONS.items() for f in ("--option", f"{name}={value}")]
    proc, kubeconfig = start(
        tmp / "data",
        *("--nodes", "2", "--runtime", "fake", "--dns-port", "0", "--scheduler-port", "0"),
        *("--cloud-provider", "simulated", "--cloud-config", str(config), *options),
    )
    try:
        k = Kubectl(kubeconfig)
        # Every check starts from nodes the cloud initialised (kubectl sees what it did).
        until(lambda: _initialised(k), "nodes initialised by the cloud node controller")
        yield k, cloud
    finally:
        stop(proc)


def _node(k: Kubectl, name: str) -> dict[str, Any] | None:
    result = k.run("get", "node", name, "-o", "json", "--ignore-not-found")
    return json.loads(result) if result.strip() else None


def _initialised(k: Kubectl) -> list[dict[str, Any]]:
    nodes = k.items("nodes")
    done = [
        n
        for n in nodes
        if n["spec"].get("providerID")
        and not any(t["key"] == UNINITIALIZED for t in n["spec"].get("taints", []))
    ]
    return done if len(done) == len(NODES) else []


def test_nodes_are_initialised_from_their_instances(cluster: tuple[Kubectl, Cloud]) -> None:
    k, cloud = cluster
    nodes = {n["metadata"]["name"]: n for n in _initialised(k)}
    instances = {i["NAME"]: i for i in cloud.rows("instances")}
    assert sorted(nodes) == sorted(instances) == list(NODES)
    for name, node in nodes.items():
        instance = instances[name]
        assert node["spec"]["providerID"] == f"simulated://{instance['ZONE']}/{instance['ID']}"
        labels = node["metadata"]["labels"]
        assert labels["topology.kubernetes.io/zone"] == ZONES[name]
        assert labels["topology.kubernetes.io/region"] == "sim-region-1"
        assert labels["node.kubernetes.io/instance-type"] == "sim.large"
        assert labels["cloud.kframe.dev/instance-id"] == instance["ID"]
        assert {"type": "InternalIP", "address": "127.0.0.1"} in node["status"]["addresses"]


def _routes(cloud: Cloud) -> dict[str, str]:
    return {r["TARGET"]: r["CIDR"] for r in cloud.rows("routes")}


def test_every_pod_cidr_has_a_route(cluster: tuple[Kubectl, Cloud]) -> None:
    k, cloud = cluster
    for node in k.items("nodes"):
        name = node["metadata"]["name"]
        assert node["spec"]["podCIDRs"] == [POD_CIDRS[name]]
    until(lambda: _routes(cloud) == POD_CIDRS, "a route per pod CIDR")
    network = {
        n["metadata"]["name"]: c
        for n in k.items("nodes")
        for c in n["status"]["conditions"]
        if c["type"] == "NetworkUnavailable"
    }
    assert {n: (c["status"], c["reason"]) for n, c in network.items()} == {
        n: ("False", "RouteCreated") for n in NODES
    }


class _Greeter(socketserver.StreamRequestHandler):
    def handle(self) -> None:
        self.wfile.write(GREETING)


@contextlib.contextmanager
def node_port_stand_in() -> Iterator[int]:
    """A TCP server on 127.0.0.1 at a free port of the node port range, answering GREETING:
    what kube-proxy would serve on the nodes' ``nodePort``."""
    server: socketserver.ThreadingTCPServer | None = None
    for port in range(31900, 32700):
        with contextlib.suppress(OSError):
            server = socketserver.ThreadingTCPServer(("127.0.0.1", port), _Greeter)
            break
    assert server is not None, "no free port in the node port range"
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server.server_address[1]
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def _ask(address: str, port: int) -> bytes:
    with socket.create_connection((address, port), timeout=5) as conn:
        conn.settimeout(5)
        return conn.recv(len(GREETING) + 10)


def _ingress(k: Kubectl) -> str:
    svc = k.json("get", "service", "web-lb")
    ingress = svc.get("status", {}).get("loadBalancer", {}).get("ingress", [])
    return str(ingress[0].get("ip", "")) if ingress else ""


def test_a_load_balancer_carries_traffic_and_goes_with_its_service(
    cluster: tuple[Kubectl, Cloud],
) -> None:
    k, cloud = cluster
    with node_port_stand_in() as node_port:
        manifest = {
            "apiVersion": "v1",
            "kind": "Service",
            "metadata": {"name": "web-lb", "namespace": "default"},
            "spec": {
                "type": "LoadBalancer",
                "selector": {"app": "web"},
                "ports": [{"port": 8080, "targetPort": 80, "nodePort": node_port}],
            },
        }
        k.run("apply", "-f", "-", stdin=json.dumps(manifest))
        address = until(lambda: _ingress(k), "an ingress address")
        svc = k.json("get", "service", "web-lb")
        assert FINALIZER in svc["metadata"]["finalizers"]
        [lb] = cloud.rows("load-balancers")
        assert (lb["SERVICE"], lb["ADDRESS"]) == ("default/web-lb", address)
        # Both nodes are backends: their InternalIP at the nodePort.
        backend = f"127.0.0.1:{node_port}"
        assert lb["PORTS"] == f"8080->{backend}|{backend}"
        for _ in range(4):  # each node in turn
            assert _ask(address, 8080) == GREETING

        k.run("delete", "service", "web-lb", "--wait=true")
        assert cloud.rows("load-balancers") == []
        with pytest.raises(ConnectionRefusedError):
            _ask(address, 8080)


DEPLOYMENT = {
    "apiVersion": "apps/v1",
    "kind": "Deployment",
    "metadata": {"name": "web", "namespace": "default"},
    "spec": {
        "replicas": 2,
        "selector": {"matchLabels": {"app": "web"}},
        "template": {
            "metadata": {"labels": {"app": "web"}},
            "spec": {
                # One pod per node while there are two (a node's Node gone, both fit on one).
                "topologySpreadConstraints": [
                    {
                        "maxSkew": 1,
                        "topologyKey": "kubernetes.io/hostname",
                        "whenUnsatisfiable": "DoNotSchedule",
                        "labelSelector": {"matchLabels": {"app": "web"}},
                    }
                ],
                "containers": [{"name": "web", "image": "nginx"}],
            },
        },
    },
}


def _placement(k: Kubectl) -> dict[str, str]:
    """Running, Ready pods of the Deployment (not being deleted): name -> node."""
    return {
        p["metadata"]["name"]: p["spec"].get("nodeName", "")
        for p in k.items("pods", "-l", "app=web")
        if not p["metadata"].get("deletionTimestamp")
        and p.get("status", {}).get("phase") == "Running"
        and any(
            c["type"] == "Ready" and c["status"] == "True"
            for c in p.get("status", {}).get("conditions", [])
        )
    }


def test_deleting_an_instance_deletes_its_node_and_its_pods_move(
    cluster: tuple[Kubectl, Cloud],
) -> None:
    k, cloud = cluster
    k.run("apply", "-f", "-", stdin=json.dumps(DEPLOYMENT))
    before = until(
        lambda: (p := _placement(k)) and sorted(p.values()) == list(NODES) and p,
        "a pod of the Deployment on each node",
    )

    # A load balancer over both nodes, to follow the node set.
    lb_service = {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": "web-lb", "namespace": "default"},
        "spec": {"type": "LoadBalancer", "selector": {"app": "web"}, "ports": [{"port": 8081}]},
    }
    k.run("apply", "-f", "-", stdin=json.dumps(lb_service))
    until(lambda: _ingress(k), "an ingress address")
    assert _backends(cloud) == 2

    cloud.run("instances", "delete", "node-1")
    assert [i["NAME"] for i in cloud.rows("instances")] == ["node-0"]
    until(lambda: _node(k, "node-1") is None, "the Node node-1 to be deleted", timeout=45)
    assert _node(k, "node-0") is not None
    events = k.items("events", "--field-selector", "reason=DeletingNode")
    assert [e["involvedObject"]["name"] for e in events] == ["node-1"]

    # Its pod is collected as an orphan and replaced on node-0.
    after = until(
        lambda: (p := _placement(k)) and sorted(p.values()) == ["node-0", "node-0"] and p,
        "both pods of the Deployment on node-0",
        timeout=90,
    )
    [moved] = [name for name, node in before.items() if node == "node-1"]
    assert moved not in after
    until(lambda: _routes(cloud) == {"node-0": POD_CIDRS["node-0"]}, "node-1's route to go")
    until(lambda: _backends(cloud) == 1, "the load balancer to drop node-1")
    k.run("delete", "service", "web-lb", "--wait=true")
    assert cloud.rows("load-balancers") == []


def _backends(cloud: Cloud) -> int:
    """How many backends the one load balancer's one port has."""
    [lb] = cloud.rows("load-balancers")
    backends = lb["PORTS"].partition("->")[2]
    return 0 if backends == "-" else len(backends.split("|"))


# -- traffic to real pods: the process runtime behind the userspace proxy ----------------------

# Answers every GET with the pod's name (its hostname), so a reply says which pod served it.
SERVER = """
import http.server, socket
class H(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        body = socket.gethostname().encode()
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
    def log_message(self, *args):
        pass
http.server.ThreadingHTTPServer(("", 8080), H).serve_forever()
"""


def _host_ip() -> str:
    """The address the default route leaves from, which ``kframe up --runtime process`` gives
    its nodes as InternalIP (connecting a UDP socket sends nothing)."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.connect(("192.0.2.1", 9))  # TEST-NET-1 (RFC 5737)
        return str(s.getsockname()[0])


@pytest.fixture(scope="module")
def process_cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Kubectl, Cloud]]:
    require(shutil.which("kubectl") is not None, "kubectl not found on PATH")
    require(os.geteuid() == 0, "the process runtime's pod network needs root")
    require(shutil.which("ip") is not None, "iproute2 (ip) not found: apt-get install iproute2")
    tmp = tmp_path_factory.mktemp("kframe-cloud-process")
    config = tmp / "cloud.conf"
    config.write_text("db: cloud.db\nloadBalancerCIDR: 127.0.110.0/24\n")
    cloud = Cloud(config)
    for node in NODES:
        # The instances' address is the nodes' InternalIP, where the node ports answer.
        cloud.run("instances", "add", node, "--internal-ip", _host_ip())
    proc, kubeconfig = start(
        tmp / "data",
        *("--nodes", "2", "--runtime", "process", "--proxy-mode", "userspace"),
        *("--dns-port", "0", "--scheduler-port", "0"),
        *("--cloud-provider", "simulated", "--cloud-config", str(config)),
    )
    try:
        k = Kubectl(kubeconfig)
        # Every check starts from nodes the cloud initialised (kubectl sees what it did).
        until(lambda: _initialised(k), "nodes initialised by the cloud node controller")
        yield k, cloud
    finally:
        stop(proc)


def _answers(address: str, count: int) -> list[str] | None:
    """``count`` answers through the load balancer, or None while it does not carry them."""
    try:
        out = []
        for _ in range(count):
            with urllib.request.urlopen(f"http://{address}:8080/", timeout=3) as response:
                out.append(response.read().decode())
        return out
    except OSError:
        return None


def test_a_load_balancer_carries_traffic_to_the_pods(
    process_cluster: tuple[Kubectl, Cloud],
) -> None:
    k, cloud = process_cluster
    deployment = json.loads(json.dumps(DEPLOYMENT))
    pod = deployment["spec"]["template"]["spec"]
    pod["terminationGracePeriodSeconds"] = 2
    pod["containers"] = [
        {
            "name": "web",
            "image": "python:3",
            "command": ["python3", "-c", SERVER],
            "ports": [{"containerPort": 8080, "name": "http"}],
            "readinessProbe": {"httpGet": {"path": "/", "port": 8080}, "periodSeconds": 1},
        }
    ]
    service = {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": "web-lb", "namespace": "default"},
        "spec": {
            "type": "LoadBalancer",
            "selector": {"app": "web"},
            "ports": [{"name": "http", "port": 8080, "targetPort": "http"}],
        },
    }
    for body in (deployment, service):
        k.run("apply", "-f", "-", stdin=json.dumps(body))
    pods = until(lambda: (p := _placement(k)) and len(p) == 2 and p, "two ready pods")
    address = until(lambda: _ingress(k), "an ingress address")
    node_port = k.json("get", "service", "web-lb")["spec"]["ports"][0]["nodePort"]
    [lb] = cloud.rows("load-balancers")
    backend = f"{_host_ip()}:{node_port}"
    assert lb["PORTS"] == f"8080->{backend}|{backend}"
    # The nodes in turn, the userspace proxy's pods in turn: both pods answer.
    got = until(lambda: _answers(address, 20), "answers through the load balancer")
    assert set(got) == set(pods)

    k.run("delete", "service", "web-lb", "--wait=true")
    assert cloud.rows("load-balancers") == []
    assert _answers(address, 1) is None
