"""``--cloud-provider inventory``: machines listed in a YAML file (the ``--cloud-config``).

A third-party kframe cloud provider: its own distribution, registered through the ``kframe``
entry point, built on kframe's public API only. See README.md.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from kframe.cloud import CloudProviderSpec
from kframe.registry import hookimpl

from ._provider import PROVIDER_NAME, InventoryCloud, Machine, read_inventory
from ._testbed import InventoryTestbed, open_testbed

__all__ = [
    "PROVIDER_NAME",
    "InventoryCloud",
    "InventoryTestbed",
    "Machine",
    "build",
    "open_testbed",
    "read_inventory",
]


def build(config: Path | None) -> InventoryCloud:
    if config is None:
        raise ValueError("the inventory provider needs --cloud-config: the inventory file")
    read_inventory(config)  # refuse a broken file up front
    return InventoryCloud(config)


@hookimpl
def kframe_cloud_providers() -> Mapping[str, object]:
    return {PROVIDER_NAME: CloudProviderSpec(build, testbed=open_testbed)}
