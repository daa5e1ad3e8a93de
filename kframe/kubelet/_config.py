"""KubeletConfig: what one kubelet is told (node identity, resources, upstream timings).

The defaults are kubelet's (``KubeletConfiguration`` v1beta1): node status checked every 10 s
and reported at least every 5 min, a 40 s node lease renewed every quarter of that, a 1 s PLEG
relist, container restart back-off from 10 s doubling to 5 min. ``kframe kubelet`` builds one
from its flags, ``kframe up`` one per hosted node.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import attrs

__all__ = ["EXTERNAL_CLOUD_PROVIDER", "KubeletConfig", "cloud_provider_error"]

#: The one ``--cloud-provider`` value besides "" (upstream removed the in-tree providers).
EXTERNAL_CLOUD_PROVIDER = "external"


def cloud_provider_error(name: str) -> str | None:
    """Upstream's message for a ``--cloud-provider`` other than "" and ``external``."""
    if name in ("", EXTERNAL_CLOUD_PROVIDER):
        return None
    return (
        f'cloud provider "{name}" was specified, but built-in cloud providers are disabled. '
        "Please set --cloud-provider=external and migrate to an external cloud provider"
    )


def _check_cloud_provider(_obj: object, _attr: object, value: str) -> None:
    error = cloud_provider_error(value)
    if error is not None:
        raise ValueError(error)


@attrs.frozen(kw_only=True)
class KubeletConfig:
    """One node's kubelet settings.

    ``capacity``: the node's resources (``cpu``, ``memory``, ``pods``, ...) as quantity strings;
    empty means read from the host (CPU count, ``/proc/meminfo``, 110 pods). ``allocatable``:
    empty means the capacity less kubelet's default hard eviction threshold (100Mi memory).
    ``node_ip``: the InternalIP address (default 127.0.0.1); ``hostname``: the Hostname
    address (default: the node name). ``port``: the port published as
    ``status.daemonEndpoints.kubeletEndpoint.Port`` (the streaming and log server's).
    ``log_dir``: where pod log directories go ("" for none: the runtime keeps no logs).
    ``cloud_provider``: ``"external"`` (upstream's ``--cloud-provider=external``) registers the
    Node with the NoSchedule taint ``node.cloudprovider.kubernetes.io/uninitialized=true`` for
    a cloud node controller to initialise and remove, and leaves the Node's addresses to the
    cloud once it has some; ``""``: no cloud.
    """

    node_name: str
    runtime: str = "fake"
    runtime_config: Mapping[str, Any] = attrs.field(factory=dict)
    pod_cidr: str = ""
    capacity: Mapping[str, str] = attrs.field(factory=dict)
    allocatable: Mapping[str, str] = attrs.field(factory=dict)
    labels: Mapping[str, str] = attrs.field(factory=dict)
    node_ip: str = "127.0.0.1"
    hostname: str = ""
    port: int = 10250
    log_dir: str = ""
    root_dir: str = ""
    cloud_provider: str = attrs.field(default="", validator=_check_cloud_provider)
    max_pods: int = 110
    # Upstream's clusterDNS and clusterDomain: the pods' nameservers under dnsPolicy
    # ClusterFirst (none: pods get the host's), and the domain of their search list.
    cluster_dns: tuple[str, ...] = ()
    cluster_domain: str = "cluster.local"
    # Upstream's resolvConf: the host's file, the base of Default and ClusterFirst searches.
    resolv_conf: str = "/etc/resolv.conf"
    # Timings (seconds), upstream's defaults.
    node_status_update_frequency: float = 10.0
    node_status_report_frequency: float = 300.0
    node_lease_duration_seconds: int = 40
    pleg_relist_period: float = 1.0
    backoff_initial: float = 10.0
    backoff_max: float = 300.0
    # A container that ran this long before exiting starts its back-off afresh.
    backoff_reset: float = 600.0

    @property
    def lease_renew_interval(self) -> float:
        # Upstream's renewInterval: a quarter of the lease duration (10 s of 40 s).
        return self.node_lease_duration_seconds * 0.25

    @property
    def external_cloud_provider(self) -> bool:
        return self.cloud_provider == EXTERNAL_CLOUD_PROVIDER

    @property
    def address_hostname(self) -> str:
        return self.hostname or self.node_name
