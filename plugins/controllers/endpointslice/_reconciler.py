"""What to create, update and delete so a service's EndpointSlices hold its desired endpoints
(upstream staging/src/k8s.io/endpointslice reconciler.go: reconcile, reconcileByAddressType,
reconcileByPortMapping, finalize).

Pure: :func:`plan` takes the service, its pods, its existing slices and the nodes and returns a
:class:`Plan`; the controller writes it (creates, then updates, then deletes, so traffic keeps a
home while slices move).
"""

from __future__ import annotations

import datetime as _dt
from collections.abc import Mapping, Sequence

import attrs

from kframe.api.models import Endpoint, EndpointSlice, Node, ObjectMeta, Pod, Service
from kframe.api.models import discovery_v1 as discovery
from kframe.controller import (
    LAST_CHANGE_TRIGGER_TIME,
    format_rfc3339_nano,
    is_headless,
    new_controller_ref,
)

from ._desired import (
    EndpointKey,
    PortKey,
    address_types,
    desired_endpoints,
    endpoint_key,
    port_key,
)

__all__ = [
    "CONTROLLER_NAME",
    "LABEL_HEADLESS",
    "LABEL_MANAGED_BY",
    "LABEL_SERVICE_NAME",
    "MAX_ENDPOINTS_PER_SLICE",
    "Plan",
    "plan",
    "slice_labels",
]

#: discovery.LabelServiceName, discovery.LabelManagedBy and the controller's value of it.
LABEL_SERVICE_NAME = "kubernetes.io/service-name"
LABEL_MANAGED_BY = "endpointslice.kubernetes.io/managed-by"
CONTROLLER_NAME = "endpointslice-controller.k8s.io"
#: v1.IsHeadlessService.
LABEL_HEADLESS = "service.kubernetes.io/headless"
#: --max-endpoints-per-slice default.
MAX_ENDPOINTS_PER_SLICE = 100


@attrs.frozen
class Plan:
    create: tuple[EndpointSlice, ...] = ()
    update: tuple[EndpointSlice, ...] = ()
    delete: tuple[EndpointSlice, ...] = ()
    #: pods left out because their node is not known (the sync is retried)
    missing_nodes: tuple[str, ...] = ()

    @property
    def empty(self) -> bool:
        return not (self.create or self.update or self.delete)


def slice_labels(service: Service) -> dict[str, str]:
    """The labels of the service's slices (setEndpointSliceLabels): the service's own labels
    but the reserved ones, the service name, the manager, and the headless mark."""
    meta = service.metadata
    assert meta is not None
    labels = {
        k: v
        for k, v in (meta.labels or {}).items()
        if k not in (LABEL_SERVICE_NAME, LABEL_MANAGED_BY)
    }
    if is_headless(service):
        labels[LABEL_HEADLESS] = ""
    else:
        labels.pop(LABEL_HEADLESS, None)
    labels[LABEL_SERVICE_NAME] = meta.name or ""
    labels[LABEL_MANAGED_BY] = CONTROLLER_NAME
    return labels


def _owned_by(slice_: EndpointSlice, service: Service) -> bool:
    uid = service.metadata.uid if service.metadata is not None else None
    refs = slice_.metadata.owner_references if slice_.metadata is not None else ()
    return any(r.uid == uid and r.kind == "Service" for r in refs or ())


def _new_slice(
    service: Service, ports: Sequence[discovery.EndpointPort], address_type: str
) -> EndpointSlice:
    meta = service.metadata
    assert meta is not None
    return EndpointSlice(
        metadata=ObjectMeta(
            generate_name=f"{meta.name}-",
            namespace=meta.namespace,
            labels=slice_labels(service),
            owner_references=(new_controller_ref(service),),
        ),
        address_type=address_type,  # type: ignore[arg-type]
        ports=tuple(ports),
        endpoints=(),
    )


def _with(
    slice_: EndpointSlice,
    *,
    endpoints: tuple[Endpoint, ...] | None = None,
    labels: Mapping[str, str] | None = None,
) -> EndpointSlice:
    meta = slice_.metadata
    assert meta is not None
    if labels is not None:
        slice_ = attrs.evolve(slice_, metadata=attrs.evolve(meta, labels=dict(labels)))
    if endpoints is not None:
        slice_ = attrs.evolve(slice_, endpoints=endpoints)
    return slice_


def _slice_to_fill(
    candidates: Sequence[EndpointSlice], count: int, max_endpoints: int
) -> EndpointSlice | None:
    """The unchanged slice closest to full that still takes ``count`` more (getSliceToFill)."""
    best: EndpointSlice | None = None
    best_diff = max_endpoints
    for candidate in candidates:
        diff = max_endpoints - (count + len(candidate.endpoints))
        if 0 <= diff < best_diff:
            best, best_diff = candidate, diff
            if diff == 0:
                break
    return best


def _by_port_mapping(
    service: Service,
    existing: Sequence[EndpointSlice],
    desired: dict[EndpointKey, Endpoint],
    ports: Sequence[discovery.EndpointPort],
    address_type: str,
    max_endpoints: int,
) -> tuple[list[EndpointSlice], list[EndpointSlice], list[EndpointSlice]]:
    want = dict(desired)  # popped as endpoints find a slice
    labels = slice_labels(service)
    by_name: dict[str, EndpointSlice] = {}
    unchanged: list[str] = []
    to_update: list[str] = []
    to_delete: list[str] = []
    # 1. Keep the desired endpoints where they are (updated in place), drop the rest.
    for slice_ in existing:
        name = slice_.metadata.name if slice_.metadata is not None else None
        assert name is not None
        by_name[name] = slice_
        kept: list[Endpoint] = []
        changed = False
        for endpoint in slice_.endpoints:
            got = want.pop(endpoint_key(endpoint), None)
            if got is None:
                continue
            kept.append(got)
            changed = changed or got != endpoint
        current_labels = dict((slice_.metadata.labels if slice_.metadata else None) or {})
        if changed or len(kept) != len(slice_.endpoints):
            if not kept:
                to_delete.append(name)
            else:
                by_name[name] = _with(slice_, endpoints=tuple(kept), labels=labels)
                to_update.append(name)
        elif current_labels != labels:
            by_name[name] = _with(slice_, labels=labels)
            to_update.append(name)
        else:
            unchanged.append(name)
    # 2. Top up the slices being updated anyway, fullest first.
    if want and to_update:
        for name in sorted(to_update, key=lambda n: -len(by_name[n].endpoints)):
            room = max_endpoints - len(by_name[name].endpoints)
            if room <= 0:
                continue
            extra = [want.pop(k) for k in list(want)[:room]]
            if extra:
                by_name[name] = _with(by_name[name], endpoints=(*by_name[name].endpoints, *extra))
    # 3. The rest: into one unchanged slice that fits them all, else into new slices.
    to_create: list[EndpointSlice] = []
    while want:
        fill: EndpointSlice | None = None
        if len(want) < max_endpoints and unchanged:
            fill = _slice_to_fill([by_name[n] for n in unchanged], len(want), max_endpoints)
        if fill is None:
            fill = _new_slice(service, ports, address_type)
        room = max_endpoints - len(fill.endpoints)
        extra = [want.pop(k) for k in list(want)[:room]]
        fill = _with(fill, endpoints=(*fill.endpoints, *extra))
        name = fill.metadata.name if fill.metadata is not None else None
        if name:
            by_name[name] = fill
            to_update.append(name)
            unchanged.remove(name)
        else:
            to_create.append(fill)
    return to_create, [by_name[n] for n in to_update], [by_name[n] for n in to_delete]


def _is_placeholder(slice_: EndpointSlice, service: Service, address_type: str) -> bool:
    return (
        not slice_.endpoints
        and not slice_.ports
        and slice_.address_type == address_type
        and _owned_by(slice_, service)
        and dict((slice_.metadata.labels if slice_.metadata else None) or {})
        == slice_labels(service)
    )


def _by_address_type(
    service: Service,
    pods: Sequence[Pod],
    existing: Sequence[EndpointSlice],
    nodes: Mapping[str, Node],
    address_type: str,
    max_endpoints: int,
) -> tuple[list[EndpointSlice], list[EndpointSlice], list[EndpointSlice], tuple[str, ...]]:
    creates: list[EndpointSlice] = []
    updates: list[EndpointSlice] = []
    deletes: list[EndpointSlice] = []
    existing_by_ports: dict[PortKey, list[EndpointSlice]] = {}
    for slice_ in existing:
        if _owned_by(slice_, service):
            existing_by_ports.setdefault(port_key(slice_.ports), []).append(slice_)
        else:
            deletes.append(slice_)  # an older service's of the same name
    desired = desired_endpoints(service, pods, nodes, address_type)
    for key, endpoints in desired.endpoints.items():
        c, u, d = _by_port_mapping(
            service,
            existing_by_ports.get(key, ()),
            endpoints,
            desired.ports[key],
            address_type,
            max_endpoints,
        )
        creates += c
        updates += u
        deletes += d
    for key, slices in existing_by_ports.items():
        if key not in desired.endpoints:
            deletes += slices
    # upstream: a service with no endpoints keeps one empty placeholder slice.
    if len(existing) == len(deletes) and not creates:
        placeholders = [s for s in deletes if _is_placeholder(s, service, address_type)]
        if len(deletes) == 1 and placeholders:
            deletes = []
        else:
            creates.append(_new_slice(service, (), address_type))
    return creates, updates, deletes, desired.missing_nodes


def _annotate(slice_: EndpointSlice, trigger_time: _dt.datetime | None) -> EndpointSlice:
    meta = slice_.metadata
    assert meta is not None
    annotations = dict(meta.annotations or {})
    if trigger_time is not None:
        annotations[LAST_CHANGE_TRIGGER_TIME] = format_rfc3339_nano(trigger_time)
    else:
        annotations.pop(LAST_CHANGE_TRIGGER_TIME, None)
    return attrs.evolve(slice_, metadata=attrs.evolve(meta, annotations=annotations))


def plan(
    service: Service,
    pods: Sequence[Pod],
    existing: Sequence[EndpointSlice],
    nodes: Mapping[str, Node],
    *,
    max_endpoints: int = MAX_ENDPOINTS_PER_SLICE,
    trigger_time: _dt.datetime | None = None,
) -> Plan:
    """The writes that bring ``existing`` (the service's managed slices) to what ``pods``
    (the pods its selector selects) want."""
    types = address_types(service)
    creates: list[EndpointSlice] = []
    updates: list[EndpointSlice] = []
    deletes: list[EndpointSlice] = []
    missing: tuple[str, ...] = ()
    for address_type in types:
        c, u, d, skipped = _by_address_type(
            service,
            pods,
            [s for s in existing if s.address_type == address_type],
            nodes,
            address_type,
            max_endpoints,
        )
        creates += c
        updates += u
        deletes += d
        missing += tuple(n for n in skipped if n not in missing)
    deletes += [s for s in existing if s.address_type not in types]
    # finalize: turn a delete and a create of the same address type into one update (the
    # slice keeps its name), fewer writes and less churn for watchers.
    i = 0
    while i < len(deletes) and creates:
        old = deletes[i]
        new = creates[-1]
        if old.address_type == new.address_type and _owned_by(old, service):
            assert new.metadata is not None and old.metadata is not None
            creates.pop()
            updates.append(
                attrs.evolve(new, metadata=attrs.evolve(new.metadata, name=old.metadata.name))
            )
            deletes.pop(i)
        else:
            i += 1
    return Plan(
        create=tuple(_annotate(s, trigger_time) for s in creates),
        update=tuple(_annotate(s, trigger_time) for s in updates),
        delete=tuple(deletes),
        missing_nodes=missing,
    )
