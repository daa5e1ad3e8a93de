"""A pod's DNS settings from its dnsPolicy and dnsConfig, as upstream's kubelet derives them."""

from __future__ import annotations

import argparse
import asyncio
from pathlib import Path

import pytest

from kframe.api import models
from kframe.cli import CommandError
from kframe.cli._kubelet import KubeletCommand
from kframe.kubelet._cri import sandbox_config
from kframe.kubelet._dns import pod_dns_config, read_resolv_conf
from kframe.registry import build_registry
from kframe.runtime import DNSConfig
from tests.kubelet.harness import cluster, pod_body

HOST = (("192.0.2.1",), ("corp.example",), ("timeout:2",))
CLUSTER = ("10.96.0.10",)


def pod(
    policy: str | None = None,
    *,
    host_network: bool = False,
    config: models.PodDNSConfig | None = None,
    namespace: str = "shop",
) -> models.Pod:
    return models.Pod(
        metadata=models.ObjectMeta(name="p", namespace=namespace),
        spec=models.PodSpec(
            containers=(models.Container(name="c", image="i"),),
            dns_policy=policy,  # type: ignore[arg-type]
            host_network=host_network or None,
            dns_config=config,
        ),
    )


def dns_for(p: models.Pod, cluster_dns: tuple[str, ...] = CLUSTER) -> DNSConfig | None:
    return pod_dns_config(p, cluster_dns=cluster_dns, cluster_domain="cluster.local", host=HOST)


def test_cluster_first_is_the_default() -> None:
    assert dns_for(pod()) == DNSConfig(
        servers=("10.96.0.10",),
        searches=("shop.svc.cluster.local", "svc.cluster.local", "cluster.local", "corp.example"),
        options=("ndots:5",),
    )
    assert dns_for(pod("ClusterFirst")) == dns_for(pod())


def test_host_network_and_default_keep_the_hosts_file() -> None:
    assert dns_for(pod(host_network=True)) is None
    assert dns_for(pod("Default")) is None
    with_host_net = dns_for(pod("ClusterFirstWithHostNet", host_network=True))
    assert with_host_net is not None and with_host_net.servers == CLUSTER


def test_no_cluster_dns_falls_back_to_the_host() -> None:
    assert dns_for(pod(), cluster_dns=()) is None


def test_dns_config_is_merged_and_none_takes_only_it() -> None:
    extra = models.PodDNSConfig(
        nameservers=("10.96.0.10", "1.1.1.1"),
        searches=("svc.cluster.local", "extra.example."),
        options=(
            models.PodDNSConfigOption(name="ndots", value="2"),
            models.PodDNSConfigOption(name="edns0"),
        ),
    )
    merged = dns_for(pod(config=extra))
    assert merged == DNSConfig(
        servers=("10.96.0.10", "1.1.1.1"),
        searches=(
            "shop.svc.cluster.local",
            "svc.cluster.local",
            "cluster.local",
            "corp.example",
            "extra.example",
        ),
        options=("ndots:2", "edns0"),
    )
    only = dns_for(pod("None", config=models.PodDNSConfig(nameservers=("9.9.9.9",))))
    assert only == DNSConfig(servers=("9.9.9.9",))
    on_host = dns_for(pod("Default", config=models.PodDNSConfig(searches=("a.example",))))
    assert on_host == DNSConfig(
        servers=("192.0.2.1",), searches=("corp.example", "a.example"), options=("timeout:2",)
    )


def test_limits() -> None:
    many = models.PodDNSConfig(
        nameservers=tuple(f"10.0.0.{i}" for i in range(5)),
        searches=tuple(f"d{i}.example" for i in range(40)),
    )
    config = dns_for(pod("None", config=many))
    assert config is not None
    assert len(config.servers) == 3
    assert len(config.searches) == 32


def test_sandbox_config_carries_it(tmp_path: Path) -> None:
    resolv = tmp_path / "resolv.conf"
    resolv.write_text(
        "# generated\nnameserver 127.0.0.53\nsearch old.example\n"
        "search lan. home\noptions edns0 trust-ad\n"
    )
    host = read_resolv_conf(resolv)
    assert host == (("127.0.0.53",), ("lan", "home"), ("edns0", "trust-ad"))
    assert read_resolv_conf(tmp_path / "missing") == ((), (), ())
    p = pod()
    config = pod_dns_config(p, cluster_dns=CLUSTER, cluster_domain="kube.test", host=host)
    sandbox = sandbox_config(p, attempt=0, log_dir="", node_hostname="n", dns_config=config)
    assert sandbox.dns_config is not None
    assert sandbox.dns_config.searches[:3] == (
        "shop.svc.kube.test",
        "svc.kube.test",
        "kube.test",
    )


def test_kubelet_gives_cluster_first_pods_the_cluster_dns() -> None:
    async def main() -> None:
        async with cluster(cluster_dns=("10.96.0.10",), cluster_domain="kube.test") as c:
            await c.create_pod(pod_body("web"))
            await c.create_pod(pod_body("host", hostNetwork=True))
            await c.eventually(lambda: c.phase("web", "Running"))
            await c.eventually(lambda: c.phase("host", "Running"))
            configs = {
                w.pod.metadata.name: w.sandbox_config.dns_config
                for w in c.kubelets[0].sandboxes.values()
            }
            assert configs["host"] is None
            assert configs["web"] is not None
            assert configs["web"].servers == ("10.96.0.10",)
            assert configs["web"].searches[:3] == (
                "default.svc.kube.test",
                "svc.kube.test",
                "kube.test",
            )
            assert configs["web"].options == ("ndots:5",)

    asyncio.run(asyncio.wait_for(main(), 60))


def test_kframe_kubelet_refuses_a_cluster_dns_that_is_not_an_ip() -> None:
    command = KubeletCommand(build_registry())
    parser = argparse.ArgumentParser()
    command.configure(parser)
    args = parser.parse_args(["--server", "http://127.0.0.1:1", "--cluster-dns", "10.96.0.10,x"])
    with pytest.raises(CommandError, match="--cluster-dns: 'x' is not an IP address"):
        command.run(args)
