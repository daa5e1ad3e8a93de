"""Cluster DNS: ``<service>.<namespace>.svc.<zone>`` names for Services, as pods look them up.

:class:`RecordTable` holds the records of the Kubernetes DNS specification (kubernetes/dns
``docs/specification.md``), built from Services and EndpointSlices; :class:`DNSServer` serves
it over UDP and TCP with asyncio, using dnspython for the messages, and hands names outside the
cluster domain to a :class:`Forwarder`; :class:`ClusterDNS` keeps the table current from
informers. ``kframe dns`` runs it alone; ``kframe up`` hosts it. See docs/dns.md.
"""

from kframe.dns._cluster import ClusterDNS
from kframe.dns._forward import Forwarder, Upstream, parse_upstream, resolv_conf_upstreams
from kframe.dns._records import (
    DEFAULT_TTL,
    SCHEMA_VERSION,
    SERVICE_NAME_LABEL,
    Answer,
    PodRecords,
    RecordTable,
)
from kframe.dns._server import DNSServer
from kframe.dns._service_records import endpoint_hostname

__all__ = [
    "ClusterDNS",
    "DNSServer",
    "RecordTable",
    "Answer",
    "PodRecords",
    "endpoint_hostname",
    "DEFAULT_TTL",
    "SCHEMA_VERSION",
    "SERVICE_NAME_LABEL",
    # names outside the cluster domain
    "Forwarder",
    "Upstream",
    "parse_upstream",
    "resolv_conf_upstreams",
]
