"""Hypothesis entry point: makes ``st.from_type(Pod)`` (any model class) use kframe's strategies.

Hypothesis calls :func:`_hypothesis_setup_hook` when it is imported, through the ``hypothesis``
entry-point group in kframe's ``pyproject.toml``.
"""

from __future__ import annotations

import inspect

import attrs
from hypothesis import strategies as st


def _hypothesis_setup_hook() -> None:
    from kframe.api import models
    from kframe.testing._models import objects

    for module in [models, *(getattr(models, n) for n in models.__all__ if "_v" in n)]:
        for _, cls in inspect.getmembers(module, inspect.isclass):
            if attrs.has(cls) and cls.__module__.startswith("kframe.api.models"):
                st.register_type_strategy(cls, objects(cls))
