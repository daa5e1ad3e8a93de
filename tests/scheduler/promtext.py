"""A strict little parser of the Prometheus text format (0.0.4), for the metrics tests.

Checks what a scraper relies on: every sample belongs to a family declared by ``# TYPE`` before
it, each family is declared once, label values are quoted and escaped, values are numbers, and
a histogram's buckets are cumulative, end with ``le="+Inf"`` and equal ``_count``.
"""

from __future__ import annotations

import math
import re

Labels = tuple[tuple[str, str], ...]
Samples = dict[str, dict[Labels, float]]

_NAME = r"[a-zA-Z_:][a-zA-Z0-9_:]*"
_SAMPLE = re.compile(rf"^({_NAME})(\{{(.*)\}})? (\S+)$")
_LABEL = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"(,|$)')
_KINDS = {"counter", "gauge", "histogram", "summary", "untyped"}


def _labels(text: str) -> Labels:
    out = []
    pos = 0
    while pos < len(text):
        m = _LABEL.match(text, pos)
        assert m, f"bad labels: {text!r}"
        value = m.group(2).replace("\\n", "\n").replace('\\"', '"').replace("\\\\", "\\")
        out.append((m.group(1), value))
        pos = m.end()
    names = [k for k, _ in out]
    assert len(names) == len(set(names)), f"repeated label in {text!r}"
    return tuple(out)


def _family(name: str, types: dict[str, str]) -> str:
    if name in types:
        return name
    for suffix in ("_bucket", "_sum", "_count"):
        base = name.removesuffix(suffix)
        if base != name and types.get(base) == "histogram":
            return base
    raise AssertionError(f"sample {name} before its # TYPE")


def parse(text: str) -> tuple[dict[str, str], Samples]:
    """The families' types and every sample, by metric name then label set."""
    assert text.endswith("\n")
    types: dict[str, str] = {}
    samples: Samples = {}
    for line in text.splitlines():
        if line.startswith("# TYPE "):
            _, _, name, kind = line.split(" ", 3)
            assert kind in _KINDS and name not in types, line
            types[name] = kind
            continue
        if line.startswith("#") or not line:
            continue
        m = _SAMPLE.match(line)
        assert m, f"bad sample line: {line!r}"
        name, _, labels, value = m.groups()
        _family(name, types)
        number = float(value)  # "+Inf", "NaN" parse too
        key = tuple(sorted(_labels(labels or "")))
        assert key not in samples.setdefault(name, {}), f"duplicate sample: {line}"
        samples[name][key] = number
    for name, kind in types.items():
        if kind == "histogram":
            _check_histogram(name, samples)
    return types, samples


def _check_histogram(name: str, samples: Samples) -> None:
    series: dict[Labels, list[tuple[float, float]]] = {}
    for labels, value in samples.get(f"{name}_bucket", {}).items():
        le = dict(labels)["le"]
        rest = tuple(kv for kv in labels if kv[0] != "le")
        series.setdefault(rest, []).append((float(le), value))
    for rest, buckets in series.items():
        buckets.sort()
        counts = [v for _, v in buckets]
        assert counts == sorted(counts), f"{name}{rest}: buckets not cumulative"
        assert math.isinf(buckets[-1][0]), f"{name}{rest}: no +Inf bucket"
        assert samples[f"{name}_count"][rest] == counts[-1]
        assert rest in samples[f"{name}_sum"]


def value(samples: Samples, name: str, **labels: str) -> float:
    """The sample with exactly these labels (0 when there is none, as for an unseen counter)."""
    return samples.get(name, {}).get(tuple(sorted(labels.items())), 0.0)
