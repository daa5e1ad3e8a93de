"""The iptables backend's apply mode, against the host's real filter and nat tables.

Needs root and the iptables commands (skipped otherwise; a failure under KFRAME_REQUIRE_ALL=1).
The chains are applied without the jumps from the built-in chains (``install_jumps: false``), so
no packet ever enters them, and every KUBE-* chain is deleted again afterwards.
"""

from __future__ import annotations

import asyncio
import os
import re
import shutil
import subprocess
from pathlib import Path

import attrs
import pytest

from kframe.proxy import ProxyError, ProxyOptions
from kframe.testing import require
from kframe_plugins.proxy.iptables import (
    IptablesBackend,
    IptablesConfig,
    IptablesRules,
    open_iptables_backend,
)
from tests.plugins.proxy.test_iptables_golden import CONFIG, fixed_state

JUMP = re.compile(r"-j (\S+)")


def saved(table: str) -> str:
    return subprocess.run(
        ["iptables-save", "-t", table], check=True, capture_output=True, text=True
    ).stdout


def targets_by_chain(lines: list[str] | tuple[str, ...]) -> dict[str, list[str]]:
    result: dict[str, list[str]] = {}
    for line in lines:
        if line.startswith(":"):
            result.setdefault(line[1:].split(" ", 1)[0], [])
        elif line.startswith("-A "):
            found = JUMP.findall(line)
            result.setdefault(line.split(" ")[1], []).append(found[-1] if found else "")
    return {k: v for k, v in result.items() if k.startswith("KUBE-")}


def kube_chains(table: str) -> set[str]:
    return set(targets_by_chain(saved(table).splitlines()))


@pytest.fixture
def host_iptables() -> None:
    root = hasattr(os, "geteuid") and os.geteuid() == 0
    tools = all(shutil.which(c) for c in ("iptables", "iptables-save", "iptables-restore"))
    require(root and tools, "needs root and iptables, iptables-save, iptables-restore on PATH")
    try:
        busy = kube_chains("nat") | kube_chains("filter")
    except subprocess.CalledProcessError as exc:
        require(False, f"iptables-save does not work here: {exc.stderr.strip()}")
        return
    # A real kube-proxy (or another run of this test) owns these chains: leave them alone.
    require(not busy, f"the host already has KUBE-* chains: {sorted(busy)[:3]}")


def assert_installed(rules: IptablesRules) -> None:
    for table, lines in (("nat", rules.nat), ("filter", rules.filter)):
        want = targets_by_chain(lines)
        for chain in rules.deleted_chains:
            want.pop(chain, None)
        got = targets_by_chain(saved(table).splitlines())
        assert got == want, table


@pytest.mark.usefixtures("host_iptables")
def test_rules_are_applied_read_back_and_cleaned_up() -> None:
    async def body() -> None:
        config = attrs.evolve(CONFIG, install_jumps=False)
        backend = IptablesBackend(config, dry_run=False)
        try:
            state = fixed_state()
            await backend.sync(state)
            assert backend.last_rules is not None
            assert_installed(backend.last_rules)
            text = saved("nat")
            assert "--probability 0.33333333" in text  # iptables prints one digit more
            assert "--rcheck --seconds 600 --reap --name KUBE-SEP-" in text
            assert "-j DNAT --to-destination 10.244.1.1:8080" in text
            assert "-j REJECT" in saved("filter")

            # One service gone: its chains are deleted on the next sync.
            smaller = attrs.evolve(
                state,
                services={k: v for k, v in state.services.items() if k.name != "web"},
            )
            await backend.sync(smaller)
            assert backend.last_rules is not None
            assert backend.last_rules.deleted_chains
            assert_installed(backend.last_rules)
            assert not kube_chains("nat") & backend.last_rules.deleted_chains
        finally:
            await backend.cleanup()
        assert kube_chains("nat") == set()
        assert kube_chains("filter") == set()

    asyncio.run(body())


def test_dry_run_needs_no_root_and_settings_are_checked() -> None:
    async def body() -> None:
        backend = await open_iptables_backend(ProxyOptions(dry_run=True, config={"output": ""}))
        assert backend.name == "iptables"
        with pytest.raises(ProxyError, match="unknown setting 'bogus'"):
            await open_iptables_backend(ProxyOptions(dry_run=True, config={"bogus": 1}))
        with pytest.raises(ProxyError, match="masqueradeBit must be a int"):
            await open_iptables_backend(ProxyOptions(dry_run=True, config={"masqueradeBit": "x"}))
        with pytest.raises(ProxyError, match="0-31"):
            await open_iptables_backend(ProxyOptions(dry_run=True, config={"masqueradeBit": 40}))

    asyncio.run(body())


def test_dry_run_writes_the_rules_and_deletes_stale_chains_of_its_last_render(
    tmp_path: Path,
) -> None:
    async def body() -> None:
        out = tmp_path / "rules.txt"
        backend = IptablesBackend(IptablesConfig(output=str(out)))
        state = fixed_state()
        await backend.sync(state)
        assert out.read_text() == backend.last_rules.text()  # type: ignore[union-attr]
        await backend.sync(attrs.evolve(state, services={}, endpoints={}))
        assert backend.last_rules is not None
        assert backend.last_rules.deleted_chains  # everything the first sync created
        assert not backend.last_rules.active_nat_chains

    asyncio.run(body())


def test_a_failing_restore_is_a_proxy_error_and_leaves_a_full_sync_next() -> None:
    async def body() -> None:
        # Stand-in commands: "iptables" and "iptables-save" succeed with no output, the
        # restore fails, as a rejected ruleset would.
        config = IptablesConfig(iptables="true", iptables_save="true", iptables_restore="false")
        backend = IptablesBackend(config, dry_run=False)
        with pytest.raises(ProxyError, match="false failed"):
            await backend.sync(fixed_state())
        assert backend.last_rules is None
        partial = attrs.evolve(fixed_state(), full=False, changed=frozenset())
        ok = IptablesBackend(attrs.evolve(config, iptables_restore="true"), dry_run=False)
        await ok.sync(partial)  # nothing applied yet: rendered whole despite full=False
        assert ok.last_rules is not None
        assert any(line.startswith(":KUBE-SEP-") for line in ok.last_rules.nat)

    asyncio.run(body())


@pytest.mark.usefixtures("host_iptables")
def test_the_jumps_from_the_builtin_chains_are_linked_and_unlinked() -> None:
    async def body() -> None:
        backend = IptablesBackend(IptablesConfig(), dry_run=False)
        try:
            # No services: the chains hold nothing that could touch traffic on this host.
            await backend.sync(attrs.evolve(fixed_state(), services={}, endpoints={}))
            nat = saved("nat")
            assert '-A PREROUTING -m comment --comment "kubernetes service portals" ' in nat
            assert '-A POSTROUTING -m comment --comment "kubernetes postrouting rules"' in nat
            assert "-j KUBE-EXTERNAL-SERVICES" in saved("filter")
            await backend.sync(attrs.evolve(fixed_state(), services={}, endpoints={}))
            assert saved("nat").count("-j KUBE-SERVICES") == 2  # ensured, never duplicated
        finally:
            await backend.cleanup()
        assert "KUBE-" not in saved("nat") and "KUBE-" not in saved("filter")

    asyncio.run(body())
