"""``kframe bench``: benchmarks that print one JSON object per result on stdout.

Each target is a small command (``help``, ``configure``, ``run``), listed in :data:`TARGETS`;
later components add theirs here.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from typing import Protocol

from kframe.bench._apiserver import ApiserverBench
from kframe.bench._controllers import ControllersBench
from kframe.bench._density import DensityBench
from kframe.bench._dns import DnsBench
from kframe.bench._kubelet import KubeletBench
from kframe.bench._proxy import ProxyBench
from kframe.bench._scheduler import SchedulerBench
from kframe.bench._store import StoreBench

__all__ = ["TARGETS", "BenchTarget"]


class BenchTarget(Protocol):
    help: str

    def configure(self, parser: argparse.ArgumentParser) -> None: ...

    def run(self, args: argparse.Namespace) -> int: ...


#: Target name -> factory of its command.
TARGETS: dict[str, Callable[[], BenchTarget]] = {
    "store": StoreBench,
    "apiserver": ApiserverBench,
    "scheduler": SchedulerBench,
    "kubelet": KubeletBench,
    "density": DensityBench,
    "controllers": ControllersBench,
    "proxy": ProxyBench,
    "dns": DnsBench,
}
