"""The ``etcd://`` Store backend: kframe's store on a real etcd v3 cluster.

``etcd://host:port[,host:port...][/key/prefix][?timeout=5&dial_timeout=3]``; see
``docs/store-etcd.md``. Opening probes the cluster, so an unreachable etcd fails at once with
StoreUnavailableError.
"""

from __future__ import annotations

from collections.abc import Mapping

from kframe.registry import hookimpl
from kframe.store import Store, StoreError, StoreUnavailableError, StoreURL

from ._client import Connection
from ._config import EtcdConfig, parse_config, resolve_target
from ._keys import KeySpace
from ._store import EtcdStore
from ._watch import EtcdWatch

__all__ = ["EtcdConfig", "EtcdStore", "EtcdWatch", "kframe_store_backends", "open_etcd_store"]


async def open_etcd_store(url: StoreURL) -> Store:
    """Connect to the etcd cluster ``url`` names and check that it answers.

    StoreURLError for a malformed URL; StoreUnavailableError if no endpoint answers within
    ``dial_timeout`` seconds (default 3).
    """
    config = parse_config(url)
    try:
        target = resolve_target(config)
    except OSError as error:
        raise StoreUnavailableError(
            f"cannot resolve etcd endpoints {config.endpoint_list}: {error}"
        ) from None
    conn = Connection(config, target)
    store = EtcdStore(conn, KeySpace(config.prefix))
    try:
        await store.probe(config.dial_timeout)
    except StoreError as error:
        await store.close()
        if isinstance(error, StoreUnavailableError):
            raise error from None
        raise StoreUnavailableError(
            f"cannot open etcd store at {config.endpoint_list}: {error}"
        ) from None
    return store


@hookimpl
def kframe_store_backends() -> Mapping[str, object]:
    return {"etcd": open_etcd_store}
