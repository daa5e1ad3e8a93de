"""``kframe proxy`` against a running ``kframe apiserver``, and its one-line errors."""

from __future__ import annotations

import json
import urllib.request
from pathlib import Path

from kframe.testing.cluster import running_apiserver
from tests.cli.test_cli import kframe


def _server(kubeconfig: Path) -> str:
    import yaml

    data = yaml.safe_load(kubeconfig.read_text())
    return str(data["clusters"][0]["cluster"]["server"])


def _post(server: str, path: str, body: dict) -> None:  # type: ignore[type-arg]
    request = urllib.request.Request(
        server + path,
        data=json.dumps(body).encode(),
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=10):
        pass


def test_proxy_once_in_dry_run_prints_the_rules(tmp_path: Path) -> None:
    with running_apiserver(tmp_path / "api") as kubeconfig:
        server = _server(kubeconfig)
        _post(
            server,
            "/api/v1/namespaces/default/services",
            {
                "apiVersion": "v1",
                "kind": "Service",
                "metadata": {"name": "web"},
                "spec": {"clusterIP": "10.96.0.10", "ports": [{"name": "http", "port": 80}]},
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
                "ports": [{"name": "http", "port": 8080, "protocol": "TCP"}],
                "endpoints": [{"addresses": ["10.244.1.1"], "conditions": {"ready": True}}],
            },
        )
        config = tmp_path / "backend.yaml"
        config.write_text('output: "-"\nclusterCIDR: 10.244.0.0/16\n')
        result = kframe(
            "proxy",
            "--kubeconfig",
            str(kubeconfig),
            "--mode",
            "iptables",
            "--dry-run",
            "--once",
            "--backend-config",
            str(config),
        )
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("*filter\n")
    assert '-A KUBE-SERVICES -m comment --comment "default/web:http cluster IP"' in result.stdout
    assert "-j DNAT --to-destination 10.244.1.1:8080" in result.stdout
    # web and the API server's own default/kubernetes Service, one endpoint each.
    assert "synced 2 service ports, 2 endpoints (iptables, dry run)" in result.stderr


def test_proxy_errors_are_one_line(tmp_path: Path) -> None:
    unknown = kframe("proxy", "--server", "http://127.0.0.1:1", "--mode", "nope", "--once")
    assert unknown.returncode == 1
    assert (
        unknown.stderr.strip()
        == ("kframe: error: --mode: unknown proxy-backend 'nope' (available: iptables)")
        or "nope" in unknown.stderr
    )
    assert len(unknown.stderr.strip().splitlines()) == 1

    bad = tmp_path / "cfg.yaml"
    bad.write_text("no_such_knob: 1\n")
    result = kframe(
        "proxy", "--server", "http://127.0.0.1:1", "--dry-run", "--backend-config", str(bad)
    )
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert "no_such_knob" in result.stderr

    periods = kframe(
        "proxy", "--server", "http://127.0.0.1:1", "--min-sync-period", "1m", "--sync-period", "1s"
    )
    assert periods.returncode == 2 and "--min-sync-period" in periods.stderr
