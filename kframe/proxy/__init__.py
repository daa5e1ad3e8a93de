"""The service proxy (kube-proxy): desired state, change trackers, a sync loop, backends.

:class:`Proxy` watches Services and EndpointSlices through :mod:`kframe.client`, folds them into
:class:`ServicePortInfo` and :class:`EndpointInfo` with the change trackers, and hands a backend
the whole :class:`ProxyState` on every sync, rate-limited by a :class:`BoundedFrequencyRunner`
(at most one sync per ``min_sync_period``, 1 s; a full resync every ``sync_period``, 30 s).
Backends implement :class:`ProxyBackend` and register a factory per mode through the
``kframe_proxy_backends`` hook; :func:`open_backend` opens one. See docs/proxy.md.
"""

from kframe.proxy._backend import (
    ProxyBackend,
    ProxyBackendFactory,
    ProxyError,
    ProxyOptions,
    open_backend,
)
from kframe.proxy._host import ProxyHost
from kframe.proxy._proxy import DEFAULT_MIN_SYNC_PERIOD, DEFAULT_SYNC_PERIOD, Proxy
from kframe.proxy._runner import BoundedFrequencyRunner
from kframe.proxy._tracker import (
    SERVICE_NAME_LABEL,
    EndpointsChangeTracker,
    ServiceChangeTracker,
    endpoints_from_slices,
    service_port_infos,
)
from kframe.proxy._types import (
    DEFAULT_STICKY_MAX_AGE_SECONDS,
    Categorized,
    EndpointInfo,
    IPFamily,
    ProxyState,
    ServicePortInfo,
    ServicePortName,
    categorize_endpoints,
    ip_family_of,
    join_host_port,
)

__all__ = [
    # desired state
    "ServicePortName",
    "ServicePortInfo",
    "EndpointInfo",
    "ProxyState",
    "Categorized",
    "categorize_endpoints",
    "IPFamily",
    "ip_family_of",
    "join_host_port",
    "DEFAULT_STICKY_MAX_AGE_SECONDS",
    # change trackers
    "ServiceChangeTracker",
    "EndpointsChangeTracker",
    "service_port_infos",
    "endpoints_from_slices",
    "SERVICE_NAME_LABEL",
    # sync loop
    "BoundedFrequencyRunner",
    "Proxy",
    "ProxyHost",
    "DEFAULT_MIN_SYNC_PERIOD",
    "DEFAULT_SYNC_PERIOD",
    # backends
    "ProxyBackend",
    "ProxyBackendFactory",
    "ProxyOptions",
    "ProxyError",
    "open_backend",
]
