"""Applying rendered rules to the host: ``iptables-restore --noflush``, jump rules, cleanup.

Only the iptables backend's apply mode calls this (root, iptables installed); dry-run mode and
the tests of rendering never do.
"""

from __future__ import annotations

import asyncio
import shutil

import attrs

from kframe.proxy import IPFamily, ProxyError

from ._config import IptablesConfig
from ._render import (
    FILTER_CHAINS,
    KUBE_EXTERNAL_SERVICES,
    KUBE_FORWARD,
    KUBE_NODEPORTS,
    KUBE_POSTROUTING,
    KUBE_PROXY_FIREWALL,
    KUBE_SERVICES,
    NAT_CHAINS,
    is_service_chain,
)

__all__ = ["JUMPS", "Commands", "Iptables", "Jump", "commands_for"]


@attrs.frozen
class Jump:
    """A rule in a built-in chain that enters one of ours (upstream's ``iptablesJumpChains``)."""

    table: str
    target: str
    source: str
    comment: str
    extra: tuple[str, ...] = ()

    def args(self) -> list[str]:
        return [*self.extra, "-m", "comment", "--comment", self.comment, "-j", self.target]


_NEW = ("-m", "conntrack", "--ctstate", "NEW")
JUMPS = (
    Jump(
        "filter",
        KUBE_EXTERNAL_SERVICES,
        "INPUT",
        "kubernetes externally-visible service portals",
        _NEW,
    ),
    Jump(
        "filter",
        KUBE_EXTERNAL_SERVICES,
        "FORWARD",
        "kubernetes externally-visible service portals",
        _NEW,
    ),
    Jump("filter", KUBE_NODEPORTS, "INPUT", "kubernetes health check service ports"),
    Jump("filter", KUBE_SERVICES, "FORWARD", "kubernetes service portals", _NEW),
    Jump("filter", KUBE_SERVICES, "OUTPUT", "kubernetes service portals", _NEW),
    Jump("filter", KUBE_FORWARD, "FORWARD", "kubernetes forwarding rules"),
    Jump("filter", KUBE_PROXY_FIREWALL, "INPUT", "kubernetes load balancer firewall", _NEW),
    Jump("filter", KUBE_PROXY_FIREWALL, "OUTPUT", "kubernetes load balancer firewall", _NEW),
    Jump("filter", KUBE_PROXY_FIREWALL, "FORWARD", "kubernetes load balancer firewall", _NEW),
    Jump("nat", KUBE_SERVICES, "OUTPUT", "kubernetes service portals"),
    Jump("nat", KUBE_SERVICES, "PREROUTING", "kubernetes service portals"),
    Jump("nat", KUBE_POSTROUTING, "POSTROUTING", "kubernetes postrouting rules"),
)


@attrs.frozen
class Commands:
    iptables: str
    save: str
    restore: str


def commands_for(config: IptablesConfig, family: IPFamily) -> Commands:
    six = family == "IPv6"
    return Commands(
        iptables=config.iptables or ("ip6tables" if six else "iptables"),
        save=config.iptables_save or ("ip6tables-save" if six else "iptables-save"),
        restore=config.iptables_restore or ("ip6tables-restore" if six else "iptables-restore"),
    )


def _first_line(text: bytes) -> str:
    lines = [line for line in text.decode(errors="replace").splitlines() if line.strip()]
    return lines[0] if lines else "no output"


class Iptables:
    """The host's iptables, through its commands (``-w``: wait for the xtables lock)."""

    def __init__(self, commands: Commands) -> None:
        self.commands = commands

    def available(self) -> str:
        """ "" when every command is on PATH, else what is missing."""
        missing = [
            c
            for c in (self.commands.iptables, self.commands.save, self.commands.restore)
            if shutil.which(c) is None
        ]
        return ", ".join(missing)

    async def _run(self, *argv: str, stdin: bytes | None = None) -> tuple[int, bytes, bytes]:
        try:
            proc = await asyncio.create_subprocess_exec(
                *argv,
                stdin=asyncio.subprocess.PIPE if stdin is not None else asyncio.subprocess.DEVNULL,
                stdout=asyncio.subprocess.PIPE,
                stderr=asyncio.subprocess.PIPE,
            )
        except OSError as exc:
            raise ProxyError(f"{argv[0]}: {exc.strerror or exc}") from None
        out, err = await proc.communicate(stdin)
        assert proc.returncode is not None
        return proc.returncode, out, err

    async def restore(self, text: str) -> None:
        """``iptables-restore --noflush --counters``: all tables in one atomic commit each, our
        chains replaced, everyone else's left alone."""
        code, _, err = await self._run(
            self.commands.restore, "-w", "--noflush", "--counters", stdin=text.encode()
        )
        if code != 0:
            raise ProxyError(f"{self.commands.restore} failed: {_first_line(err)}")

    async def save(self, table: str) -> str:
        code, out, err = await self._run(self.commands.save, "-t", table)
        if code != 0:
            raise ProxyError(f"{self.commands.save} -t {table} failed: {_first_line(err)}")
        return out.decode(errors="replace")

    async def chains(self, table: str) -> set[str]:
        """The chain names ``table`` holds now."""
        text = await self.save(table)
        return {line[1:].split(" ", 1)[0] for line in text.splitlines() if line.startswith(":")}

    async def ensure_jumps(self) -> None:
        """Create our top-level chains and prepend the jumps into them, where missing."""
        for jump in JUMPS:
            base = [self.commands.iptables, "-w", "-t", jump.table]
            await self._run(*base, "-N", jump.target)  # "already exists" is fine
            code, _, _ = await self._run(*base, "-C", jump.source, *jump.args())
            if code != 0:
                code, _, err = await self._run(*base, "-I", jump.source, *jump.args())
                if code != 0:
                    raise ProxyError(
                        f"cannot link {jump.table} {jump.source} to {jump.target}: "
                        f"{_first_line(err)}"
                    )

    async def cleanup(self) -> None:
        """Remove the jumps, then flush and delete every chain of ours (CleanupLeftovers)."""
        for jump in JUMPS:
            base = [self.commands.iptables, "-w", "-t", jump.table]
            await self._run(*base, "-D", jump.source, *jump.args())  # "not found" is fine
        for table, top in (("nat", NAT_CHAINS), ("filter", FILTER_CHAINS)):
            existing = await self.chains(table)
            ours = sorted(
                c for c in existing if c in top or (table == "nat" and is_service_chain(c))
            )
            if not ours:
                continue
            lines = [f"*{table}", *(f":{c} - [0:0]" for c in ours), *(f"-X {c}" for c in ours)]
            await self.restore("\n".join([*lines, "COMMIT"]) + "\n")
