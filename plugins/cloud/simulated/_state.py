"""The simulated cloud's state: instances, load balancers and routes in one SQLite file.

Shared by the provider (inside the cloud controller manager) and the ``kframe
cloud-simulated`` command (a user acting as the cloud's console), possibly in different
processes: every call opens a short transaction, and SQLite's locking keeps them apart. The
calls are small and local, so they run on the event loop's thread.
"""

from __future__ import annotations

import json
import secrets
import sqlite3
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

import attrs

__all__ = ["Backend", "Instance", "LoadBalancerRecord", "RouteRecord", "State"]

_SCHEMA = """
CREATE TABLE IF NOT EXISTS instances (
    name TEXT PRIMARY KEY,
    id TEXT NOT NULL UNIQUE,
    type TEXT NOT NULL,
    zone TEXT NOT NULL,
    region TEXT NOT NULL,
    state TEXT NOT NULL,
    internal_ip TEXT NOT NULL,
    external_ip TEXT NOT NULL,
    created REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS load_balancers (
    cluster TEXT NOT NULL,
    name TEXT NOT NULL,
    service TEXT NOT NULL,
    address TEXT NOT NULL UNIQUE,
    ports TEXT NOT NULL,
    backends TEXT NOT NULL,
    PRIMARY KEY (cluster, name)
);
CREATE TABLE IF NOT EXISTS routes (
    cluster TEXT NOT NULL,
    name TEXT NOT NULL,
    target_node TEXT NOT NULL,
    cidr TEXT NOT NULL,
    PRIMARY KEY (cluster, name)
);
"""

RUNNING = "running"
STOPPED = "stopped"


@attrs.frozen(kw_only=True)
class Instance:
    name: str
    id: str
    type: str
    zone: str
    region: str
    state: str
    internal_ip: str
    external_ip: str = ""


@attrs.frozen(kw_only=True)
class Backend:
    """Where a listener forwards: a node's address and the service port's nodePort."""

    address: str
    port: int


@attrs.frozen(kw_only=True)
class LoadBalancerRecord:
    cluster: str
    name: str
    service: str  #: namespace/name
    address: str
    #: service port -> the backends of that port
    ports: dict[int, tuple[Backend, ...]] = attrs.field(factory=dict)


@attrs.frozen(kw_only=True)
class RouteRecord:
    cluster: str
    name: str
    target_node: str
    cidr: str


class State:
    """The SQLite file at ``path`` (created, with its schema, on first use)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        path.parent.mkdir(parents=True, exist_ok=True)
        with self._tx() as db:
            db.executescript(_SCHEMA)

    @contextmanager
    def _tx(self) -> Iterator[sqlite3.Connection]:
        db = sqlite3.connect(self.path, timeout=10)
        try:
            with db:
                yield db
        finally:
            db.close()

    # -- instances -----------------------------------------------------------------------------

    def add_instance(
        self,
        name: str,
        *,
        type: str,
        zone: str,
        region: str,
        internal_ip: str,
        external_ip: str = "",
    ) -> Instance:
        """A running instance named ``name`` (a ValueError if the name is taken)."""
        instance = Instance(
            name=name,
            id=f"i-{secrets.token_hex(8)}",
            type=type,
            zone=zone,
            region=region,
            state=RUNNING,
            internal_ip=internal_ip,
            external_ip=external_ip,
        )
        try:
            with self._tx() as db:
                db.execute(
                    "INSERT INTO instances VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    (*attrs.astuple(instance), time.time()),
                )
        except sqlite3.IntegrityError:
            raise ValueError(f"instance {name!r} already exists") from None
        return instance

    def _one(self, where: str, value: str) -> Instance | None:
        with self._tx() as db:
            row = db.execute(
                "SELECT name, id, type, zone, region, state, internal_ip, external_ip "
                f"FROM instances WHERE {where} = ?",
                (value,),
            ).fetchone()
        return None if row is None else Instance(**dict(zip(_INSTANCE_FIELDS, row, strict=True)))

    def instance(self, name: str) -> Instance | None:
        return self._one("name", name)

    def instance_by_id(self, instance_id: str) -> Instance | None:
        return self._one("id", instance_id)

    def instances(self) -> list[Instance]:
        with self._tx() as db:
            rows = db.execute(
                "SELECT name, id, type, zone, region, state, internal_ip, external_ip "
                "FROM instances ORDER BY created, name"
            ).fetchall()
        return [Instance(**dict(zip(_INSTANCE_FIELDS, r, strict=True))) for r in rows]

    def set_state(self, name: str, state: str) -> None:
        with self._tx() as db:
            cur = db.execute("UPDATE instances SET state = ? WHERE name = ?", (state, name))
        if cur.rowcount == 0:
            raise KeyError(f"no instance {name!r}")

    def delete_instance(self, name: str) -> None:
        with self._tx() as db:
            cur = db.execute("DELETE FROM instances WHERE name = ?", (name,))
        if cur.rowcount == 0:
            raise KeyError(f"no instance {name!r}")

    # -- load balancers ------------------------------------------------------------------------

    def load_balancer(self, cluster: str, name: str) -> LoadBalancerRecord | None:
        with self._tx() as db:
            row = db.execute(
                "SELECT cluster, name, service, address, ports FROM load_balancers "
                "WHERE cluster = ? AND name = ?",
                (cluster, name),
            ).fetchone()
        return None if row is None else _lb(row)

    def load_balancers(self) -> list[LoadBalancerRecord]:
        with self._tx() as db:
            rows = db.execute(
                "SELECT cluster, name, service, address, ports FROM load_balancers "
                "ORDER BY cluster, name"
            ).fetchall()
        return [_lb(r) for r in rows]

    def put_load_balancer(self, lb: LoadBalancerRecord) -> None:
        ports = json.dumps(
            {str(p): [[b.address, b.port] for b in backends] for p, backends in lb.ports.items()}
        )
        with self._tx() as db:
            db.execute(
                "INSERT OR REPLACE INTO load_balancers VALUES (?, ?, ?, ?, ?, ?)",
                (lb.cluster, lb.name, lb.service, lb.address, ports, "[]"),
            )

    def delete_load_balancer(self, cluster: str, name: str) -> bool:
        with self._tx() as db:
            cur = db.execute(
                "DELETE FROM load_balancers WHERE cluster = ? AND name = ?", (cluster, name)
            )
        return cur.rowcount > 0

    def used_addresses(self) -> set[str]:
        with self._tx() as db:
            return {r[0] for r in db.execute("SELECT address FROM load_balancers")}

    # -- routes --------------------------------------------------------------------------------

    def routes(self, cluster: str) -> list[RouteRecord]:
        with self._tx() as db:
            rows = db.execute(
                "SELECT cluster, name, target_node, cidr FROM routes WHERE cluster = ? "
                "ORDER BY name",
                (cluster,),
            ).fetchall()
        return [RouteRecord(cluster=r[0], name=r[1], target_node=r[2], cidr=r[3]) for r in rows]

    def all_routes(self) -> list[RouteRecord]:
        with self._tx() as db:
            rows = db.execute(
                "SELECT cluster, name, target_node, cidr FROM routes ORDER BY cluster, name"
            ).fetchall()
        return [RouteRecord(cluster=r[0], name=r[1], target_node=r[2], cidr=r[3]) for r in rows]

    def put_route(self, route: RouteRecord) -> None:
        with self._tx() as db:
            db.execute("INSERT OR REPLACE INTO routes VALUES (?, ?, ?, ?)", attrs.astuple(route))

    def delete_route(self, cluster: str, name: str) -> None:
        with self._tx() as db:
            db.execute("DELETE FROM routes WHERE cluster = ? AND name = ?", (cluster, name))


_INSTANCE_FIELDS: Sequence[str] = (
    "name",
    "id",
    "type",
    "zone",
    "region",
    "state",
    "internal_ip",
    "external_ip",
)


def _lb(row: tuple[str, str, str, str, str]) -> LoadBalancerRecord:
    raw = json.loads(row[4])
    ports = {
        int(p): tuple(Backend(address=a, port=int(n)) for a, n in backends)
        for p, backends in raw.items()
    }
    return LoadBalancerRecord(
        cluster=row[0], name=row[1], service=row[2], address=row[3], ports=ports
    )
