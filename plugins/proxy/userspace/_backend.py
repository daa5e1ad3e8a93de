"""The ``userspace`` proxy backend: asyncio listeners per service port, balancing in process.

Needs neither root nor iptables. Every sync plans the listeners (:func:`plan`), updates the
balancer's pools first (new endpoints serve the next connection), closes the listeners no longer
planned, and opens the missing ones. The proxy ports the kernel allocates are kept while their
service port exists; :meth:`UserspaceBackend.table` reports the mapping.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import logging
import sys
import time
from collections.abc import Callable
from pathlib import Path

from kframe.proxy import (
    IPFamily,
    ProxyBackend,
    ProxyError,
    ProxyOptions,
    ProxyState,
    ServicePortName,
    join_host_port,
)

from ._balancer import RoundRobin
from ._config import UserspaceConfig
from ._plan import ListenerKind, ListenerSpec, Plan, plan
from ._tcp import TcpListener
from ._udp import UdpListener

__all__ = ["UserspaceBackend", "open_userspace_backend"]

log = logging.getLogger("kframe.proxy.userspace")

Listener = TcpListener | UdpListener


class UserspaceBackend:
    """Proxies every TCP and UDP service port through sockets of this process.

    ``dry_run``: plan and balance, never bind (:attr:`last_plan` says what would be listened
    on). ``now``: the balancer's clock (affinity timeouts).
    """

    name = "userspace"

    def __init__(
        self,
        config: UserspaceConfig | None = None,
        *,
        dry_run: bool = False,
        ip_family: IPFamily = "IPv4",
        now: Callable[[], float] = time.monotonic,
    ) -> None:
        self.config = config or UserspaceConfig()
        self.dry_run = dry_run
        self.ip_family: IPFamily = ip_family
        self.balancer = RoundRobin(now)
        self.last_plan: Plan | None = None
        self.last_state: ProxyState | None = None
        self.syncs = 0
        #: Optional listeners (cluster, external IPs) that could not be bound, one line each.
        self.warnings: list[str] = []
        self._listeners: dict[ListenerSpec, Listener] = {}
        self._not_local: set[ListenerSpec] = set()
        self._connections: set[asyncio.Task[None]] = set()
        self._written = ""

    # -- reporting ------------------------------------------------------------------------------

    @property
    def listeners(self) -> dict[ListenerSpec, Listener]:
        """The open listeners by what was planned (a copy)."""
        return dict(self._listeners)

    def address_of(
        self, name: ServicePortName, kind: ListenerKind = "proxy"
    ) -> tuple[str, int] | None:
        """Where ``name`` is listened on as ``kind`` (the proxy port by default), or None."""
        for spec, listener in self._listeners.items():
            if spec.name == name and spec.kind == kind:
                return listener.address
        return None

    def table(self) -> str:
        """One line per listener: service port, its cluster address, kind, bound address,
        endpoint count (what ``output`` writes). In dry-run mode, the planned listeners."""
        if self.last_plan is None or self.last_state is None:
            return ""
        lines = []
        for spec in self.last_plan.listeners:
            listener = self._listeners.get(spec)
            if listener is not None:
                bound = join_host_port(*listener.address)
            elif self.dry_run:
                bound = join_host_port(spec.ip, spec.port) if spec.port else f"{spec.ip}:(any)"
            else:
                continue
            svc = self.last_state.services[spec.name]
            count = len(self.balancer.endpoints(spec.pool))
            lines.append(
                f"{spec.name}\t{join_host_port(svc.cluster_ip, svc.port)}/{spec.protocol}\t"
                f"{spec.kind}\t{bound}\t{count} endpoints"
            )
        return "".join(line + "\n" for line in lines)

    def _write_output(self) -> None:
        if not self.config.output:
            return
        text = self.table()
        if text == self._written:
            return
        self._written = text
        if self.config.output == "-":
            sys.stdout.write(text or "(no service ports)\n")
            sys.stdout.flush()
        else:
            path = Path(self.config.output)
            try:
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_text(text)
            except OSError as exc:
                log.warning("userspace: cannot write %s: %s", path, exc.strerror or exc)

    # -- syncing --------------------------------------------------------------------------------

    def _make(self, spec: ListenerSpec) -> Listener:
        if spec.protocol == "UDP":
            return UdpListener(spec, self.balancer, self.config.udp_idle_timeout)
        return TcpListener(spec, self.balancer, self._connections)

    async def sync(self, state: ProxyState) -> None:
        planned = plan(state, self.config)
        for key, pool in planned.pools.items():
            self.balancer.update(key, pool.endpoints, affinity_seconds=pool.affinity_seconds)
        for stale in [k for k in self.balancer.pools() if k not in planned.pools]:
            self.balancer.remove(stale)
        self.last_plan = planned
        self.last_state = state
        if self.dry_run:
            self.syncs += 1
            self._write_output()
            return
        wanted = set(planned.listeners)
        for spec in [s for s in self._listeners if s not in wanted]:
            self._listeners.pop(spec).close()
            log.info("%s: stopped listening on %s (%s)", spec.name, spec, spec.kind)
        self._not_local &= wanted
        errors: list[str] = []
        warnings: list[str] = []
        for spec in planned.listeners:
            if spec in self._listeners:
                continue
            if spec in self._not_local and not (state.full or spec.name.service in state.changed):
                continue
            listener = self._make(spec)
            try:
                await listener.open()
            except OSError as exc:
                reason = exc.strerror or str(exc)
                if spec.optional:
                    self._not_local.add(spec)
                    if exc.errno != errno.EADDRNOTAVAIL:  # not local: the usual case, silent
                        warnings.append(f"{spec.name} {spec.kind} {spec}: {reason}")
                else:
                    errors.append(f"{spec.name} {spec.kind} {spec}: {reason}")
                continue
            self._not_local.discard(spec)
            self._listeners[spec] = listener
            log.info(
                "%s: listening on %s (%s, %s)",
                spec.name,
                join_host_port(*listener.address),
                spec.kind,
                spec.protocol,
            )
        for spec, listener in self._listeners.items():
            if isinstance(listener, UdpListener):
                listener.drop_stale(set(self.balancer.endpoints(spec.pool)))
        self.warnings = warnings
        for line in warnings:
            log.warning("userspace: cannot listen on %s", line)
        self.syncs += 1
        self._write_output()
        if errors:
            raise ProxyError("userspace: cannot listen on " + "; ".join(errors))

    async def cleanup(self) -> None:
        """Stop listening everywhere (nothing outlives the process, so nothing else to
        remove); connections being served go on until :meth:`close`."""
        for listener in self._listeners.values():
            listener.close()
        self._listeners.clear()
        self._not_local.clear()
        self.balancer.clear()

    async def close(self) -> None:
        """Stop listening and end every connection being served."""
        await self.cleanup()
        tasks = list(self._connections)
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task


async def open_userspace_backend(options: ProxyOptions) -> ProxyBackend:
    """The factory registered as mode ``userspace``. No root needed (ports below 1024, such as
    a local cluster IP's port 80, need it or CAP_NET_BIND_SERVICE)."""
    config = UserspaceConfig.from_mapping(options.config)
    return UserspaceBackend(config, dry_run=options.dry_run, ip_family=options.ip_family)


_conforms: type[ProxyBackend] = UserspaceBackend
