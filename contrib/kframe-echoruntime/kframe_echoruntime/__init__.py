"""kframe-echoruntime: a container runtime that plays echo, sleep and exit scripts.

Registered as runtime ``echo`` (``kframe kubelet --runtime echo``). A container's command is
read as a tiny script (``sh -c 'echo start; sleep 5; echo done'``): its lines appear in
``kubectl logs`` as time passes them and it exits when the script ends, with no process behind
it. It is cheaper than the ``process`` runtime and more telling than ``fake`` for Job-style
demos and log tests, and it is the worked example of docs/tutorial-runtime.md: a separate
distribution using kframe's public API only, declaring what it lacks in its capabilities.

kframe finds this module through the ``kframe`` entry-point group of this distribution
(``echoruntime = "kframe_echoruntime"``) and calls :func:`kframe_container_runtimes`.
"""

from __future__ import annotations

from collections.abc import Mapping

from kframe.registry import hookimpl
from kframe.runtime import Runtime, RuntimeFactory, RuntimeOptions, SystemClock

from ._program import Line, Program, parse_program, parse_sleep
from ._runtime import NAME, EchoRuntime, ExecTimeoutError

__all__ = [
    "NAME",
    "EchoRuntime",
    "ExecTimeoutError",
    "Line",
    "Program",
    "kframe_container_runtimes",
    "open_echo_runtime",
    "parse_program",
    "parse_sleep",
]


async def open_echo_runtime(options: RuntimeOptions) -> Runtime:
    """The runtime factory: a fresh echo runtime for one node (``config``: ``host_ip``)."""
    clock = options.clock if options.clock is not None else SystemClock()
    return EchoRuntime.from_config(clock, options.config)


_factory: RuntimeFactory = open_echo_runtime
_conforms: type[Runtime] = EchoRuntime  # checked by mypy: EchoRuntime is a Runtime


@hookimpl
def kframe_container_runtimes() -> Mapping[str, object]:
    """Register the echo runtime under its name."""
    return {NAME: open_echo_runtime}
