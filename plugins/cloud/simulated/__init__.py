"""The simulated cloud: a reference cloud provider whose "cloud" is a SQLite file.

Registered as ``--cloud-provider simulated``. Instances, load balancers and routes live in the
database named by the ``--cloud-config`` file (default ``.kframe/simulated-cloud.db``);
``kframe cloud-simulated instances add|stop|start|delete|list`` plays the cloud's console.
Load balancers are real TCP listeners on loopback addresses forwarding to the nodes'
``nodePort``. See docs/cloud.md.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from kframe.cloud import CloudProviderSpec
from kframe.registry import hookimpl

from ._cli import SimulatedCloudCommand
from ._provider import PROVIDER_NAME, SimulatedCloud, SimulatedConfig, load_config
from ._state import Instance, State
from ._testbed import SimulatedTestbed, open_testbed

__all__ = [
    "PROVIDER_NAME",
    "Instance",
    "SimulatedCloud",
    "SimulatedCloudCommand",
    "SimulatedConfig",
    "SimulatedTestbed",
    "State",
    "build",
    "load_config",
    "open_testbed",
]


def build(config: Path | None) -> SimulatedCloud:
    return SimulatedCloud(load_config(config))


@hookimpl
def kframe_cloud_providers() -> Mapping[str, object]:
    return {PROVIDER_NAME: CloudProviderSpec(build, testbed=open_testbed)}


@hookimpl
def kframe_cli_commands() -> Mapping[str, object]:
    return {"cloud-simulated": SimulatedCloudCommand}
