"""Running kframe in the foreground until SIGINT or SIGTERM, then shutting down cleanly."""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import logging
import os
import shutil
import signal
import socket
import sys
from collections.abc import Awaitable, Callable, Coroutine, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

import attrs

from kframe.apiserver import (
    DEFAULT_ADMISSION_PLUGINS,
    DEFAULT_NODE_PORT_RANGE,
    DEFAULT_SERVICE_CIDR,
    APIServer,
)
from kframe.cluster._kubeconfig import write_kubeconfig
from kframe.store import open_store

if TYPE_CHECKING:
    from kframe.dns import ClusterDNS
    from kframe.scheduler import Scheduler

__all__ = ["Settings", "run_apiserver", "run_until_signal", "run_up"]


@attrs.frozen
class Settings:
    """What ``kframe up`` and ``kframe apiserver`` are told on the command line."""

    store: str
    address: str
    port: int
    kubeconfig: Path
    nodes: int = 0
    runtime: str = ""
    compaction_interval: float = 300.0
    admission_plugins: tuple[str, ...] = DEFAULT_ADMISSION_PLUGINS
    # A KubeSchedulerConfiguration file for the hosted scheduler (None: the default profile).
    scheduler_config: Path | None = None
    # Where hosted nodes keep their files (runtime state, pod logs); None: nowhere.
    data_dir: Path | None = None
    # Where the hosted scheduler serves /metrics and /healthz, on ``address`` (kube-scheduler's
    # secure port, in plain HTTP; 0: not served).
    scheduler_port: int = 10259
    # The hosted controller manager's ``--controllers``, ``--option`` and ``--concurrent-syncs``.
    controllers: tuple[str, ...] = ("*",)
    controller_options: Mapping[str, str] = attrs.field(factory=dict)
    controller_workers: Mapping[str, int] = attrs.field(factory=dict)
    # ``--service-cluster-ip-range`` and ``--service-node-port-range`` (docs/services.md).
    service_cluster_ip_range: str = DEFAULT_SERVICE_CIDR
    service_node_port_range: str = DEFAULT_NODE_PORT_RANGE
    # The hosted cloud controller manager's provider and its config file ("": none hosted).
    cloud_provider: str = ""
    cloud_config: Path | None = None
    # The hosted cluster DNS (docs/dns.md): its port on ``address`` (0: not hosted) and domain.
    dns_port: int = 0
    cluster_domain: str = "cluster.local"
    # A proxy backend mode: one dry-run proxy per hosted node, or one live one for the host
    # for ``userspace``, and for ``iptables`` over a pod network (docs/proxy.md); "": none.
    proxy_mode: str = ""


# The process runtime's default bridge (its config key ``bridge``): the hosted nodes' pods are
# plugged into it, each node's pod CIDR on it with its gateway address.
POD_BRIDGE = "kframe0"


@attrs.frozen
class PodNetwork:
    """The hosted nodes' pod network, when pods get namespaces of their own (the process
    runtime as root, with iproute2): the bridge, the gateway of node-0's pod CIDR (where the
    cluster DNS also listens, on port 53, for pods), the pod range, and the host's address (the
    nodes' InternalIP, where node ports answer)."""

    bridge: str
    gateway: str
    prefixlen: int
    cluster_cidr: str
    node_ip: str


def pod_network(settings: Settings) -> PodNetwork | None:
    """The pod network of ``settings`` (None: pods share the host's network, or no nodes)."""
    if settings.runtime != "process" or not settings.nodes:
        return None
    if os.geteuid() != 0 or shutil.which("ip") is None:
        return None  # the process runtime falls back to the host network (bridge_unavailable)
    from kframe.kubelet import pod_cidr_for

    first = ipaddress.ip_network(pod_cidr_for(0))
    # 10.244.<i>.0/24 per node, 10.245.* past 256 nodes (pod_cidr_for).
    cluster_cidr = "10.244.0.0/16" if settings.nodes <= 256 else "10.244.0.0/15"
    return PodNetwork(POD_BRIDGE, str(first[1]), first.prefixlen, cluster_cidr, _host_ip())


def _host_ip() -> str:
    """The address the default route leaves from (127.0.0.1 without one); connecting a UDP
    socket sends nothing."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        try:
            s.connect(("192.0.2.1", 9))  # TEST-NET-1 (RFC 5737)
            return str(s.getsockname()[0])
        except OSError:
            return "127.0.0.1"


async def _run_ip(*args: str) -> tuple[int, str]:
    proc = await asyncio.create_subprocess_exec(
        "ip",
        *args,
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.PIPE,
    )
    _, err = await proc.communicate()
    return proc.returncode or 0, " ".join(err.decode(errors="replace").split())


async def ensure_pod_bridge(net: PodNetwork) -> None:
    """The bridge up with node-0's gateway address, as the process runtime makes it with its
    first pod (the same ``ip`` steps, idempotent), so the DNS can bind there first."""
    if not os.path.exists(f"/sys/class/net/{net.bridge}"):
        await _run_ip("link", "add", net.bridge, "type", "bridge")  # a race lost is fine
    for args in (
        ("addr", "replace", f"{net.gateway}/{net.prefixlen}", "dev", net.bridge),
        ("link", "set", "dev", net.bridge, "up"),
    ):
        code, err = await _run_ip(*args)
        if code:
            raise OSError(f"ip {' '.join(args)} failed: {err}")


async def run_until_signal(
    start: Callable[[], Awaitable[None]], stop: Callable[[], Awaitable[None]]
) -> None:
    """``start``, wait for SIGINT/SIGTERM, then ``stop``."""
    loop = asyncio.get_running_loop()
    stopping = asyncio.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stopping.set)
    try:
        await start()
        await stopping.wait()
    finally:
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(sig)
        await stop()


# Builds a hosted component against the server (raising if it cannot be built) and returns
# the coroutine that runs it until cancelled.
Component = Callable[[APIServer], Coroutine[Any, Any, None]]
log = logging.getLogger("kframe.cluster")


def _report_crash(task: asyncio.Task[None]) -> None:
    if not task.cancelled() and task.exception() is not None:
        log.error("a hosted component stopped", exc_info=task.exception())
        print(f"kframe: error: a hosted component stopped: {task.exception()}", file=sys.stderr)


async def _serve(settings: Settings, banner: str, components: tuple[Component, ...] = ()) -> None:
    """The API server, plus components that run against it in-process until shutdown."""
    store = await open_store(settings.store)
    server = APIServer(
        store,
        compaction_interval=settings.compaction_interval,
        admission_plugins=settings.admission_plugins,
        service_cluster_ip_range=settings.service_cluster_ip_range,
        service_node_port_range=settings.service_node_port_range,
    )

    tasks: list[asyncio.Task[None]] = []

    async def start() -> None:
        await server.start(settings.address, settings.port)
        for component in components:
            task = asyncio.ensure_future(component(server))
            task.add_done_callback(_report_crash)
            tasks.append(task)
        write_kubeconfig(settings.kubeconfig, server.url)
        print(f"{banner} listening on {server.url}", flush=True)
        print(f"store: {settings.store}", flush=True)
        print(f"kubeconfig: {settings.kubeconfig}", flush=True)
        print(f"try: kubectl --kubeconfig {settings.kubeconfig} get namespaces", flush=True)

    async def stop() -> None:
        print("shutting down", file=sys.stderr, flush=True)
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):  # crashes: reported
                await task
        try:
            await server.stop()
        finally:
            await store.close()

    await run_until_signal(start, stop)


async def run_apiserver(settings: Settings) -> None:
    """The API server alone."""
    await _serve(settings, "kframe apiserver")


async def run_up(settings: Settings) -> None:
    """The API server and every component that exists so far, in one process.

    Hosts the scheduler, the controller manager (``settings.controllers``) and
    ``settings.nodes`` kubelets (one runtime each, of ``settings.runtime``). A bad controller
    selection or runtime is a ValueError before anything starts.
    """
    components = [_scheduler(settings), _controller_manager(settings)]
    if settings.cloud_provider:
        components.append(_cloud_controller_manager(settings))
    if settings.dns_port:
        components.append(_cluster_dns(settings))
    if settings.nodes:
        from kframe.registry import build_registry

        runtimes = build_registry().names("runtime")
        if settings.runtime not in runtimes:
            raise ValueError(
                f"--runtime {settings.runtime!r}: no such container runtime "
                f"(installed: {', '.join(runtimes) or 'none'})"
            )
        components.append(_kubelets(settings))
        if settings.proxy_mode:
            modes = build_registry().names("proxy-backend")
            if settings.proxy_mode not in modes:
                raise ValueError(
                    f"--proxy-mode {settings.proxy_mode!r}: no such proxy backend "
                    f"(installed: {', '.join(modes) or 'none'})"
                )
            components.append(_proxies(settings))
    await _serve(settings, "kframe up: API server", tuple(components))


def _controller_manager(settings: Settings) -> Component:
    """The controller manager on the in-process client, behind leader election (so a
    ``kframe controller-manager`` pointed at this cluster waits as a standby). Losing the lease
    (the store too slow to renew within 10 s) stops the controllers and contends again: the
    API server keeps serving, so the process does not exit as upstream's would."""
    from kframe.client import Client
    from kframe.controller import ControllerManager, LeaderElection, registered_controllers

    specs = registered_controllers()
    # Built once here to check the selection, the worker counts and the controllers' --option
    # values (read when each controller is built) before anything starts.
    check = ControllerManager(
        cast(Client, _NoClient()),
        specs,
        controllers=settings.controllers,
        options=settings.controller_options,
        workers=settings.controller_workers,
    )
    try:
        check.build()
    except ValueError:
        raise
    except Exception:
        pass  # a build that needs the client: it fails, and is reported, when it runs

    def build(server: APIServer) -> Coroutine[Any, Any, None]:
        from kframe.client import InProcessClient

        manager = ControllerManager(
            InProcessClient(server),
            specs,
            controllers=settings.controllers,
            options=settings.controller_options,
            workers=settings.controller_workers,
            leader_election=LeaderElection(recampaign=True),
        )
        print(f"controllers: {', '.join(manager.names) or 'none'}", flush=True)
        return manager.run()

    return build


def _cloud_controller_manager(settings: Settings) -> Component:
    """The cloud controller manager of ``settings.cloud_provider``, behind its own Lease; the
    provider is opened here, so an unknown name or a bad config is a ValueError up front."""
    from kframe.cloud import open_cloud_provider
    from kframe.cloud.controllers import LEASE_NAME, CloudControllerManager
    from kframe.controller import LeaderElection
    from kframe.registry import PluginError

    try:
        cloud = open_cloud_provider(settings.cloud_provider, settings.cloud_config)
    except (PluginError, TypeError, OSError) as exc:
        raise ValueError(f"--cloud-provider: {exc}") from None
    except ValueError as exc:
        raise ValueError(f"--cloud-config: {exc}") from None

    def build(server: APIServer) -> Coroutine[Any, Any, None]:
        from kframe.client import InProcessClient

        manager = CloudControllerManager(
            InProcessClient(server),
            cloud,
            options=settings.controller_options,
            leader_election=LeaderElection(name=LEASE_NAME, recampaign=True),
        )
        names = ", ".join(manager.names) or "none"
        print(f"cloud controllers ({settings.cloud_provider}): {names}", flush=True)
        return manager.run()

    return build


class _NoClient:
    """Stands in for a client where a manager is built only to validate its settings."""

    def __getattr__(self, name: str) -> Any:
        raise RuntimeError("not connected")


def _kubelets(settings: Settings) -> Component:
    net = pod_network(settings)

    def build(server: APIServer) -> Coroutine[Any, Any, None]:
        from kframe.client import InProcessClient
        from kframe.kubelet import KubeletConfig, KubeletHost

        class Host(KubeletHost):
            def node_config(self, index: int, port: int) -> KubeletConfig:
                config = super().node_config(index, port)
                if net is None:
                    return config
                # Pods in namespaces of their own: the nodes' InternalIP is the host's address
                # (node ports answer there; the kubelet server stays on 127.0.0.1) and
                # ClusterFirst pods get the cluster DNS on the bridge (docs/dns.md).
                dns = (net.gateway,) if settings.dns_port else ()
                return attrs.evolve(
                    config,
                    node_ip=net.node_ip,
                    cluster_dns=dns,
                    cluster_domain=settings.cluster_domain,
                )

        host = Host(
            InProcessClient(server),
            nodes=settings.nodes,
            runtime=settings.runtime,
            data_dir=str(settings.data_dir) if settings.data_dir else "",
            address="127.0.0.1",
            port=0,
            # A hosted cloud controller manager initialises the nodes: they register as
            # upstream's kubelet does under --cloud-provider=external.
            cloud_provider="external" if settings.cloud_provider else "",
        )
        if not settings.cloud_provider:
            return host.run()
        return _with_machines(host, InProcessClient(server), settings)

    return build


#: How often ``kframe up --cloud-provider`` asks the cloud whether its nodes' machines exist.
MACHINE_CHECK_PERIOD = 2.0


async def _with_machines(host: Any, client: Any, settings: Settings) -> None:
    """Run the hosted kubelets as machines of the cloud: a node whose instance the cloud has
    deleted stops its kubelet, as a real machine takes its kubelet with it (the cloud node
    lifecycle controller deletes only Nodes that stopped reporting Ready). Only nodes the cloud
    initialised (a providerID) are watched, so instances may be added after ``kframe up``."""
    from kframe.api.models import Node
    from kframe.cloud import open_cloud_provider

    cloud = open_cloud_provider(settings.cloud_provider, settings.cloud_config)
    instances = cloud.instances_v2()
    task = asyncio.ensure_future(host.run())
    try:
        while instances is not None and not task.done():
            await asyncio.wait({task}, timeout=MACHINE_CHECK_PERIOD)
            for name in host.running():
                try:
                    node = await client.get(Node, name)
                    if node.spec is None or not node.spec.provider_id:
                        continue
                    if await instances.instance_exists(node):
                        continue
                except Exception as exc:  # a missing Node or a cloud error: ask again later
                    log.debug("machine check of %s: %s", name, exc)
                    continue
                print(f"kframe up: {name}: its instance is gone; its kubelet stops", flush=True)
                await host.stop_node(name)
        await task
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await task


def _proxies(settings: Settings) -> Component:
    """A proxy per hosted node (``node-0`` ...), in dry-run mode: the nodes share this host, so
    their rules are rendered, never applied. The ``userspace`` backend installs nothing on the
    host, so it runs live instead, one proxy for the whole host: its listeners on ``address``,
    every hosted node's endpoints counted as local, its listener table in
    ``data_dir/proxy-userspace.tsv`` (docs/proxy.md). Over a pod network (the process runtime
    as root) ``iptables`` runs live too, one proxy for the host, whose rules are removed when
    ``kframe up`` stops."""
    net = pod_network(settings)

    async def run(server: APIServer) -> None:
        from kframe.client import InProcessClient
        from kframe.proxy import ProxyBackend, ProxyHost, ProxyOptions, open_backend

        nodes = [f"node-{i}" for i in range(settings.nodes)]
        backends: dict[str, ProxyBackend] = {}
        live: ProxyBackend | None = None
        if settings.proxy_mode == "userspace":
            try:
                address = str(ipaddress.ip_address(settings.address))
            except ValueError:  # a host name: the backend takes addresses only
                address = "127.0.0.1"
            config: dict[str, Any] = {
                "bindAddress": address,
                # Over a pod network node ports answer on every address: the nodes' InternalIP,
                # which pods reach too.
                "nodeAddress": "0.0.0.0" if net is not None else address,
                "localNodes": nodes,
            }
            if settings.data_dir:
                config["output"] = str(settings.data_dir / "proxy-userspace.tsv")
            options = ProxyOptions(node_name=nodes[0], config=config)
            backends[nodes[0]] = await open_backend(settings.proxy_mode, options)
            print(f"proxies: 1 for the host (userspace, on {address})", flush=True)
        elif settings.proxy_mode == "iptables" and net is not None:
            config = {
                # Pods of every node share one bridge: a pod reaching a service whose endpoint
                # is on the same subnet gets the reply straight from that pod unless the
                # request is masqueraded (upstream relies on br_netfilter instead; kframe does
                # not touch bridge sysctls). --masquerade-all, as kube-proxy's flag.
                "masqueradeAll": True,
                "clusterCIDR": net.cluster_cidr,
                "nodeIP": net.node_ip,
                "localNodes": nodes,
            }
            if settings.data_dir:
                config["output"] = str(settings.data_dir / "proxy-iptables.rules")
            live = await open_backend("iptables", ProxyOptions(node_name=nodes[0], config=config))
            # DNATed pod traffic is forwarded by the host (the CNI bridge plugin's isGateway
            # turns this on the same way); left on at exit, as there.
            try:
                Path("/proc/sys/net/ipv4/ip_forward").write_text("1\n")
            except OSError as exc:  # a read-only /proc/sys: pods then reach no cluster IP
                print(
                    f"kframe up: warning: cannot turn on net.ipv4.ip_forward: {exc}",
                    file=sys.stderr,
                    flush=True,
                )
            backends[nodes[0]] = live
            print(f"proxies: 1 for the host (iptables, node IP {net.node_ip})", flush=True)
        else:
            for node in nodes:
                options = ProxyOptions(node_name=node, dry_run=True)
                backends[node] = await open_backend(settings.proxy_mode, options)
            print(f"proxies: {settings.nodes} ({settings.proxy_mode}, dry run)", flush=True)
        try:
            await ProxyHost(InProcessClient(server), backends).run()
        finally:
            if live is not None:
                # As ``kframe proxy --cleanup``: the jumps, then every KUBE-* chain.
                try:
                    await live.cleanup()
                except Exception as exc:
                    print(f"kframe up: warning: iptables cleanup: {exc}", file=sys.stderr)

    return run


def _scheduler(settings: Settings) -> Component:
    def build(server: APIServer) -> Coroutine[Any, Any, None]:
        from kframe.client import InProcessClient
        from kframe.registry import build_registry
        from kframe.scheduler import Scheduler, load_config, registry_factories

        config = load_config(settings.scheduler_config)
        scheduler = Scheduler(InProcessClient(server), config, registry_factories(build_registry()))
        return _run_scheduler(scheduler, settings)

    return build


def _cluster_dns(settings: Settings) -> Component:
    def build(server: APIServer) -> Coroutine[Any, Any, None]:
        from kframe.client import InProcessClient
        from kframe.dns import ClusterDNS, Forwarder, resolv_conf_upstreams

        cluster_dns = ClusterDNS(
            InProcessClient(server),
            cluster_domain=settings.cluster_domain,
            host=settings.address,
            port=settings.dns_port,
            forwarder=Forwarder(resolv_conf_upstreams()),
        )
        return _run_cluster_dns(cluster_dns, settings)

    return build


async def _run_cluster_dns(cluster_dns: ClusterDNS, settings: Settings) -> None:
    """The hosted cluster DNS; a port in use costs only the DNS, as the scheduler's metrics.
    Over a pod network it also answers on the bridge's gateway, port 53, for the pods."""
    from kframe.dns import DNSServer

    net = pod_network(settings)
    for_pods: DNSServer | None = None
    try:
        await cluster_dns.start()
    except OSError as exc:
        reason = os.strerror(exc.errno) if exc.errno else str(exc)
        print(
            f"kframe up: warning: cluster DNS not served on {settings.address}:"
            f"{settings.dns_port}: {reason} (see --dns-port)",
            file=sys.stderr,
            flush=True,
        )
        return
    print(
        f"cluster DNS: {settings.address}:{cluster_dns.port} (UDP and TCP), "
        f"{settings.cluster_domain}",
        flush=True,
    )
    if net is not None:
        # The same table; a resolv.conf names no port, so 53 whatever --dns-port says.
        for_pods = DNSServer(
            cluster_dns.table, host=net.gateway, port=53, forwarder=cluster_dns.server.forwarder
        )
        try:
            await ensure_pod_bridge(net)
            await for_pods.start()
        except OSError as exc:
            for_pods = None
            print(
                f"kframe up: warning: cluster DNS not served to pods on {net.gateway}:53: "
                f"{os.strerror(exc.errno) if exc.errno else exc}",
                file=sys.stderr,
                flush=True,
            )
        else:
            print(f"cluster DNS for pods: {net.gateway}:53 (bridge {net.bridge})", flush=True)
    try:
        await asyncio.Event().wait()
    finally:
        if for_pods is not None:
            await for_pods.stop()
        await cluster_dns.stop()


async def _run_scheduler(scheduler: Scheduler, settings: Settings) -> None:
    """The hosted scheduler, and its metrics endpoint unless ``scheduler_port`` is 0. A port in
    use (another cluster's scheduler) costs only the endpoint: the cluster still comes up."""
    from kframe.scheduler import MetricsServer

    endpoint: MetricsServer | None = None
    if settings.scheduler_port:
        endpoint = MetricsServer(scheduler.metrics, lambda: scheduler.synced)
        try:
            await endpoint.start(settings.address, settings.scheduler_port)
        except OSError as exc:
            endpoint = None
            reason = os.strerror(exc.errno) if exc.errno else str(exc)
            print(
                f"kframe up: warning: scheduler metrics not served on {settings.address}:"
                f"{settings.scheduler_port}: {reason} (see --scheduler-port)",
                file=sys.stderr,
                flush=True,
            )
        else:
            print(f"scheduler metrics: {endpoint.url}/metrics", flush=True)
    try:
        await scheduler.run()
    finally:
        if endpoint is not None:
            await endpoint.stop()
