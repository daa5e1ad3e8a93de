"""The ``fake`` container runtime: CRI without processes, for simulating many nodes (as KWOK).

Registered as runtime ``fake`` through ``kframe_container_runtimes``. Its factory takes
:class:`kframe.runtime.RuntimeOptions`; ``options.config`` is decoded as a
:class:`FakeRuntimeConfig` and ``options.clock`` (if given) is the clock it reads. Per-pod
behaviour comes from ``fake.kframe.io/...`` annotations (:data:`ANNOTATIONS`). In code, build
one directly with ``FakeRuntime(FakeRuntimeConfig(...), clock)``. docs/runtime.md lists every
knob.
"""

from __future__ import annotations

from collections.abc import Mapping

from kframe.registry import hookimpl
from kframe.runtime import Runtime, RuntimeFactory, RuntimeOptions, SystemClock

from ._config import ANNOTATION_PREFIX, ANNOTATIONS, FakeRuntimeConfig, parse_duration
from ._exec import run_command
from ._images import FakeImages, image_id, normalize_image
from ._runtime import FakeRuntime

__all__ = [
    "ANNOTATIONS",
    "ANNOTATION_PREFIX",
    "FakeImages",
    "FakeRuntime",
    "FakeRuntimeConfig",
    "image_id",
    "kframe_container_runtimes",
    "normalize_image",
    "open_fake_runtime",
    "parse_duration",
    "run_command",
]


async def open_fake_runtime(options: RuntimeOptions) -> Runtime:
    """The runtime factory: a fresh fake runtime for one node."""
    config = FakeRuntimeConfig.from_mapping(options.config)
    return FakeRuntime(config, options.clock if options.clock is not None else SystemClock())


_factory: RuntimeFactory = open_fake_runtime
_conforms: type[Runtime] = FakeRuntime  # FakeRuntime is a Runtime, checked by mypy


@hookimpl
def kframe_container_runtimes() -> Mapping[str, object]:
    return {"fake": open_fake_runtime}
