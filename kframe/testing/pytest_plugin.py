"""kframe's pytest plugin (entry point ``pytest11``): fixtures, and ``KFRAME_REQUIRE_ALL``.

``KFRAME_REQUIRE_ALL=1`` turns every skipped test into a failure, so a CI run cannot pass while
silently skipping what it should have run (a missing etcd, no root, no iptables). Tests that need
such a resource call :func:`kframe.testing.require`.
"""

from __future__ import annotations

import os
from collections.abc import Generator

import pytest

from kframe.registry import Registry, build_registry


def require_all() -> bool:
    """True when skips are failures (``KFRAME_REQUIRE_ALL`` set to anything but ""/"0")."""
    return os.environ.get("KFRAME_REQUIRE_ALL", "") not in ("", "0")


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    report = yield
    if report.skipped and require_all() and not hasattr(report, "wasxfail"):
        reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else report.longrepr
        report.outcome = "failed"
        report.longrepr = f"skipped under KFRAME_REQUIRE_ALL=1: {reason}"
    return report


@pytest.fixture(scope="session")
def kframe_registry() -> Registry:
    """The registry of every installed plugin, as ``kframe`` itself builds it."""
    return build_registry()
