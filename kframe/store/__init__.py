"""The Store: what etcd is to Kubernetes, as an async interface with pluggable backends.

Backends register by URL scheme through the ``kframe_store_backends`` hook; open one with
:func:`open_store`. The semantics every backend shares are in ``docs/store.md`` and are checked
by the conformance suite, :mod:`kframe.testing.store`.
"""

from kframe.store._errors import (
    CompactedError,
    ConflictError,
    FutureRevisionError,
    KeyExistsError,
    KeyNotFoundError,
    LeaseNotFoundError,
    StoreError,
    StoreUnavailableError,
)
from kframe.store._hub import WatchHub
from kframe.store._interface import Store, Watch
from kframe.store._types import Event, KeyValue, Lease, ListResult
from kframe.store._url import StoreFactory, StoreURL, StoreURLError, open_store, parse_store_url

__all__ = [
    "CompactedError",
    "ConflictError",
    "Event",
    "FutureRevisionError",
    "KeyExistsError",
    "KeyNotFoundError",
    "KeyValue",
    "Lease",
    "LeaseNotFoundError",
    "ListResult",
    "Store",
    "StoreError",
    "StoreFactory",
    "StoreURL",
    "StoreURLError",
    "StoreUnavailableError",
    "Watch",
    "WatchHub",
    "open_store",
    "parse_store_url",
]
