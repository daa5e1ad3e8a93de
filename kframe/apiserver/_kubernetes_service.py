"""The ``kubernetes`` Service in ``default``, and its endpoints: the API server's own address.

kube-apiserver's bootstrap controller (``pkg/controlplane/controller/kubernetesservice``)
creates the Service with the service CIDR's first IP, and its endpoint reconciler
(``pkg/controlplane/reconcilers``, through ``EndpointsAdapter``) writes both the v1 Endpoints
and the EndpointSlice named ``kubernetes``. Both are re-ensured every 10 s, so a deleted one
comes back. kframe runs one API server per store, so the address set is this server's alone
(what the ``lease`` reconciler gives with one lease).
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import logging
import socket
from typing import Any

from kframe.api import selector_from_set
from kframe.apiserver import _errors as errors
from kframe.apiserver._storage import ListOptions, ObjectStorage

__all__ = [
    "KUBERNETES_SERVICE_INTERVAL",
    "KUBERNETES_SERVICE_NAME",
    "KubernetesService",
    "resolve_advertise_address",
]

log = logging.getLogger("kframe.apiserver")

KUBERNETES_SERVICE_NAME = "kubernetes"
KUBERNETES_SERVICE_NAMESPACE = "default"
#: Upstream's ``EndpointInterval`` (``--endpoint-reconciler`` period): 10 s.
KUBERNETES_SERVICE_INTERVAL = 10.0
_SERVICE_LABELS = {"provider": "kubernetes", "component": "apiserver"}
# The Endpoints are not mirrored into a second slice: the reconciler writes the slice itself.
_ENDPOINTS_LABELS = {"endpointslice.kubernetes.io/skip-mirror": "true"}
_SLICE_LABELS = {"kubernetes.io/service-name": KUBERNETES_SERVICE_NAME}
_RETRIES = 5  # upstream's retry.DefaultBackoff steps, on a Conflict or AlreadyExists


def _special(ip: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    return ip.is_unspecified or ip.is_loopback or ip.is_link_local or ip.is_multicast


def _host_interface_ip(family: int) -> str | None:
    """The source address of the default route (what upstream's ``ChooseHostInterface``
    finds); a connected UDP socket sends nothing."""
    probe = "192.0.2.1" if family == socket.AF_INET else "2001:db8::1"
    try:
        with socket.socket(family, socket.SOCK_DGRAM) as sock:
            sock.connect((probe, 9))
            address = str(sock.getsockname()[0])
    except OSError:
        return None
    return None if _special(ipaddress.ip_address(address)) else address


def resolve_advertise_address(bind_host: str, advertise_address: str = "") -> str | None:
    """The address the ``kubernetes`` endpoints name: ``advertise_address`` when given, else
    the bind address unless it is unspecified or loopback (or a name for one), else the host's
    default-route address (upstream's ``ResolveBindAddress``). None when there is none: the
    Endpoints validation refuses loopback and unspecified addresses."""
    if advertise_address:
        return advertise_address
    family = socket.AF_INET
    try:
        ip = ipaddress.ip_address(bind_host)
    except ValueError:
        try:
            infos = socket.getaddrinfo(bind_host, None, type=socket.SOCK_STREAM)
            ip = ipaddress.ip_address(infos[0][4][0])
        except (OSError, IndexError, ValueError):
            ip = None
    if ip is not None:
        if not _special(ip):
            return str(ip)
        family = socket.AF_INET6 if ip.version == 6 else socket.AF_INET
    return _host_interface_ip(family) or (
        _host_interface_ip(socket.AF_INET6) if family == socket.AF_INET else None
    )


class KubernetesService:
    """Ensures the ``kubernetes`` Service, Endpoints and EndpointSlice; :meth:`start` does it
    once and then every ``interval`` seconds (0: once)."""

    def __init__(
        self,
        services: ObjectStorage,
        endpoints: ObjectStorage | None,
        slices: ObjectStorage | None,
        *,
        service_ip: str,
        interval: float = KUBERNETES_SERVICE_INTERVAL,
    ) -> None:
        self.services = services
        self.endpoints = endpoints
        self.slices = slices
        self.service_ip = service_ip
        self.interval = interval
        self.address: str | None = None
        self.port = 0
        self._task: asyncio.Task[None] | None = None

    # -- the desired objects ------------------------------------------------------------------

    def _service_ports(self) -> list[dict[str, Any]]:
        return [{"name": "https", "protocol": "TCP", "port": 443, "targetPort": self.port}]

    def _endpoint_ports(self) -> list[dict[str, Any]]:
        return [{"name": "https", "port": self.port, "protocol": "TCP"}]

    def _addresses(self) -> list[str]:
        """This server's address, when of the service IP's family (upstream drops the others:
        kframe is single-stack)."""
        if self.address is None:
            return []
        ours = ipaddress.ip_address(self.address).version
        return [self.address] if ours == ipaddress.ip_address(self.service_ip).version else []

    # -- running ------------------------------------------------------------------------------

    async def start(self, address: str | None, port: int) -> None:
        """Ensure everything for ``address``:``port`` now (correcting the Service's ports, as
        upstream does on its first run), then keep ensuring it in the background."""
        self.address, self.port = address, port
        if address is None:
            log.warning("no advertise address: the kubernetes Service gets no endpoints")
        await self._ensure_logged(reconcile=True)
        if self.interval > 0:
            self._task = asyncio.ensure_future(self._loop())

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def _loop(self) -> None:
        while True:
            await asyncio.sleep(self.interval)
            # upstream: only the first run corrects the Service's ports and type
            await self._ensure_logged(reconcile=False)

    async def _ensure_logged(self, *, reconcile: bool) -> None:
        try:
            await self.ensure(reconcile=reconcile)
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # a store hiccup or a taken IP: tried again next period
            log.error("unable to sync kubernetes service: %s", exc)

    async def ensure(self, *, reconcile: bool = False) -> None:
        """One pass: the Service, then (with an address known) its Endpoints and slice."""
        await self._retry(lambda: self._ensure_service(reconcile))
        if self.endpoints is not None:
            await self._retry(lambda: self._ensure_endpoints(reconcile))
        if self.slices is not None:
            await self._retry(lambda: self._ensure_slices(reconcile))

    @staticmethod
    async def _retry(step: Any) -> None:
        for attempt in range(_RETRIES):
            try:
                await step()
                return
            except errors.APIError as exc:
                if exc.reason not in ("Conflict", "AlreadyExists") or attempt == _RETRIES - 1:
                    raise

    async def _get(self, storage: ObjectStorage) -> dict[str, Any] | None:
        try:
            return await storage.get(KUBERNETES_SERVICE_NAMESPACE, KUBERNETES_SERVICE_NAME)
        except errors.APIError as exc:
            if exc.reason == "NotFound":
                return None
            raise

    async def _ensure_service(self, reconcile: bool) -> None:
        current = await self._get(self.services)
        if current is not None:
            spec = dict(current.get("spec") or {})
            if not reconcile or self._service_format_correct(spec):
                return
            # Only type and ports are corrected (getMasterServiceUpdateIfNeeded).
            spec["ports"], spec["type"] = self._service_ports(), "ClusterIP"
            current = {**current, "spec": spec}
            log.warning("resetting the kubernetes service's ports to %s", spec["ports"])
            await self.services.update(
                current, KUBERNETES_SERVICE_NAMESPACE, KUBERNETES_SERVICE_NAME
            )
            return
        service = {
            "apiVersion": "v1",
            "kind": "Service",
            "metadata": {
                "name": KUBERNETES_SERVICE_NAME,
                "namespace": KUBERNETES_SERVICE_NAMESPACE,
                "labels": dict(_SERVICE_LABELS),
            },
            "spec": {
                "type": "ClusterIP",
                "clusterIP": self.service_ip,
                "ipFamilyPolicy": "SingleStack",
                "sessionAffinity": "None",
                "ports": self._service_ports(),
                # no selector: the endpoints are this code's, not the endpoints controllers'
            },
        }
        await self.services.create(service, KUBERNETES_SERVICE_NAMESPACE)

    def _service_format_correct(self, spec: dict[str, Any]) -> bool:
        if spec.get("type") != "ClusterIP":
            return False
        have = spec.get("ports") or []
        want = self._service_ports()
        return len(have) == len(want) and all(
            {k: v for k, v in h.items() if v is not None} == w
            for h, w in zip(have, want, strict=True)
        )

    async def _ensure_endpoints(self, reconcile: bool) -> None:
        assert self.endpoints is not None
        current = await self._get(self.endpoints)
        addresses = self._addresses()
        subsets: list[dict[str, Any]] = []
        if addresses:
            old = (current or {}).get("subsets") or []
            ports = old[0].get("ports") if len(old) == 1 and not reconcile else None
            subsets = [
                {
                    "addresses": [{"ip": ip} for ip in addresses],
                    "ports": ports or self._endpoint_ports(),
                }
            ]
        if current is None:
            body = {
                "apiVersion": "v1",
                "kind": "Endpoints",
                "metadata": {
                    "name": KUBERNETES_SERVICE_NAME,
                    "namespace": KUBERNETES_SERVICE_NAMESPACE,
                    "labels": dict(_ENDPOINTS_LABELS),
                },
                "subsets": subsets,
            }
            await self.endpoints.create(body, KUBERNETES_SERVICE_NAMESPACE)
            return
        meta = current.get("metadata") or {}
        if (current.get("subsets") or []) == subsets and (meta.get("labels") or {}) == (
            _ENDPOINTS_LABELS
        ):
            return
        updated = {
            **current,
            "metadata": {**meta, "labels": dict(_ENDPOINTS_LABELS)},
            "subsets": subsets,
        }
        await self.endpoints.update(updated, KUBERNETES_SERVICE_NAMESPACE, KUBERNETES_SERVICE_NAME)

    async def _ensure_slices(self, reconcile: bool) -> None:
        assert self.slices is not None
        family = "IPv4" if ipaddress.ip_address(self.service_ip).version == 4 else "IPv6"
        listed = await self.slices.list(
            KUBERNETES_SERVICE_NAMESPACE,
            ListOptions(label_selector=selector_from_set(_SLICE_LABELS)),
        )
        current: dict[str, Any] | None = None
        for item in listed.get("items") or []:
            name = (item.get("metadata") or {}).get("name")
            if name == KUBERNETES_SERVICE_NAME and item.get("addressType") == family:
                current = item
                continue
            # Upstream deletes every other slice labelled for the service (a stale one of the
            # other family, say).
            with contextlib.suppress(errors.APIError):
                await self.slices.delete(KUBERNETES_SERVICE_NAMESPACE, str(name))
        endpoints = [{"addresses": [ip], "conditions": {"ready": True}} for ip in self._addresses()]
        old_ports = (current or {}).get("ports") or []
        ports = old_ports if old_ports and not reconcile else self._endpoint_ports()
        if current is None:
            body = {
                "apiVersion": "discovery.k8s.io/v1",
                "kind": "EndpointSlice",
                "metadata": {
                    "name": KUBERNETES_SERVICE_NAME,
                    "namespace": KUBERNETES_SERVICE_NAMESPACE,
                    "labels": dict(_SLICE_LABELS),
                },
                "addressType": family,
                "endpoints": endpoints,
                "ports": ports,
            }
            await self.slices.create(body, KUBERNETES_SERVICE_NAMESPACE)
            return
        meta = current.get("metadata") or {}
        if (
            _strip_none(current.get("endpoints") or []) == endpoints
            and (current.get("ports") or []) == ports
            and (meta.get("labels") or {}) == _SLICE_LABELS
        ):
            return
        updated = {
            **current,
            "metadata": {**meta, "labels": dict(_SLICE_LABELS)},
            "endpoints": endpoints,
            "ports": ports,
        }
        await self.slices.update(updated, KUBERNETES_SERVICE_NAMESPACE, KUBERNETES_SERVICE_NAME)


def _strip_none(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _strip_none(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [_strip_none(v) for v in value]
    return value
