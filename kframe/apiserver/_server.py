"""APIServer: the Kubernetes API over one Store, served by aiohttp."""

from __future__ import annotations

import datetime as _dt
import logging
import platform
from collections.abc import Iterable
from typing import Any

from aiohttp import web

from kframe._version import __version__
from kframe.apiserver import _errors as errors
from kframe.apiserver._admission import DEFAULT_ADMISSION_PLUGINS, AdmissionChain
from kframe.apiserver._compactor import Compactor
from kframe.apiserver._http import Handlers
from kframe.apiserver._json import json_response
from kframe.apiserver._kubernetes_service import (
    KUBERNETES_SERVICE_INTERVAL,
    KubernetesService,
    resolve_advertise_address,
)
from kframe.apiserver._openapi_routes import add_openapi_routes
from kframe.apiserver._resources import RESOURCES, Resource
from kframe.apiserver._service_alloc import (
    DEFAULT_NODE_PORT_RANGE,
    DEFAULT_SERVICE_CIDR,
    ServiceAllocator,
)
from kframe.apiserver._service_registry import ServiceStorage
from kframe.apiserver._storage import ObjectStorage
from kframe.registry import Registry
from kframe.store import Store

__all__ = ["KUBERNETES_VERSION", "APIServer"]

log = logging.getLogger("kframe.apiserver")

#: The Kubernetes API version kframe models and reports from /version.
KUBERNETES_VERSION = (1, 33)

# Created at start, as kube-apiserver's system namespaces controller does.
SYSTEM_NAMESPACES = ("default", "kube-system", "kube-public", "kube-node-lease")


class APIServer:
    """Serves the Kubernetes REST API for ``resources`` stored in ``store``.

    ``compaction_interval`` (seconds; 0 turns it off) is kube-apiserver's
    ``--etcd-compaction-interval``, 5 minutes by default. ``admission_plugins`` names the
    enabled admission plugins in order (``--enable-admission-plugins``), found in ``registry``.
    ``service_cluster_ip_range`` and ``service_node_port_range`` are kube-apiserver's
    ``--service-cluster-ip-range`` and ``--service-node-port-range`` (docs/services.md).
    Once serving, :meth:`start` keeps the ``kubernetes`` Service in ``default`` (the range's
    first IP, port 443 to the serving port) and its endpoints (``advertise_address``, as
    ``--advertise-address``; by default the bind address or the host's) every
    ``kubernetes_service_interval`` seconds (0: only at start).
    """

    def __init__(
        self,
        store: Store,
        *,
        resources: Iterable[Resource] = RESOURCES,
        compaction_interval: float = 300.0,
        admission_plugins: Iterable[str] = DEFAULT_ADMISSION_PLUGINS,
        registry: Registry | None = None,
        service_cluster_ip_range: str = DEFAULT_SERVICE_CIDR,
        service_node_port_range: str = DEFAULT_NODE_PORT_RANGE,
        advertise_address: str = "",
        kubernetes_service_interval: float = KUBERNETES_SERVICE_INTERVAL,
    ) -> None:
        self.store = store
        self._compactor = Compactor(store, compaction_interval)
        self.service_allocator = ServiceAllocator(service_cluster_ip_range, service_node_port_range)
        self.storages = {
            (r.group, r.version, r.plural): (
                ServiceStorage(store, r, self.service_allocator)
                if (r.group, r.plural) == ("", "services")
                else ObjectStorage(store, r)
            )
            for r in resources
        }
        self.admission = AdmissionChain.from_registry(admission_plugins, self, registry)
        for storage in self.storages.values():
            storage.admission = self.admission
        self.advertise_address = advertise_address
        services = self.storages.get(("", "v1", "services"))
        self.kubernetes_service = (
            None
            if services is None
            else KubernetesService(
                services,
                self.storages.get(("", "v1", "endpoints")),
                self.storages.get(("discovery.k8s.io", "v1", "endpointslices")),
                service_ip=self.service_allocator.ips.ip_at(0),
                interval=kubernetes_service_interval,
            )
        )
        self._runner: web.AppRunner | None = None
        self._address = ("127.0.0.1", 0)
        self._started = _dt.datetime.now(_dt.UTC)
        self.app = web.Application(client_max_size=3 * 1024 * 1024)  # upstream: 3 MiB bodies
        self.app.router.add_get("/version", self._version)
        for path in ("/healthz", "/livez", "/readyz"):
            self.app.router.add_get(path, self._health)
        add_openapi_routes(self.app)
        self._handlers = Handlers(self.storages, self.server_address)
        self._handlers.routes(self.app)

    def storage(self, group: str, version: str, plural: str) -> ObjectStorage:
        return self.storages[(group, version, plural)]

    @property
    def url(self) -> str:
        host, port = self._address
        return f"http://{host}:{port}"

    def server_address(self) -> str:
        host, port = self._address
        return f"{host}:{port}"

    async def bootstrap(self) -> None:
        """Create the system namespaces if they do not exist yet; take the stored Services'
        cluster IPs and node ports."""
        services = self.storages.get(("", "v1", "services"))
        if isinstance(services, ServiceStorage):
            await services.load_allocations()
        namespaces = self.storage("", "v1", "namespaces")
        for name in SYSTEM_NAMESPACES:
            try:
                await namespaces.create({"metadata": {"name": name}}, None)
            except errors.APIError as exc:
                if exc.reason != "AlreadyExists":
                    raise

    async def start(self, host: str = "127.0.0.1", port: int = 0) -> None:
        """Bootstrap, then listen; ``port`` 0 picks a free port (see :attr:`url`)."""
        await self.bootstrap()
        self._runner = web.AppRunner(
            self.app, access_log=None, handle_signals=False, shutdown_timeout=5.0
        )
        await self._runner.setup()
        site = web.TCPSite(self._runner, host, port, reuse_address=True)
        await site.start()
        self._compactor.start()
        server = site._server
        sockets = getattr(server, "sockets", None) or []
        bound = sockets[0].getsockname() if sockets else (host, port)
        self._address = (host, int(bound[1]))
        log.info("API server listening on %s", self.url)
        # upstream's bootstrap controller: the Service and endpoints naming this server
        if self.kubernetes_service is not None:
            advertise = resolve_advertise_address(host, self.advertise_address)
            await self.kubernetes_service.start(advertise, self._address[1])

    async def stop(self) -> None:
        """Stop accepting, end watches, let other requests in flight finish, then close."""
        self._handlers.stopping.set()
        await self._handlers.node_proxy.close()  # followed logs and exec sessions end
        if self.kubernetes_service is not None:
            await self.kubernetes_service.stop()
        await self._compactor.stop()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def _version(self, request: web.Request) -> web.Response:
        major, minor = KUBERNETES_VERSION
        info: dict[str, Any] = {
            "major": str(major),
            "minor": str(minor),
            "gitVersion": f"v{major}.{minor}.0+kframe-{__version__}",
            "gitCommit": "",
            "gitTreeState": "clean",
            "buildDate": self._started.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "goVersion": f"python{platform.python_version()}",
            "compiler": platform.python_implementation().lower(),
            "platform": f"{platform.system().lower()}/{platform.machine()}",
        }
        return json_response(info)

    async def _health(self, request: web.Request) -> web.Response:
        try:
            await self.store.revision()
        except Exception as exc:  # the store is the one dependency that can fail here
            return web.Response(status=500, text=f"[-]etcd failed: {exc}\nhealthz check failed")
        return web.Response(text="ok")
