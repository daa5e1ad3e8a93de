"""The iptables backend's rendering of a fixed set of Services and endpoints, against a reviewed
golden file (``golden/iptables-restore.txt``).

The set covers a ClusterIP service with three ready endpoints (and one not ready, left out), a
NodePort service, ClientIP session affinity, a service without endpoints (REJECT in the filter
table) and a NodePort service with ``externalTrafficPolicy: Local`` (KUBE-EXT/KUBE-SVL chains).

After an intended change to the rules, regenerate the file and review the diff::

    KFRAME_UPDATE_GOLDEN=1 pytest tests/plugins/proxy/test_iptables_golden.py
    git diff tests/plugins/proxy/golden/
"""

from __future__ import annotations

import os
from pathlib import Path

from kframe.proxy import ProxyState
from kframe.testing.proxy import endpoint_slice, proxy_state, service
from kframe_plugins.proxy.iptables import IptablesConfig, render

GOLDEN = Path(__file__).parent / "golden" / "iptables-restore.txt"
CONFIG = IptablesConfig(cluster_cidr="10.244.0.0/16")


def fixed_state() -> ProxyState:
    services = [
        service("web", "10.96.0.10", [("http", 80)]),
        service("nodeport", "10.96.0.20", [("https", 443, "TCP", 30443)], type="NodePort"),
        service(
            "sticky", "10.96.0.30", [("", 6379)], session_affinity="ClientIP", affinity_timeout=600
        ),
        service("empty", "10.96.0.40", [("dns", 53, "UDP"), ("dns-tcp", 53, "TCP")]),
        service(
            "local",
            "10.96.0.50",
            [("", 80, "TCP", 30080)],
            type="NodePort",
            external_traffic_policy="Local",
        ),
    ]
    slices = [
        endpoint_slice(
            "web",
            [
                ("10.244.1.1", True, "node-a"),
                ("10.244.1.2", True, "node-a"),
                ("10.244.2.1", True, "node-b"),
                ("10.244.2.9", False, "node-b"),  # not ready: no rules
            ],
            [("http", 8080)],
        ),
        endpoint_slice(
            "nodeport",
            [("10.244.1.3", True, "node-a"), ("10.244.2.3", True, "node-b")],
            [("https", 8443)],
        ),
        endpoint_slice(
            "sticky",
            [("10.244.1.4", True, "node-a"), ("10.244.2.4", True, "node-b")],
            [("", 6379)],
        ),
        endpoint_slice(
            "local", [("10.244.1.5", True, "node-a"), ("10.244.2.5", True, "node-b")], [("", 80)]
        ),
    ]
    return proxy_state(services, slices, node_name="node-a")


def test_rendered_rules_match_the_golden_file() -> None:
    text = render(fixed_state(), CONFIG).text()
    if os.environ.get("KFRAME_UPDATE_GOLDEN"):
        GOLDEN.write_text(text)
    assert text == GOLDEN.read_text(), (
        "rendered rules differ from the golden file; if intended, regenerate it "
        "(see this module's docstring) and review the diff"
    )


def test_rendering_is_deterministic() -> None:
    assert render(fixed_state(), CONFIG) == render(fixed_state(), CONFIG)
