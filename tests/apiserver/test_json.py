"""The API server's JSON: fast, and never a 500 for a value the fast encoder refuses."""

from __future__ import annotations

import json

from kframe.apiserver._json import dumps, loads


def test_round_trip_and_compact_form() -> None:
    value = {"a": [1, "x", None, True], "b": {"c": 1.5}}
    assert loads(dumps(value)) == value
    assert dumps(value) == json.dumps(value, separators=(",", ":")).encode()


def test_integers_beyond_64_bits_fall_back_to_the_standard_library() -> None:
    value = {"raw": {"big": 2**70}}  # free-form JSON (RawExtension) may hold anything
    assert json.loads(dumps(value)) == value
