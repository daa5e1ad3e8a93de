"""The conformance testbed: an inventory file in the given directory, edited as an operator
would edit it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from kframe.cloud import CloudProvider, CloudTestbed

from ._provider import InventoryCloud

__all__ = ["InventoryTestbed", "open_testbed"]


class InventoryTestbed:
    def __init__(self, path: Path) -> None:
        self.path = path
        self.provider: CloudProvider = InventoryCloud(path)
        self._write({"region": "lab", "machines": []})

    def _read(self) -> dict[str, Any]:
        data: dict[str, Any] = yaml.safe_load(self.path.read_text())
        return data

    def _write(self, data: dict[str, Any]) -> None:
        self.path.write_text(yaml.safe_dump(data))

    def _edit(self, name: str, state: str | None) -> None:
        data = self._read()
        machines = data["machines"]
        if state is None:
            data["machines"] = [m for m in machines if m["name"] != name]
        else:
            for machine in machines:
                if machine["name"] == name:
                    machine["state"] = state
        self._write(data)

    async def add_instance(self, name: str) -> None:
        data = self._read()
        data["machines"].append(
            {
                "name": name,
                "id": f"{name}-id",
                "zone": "rack-1",
                "type": "metal.small",
                "internalIP": "10.0.0.10",
            }
        )
        self._write(data)

    async def stop_instance(self, name: str) -> None:
        self._edit(name, "stopped")

    async def start_instance(self, name: str) -> None:
        self._edit(name, "running")

    async def delete_instance(self, name: str) -> None:
        self._edit(name, None)

    async def close(self) -> None:
        await self.provider.close()


async def open_testbed(directory: Path) -> CloudTestbed:
    return InventoryTestbed(directory / "machines.yaml")
