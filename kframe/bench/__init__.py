"""``kframe bench``: benchmarks that print one JSON object per result on stdout.

Each target is a small command (``help``, ``configure``, ``run``), listed in :data:`TARGETS`;
later components add theirs here.
"""

from __future__ import annotations

from kframe.bench._store import StoreBench

__all__ = ["TARGETS"]

#: Target name -> factory of its command.
TARGETS = {"store": StoreBench}
