"""The server's timestamps: metav1.Time text of the current second."""

from __future__ import annotations

import datetime as dt

from kframe.api import parse_time
from kframe.apiserver._meta import now_rfc3339


def test_now_is_the_current_second_as_metav1_time() -> None:
    before = dt.datetime.now(dt.UTC).replace(microsecond=0)
    text = now_rfc3339()
    after = dt.datetime.now(dt.UTC)
    assert len(text) == len("2026-01-02T03:04:05Z") and text.endswith("Z")
    assert before <= parse_time(text) <= after
    assert now_rfc3339() >= text  # remembered text never runs behind the clock
