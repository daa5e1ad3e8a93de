"""Expectations against a model of upstream's ControllerExpectations (controller_utils.go): per
key, adds and deletes still to observe and when they were set; satisfied once both are <= 0,
when nothing was recorded, or when the record is older than ExpectationsTimeout (5 minutes).
Raising or lowering keeps the record's time, as upstream's atomic adds do."""

from __future__ import annotations

import hypothesis.strategies as st
from hypothesis import settings
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule

from kframe.client import FakeClock
from kframe.controller import EXPECTATIONS_TIMEOUT, Expectations

KEYS = st.sampled_from(["ns/a", "ns/b", "other/c"])
COUNTS = st.integers(0, 5)


class ExpectationsMachine(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.clock = FakeClock()
        self.exp = Expectations(self.clock)
        self.model: dict[str, list[float]] = {}  # key -> [adds, deletes, set at]

    @rule(key=KEYS, adds=COUNTS, deletes=COUNTS)
    def expect(self, key: str, adds: int, deletes: int) -> None:
        self.exp.expect(key, adds=adds, deletes=deletes)
        self.model[key] = [adds, deletes, self.clock.now()]

    @rule(key=KEYS, adds=COUNTS)
    def expect_creations(self, key: str, adds: int) -> None:
        self.exp.expect_creations(key, adds)
        self.model[key] = [adds, 0, self.clock.now()]

    @rule(key=KEYS, deletes=COUNTS)
    def expect_deletions(self, key: str, deletes: int) -> None:
        self.exp.expect_deletions(key, deletes)
        self.model[key] = [0, deletes, self.clock.now()]

    @rule(key=KEYS, adds=COUNTS, deletes=COUNTS)
    def raise_expectations(self, key: str, adds: int, deletes: int) -> None:
        self.exp.raise_expectations(key, adds=adds, deletes=deletes)
        if key in self.model:
            self.model[key][0] += adds
            self.model[key][1] += deletes
        else:
            self.model[key] = [adds, deletes, self.clock.now()]

    @rule(key=KEYS, adds=COUNTS, deletes=COUNTS)
    def lower_expectations(self, key: str, adds: int, deletes: int) -> None:
        self.exp.lower_expectations(key, adds=adds, deletes=deletes)
        if key in self.model:
            self.model[key][0] -= adds
            self.model[key][1] -= deletes

    @rule(key=KEYS)
    def creation_observed(self, key: str) -> None:
        self.exp.creation_observed(key)
        if key in self.model:
            self.model[key][0] -= 1

    @rule(key=KEYS)
    def deletion_observed(self, key: str) -> None:
        self.exp.deletion_observed(key)
        if key in self.model:
            self.model[key][1] -= 1

    @rule(key=KEYS)
    def delete(self, key: str) -> None:
        self.exp.delete(key)
        self.model.pop(key, None)

    @rule(seconds=st.sampled_from([0.0, 1.0, 60.0, EXPECTATIONS_TIMEOUT, 301.0]))
    def advance(self, seconds: float) -> None:
        self.clock.advance(seconds)

    @invariant()
    def agrees_with_the_model(self) -> None:
        for key in ("ns/a", "ns/b", "other/c"):
            record = self.model.get(key)
            if record is None:
                assert self.exp.satisfied(key)
                assert self.exp.pending(key) == (0, 0)
                continue
            adds, deletes, at = record
            fulfilled = adds <= 0 and deletes <= 0
            expired = self.clock.now() - at > EXPECTATIONS_TIMEOUT
            assert self.exp.satisfied(key) == (fulfilled or expired), (key, record)
            assert self.exp.pending(key) == (max(0, int(adds)), max(0, int(deletes)))


TestExpectations = ExpectationsMachine.TestCase
TestExpectations.settings = settings(max_examples=60, stateful_step_count=30, deadline=None)


def test_an_expectation_blocks_until_observed() -> None:
    exp = Expectations(FakeClock())
    exp.expect_creations("ns/rs", 2)
    assert not exp.satisfied("ns/rs")
    exp.creation_observed("ns/rs")
    assert not exp.satisfied("ns/rs") and exp.pending("ns/rs") == (1, 0)
    exp.creation_observed("ns/rs")
    assert exp.satisfied("ns/rs")
