"""open_runtime: a runtime by its registered name, through the registry."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping

import pytest

from kframe.registry import UnknownNameError, build_registry, hookimpl
from kframe.runtime import InvalidArgumentError, Runtime, RuntimeOptions, open_runtime


class _Plugin:
    @hookimpl
    def kframe_container_runtimes(self) -> Mapping[str, object]:
        async def not_a_runtime(options: RuntimeOptions) -> object:
            return object()

        return {"broken": not_a_runtime, "constant": 42}


def test_opens_the_fake_runtime_by_name() -> None:
    async def main() -> None:
        runtime = await open_runtime("fake", RuntimeOptions(node_name="n1"))
        assert isinstance(runtime, Runtime) and runtime.name == "fake"
        await runtime.close()

    asyncio.run(main())


def test_unknown_and_broken_runtimes_fail_with_one_line() -> None:
    registry = build_registry(entry_points=False, plugins=[("bad", _Plugin())])
    with pytest.raises(UnknownNameError, match="available: broken, constant"):
        asyncio.run(open_runtime("nope", registry=registry))
    with pytest.raises(InvalidArgumentError, match="factory returned object"):
        asyncio.run(open_runtime("broken", registry=registry))
    with pytest.raises(InvalidArgumentError, match="non-callable factory"):
        asyncio.run(open_runtime("constant", registry=registry))
