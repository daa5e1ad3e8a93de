"""The kubelet: one node's agent, running the pods bound to it through a CRI runtime.

:class:`Kubelet` registers its Node, renews its Lease in ``kube-node-lease``, watches the pods
bound to it, admits them (resources, node affinity), runs them through a
:class:`kframe.runtime.Runtime` (sandbox, init containers, app containers, restarts under
back-off) and reports their status; :class:`KubeletHost` runs many kubelets in one process
over one pod watch (``kframe up --nodes N``). Semantics follow upstream's kubelet; see
docs/kubelet.md.
"""

from kframe.kubelet._admit import AdmitResult, admit_pod
from kframe.kubelet._backoff import Backoff, go_duration
from kframe.kubelet._config import KubeletConfig
from kframe.kubelet._env import ContainerConfigError, expand
from kframe.kubelet._fleet import KubeletHost, pod_cidr_for
from kframe.kubelet._host import HostInfo, host_info
from kframe.kubelet._kubelet import Kubelet, Prober
from kframe.kubelet._node import KUBELET_VERSION, NodeLease, NodeStatusManager, node_resources
from kframe.kubelet._pods import PodHandler, PodSource
from kframe.kubelet._probes import ProbeManager
from kframe.kubelet._server import KubeletServer, Lookup
from kframe.kubelet._status import ContainerView, api_container_status, pod_conditions, pod_phase

__all__ = [
    "KUBELET_VERSION",
    "AdmitResult",
    "Backoff",
    "ContainerConfigError",
    "ContainerView",
    "HostInfo",
    "Kubelet",
    "KubeletConfig",
    "KubeletHost",
    "KubeletServer",
    "Lookup",
    "NodeLease",
    "NodeStatusManager",
    "PodHandler",
    "PodSource",
    "ProbeManager",
    "Prober",
    "admit_pod",
    "api_container_status",
    "expand",
    "go_duration",
    "host_info",
    "node_resources",
    "pod_cidr_for",
    "pod_conditions",
    "pod_phase",
]
