"""``kframe proxy --mode userspace`` and ``kframe up --proxy-mode userspace``: real processes,
real sockets; a threaded echo server on loopback plays the pod."""

from __future__ import annotations

import contextlib
import json
import random
import signal
import socket
import socketserver
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from kframe.testing import require
from kframe.testing.cluster import running_apiserver
from tests.cli.test_cli import kframe


class _Echo(socketserver.StreamRequestHandler):
    def handle(self) -> None:
        data = self.rfile.read()  # until the client half-closes
        self.wfile.write(b"pod:" + data)


def host_ip() -> str:
    """A non-loopback address of this host (the API server refuses loopback endpoints, as
    upstream's does); the test is skipped without one."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        try:
            s.connect(("192.0.2.1", 9))  # TEST-NET-1: nothing is sent
            ip = str(s.getsockname()[0])
        except OSError:
            ip = "127.0.0.1"
    require(not ip.startswith("127."), "needs a non-loopback IPv4 address on this host")
    return ip


@contextlib.contextmanager
def echo_pod() -> Iterator[int]:
    """An echo server on the host's address, its port yielded."""
    server = socketserver.ThreadingTCPServer((host_ip(), 0), _Echo)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server.server_address[1]
    finally:
        server.shutdown()
        server.server_close()


def request(port: int, host: str = "127.0.0.1") -> bytes:
    with socket.create_connection((host, port), timeout=10) as conn:
        conn.sendall(b"hi")
        conn.shutdown(socket.SHUT_WR)
        chunks = []
        while chunk := conn.recv(4096):
            chunks.append(chunk)
        return b"".join(chunks)


def free_node_port() -> int:
    """A port of the API server's node-port range (30000-32767) free on 127.0.0.1."""
    for port in random.sample(range(30000, 32768), 200):
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise AssertionError("no free node port")


def _server(kubeconfig: Path) -> str:
    import yaml

    data = yaml.safe_load(kubeconfig.read_text())
    return str(data["clusters"][0]["cluster"]["server"])


def _post(server: str, path: str, body: dict[str, Any]) -> None:
    request_ = urllib.request.Request(
        server + path,
        data=json.dumps(body).encode(),
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    with urllib.request.urlopen(request_, timeout=10):
        pass


def create_web(server: str, pod_port: int, node_port: int, node: str = "node-a") -> None:
    _post(
        server,
        "/api/v1/namespaces/default/services",
        {
            "apiVersion": "v1",
            "kind": "Service",
            "metadata": {"name": "web"},
            "spec": {
                "type": "NodePort",
                "ports": [{"name": "http", "port": 80, "nodePort": node_port}],
            },
        },
    )
    _post(
        server,
        "/apis/discovery.k8s.io/v1/namespaces/default/endpointslices",
        {
            "apiVersion": "discovery.k8s.io/v1",
            "kind": "EndpointSlice",
            "metadata": {"name": "web-1", "labels": {"kubernetes.io/service-name": "web"}},
            "addressType": "IPv4",
            "ports": [{"name": "http", "port": pod_port, "protocol": "TCP"}],
            "endpoints": [
                {"addresses": [host_ip()], "conditions": {"ready": True}, "nodeName": node}
            ],
        },
    )


def wait_for_line(path: Path, word: str, proc: subprocess.Popen[str]) -> str:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        text = path.read_text() if path.exists() else ""
        if word in text:
            return text
        if proc.poll() is not None:
            raise AssertionError(f"exited {proc.returncode}: {proc.communicate()}")
        time.sleep(0.05)
    raise AssertionError(f"{word!r} never appeared in {path}")


def stop(proc: subprocess.Popen[str]) -> tuple[str, str]:
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
    out, err = proc.communicate(timeout=30)
    return out, err


def test_proxy_once_prints_the_listener_table(tmp_path: Path) -> None:
    with running_apiserver(tmp_path / "api") as kubeconfig:
        create_web(_server(kubeconfig), 8080, free_node_port())
        config = tmp_path / "backend.yaml"
        config.write_text('output: "-"\nnodeAddress: 127.0.0.1\n')
        result = kframe(
            "proxy", "--kubeconfig", str(kubeconfig), "--mode", "userspace", "--once",
            "--backend-config", str(config),
        )  # fmt: skip
    assert result.returncode == 0, result.stderr
    lines = [line.split("\t") for line in result.stdout.splitlines()]
    kinds = {line[2] for line in lines if line[0] == "default/web:http"}
    assert {"proxy", "node"} <= kinds, result.stdout
    assert all(line[4] == "1 endpoints" for line in lines)
    # web and the API server's own default/kubernetes Service, one endpoint each.
    assert "synced 2 service ports, 2 endpoints (userspace)" in result.stderr


def test_proxy_serves_a_node_port_until_terminated(tmp_path: Path) -> None:
    exe = str(Path(sys.executable).with_name("kframe"))
    table = tmp_path / "listeners.tsv"
    config = tmp_path / "backend.yaml"
    config.write_text(f"output: {table}\nnodeAddress: 127.0.0.1\n")
    node_port = free_node_port()
    with running_apiserver(tmp_path / "api") as kubeconfig, echo_pod() as pod_port:
        proc = subprocess.Popen(
            [
                exe, "proxy", "--kubeconfig", str(kubeconfig), "--mode", "userspace",
                "--node-name", "node-a", "--min-sync-period", "10ms",
                "--backend-config", str(config),
            ],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )  # fmt: skip
        try:
            create_web(_server(kubeconfig), pod_port, node_port)
            # The Service may be synced before its EndpointSlice: wait for the endpoint too.
            text = wait_for_line(table, f"127.0.0.1:{node_port}\t1 endpoints", proc)
            assert request(node_port) == b"pod:hi"
            proxy_port = next(
                int(line.split("\t")[3].rsplit(":", 1)[1])
                for line in text.splitlines()
                if line.split("\t")[0] == "default/web:http" and line.split("\t")[2] == "proxy"
            )
            assert request(proxy_port) == b"pod:hi"
        finally:
            out, err = stop(proc)
    assert proc.returncode == 0, err
    assert "userspace mode" in out


def test_up_hosts_one_live_userspace_proxy_for_the_host(tmp_path: Path) -> None:
    exe = str(Path(sys.executable).with_name("kframe"))
    data = tmp_path / "up"
    kubeconfig = tmp_path / "kubeconfig"
    node_port = free_node_port()
    with echo_pod() as pod_port:
        proc = subprocess.Popen(
            [
                exe, "up", "--store", "memory://", "--port", "0", "--nodes", "2",
                "--runtime", "fake", "--data-dir", str(data), "--kubeconfig", str(kubeconfig),
                "--dns-port", "0", "--scheduler-port", "0", "--proxy-mode", "userspace",
            ],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )  # fmt: skip
        try:
            assert proc.stdout is not None
            deadline = time.monotonic() + 60
            lines: list[str] = []
            while time.monotonic() < deadline and not any("proxies:" in x for x in lines):
                line = proc.stdout.readline()
                if not line and proc.poll() is not None:
                    raise AssertionError(f"kframe up exited: {proc.communicate()}")
                lines.append(line)
            assert any("proxies: 1 for the host (userspace" in x for x in lines), lines
            # an endpoint on the second hosted node is local to the host's one proxy
            create_web(_server(kubeconfig), pod_port, node_port, node="node-1")
            wait_for_line(data / "proxy-userspace.tsv", f"127.0.0.1:{node_port}", proc)
            assert request(node_port) == b"pod:hi"
        finally:
            stop(proc)
