"""``kframe dns`` against a running ``kframe apiserver``: kubectl creates a Service, dnspython
resolves it; and the command's one-line errors."""

from __future__ import annotations

import argparse
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import dns.message
import dns.query
import dns.rcode
import pytest

from kframe.cli._dns import parse_listen
from kframe.testing.cluster import running_apiserver
from tests.cli.test_cli import kframe

SERVICE = """
apiVersion: v1
kind: Service
metadata: {name: web, namespace: default}
spec:
  clusterIP: 10.96.0.80
  ports: [{name: http, port: 80}]
"""


def _apply(kubeconfig: Path, manifest: str) -> None:
    kubectl = shutil.which("kubectl")
    assert kubectl is not None
    subprocess.run(
        [kubectl, "--kubeconfig", str(kubeconfig), "apply", "-f", "-"],
        input=manifest,
        text=True,
        check=True,
        capture_output=True,
        timeout=60,
    )


@pytest.mark.skipif(shutil.which("kubectl") is None, reason="kubectl is not installed")
def test_dns_serves_a_service_kubectl_created(tmp_path: Path) -> None:
    with running_apiserver(tmp_path / "api") as kubeconfig:
        exe = str(Path(sys.executable).with_name("kframe"))
        proc = subprocess.Popen(
            [
                exe,
                "dns",
                "--kubeconfig",
                str(kubeconfig),
                "--listen",
                "127.0.0.1:0",
                "--upstream",
                "none",
            ],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        try:
            assert proc.stdout is not None
            banner = proc.stdout.readline()
            match = re.search(r"serving on 127\.0\.0\.1:(\d+)", banner)
            assert match, banner
            port = int(match.group(1))
            _apply(kubeconfig, SERVICE)
            query = dns.message.make_query("web.default.svc.cluster.local", "A")
            deadline = time.monotonic() + 30
            while True:
                reply = dns.query.udp(query, "127.0.0.1", timeout=5, port=port)
                if reply.rcode() == dns.rcode.NOERROR or time.monotonic() > deadline:
                    break
                time.sleep(0.02)
            assert [r.to_text() for rrset in reply.answer for r in rrset] == ["10.96.0.80"]
            tcp = dns.query.tcp(
                dns.message.make_query("example.com", "A"), "127.0.0.1", timeout=5, port=port
            )
            assert tcp.rcode() == dns.rcode.REFUSED
        finally:
            proc.send_signal(signal.SIGTERM)
            _, err = proc.communicate(timeout=30)
        assert proc.returncode == 0, err
        assert "other names: refused" in banner


def test_dns_errors_are_one_line() -> None:
    result = kframe("dns", "--server", "http://127.0.0.1:1", "--ttl", "5000")
    assert result.returncode == 1
    assert result.stderr.strip() == "kframe: error: --ttl 5000: must be 0 to 3600 seconds"


def test_parse_listen() -> None:
    assert parse_listen("127.0.0.1:1053") == ("127.0.0.1", 1053)
    assert parse_listen("[::1]:53") == ("::1", 53)
    assert parse_listen("0.0.0.0:0") == ("0.0.0.0", 0)
    for bad in ("1053", ":53", "h:x", "h:70000"):
        with pytest.raises(argparse.ArgumentTypeError):
            parse_listen(bad)


@pytest.mark.skipif(shutil.which("kubectl") is None, reason="kubectl is not installed")
def test_kframe_up_hosts_cluster_dns(tmp_path: Path) -> None:
    port = _free_port()
    exe = str(Path(sys.executable).with_name("kframe"))
    proc = subprocess.Popen(
        [
            exe,
            "up",
            "--data-dir",
            str(tmp_path),
            "--store",
            "memory://",
            "--port",
            "0",
            "--scheduler-port",
            "0",
            "--dns-port",
            str(port),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        lines = []
        while not any(line.startswith("cluster DNS:") for line in lines):
            line = proc.stdout.readline()
            assert line, proc.stderr.read() if proc.stderr else ""
            lines.append(line)
        assert f"cluster DNS: 127.0.0.1:{port} (UDP and TCP), cluster.local\n" in lines
        _apply(tmp_path / "kubeconfig", SERVICE)
        query = dns.message.make_query("web.default.svc.cluster.local", "A")
        deadline = time.monotonic() + 30
        while True:
            reply = dns.query.tcp(query, "127.0.0.1", timeout=5, port=port)
            if reply.rcode() == dns.rcode.NOERROR or time.monotonic() > deadline:
                break
            time.sleep(0.02)
        assert [r.to_text() for rrset in reply.answer for r in rrset] == ["10.96.0.80"]
    finally:
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=30)
    assert proc.returncode == 0, err


def _free_port() -> int:
    import socket

    while True:
        with socket.socket() as tcp, socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as udp:
            tcp.bind(("127.0.0.1", 0))
            port = int(tcp.getsockname()[1])
            try:
                udp.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
