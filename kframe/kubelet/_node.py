"""The kubelet's Node: registration, the status it reports, and its heartbeat lease.

As upstream's ``kubelet_node_status.go`` and ``nodelease``: the kubelet creates its Node (or
adopts the one that exists), checks its status every ``nodeStatusUpdateFrequency`` (10 s) and
patches ``nodes/status`` when something changed (against the Node as served, so conditions
another writer set are put right) or ``nodeStatusReportFrequency`` (5 min) has passed; its
Lease in ``kube-node-lease`` is renewed every 10 s with a 40 s duration, jittered by 4% as
``wait.JitterUntil`` does so that many nodes do not renew in lockstep.

With an external cloud provider (``KubeletConfig.cloud_provider == "external"``) the Node is
created with the NoSchedule taint ``node.cloudprovider.kubernetes.io/uninitialized=true``
(upstream ``initialNode``), which the cloud node controller removes once it has written the
instance's provider ID, labels and addresses; the kubelet posts its own addresses only while
the Node has none (upstream's ``NodeAddress`` setter), so the cloud's stand.
"""

from __future__ import annotations

import logging
import random
from collections.abc import Callable
from typing import Any

from kframe._version import __version__
from kframe.api import Quantity, format_micro_time, format_time, from_dict
from kframe.api.models import Lease, Node
from kframe.client import Client, Clock
from kframe.kubelet._config import KubeletConfig
from kframe.kubelet._host import host_info
from kframe.runtime import Runtime, RuntimeStatus

__all__ = [
    "KUBELET_VERSION",
    "UNINITIALIZED_TAINT",
    "NodeLease",
    "NodeStatusManager",
    "node_resources",
]

log = logging.getLogger("kframe.kubelet")

KUBELET_VERSION = f"v1.33.0+kframe-{__version__}"
LEASE_NAMESPACE = "kube-node-lease"
# Upstream's nodeStatusMaxImages.
MAX_IMAGES = 50
# Upstream's default hard eviction thresholds come off allocatable: memory.available<100Mi,
# nodefs.available<10%.
_EVICTION_MEMORY = 100 * 1024 * 1024
#: cloudproviderapi.TaintExternalCloudProvider.
UNINITIALIZED_TAINT = "node.cloudprovider.kubernetes.io/uninitialized"


def api_code(exc: BaseException) -> int | None:
    """The HTTP code of a client error (APIError), None for anything else."""
    code = getattr(exc, "code", None)
    return code if isinstance(code, int) else None


def node_resources(config: KubeletConfig) -> tuple[dict[str, str], dict[str, str]]:
    """(capacity, allocatable) as quantity strings, from the config or the host."""
    capacity = dict(config.capacity)
    if not capacity:
        host = host_info()
        capacity = {
            "cpu": str(host.cpus),
            "memory": f"{host.memory_bytes // 1024}Ki",
            "ephemeral-storage": f"{host.disk_bytes // 1024}Ki",
            "hugepages-1Gi": "0",
            "hugepages-2Mi": "0",
        }
    capacity.setdefault("pods", str(config.max_pods))
    if config.allocatable:
        return capacity, {**capacity, **config.allocatable}
    allocatable = dict(capacity)
    if "memory" in capacity:
        memory = Quantity.parse(capacity["memory"]).value() - _EVICTION_MEMORY
        allocatable["memory"] = f"{max(memory, 0) // 1024}Ki"
    if "ephemeral-storage" in capacity:  # nodefs.available<10%
        disk = Quantity.parse(capacity["ephemeral-storage"]).value()
        allocatable["ephemeral-storage"] = str(disk - disk // 10)
    return capacity, allocatable


def _condition(kind: str, ok: bool, reason: str, message: str) -> dict[str, Any]:
    return {"type": kind, "status": "True" if ok else "False", "reason": reason, "message": message}


def _served_conditions(node: Node) -> dict[str, tuple[str, str, str]]:
    """The Node's conditions as served: type -> (status, reason, message)."""
    conditions = (node.status.conditions if node.status is not None else ()) or ()
    return {c.type or "": (c.status or "", c.reason or "", c.message or "") for c in conditions}


def _ready_message(status: RuntimeStatus | None) -> str:
    if status is None:
        return "container runtime status check may not have completed yet"
    for cond in status.conditions:
        if cond.type in ("RuntimeReady", "NetworkReady") and not cond.status:
            what = "network" if cond.type == "NetworkReady" else "runtime"
            return (
                f"container runtime {what} not ready: {cond.type}=false "
                f"reason:{cond.reason} message:{cond.message}"
            )
    return "container runtime status check may not have completed yet"


class NodeStatusManager:
    """Registers the Node and keeps its status current."""

    def __init__(
        self,
        client: Client,
        runtime: Runtime,
        config: KubeletConfig,
        clock: Clock,
        *,
        port: Callable[[], int],
        rng: random.Random,
    ) -> None:
        self._client = client
        self._runtime = runtime
        self._config = config
        self._clock = clock
        self._port = port
        self._rng = rng
        self._runtime_version = ""
        self._posted: dict[str, Any] | None = None  # status as last posted, heartbeats left out
        self._transitions: dict[str, tuple[str, str]] = {}
        self._last_report = -1e18
        self.capacity, self.allocatable = node_resources(config)
        self.pod_cidr = config.pod_cidr
        # Whether the posted status carries the kubelet's addresses: always without a cloud;
        # with an external one, only until the Node has addresses (the cloud's then stand).
        self._report_addresses = True

    async def _runtime_facts(self) -> tuple[RuntimeStatus | None, list[dict[str, Any]]]:
        service = self._runtime.runtime_service
        if not self._runtime_version:
            version = await service.version()
            self._runtime_version = f"{version.runtime_name}://{version.runtime_version}"
        try:
            status: RuntimeStatus | None = await service.status()
        except Exception as exc:  # a failing runtime makes the node NotReady, not the kubelet die
            log.warning("node %s: runtime status: %s", self._config.node_name, exc)
            status = None
        images = sorted(await self._runtime.image_service.list_images(), key=lambda i: -i.size)[
            :MAX_IMAGES
        ]
        listed = [
            {"names": [*image.repo_digests, *image.repo_tags], "sizeBytes": image.size}
            for image in images
        ]
        return status, listed

    async def status(self) -> dict[str, Any]:
        """The node's status now (JSON), with condition transition times kept."""
        runtime_status, images = await self._runtime_facts()
        host = host_info()
        ready = runtime_status is not None and runtime_status.ready
        conditions = [
            _condition(
                "MemoryPressure",
                False,
                "KubeletHasSufficientMemory",
                "kubelet has sufficient memory available",
            ),
            _condition(
                "DiskPressure", False, "KubeletHasNoDiskPressure", "kubelet has no disk pressure"
            ),
            _condition(
                "PIDPressure",
                False,
                "KubeletHasSufficientPID",
                "kubelet has sufficient PID available",
            ),
            _condition("Ready", True, "KubeletReady", "kubelet is posting ready status")
            if ready
            else _condition("Ready", False, "KubeletNotReady", _ready_message(runtime_status)),
        ]
        now = format_time(self._clock.wall())
        for cond in conditions:
            previous = self._transitions.get(cond["type"])
            if previous is None or previous[0] != cond["status"]:
                self._transitions[cond["type"]] = (cond["status"], now)
            cond["lastTransitionTime"] = self._transitions[cond["type"]][1]
        addresses = [
            {"type": "InternalIP", "address": self._config.node_ip},
            {"type": "Hostname", "address": self._config.address_hostname},
        ]
        return {
            "capacity": self.capacity,
            "allocatable": self.allocatable,
            "conditions": conditions,
            **({"addresses": addresses} if self._report_addresses else {}),
            "daemonEndpoints": {"kubeletEndpoint": {"Port": self._port()}},
            "nodeInfo": {
                "machineID": host.machine_id,
                "systemUUID": host.system_uuid,
                "bootID": host.boot_id,
                "kernelVersion": host.kernel_version,
                "osImage": host.os_image,
                "containerRuntimeVersion": self._runtime_version,
                "kubeletVersion": KUBELET_VERSION,
                "kubeProxyVersion": "",
                "operatingSystem": host.operating_system,
                "architecture": host.architecture,
            },
            "images": images,
        }

    def _node_body(self, status: dict[str, Any]) -> dict[str, Any]:
        labels = {
            "kubernetes.io/hostname": self._config.node_name,
            "kubernetes.io/os": status["nodeInfo"]["operatingSystem"],
            "kubernetes.io/arch": status["nodeInfo"]["architecture"],
            "beta.kubernetes.io/os": status["nodeInfo"]["operatingSystem"],
            "beta.kubernetes.io/arch": status["nodeInfo"]["architecture"],
            **self._config.labels,
        }
        spec: dict[str, Any] = {}
        if self._config.pod_cidr:
            spec = {"podCIDR": self._config.pod_cidr, "podCIDRs": [self._config.pod_cidr]}
        if self._config.external_cloud_provider:
            # Upstream initialNode: the cloud node controller removes it once initialised.
            spec["taints"] = [{"key": UNINITIALIZED_TAINT, "value": "true", "effect": "NoSchedule"}]
        return {
            "apiVersion": "v1",
            "kind": "Node",
            "metadata": {
                "name": self._config.node_name,
                "labels": labels,
                "annotations": {"volumes.kubernetes.io/controller-managed-attach-detach": "true"},
            },
            "spec": spec,
            "status": self._stamp(status),
        }

    def _stamp(self, status: dict[str, Any]) -> dict[str, Any]:
        now = format_time(self._clock.wall())
        return {
            **status,
            "conditions": [{**c, "lastHeartbeatTime": now} for c in status["conditions"]],
        }

    async def register(self) -> Node:
        """Create the Node, or take over the one that exists (its pod CIDR, if set, wins)."""
        status = await self.status()
        body = self._node_body(status)
        try:
            node = await self._client.create(from_dict(body, Node))
        except Exception as exc:
            if api_code(exc) != 409:
                raise
            node = await self._client.get(Node, self._config.node_name)
            labels = body["metadata"]["labels"]
            patch: dict[str, Any] = {"metadata": {"labels": labels}}
            cidr = {k: v for k, v in body["spec"].items() if k in ("podCIDR", "podCIDRs")}
            if cidr and not (node.spec and node.spec.pod_cidr):
                patch["spec"] = cidr
            node = await self._client.patch(Node, self._config.node_name, patch, patch_type="merge")
            # An existing Node keeps its taints (the cloud initialised it already, or will) and,
            # with an external cloud, the addresses it has.
            if self._config.external_cloud_provider and node.status and node.status.addresses:
                self._report_addresses = False
                status = {k: v for k, v in status.items() if k != "addresses"}
            node = await self._post(status)
        else:
            # A create may drop status (the status subresource owns it); post it as well.
            if node.status is None or not node.status.conditions:
                node = await self._post(status)
            else:
                self._posted, self._last_report = status, self._clock.now()
        if self._config.external_cloud_provider and self._report_addresses:
            # The Node has the kubelet's initial addresses now; later posts leave them out.
            self._report_addresses = False
            self._posted = {k: v for k, v in status.items() if k != "addresses"}
        if node.spec and node.spec.pod_cidr:
            self.pod_cidr = node.spec.pod_cidr
        return node

    async def _post(self, status: dict[str, Any]) -> Node:
        node = await self._client.patch(
            Node,
            self._config.node_name,
            {"status": self._stamp(status)},
            patch_type="strategic",
            subresource="status",
        )
        self._posted, self._last_report = status, self._clock.now()
        return node

    async def sync(self) -> bool:
        """Post the status if it changed, if the Node's conditions say otherwise than the
        kubelet (the node lifecycle controller marked them Unknown, say), or if the report
        interval passed; True if posted."""
        # Upstream tryUpdateNodeStatus reads the Node first and compares the status it would
        # post with that one, not with what it last sent: a condition another writer changed
        # is put right within one update period, with a fresh transition time.
        served = _served_conditions(await self._client.get(Node, self._config.node_name))
        for kind, (state, _) in list(self._transitions.items()):
            if served.get(kind, ("", "", ""))[0] != state:
                del self._transitions[kind]
        status = await self.status()
        due = self._clock.now() - self._last_report >= self._config.node_status_report_frequency
        agree = all(
            served.get(c["type"]) == (c["status"], c["reason"], c["message"])
            for c in status["conditions"]
        )
        if status == self._posted and agree and not due:
            return False
        await self._post(status)
        return True

    async def run(self) -> None:
        """Check the status every nodeStatusUpdateFrequency until cancelled."""
        period = self._config.node_status_update_frequency
        while True:
            await self._clock.sleep(period * (1 + 0.04 * self._rng.random()))
            try:
                await self.sync()
            except Exception as exc:
                log.warning("node %s: updating node status: %s", self._config.node_name, exc)


class NodeLease:
    """The node's heartbeat: ``kube-node-lease/<node>``, renewed every 10 s."""

    def __init__(
        self, client: Client, config: KubeletConfig, clock: Clock, *, rng: random.Random
    ) -> None:
        self._client = client
        self._config = config
        self._clock = clock
        self._rng = rng
        self._lease: Lease | None = None
        self.node_uid = ""
        self.renewals = 0

    def _body(self) -> dict[str, Any]:
        owner = []
        if self.node_uid:
            owner = [
                {
                    "apiVersion": "v1",
                    "kind": "Node",
                    "name": self._config.node_name,
                    "uid": self.node_uid,
                }
            ]
        return {
            "apiVersion": "coordination.k8s.io/v1",
            "kind": "Lease",
            "metadata": {
                "name": self._config.node_name,
                "namespace": LEASE_NAMESPACE,
                "ownerReferences": owner,
            },
            "spec": {
                "holderIdentity": self._config.node_name,
                "leaseDurationSeconds": self._config.node_lease_duration_seconds,
                "renewTime": format_micro_time(self._clock.wall()),
            },
        }

    async def renew(self) -> Lease:
        """Renew (creating the Lease the first time, or again after someone deleted it)."""
        name = self._config.node_name
        body = self._body()
        if self._lease is None:
            try:
                self._lease = await self._client.get(Lease, name, namespace=LEASE_NAMESPACE)
            except Exception as exc:
                if api_code(exc) != 404:
                    raise
                self._lease = await self._client.create(from_dict(body, Lease))
                self.renewals += 1
                return self._lease
        current = self._lease
        try:
            patch = {"spec": body["spec"]}
            if self.node_uid and not (current.metadata and current.metadata.owner_references):
                patch["metadata"] = {"ownerReferences": body["metadata"]["ownerReferences"]}
            self._lease = await self._client.patch(
                Lease, name, patch, namespace=LEASE_NAMESPACE, patch_type="merge"
            )
        except Exception as exc:
            self._lease = None  # read it again (or create it) on the retry
            if api_code(exc) == 404:
                return await self.renew()
            raise
        self.renewals += 1
        return self._lease

    async def run(self) -> None:
        interval = self._config.lease_renew_interval
        while True:
            try:
                await self.renew()
                delay = interval * (1 + 0.04 * self._rng.random())
            except Exception as exc:
                log.warning("node %s: renewing lease: %s", self._config.node_name, exc)
                delay = 1.0  # upstream retries quickly (200 ms doubling to 7 s)
            await self._clock.sleep(delay)
