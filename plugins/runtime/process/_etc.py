"""A pod's ``/etc/hosts`` and ``/etc/resolv.conf``, as the kubelet and the runtime write them.

A pod with a network of its own gets a hosts file naming its hostname at its IP (the
kubelet's "Kubernetes-managed hosts file"), so that programs that look up their own name
(``socket.getfqdn()`` in ``python3 -m http.server``) get an answer without DNS; and, when the
sandbox config carries a DNS config (the cluster's DNS), a resolv.conf from it. The files live
in the sandbox's directory and are bind-mounted over the host's in each container's mount
namespace; host-network pods keep the host's files, as in Kubernetes.
"""

from __future__ import annotations

import os

from kframe.runtime import Mount, PodSandboxConfig

__all__ = ["pod_etc_mounts"]

# The kubelet's managedHostsHeader and default entries (pkg/kubelet/kubelet_pods.go).
_HOSTS_HEADER = """# Kubernetes-managed hosts file.
127.0.0.1\tlocalhost
::1\tlocalhost ip6-localhost ip6-loopback
fe00::0\tip6-localnet
fe00::0\tip6-mcastprefix
fe00::1\tip6-allnodes
fe00::2\tip6-allrouters
"""


def pod_etc_mounts(directory: str, config: PodSandboxConfig, ip: str) -> tuple[Mount, ...]:
    """Write the pod's files under ``directory``; the mounts that put them in place."""
    os.makedirs(directory, exist_ok=True)
    hostname = config.hostname or config.metadata.name
    hosts = os.path.join(directory, "hosts")
    with open(hosts, "w", encoding="utf-8") as f:
        f.write(f"{_HOSTS_HEADER}{ip}\t{hostname}\n")
    mounts = [Mount(container_path="/etc/hosts", host_path=hosts)]
    dns = config.dns_config
    if dns is not None and dns.servers:
        resolv = os.path.join(directory, "resolv.conf")
        with open(resolv, "w", encoding="utf-8") as f:
            f.writelines(f"nameserver {server}\n" for server in dns.servers)
            if dns.searches:
                f.write(f"search {' '.join(dns.searches)}\n")
            if dns.options:
                f.write(f"options {' '.join(dns.options)}\n")
        mounts.append(Mount(container_path="/etc/resolv.conf", host_path=resolv))
    return tuple(mounts)
