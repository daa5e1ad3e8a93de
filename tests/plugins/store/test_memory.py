"""The memory backend against the Store conformance suite."""

from __future__ import annotations

import pytest

from kframe.store import Store, open_store
from kframe.testing.store import StoreConformance, StoreFactory, store_state_machine


async def open_memory() -> Store:
    return await open_store("memory://")


class TestMemoryConformance(StoreConformance):
    @pytest.fixture
    def store_factory(self) -> StoreFactory:
        return open_memory


TestMemoryStateMachine = store_state_machine(open_memory).TestCase
