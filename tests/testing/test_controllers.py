"""``kframe.testing.control_plane``: a controller whose build fails fails the block at once,
with that controller's error."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from kframe.controller import ControllerContext
from kframe.testing.controllers import control_plane


class _Idle:
    async def sync(self, key: str) -> None:
        return None


def _reads_its_option(ctx: ControllerContext) -> Any:
    ctx.option("delay", 1.0)
    return _Idle()


def test_a_failing_build_is_raised_at_once() -> None:
    async def main() -> None:
        with pytest.raises(ValueError, match=r"^--option delay=soon: ") as raised:
            async with control_plane(
                ["picky"], specs={"picky": _reads_its_option}, options={"delay": "soon"}
            ):
                raise AssertionError("the block must not run")
        assert "building controller 'picky'" in (raised.value.__notes__ or [])

    asyncio.run(main())


def test_a_good_build_runs_the_block() -> None:
    async def main() -> None:
        async with control_plane(
            ["picky"], specs={"picky": _reads_its_option}, options={"delay": "2.5"}
        ) as cp:
            assert cp.manager.synced.is_set()
            assert set(cp.manager.controllers) == {"picky"}

    asyncio.run(main())
