"""The simulated cloud's testbed for the conformance suite: a private database and a private
loopback range per testbed, so suites may run side by side."""

from __future__ import annotations

import random
from pathlib import Path

from kframe.cloud import CloudProvider, CloudTestbed

from ._provider import SimulatedCloud, SimulatedConfig
from ._state import RUNNING, STOPPED

__all__ = ["SimulatedTestbed", "open_testbed"]


class SimulatedTestbed:
    def __init__(self, cloud: SimulatedCloud) -> None:
        self.cloud = cloud
        self.provider: CloudProvider = cloud

    async def add_instance(self, name: str) -> None:
        config = self.cloud.config
        self.cloud.state.add_instance(
            name,
            type=config.instance_type,
            zone=config.zone,
            region=config.region,
            internal_ip="127.0.0.1",
        )

    async def stop_instance(self, name: str) -> None:
        self.cloud.state.set_state(name, STOPPED)

    async def start_instance(self, name: str) -> None:
        self.cloud.state.set_state(name, RUNNING)

    async def delete_instance(self, name: str) -> None:
        self.cloud.state.delete_instance(name)

    async def close(self) -> None:
        await self.cloud.close()


async def open_testbed(directory: Path) -> CloudTestbed:
    # A /24 of its own inside 127.0.0.0/8, away from 127.0.0.x and the default 127.0.100.0/24.
    cidr = f"127.{random.randint(101, 254)}.{random.randint(0, 255)}.0/24"
    cloud = SimulatedCloud(SimulatedConfig(db=directory / "cloud.db", load_balancer_cidr=cidr))
    return SimulatedTestbed(cloud)
