"""The Service REST storage: cluster IPs and node ports allocated on create and update and
released on delete, as upstream's ``pkg/registry/core/service/storage`` does (``beginCreate``,
``beginUpdate``, ``afterDelete`` and ``alloc.go``), plus the type-dependent fields the service
strategy wipes on update (``dropTypeDependentFields``).

The API server builds a :class:`ServiceStorage` for ``services``. Each write runs in a context
that holds its :class:`~kframe.apiserver._service_alloc.Transaction`: the strategy's
``prepare_for_create``/``prepare_for_update`` (called where upstream calls the begin hooks:
after mutating admission, before validation) allocate through it, and the storage commits it
when the store write succeeded or reverts it when anything failed. The cluster is single-stack:
its one family is the ``--service-cluster-ip-range``'s.
"""

from __future__ import annotations

import contextlib
import ipaddress
from collections.abc import Iterator
from contextvars import ContextVar
from typing import Any

import attrs

from kframe.apiserver import _errors as errors
from kframe.apiserver._errors import Cause
from kframe.apiserver._meta import metadata
from kframe.apiserver._resources import Resource
from kframe.apiserver._service_alloc import (
    AllocationError,
    ServiceAllocator,
    Transaction,
    needs_health_check,
    owner_of,
)
from kframe.apiserver._storage import ObjectStorage
from kframe.apiserver._strategy import ServiceStrategy
from kframe.apiserver._validate_field import Go, go_strings, invalid
from kframe.apiserver._validate_services import _cluster_ip_fields, _cluster_ips
from kframe.store import Store

__all__ = ["AllocatingServiceStrategy", "ServiceStorage"]

Spec = dict[str, Any]


@attrs.define
class _Write:
    dry_run: bool
    txn: Transaction | None = None

    def finish(self, success: bool) -> None:
        if self.txn is not None:
            if success and not self.dry_run:
                self.txn.commit()
            else:
                self.txn.revert()


# The service write in progress in this task (set by ServiceStorage, read by the strategy).
_WRITE: ContextVar[_Write | None] = ContextVar("kframe_service_write", default=None)


class ServiceStorage(ObjectStorage):
    """ObjectStorage for ``services``, whose writes allocate from ``allocator``."""

    def __init__(self, store: Store, resource: Resource, allocator: ServiceAllocator) -> None:
        super().__init__(store, resource)
        self.allocator = allocator
        self.strategy = AllocatingServiceStrategy(self.strategy.has_status, allocator)

    async def load_allocations(self) -> None:
        """Rebuild the allocations from the stored Services (once; the API server's start)."""
        await self.allocator.load(self.store, self._root)

    @contextlib.contextmanager
    def _writing(self, dry_run: bool) -> Iterator[_Write]:
        pending = _Write(dry_run)
        token = _WRITE.set(pending)
        try:
            yield pending
        except BaseException:
            pending.finish(False)
            raise
        finally:
            _WRITE.reset(token)
        pending.finish(True)

    async def create_typed(
        self, obj: dict[str, Any], namespace: str | None, **options: Any
    ) -> tuple[dict[str, Any], Any]:
        await self.load_allocations()
        with self._writing(bool(options.get("dry_run"))):
            return await super().create_typed(obj, namespace, **options)

    async def update(
        self, obj: dict[str, Any], namespace: str | None, name: str, **options: Any
    ) -> dict[str, Any]:
        await self.load_allocations()
        with self._writing(bool(options.get("dry_run"))):
            return await super().update(obj, namespace, name, **options)

    async def _remove(self, key: str, revision: int, name: str) -> dict[str, Any]:
        deleted = await super()._remove(key, revision, name)
        pending = _WRITE.get()
        if pending is not None and pending.txn is not None:
            pending.txn.revert()  # an update that completed a deletion stored nothing new
        await self.load_allocations()
        self.allocator.release_stored(deleted)  # upstream's afterDelete
        return deleted


class AllocatingServiceStrategy(ServiceStrategy):
    """The service strategy, allocating in the write :class:`ServiceStorage` runs."""

    def __init__(self, has_status: bool, allocator: ServiceAllocator) -> None:
        super().__init__(has_status)
        self.allocator = allocator

    def _begin(self, obj: dict[str, Any]) -> Transaction | None:
        pending = _WRITE.get()
        if pending is None:
            return None
        if pending.txn is None:
            pending.txn = self.allocator.begin(owner_of(obj), dry_run=pending.dry_run)
        return pending.txn

    def prepare_for_create(self, obj: dict[str, Any]) -> None:
        super().prepare_for_create(obj)
        txn = self._begin(obj)
        if txn is None:
            return
        rules = _Rules(self.allocator, txn, metadata(obj).get("name") or "")
        spec = obj.setdefault("spec", {})
        _normalize_cluster_ips(spec, None)
        rules.init_ip_families(spec, None)
        rules.allocate_cluster_ips(spec)
        rules.allocate_node_ports(spec)

    def prepare_for_update(self, new: dict[str, Any], old: dict[str, Any]) -> None:
        txn = self._begin(new)
        spec, old_spec = new.setdefault("spec", {}), old.get("spec") or {}
        if txn is not None:
            rules = _Rules(self.allocator, txn, metadata(new).get("name") or "")
            _patch_allocated_values(spec, old_spec)
            _normalize_cluster_ips(spec, old_spec)
            rules.init_ip_families(spec, old_spec)
            rules.update_cluster_ips(spec, old_spec)
            rules.update_node_ports(spec, old_spec)
        super().prepare_for_update(new, old)
        _drop_type_dependent_fields(new, old)


# -- the rules, on the JSON-shaped spec -------------------------------------------------------


def _type(spec: Spec) -> str:
    return spec.get("type") or "ClusterIP"


def _needs_cluster_ip(spec: Spec) -> bool:
    return _type(spec) != "ExternalName"


def _needs_node_ports(spec: Spec) -> bool:
    return _type(spec) in ("NodePort", "LoadBalancer")


def _node_ports(spec: Spec) -> list[int]:
    return [p["nodePort"] for p in spec.get("ports") or () if p.get("nodePort")]


def _headless(spec: Spec) -> bool:
    ips = spec.get("clusterIPs") or []
    return bool(ips) and ips[0] == "None"


def _family_of(ip: str) -> str:
    try:
        return "IPv4" if ipaddress.ip_address(ip).version == 4 else "IPv6"
    except ValueError:
        return "unknown"


def _other(family: str) -> str:
    return "IPv6" if family == "IPv4" else "IPv4"


def _normalize_cluster_ips(spec: Spec, old: Spec | None) -> None:
    """``normalizeClusterIPs``: keep ``clusterIPs`` in step with the singular ``clusterIP``."""
    ip, ips = spec.get("clusterIP") or "", list(spec.get("clusterIPs") or [])
    if old is None:
        if ip and not ips:
            spec["clusterIPs"] = [ip]
        return
    old_ip, old_ips = old.get("clusterIP") or "", list(old.get("clusterIPs") or [])
    if old_ips and not ips and old_ip == ip:
        spec["clusterIPs"] = ips = old_ips  # an old client patched another field
    if old_ip != ip:
        if old_ip and not ip:
            if ips == old_ips:
                spec.pop("clusterIPs", None)
        elif ips == old_ips:
            spec["clusterIPs"] = [ip]


def _patch_allocated_values(spec: Spec, old: Spec) -> None:
    """``patchAllocatedValues``: an update that leaves out what was allocated keeps it."""
    if _needs_cluster_ip(old) and _needs_cluster_ip(spec):
        if not spec.get("clusterIP") and old.get("clusterIP"):
            spec["clusterIP"] = old["clusterIP"]
        if not spec.get("clusterIPs") and old.get("clusterIPs"):
            spec["clusterIPs"] = list(old["clusterIPs"])
    if _needs_node_ports(old) and _needs_node_ports(spec):
        used = set(_node_ports(old)) & set(_node_ports(spec))
        by_name = {p.get("name") or "": p.get("nodePort") or 0 for p in old.get("ports") or ()}
        for port in spec.get("ports") or ():
            if not port.get("nodePort"):
                value = by_name.get(port.get("name") or "", 0)
                if value and value not in used:
                    port["nodePort"] = value
    both = needs_health_check(old) and needs_health_check(spec)
    if both and not spec.get("healthCheckNodePort") and old.get("healthCheckNodePort"):
        spec["healthCheckNodePort"] = old["healthCheckNodePort"]


@attrs.frozen
class _Rules:
    allocator: ServiceAllocator
    txn: Transaction
    name: str

    def _invalid(self, causes: list[Cause]) -> errors.APIError:
        return errors.invalid("Service", "", self.name, causes)

    def init_ip_families(self, spec: Spec, old: Spec | None) -> None:
        """``initIPFamilyFields`` for a single-stack cluster: default the policy and the
        families, refusing families and dual-stack policies the cluster has not got."""
        if _type(spec) == "ExternalName":
            return
        primary = self.allocator.family
        selectorless_headless = spec.get("clusterIP") == "None" and not spec.get("selector")
        if spec.get("ipFamilyPolicy") is None:
            if old is not None and old.get("ipFamilyPolicy") is not None:
                spec["ipFamilyPolicy"] = old["ipFamilyPolicy"]
            elif selectorless_headless:
                spec["ipFamilyPolicy"] = "RequireDualStack"
            else:
                spec["ipFamilyPolicy"] = "SingleStack"
        policy = spec["ipFamilyPolicy"]
        causes = _cluster_ip_fields(spec, _cluster_ips(spec))  # upstream's loose pre-validation
        if causes:
            raise self._invalid(causes)
        ips, families = list(spec.get("clusterIPs") or []), list(spec.get("ipFamilies") or [])
        old_ips = list((old or {}).get("clusterIPs") or [])
        old_families = list((old or {}).get("ipFamilies") or [])
        if old is not None and policy == "SingleStack":
            if ips == old_ips and len(ips) > 1:
                spec["clusterIPs"] = ips = ips[:1]
            if families == old_families and len(families) > 1:
                families = families[:1]
        elif old is not None:
            if ips and len(ips) < len(old_ips):
                detail = "must be 'SingleStack' to release the secondary cluster IP"
                causes.append(invalid("spec.ipFamilyPolicy", policy, detail))
            if families and len(families) < len(old_families):
                detail = "must be 'SingleStack' to release the secondary IP family"
                causes.append(invalid("spec.ipFamilyPolicy", policy, detail))
        if policy == "SingleStack":
            if len(ips) == 2:
                detail = "must be 'RequireDualStack' or 'PreferDualStack' when multiple cluster IPs are specified"  # noqa: E501
                causes.append(invalid("spec.ipFamilyPolicy", policy, detail))
            if len(families) == 2:
                detail = "must be 'RequireDualStack' or 'PreferDualStack' when multiple IP families are specified"  # noqa: E501
                causes.append(invalid("spec.ipFamilyPolicy", policy, detail))
        for i, ip in enumerate(ips):
            if ip == "None":
                break
            family = _family_of(ip)
            if i >= len(families):
                if family != primary:
                    detail = f"{family} is not configured on this cluster"
                    causes.append(invalid(f"spec.clusterIPs[{i}]", Go(go_strings(ips)), detail))
                else:
                    families.append(family)
        if causes:
            raise self._invalid(causes)
        if selectorless_headless:
            families = families or [primary]
            if len(families) < 2 and policy != "SingleStack":
                families.append(_other(families[0]))
            spec["ipFamilies"] = families
            return
        if policy == "RequireDualStack":
            detail = "this cluster is not configured for dual-stack services"
            causes.append(invalid("spec.ipFamilyPolicy", policy, detail))
        for i, family in enumerate(families):
            if family != primary:
                causes.append(
                    invalid(f"spec.ipFamilies[{i}]", family, "not configured on this cluster")
                )
        if causes:
            raise self._invalid(causes)
        spec["ipFamilies"] = families or [primary]

    def allocate_cluster_ips(self, spec: Spec) -> None:
        """``allocClusterIPs``: the primary family's IP, asked for or picked."""
        if _type(spec) == "ExternalName" or _headless(spec):
            return
        ips = list(spec.get("clusterIPs") or [])
        families = spec.get("ipFamilies") or [self.allocator.family]
        ips += [""] * (len(families) - len(ips))
        for i, family in enumerate(families):
            if family != self.allocator.family:
                continue  # refused by init_ip_families unless headless
            wanted = ips[i]
            try:
                ips[i] = self.txn.allocate_ip(wanted)
            except AllocationError as exc:
                if not wanted:
                    raise errors.internal_error(
                        f"failed to allocate a serviceIP: {exc.message}"
                    ) from None
                detail = f"failed to allocate IP {wanted}: {exc.message}"
                raise self._invalid(
                    [invalid("spec.clusterIPs", Go(go_strings(ips)), detail)]
                ) from None
        spec["clusterIPs"] = ips
        spec["clusterIP"] = ips[0]

    def _port(self, wanted: int, path: str) -> int:
        try:
            return self.txn.allocate_port(wanted)
        except AllocationError as exc:
            if not wanted:
                raise errors.internal_error(
                    f"failed to allocate a nodePort: {exc.message}"
                ) from None
            raise self._invalid([invalid(path, wanted, exc.message)]) from None

    def _health_check_port(self, spec: Spec) -> None:
        wanted = spec.get("healthCheckNodePort") or 0
        try:
            spec["healthCheckNodePort"] = self.txn.allocate_port(wanted)
        except AllocationError as exc:
            what = "requested HealthCheck NodePort" if wanted else "a HealthCheck NodePort"
            raise errors.internal_error(
                f"failed to allocate {what} {wanted}: {exc.message}"
            ) from None

    def allocate_node_ports(self, spec: Spec) -> None:
        """``initNodePorts`` and the health check port of a new Service. Ports that share a
        port number (TCP and UDP 53) share a node port, as upstream gives them."""
        if _needs_node_ports(spec):
            should = _should_allocate(spec)
            ports = spec.get("ports") or []
            by_number: dict[Any, int] = {}
            for i, port in enumerate(ports):
                given = port.get("nodePort") or 0
                if not given and not should:
                    continue  # respect what was asked for, allocate nothing else
                number = port.get("port")
                had = by_number.get(number, 0)
                path = f"spec.ports[{i}].nodePort"
                if not had:
                    asked = next(
                        (
                            q["nodePort"]
                            for q in ports
                            if q.get("port") == number and q.get("nodePort")
                        ),
                        0,
                    )
                    port["nodePort"] = by_number[number] = self._port(asked, path)
                elif given != had:
                    if not given:
                        port["nodePort"] = had
                    else:
                        self._port(given, path)
        if needs_health_check(spec):
            self._health_check_port(spec)

    def update_cluster_ips(self, spec: Spec, old: Spec) -> None:
        """``updateClusterIPs``, single-stack: allocate when leaving ExternalName, release when
        becoming one. Also allocates for a stored Service that never got an IP (written before
        kframe allocated), which upstream cannot meet."""
        if _type(old) == "ExternalName" and _type(spec) != "ExternalName":
            self.allocate_cluster_ips(spec)
        elif _headless(old):
            return
        elif _type(spec) == "ExternalName":
            self.txn.release_ips_later(old.get("clusterIPs") or [])
        elif not old.get("clusterIPs") and not old.get("clusterIP"):
            self.allocate_cluster_ips(spec)

    def update_node_ports(self, spec: Spec, old: Spec) -> None:
        """``txnUpdateNodePorts``: new node ports taken, dropped ones released on success."""
        if _needs_node_ports(old) and _type(spec) in ("ExternalName", "ClusterIP"):
            self.txn.release_ports_later(_node_ports(old))
        if _needs_node_ports(spec):
            had = set(_node_ports(old))
            taken: set[int] = set()
            should = _should_allocate(spec)
            for i, port in enumerate(spec.get("ports") or []):
                given = port.get("nodePort") or 0
                if not given and not should:
                    continue
                if not given:
                    port["nodePort"] = self._port(0, f"spec.ports[{i}].nodePort")
                elif given not in had and given not in taken:
                    self._port(given, f"spec.ports[{i}].nodePort")
                    taken.add(given)
            kept = set(_node_ports(spec))
            self.txn.release_ports_later(p for p in _node_ports(old) if p not in kept)
        needed, needs = needs_health_check(old), needs_health_check(spec)
        if needs and not needed:
            self._health_check_port(spec)
        elif needed and not needs:
            self.txn.release_ports_later([old.get("healthCheckNodePort") or 0])


def _should_allocate(spec: Spec) -> bool:
    """``shouldAllocateNodePorts``: NodePort always; LoadBalancer unless
    ``allocateLoadBalancerNodePorts`` is false."""
    if _type(spec) == "NodePort":
        return True
    return _type(spec) == "LoadBalancer" and spec.get("allocateLoadBalancerNodePorts") is not False


def _externally_accessible(spec: Spec) -> bool:
    kind = _type(spec)
    return kind in ("LoadBalancer", "NodePort") or (
        kind == "ClusterIP" and bool(spec.get("externalIPs"))
    )


def _drop_type_dependent_fields(new: dict[str, Any], old: dict[str, Any]) -> None:
    """``dropTypeDependentFields``: on a type change, wipe what the new type does not use and
    the user did not change (the allocations were released above)."""
    spec, was = new.setdefault("spec", {}), old.get("spec") or {}
    if _needs_cluster_ip(was) and not _needs_cluster_ip(spec):
        same_ips = (spec.get("clusterIP") or "") == (was.get("clusterIP") or "") and list(
            spec.get("clusterIPs") or []
        ) == list(was.get("clusterIPs") or [])
        if same_ips:
            spec.pop("clusterIP", None)
            spec.pop("clusterIPs", None)
        if spec.get("ipFamilies") == was.get("ipFamilies"):
            spec.pop("ipFamilies", None)
        if spec.get("ipFamilyPolicy") == was.get("ipFamilyPolicy"):
            spec.pop("ipFamilyPolicy", None)
    if (
        _needs_node_ports(was)
        and not _needs_node_ports(spec)
        and set(_node_ports(spec)) <= set(_node_ports(was))
    ):
        for port in spec.get("ports") or ():
            port.pop("nodePort", None)
    if (
        needs_health_check(was)
        and not needs_health_check(spec)
        and spec.get("healthCheckNodePort") == was.get("healthCheckNodePort")
    ):
        spec.pop("healthCheckNodePort", None)
    if _type(was) == "LoadBalancer" and _type(spec) != "LoadBalancer":
        allocate = spec.get("allocateLoadBalancerNodePorts")
        if allocate is not None and allocate == was.get("allocateLoadBalancerNodePorts"):
            spec.pop("allocateLoadBalancerNodePorts", None)
        if spec.get("loadBalancerClass") == was.get("loadBalancerClass"):
            spec.pop("loadBalancerClass", None)
    if (
        _externally_accessible(was)
        and not _externally_accessible(spec)
        and spec.get("externalTrafficPolicy") == was.get("externalTrafficPolicy")
    ):
        spec.pop("externalTrafficPolicy", None)
    status = new.get("status")
    if _type(spec) != "LoadBalancer" and isinstance(status, dict) and status.get("loadBalancer"):
        status["loadBalancer"] = {}
