"""Service traffic end to end: ``kframe up --nodes 2 --runtime process --proxy-mode MODE`` as
root, with the real kubectl (issue #8's acceptance).

A Deployment of two HTTP pods, each answering with its own name, sits behind ClusterIP
Services (one plain, one with ``sessionAffinity: ClientIP``) and a NodePort Service.

``iptables``: one live proxy programs the host (nat ``OUTPUT`` and ``PREROUTING`` jumps), so
``clusterIP:port`` answers from the host and from another pod, both pods in turn; scaled to
zero the port is rejected, scaled up it answers again; ClientIP affinity keeps the host on one
pod; the NodePort answers on the node's InternalIP (the host's address).

``userspace``: cluster IPs are not local addresses and nothing redirects them, so the traffic
goes where that backend listens: its proxy port per service port on 127.0.0.1 (read from its
table, ``<data-dir>/proxy-userspace.tsv``) from the host, and the NodePort on the node's
InternalIP from the host and from another pod (the pod's route to the host). The same checks
otherwise: both pods answer, zero replicas resets the connection, affinity holds.

Both: from inside a pod, ``web.default.svc.cluster.local`` and ``web`` resolve to the cluster IP
through the cluster DNS on the bridge's gateway (the pod's resolv.conf and search list).
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from kframe.testing import require
from tests.e2e.test_process_runtime_kubectl import Cluster, eventually
from tests.e2e.test_up import start, stop

pytestmark = pytest.mark.e2e

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

# Run in the client pod: N requests to URL, the answers (or the error's class) one per line.
CLIENT = """
import sys, urllib.request
for _ in range(int(sys.argv[2])):
    try:
        print(urllib.request.urlopen(sys.argv[1], timeout=3).read().decode())
    except Exception as e:
        print("error:" + type(e).__name__)
"""


def _manifests() -> list[dict[str, Any]]:
    labels = {"app": "web"}
    deployment = {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "web"},
        "spec": {
            "replicas": 2,
            "selector": {"matchLabels": labels},
            "template": {
                "metadata": {"labels": labels},
                "spec": {
                    "terminationGracePeriodSeconds": 2,
                    "containers": [
                        {
                            "name": "web",
                            "image": "python:3",
                            "command": ["python3", "-c", SERVER],
                            "ports": [{"containerPort": 8080, "name": "http"}],
                            "readinessProbe": {
                                "httpGet": {"path": "/", "port": 8080},
                                "periodSeconds": 1,
                            },
                        }
                    ],
                },
            },
        },
    }

    def service(name: str, **spec: Any) -> dict[str, Any]:
        port = {"name": "http", "port": 80, "targetPort": "http"}
        return {
            "apiVersion": "v1",
            "kind": "Service",
            "metadata": {"name": name},
            "spec": {"selector": labels, "ports": [port], **spec},
        }

    client = {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": "client"},
        "spec": {
            "terminationGracePeriodSeconds": 1,
            "containers": [
                {
                    "name": "main",
                    "image": "python:3",
                    "command": ["python3", "-c", "import time; time.sleep(10**6)"],
                }
            ],
        },
    }
    return [
        deployment,
        service("web"),
        service("sticky", sessionAffinity="ClientIP"),
        service("web-np", type="NodePort"),
        client,
    ]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Traffic:
    """The cluster, with where each Service answers in this proxy mode."""

    def __init__(self, mode: str, cluster: Cluster, data_dir: Path) -> None:
        self.mode = mode
        self.cluster = cluster
        self.data_dir = data_dir

    def service(self, name: str) -> dict[str, Any]:
        result: dict[str, Any] = json.loads(self.cluster.run("get", "service", name, "-o", "json"))
        return result

    def cluster_ip(self, name: str) -> str:
        return str(self.service(name)["spec"]["clusterIP"])

    def node_ip(self) -> str:
        node = json.loads(self.cluster.run("get", "node", "node-0", "-o", "json"))
        return str(
            next(a["address"] for a in node["status"]["addresses"] if a["type"] == "InternalIP")
        )

    def node_port_url(self) -> str:
        port = self.service("web-np")["spec"]["ports"][0]["nodePort"]
        return f"http://{self.node_ip()}:{port}/"

    def proxy_port(self, name: str) -> str:
        """The userspace backend's proxy listener for ``default/NAME:http``, from its table."""
        table = self.data_dir / "proxy-userspace.tsv"
        for line in table.read_text().splitlines() if table.exists() else ():
            fields = line.split("\t")
            if fields[0] == f"default/{name}:http" and fields[2] == "proxy":
                return fields[3]
        return ""

    def host_url(self, name: str) -> str:
        """Where the host reaches Service ``name``: its cluster IP, or the userspace proxy port."""
        if self.mode == "iptables":
            return f"http://{self.cluster_ip(name)}:80/"
        address = eventually(lambda: self.proxy_port(name))
        return f"http://{address}/"

    def from_pod(self, url: str, count: int) -> list[str]:
        out = self.cluster.run("exec", "client", "--", "python3", "-c", CLIENT, url, str(count))
        return out.split()

    def pods(self) -> set[str]:
        listing = json.loads(self.cluster.run("get", "pods", "-l", "app=web", "-o", "json"))
        return {
            p["metadata"]["name"]
            for p in listing["items"]
            if not p["metadata"].get("deletionTimestamp")
        }


def get(url: str, timeout: float = 3) -> str:
    with urllib.request.urlopen(url, timeout=timeout) as response:
        return str(response.read().decode())


def answers(url: str, count: int) -> list[str] | None:
    """``count`` answers, or None while the Service does not answer yet."""
    try:
        return [get(url) for _ in range(count)]
    except OSError:
        return None


def _ready_endpoints(traffic: Traffic, name: str) -> int:
    out = traffic.cluster.run(
        "get", "endpointslices", "-l", f"kubernetes.io/service-name={name}", "-o", "json"
    )
    return sum(
        1
        for s in json.loads(out)["items"]
        for e in s.get("endpoints") or []
        if (e.get("conditions") or {}).get("ready", True)
    )


@pytest.fixture(scope="module", params=["iptables", "userspace"])
def traffic(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Traffic]:
    mode: str = request.param
    require(shutil.which("kubectl") is not None, "kubectl not found on PATH")
    require(os.geteuid() == 0, "the process runtime's pod network and iptables need root")
    require(shutil.which("ip") is not None, "iproute2 (ip) not found: apt-get install iproute2")
    if mode == "iptables":
        require(
            shutil.which("iptables-restore") is not None,
            "iptables not found: apt-get install iptables",
        )
    data_dir = tmp_path_factory.mktemp(f"kframe-up-proxy-{mode}")
    proc, kubeconfig = start(
        data_dir,
        "--nodes", "2", "--runtime", "process", "--proxy-mode", mode,
        "--dns-port", str(_free_port()), "--scheduler-port", "0",
    )  # fmt: skip
    try:
        t = Traffic(mode, Cluster(kubeconfig), data_dir)
        eventually(lambda: t.cluster.run("get", "nodes").count(" Ready") == 2)
        for body in _manifests():
            t.cluster.apply(body)
        eventually(lambda: _ready_endpoints(t, "web") == 2, timeout=60)
        yield t
    finally:
        stop(proc)
    if mode == "iptables":
        # Ctrl-C removed the rules, as ``kframe proxy --cleanup`` does.
        import subprocess

        saved = subprocess.run(["iptables-save"], capture_output=True, text=True, check=True)
        assert ":KUBE-" not in saved.stdout and "-j KUBE-" not in saved.stdout


def reaches_all(fetch: Callable[[], list[str] | None], pods: set[str]) -> bool:
    """Whether one batch of answers came from every pod. Ready endpoints are programmed on the
    proxy's next sync, not at once, so a batch may still find fewer; iptables picks at random
    (a pod missed 40 times: 2^-39), userspace alternates."""
    got = fetch()
    return got is not None and set(got) == pods


def test_the_service_reaches_both_pods_from_the_host(traffic: Traffic) -> None:
    url = traffic.host_url("web")
    pods = traffic.pods()
    assert len(pods) == 2
    eventually(lambda: reaches_all(lambda: answers(url, 40), pods))


def test_the_service_reaches_both_pods_from_another_pod(traffic: Traffic) -> None:
    if traffic.mode == "iptables":
        url = f"http://{traffic.cluster_ip('web')}:80/"
    else:  # the proxy port is on the host's 127.0.0.1: pods reach the node port
        url = traffic.node_port_url()
    pods = traffic.pods()
    assert len(pods) == 2
    eventually(lambda: reaches_all(lambda: traffic.from_pod(url, 40), pods))


def test_client_ip_affinity_keeps_the_host_on_one_pod(traffic: Traffic) -> None:
    url = traffic.host_url("sticky")
    got = eventually(lambda: answers(url, 20))
    assert len(set(got)) == 1 and got[0] in traffic.pods()


def test_a_node_port_answers_on_the_node_address(traffic: Traffic) -> None:
    node_ip = traffic.node_ip()
    assert node_ip != "127.0.0.1"  # the host's address, which pods reach too
    url = traffic.node_port_url()
    pods = traffic.pods()
    eventually(lambda: reaches_all(lambda: answers(url, 40), pods))


def test_service_names_resolve_from_inside_a_pod(traffic: Traffic) -> None:
    script = (
        "import socket; print(socket.gethostbyname('web.default.svc.cluster.local')); "
        "print(socket.gethostbyname('web'))"
    )
    out = traffic.cluster.run("exec", "client", "--", "python3", "-c", script)
    ip = traffic.cluster_ip("web")
    assert out.split() == [ip, ip]
    resolv = traffic.cluster.run("exec", "client", "--", "cat", "/etc/resolv.conf")
    assert "search default.svc.cluster.local svc.cluster.local cluster.local" in resolv


def _refused(url: str) -> bool:
    try:
        get(url, timeout=1)
    except OSError:  # refused (iptables REJECT), reset (userspace), or a timeout
        return True
    return False


def test_scaling_to_zero_stops_answering_and_scaling_up_resumes(traffic: Traffic) -> None:
    url = traffic.host_url("web")
    assert eventually(lambda: answers(url, 1))[0] in traffic.pods()
    traffic.cluster.run("scale", "deployment", "web", "--replicas=0")
    eventually(lambda: _refused(url), timeout=30)
    traffic.cluster.run("scale", "deployment", "web", "--replicas=2")
    eventually(lambda: _ready_endpoints(traffic, "web") == 2, timeout=60)
    pods = traffic.pods()
    eventually(lambda: reaches_all(lambda: answers(url, 40), pods))
