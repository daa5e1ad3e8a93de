"""Invariants of the kubelet's pure rules: back-off growth, Go durations, the pod phase."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from kframe.client import FakeClock
from kframe.kubelet import Backoff, ContainerView, go_duration, pod_phase
from kframe.runtime import ContainerMetadata, ContainerState, ContainerStatus, ImageSpec


@given(st.lists(st.floats(min_value=0, max_value=1000), max_size=30))
def test_backoff_starts_at_initial_doubles_and_is_capped(gaps: list[float]) -> None:
    clock = FakeClock()
    backoff = Backoff(clock, 10.0, 300.0)
    previous = 0.0
    for gap in gaps:
        clock.advance(gap)
        expired = previous and gap > 600.0
        delay = backoff.next("k")
        assert 10.0 <= delay <= 300.0
        if not previous or expired:
            assert delay == 10.0
        else:
            assert delay == min(previous * 2, 300.0)
        previous = delay


@given(st.integers(min_value=0, max_value=10 * 3600))
def test_go_duration_reads_back(seconds: int) -> None:
    text = go_duration(seconds)
    total, number = 0, ""
    for ch in text:
        if ch.isdigit():
            number += ch
        else:
            total += int(number) * {"h": 3600, "m": 60, "s": 1}[ch]
            number = ""
    assert total == seconds
    assert text.endswith("s") and (seconds < 60 or "m" in text)


def _view(name: str, state: str, code: int, *, init: bool = False) -> ContainerView:
    view = ContainerView(name=name, image="i", init=init)
    if state == "none":
        return view
    view.current = ContainerStatus(
        id=name,
        metadata=ContainerMetadata(name=name),
        state={"running": ContainerState.RUNNING, "exited": ContainerState.EXITED}[state],
        created_at=1,
        exit_code=code,
        image=ImageSpec(image="i"),
    )
    return view


views = st.lists(
    st.tuples(st.sampled_from(["none", "running", "exited"]), st.sampled_from([0, 1])),
    min_size=1,
    max_size=4,
)


@given(views, st.sampled_from(["Always", "OnFailure", "Never"]), st.booleans())
def test_the_phase_follows_upstream_rules(
    states: list[tuple[str, int]], policy: str, terminal: bool
) -> None:
    app = [_view(f"c{i}", s, code) for i, (s, code) in enumerate(states)]
    phase = pod_phase([], app, policy, terminal=terminal)
    if terminal:
        assert phase in ("Succeeded", "Failed")
        all_ok = all(v.exited and v.current and v.current.exit_code == 0 for v in app)
        assert (phase == "Succeeded") == all_ok
        return
    if any(s == "none" for s, _ in states):
        assert phase == "Pending"
    elif any(s == "running" for s, _ in states):
        assert phase == "Running"
    elif policy == "Always":
        assert phase == "Running"  # every container is restarting
    elif all(code == 0 for _, code in states):
        assert phase == "Succeeded"
    else:
        assert phase == ("Failed" if policy == "Never" else "Running")
