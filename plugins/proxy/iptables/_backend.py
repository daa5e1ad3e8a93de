"""The ``iptables`` proxy backend: render on every sync, apply with one ``iptables-restore``."""

from __future__ import annotations

import logging
import os
import sys
from pathlib import Path

import attrs

from kframe.proxy import IPFamily, ProxyBackend, ProxyError, ProxyOptions, ProxyState

from ._apply import Iptables, commands_for
from ._config import IptablesConfig
from ._render import IptablesRules, render

__all__ = ["IptablesBackend", "open_iptables_backend"]

log = logging.getLogger("kframe.proxy.iptables")


class IptablesBackend:
    """Programs the host's filter and nat tables, or (``dry_run``) only renders.

    :attr:`last_rules` is the latest render either way; with ``config.output`` set the rules
    are also written to that file on every sync, for inspection. In dry-run mode the stale-chain
    deletions are computed against the previous render, as if it had been applied.
    """

    name = "iptables"

    def __init__(
        self,
        config: IptablesConfig | None = None,
        *,
        dry_run: bool = True,
        ip_family: IPFamily = "IPv4",
    ) -> None:
        self.config = config or IptablesConfig()
        self.dry_run = dry_run
        self.ip_family: IPFamily = ip_family
        self.iptables = Iptables(commands_for(self.config, ip_family))
        self.last_rules: IptablesRules | None = None
        self.syncs = 0
        self._installed: frozenset[str] = frozenset()
        self._linked = False
        # Whether the last sync was applied: a partial sync builds on it.
        self._in_sync = False

    def render(self, state: ProxyState) -> IptablesRules:
        """What :meth:`sync` would apply for ``state`` now (no side effects)."""
        return render(self._localized(state), self.config, self._installed)

    def _localized(self, state: ProxyState) -> ProxyState:
        """``state`` with the endpoints of ``config.local_nodes`` marked local."""
        nodes = set(self.config.local_nodes)
        if not nodes:
            return state
        endpoints = {
            name: tuple(
                attrs.evolve(ep, is_local=True) if ep.node_name in nodes else ep for ep in eps
            )
            for name, eps in state.endpoints.items()
        }
        return attrs.evolve(state, endpoints=endpoints)

    async def sync(self, state: ProxyState) -> None:
        state = self._localized(state)
        existing: set[str] = set(self._installed)
        if not self.dry_run:
            if self.config.install_jumps and (state.full or not self._linked):
                await self.iptables.ensure_jumps()
                self._linked = True
            if state.full:
                # Chains left by an earlier run (or a crashed one) are cleaned up too.
                existing |= await self.iptables.chains("nat")
        # A partial sync writes only the changed Services' chains; after a full one, or when
        # nothing is known to be installed, everything.
        partial = not state.full and self._in_sync
        rules = render(state, self.config, existing, partial=partial)
        if self.config.output == "-":
            sys.stdout.write(rules.text())
            sys.stdout.flush()
        elif self.config.output:
            Path(self.config.output).write_text(rules.text())
        self._in_sync = False
        if not self.dry_run:
            await self.iptables.restore(rules.text())
        self._in_sync = True
        self.last_rules = rules
        self._installed = rules.active_nat_chains
        self.syncs += 1

    async def cleanup(self) -> None:
        self._in_sync = False
        self._installed = frozenset()
        if self.dry_run:
            return
        await self.iptables.cleanup()
        self._linked = False

    async def close(self) -> None:
        return None


def _is_root() -> bool:
    geteuid = getattr(os, "geteuid", None)
    return geteuid is not None and geteuid() == 0


async def open_iptables_backend(options: ProxyOptions) -> ProxyBackend:
    """The factory registered as mode ``iptables``. Apply mode needs root and the iptables
    commands; dry-run mode needs neither."""
    config = IptablesConfig.from_mapping(options.config)
    backend = IptablesBackend(config, dry_run=options.dry_run, ip_family=options.ip_family)
    if not options.dry_run:
        if not _is_root():
            raise ProxyError("iptables mode needs root to apply rules (or use --dry-run)")
        missing = backend.iptables.available()
        if missing:
            raise ProxyError(f"iptables mode: not found on PATH: {missing} (or use --dry-run)")
    return backend


_conforms: type[ProxyBackend] = IptablesBackend
