"""The userspace backend's round-robin balancer (upstream's LoadBalancerRR): pure logic."""

from __future__ import annotations

from collections import Counter

from hypothesis import given
from hypothesis import strategies as st

from kframe_plugins.proxy.userspace import RoundRobin


class Clock:
    def __init__(self) -> None:
        self.t = 1000.0

    def __call__(self) -> float:
        return self.t


def endpoints(n: int) -> list[str]:
    return [f"10.244.0.{i + 1}:8080" for i in range(n)]


@given(n=st.integers(1, 12), k=st.integers(1, 8), clients=st.integers(1, 5))
def test_without_affinity_each_of_n_endpoints_gets_exactly_k_of_k_times_n_picks(
    n: int, k: int, clients: int
) -> None:
    rr = RoundRobin(Clock())
    rr.update("svc", endpoints(n))
    picks = Counter(rr.next("svc", f"192.168.0.{i % clients}") for i in range(k * n))
    assert picks == {ep: k for ep in endpoints(n)}


@given(
    n=st.integers(1, 8),
    steps=st.lists(
        st.tuples(
            st.sampled_from(["pick", "update", "tick"]),
            st.integers(0, 5),
            st.sets(st.integers(0, 7)),
        ),
        max_size=40,
    ),
)
def test_with_affinity_a_client_keeps_its_endpoint_while_it_stays_ready(
    n: int, steps: list[tuple[str, int, set[int]]]
) -> None:
    clock = Clock()
    rr = RoundRobin(clock)
    ttl = 10
    pool = endpoints(n)
    rr.update("svc", pool, affinity_seconds=ttl)
    # the model: client -> (endpoint, last use); a client keeps its endpoint while that is in
    # the pool and it used it less than ttl ago
    model: dict[str, tuple[str, float]] = {}
    for action, number, keep in steps:
        client = f"192.168.0.{number}"
        if action == "pick":
            got = rr.next("svc", client)
            assert got is not None and got in pool
            if client in model and clock.t - model[client][1] < ttl:
                assert got == model[client][0]
            model[client] = (got, clock.t)
        elif action == "update":
            # readiness changes: a subset stays (never empty), in the order the proxy sorts it
            pool = [ep for i, ep in enumerate(endpoints(n)) if i in keep] or endpoints(n)[:1]
            rr.update("svc", pool, affinity_seconds=ttl)
            model = {c: v for c, v in model.items() if v[0] in pool}
        else:
            clock.t += number * 2.5  # 0 to 12.5 s: within or past the timeout


def test_affinity_expires_after_the_timeout_and_a_reset_ignores_it() -> None:
    clock = Clock()
    rr = RoundRobin(clock)
    rr.update("svc", endpoints(3), affinity_seconds=10)
    a = rr.next("svc", "1.1.1.1")
    assert a == "10.244.0.1:8080"
    assert rr.next("svc", "2.2.2.2") == "10.244.0.2:8080"
    clock.t += 9.9
    assert rr.next("svc", "1.1.1.1") == a  # refreshes last use
    clock.t += 9.9
    assert rr.next("svc", "1.1.1.1") == a
    clock.t += 10
    assert rr.next("svc", "1.1.1.1") == "10.244.0.3:8080"  # expired: the next in turn
    assert rr.next("svc", "1.1.1.1", reset=True) == "10.244.0.1:8080"
    assert rr.next("svc", "1.1.1.1") == "10.244.0.1:8080"  # the reset pick sticks


def test_empty_and_unknown_pools_give_nothing_and_changes_restart_the_rotation() -> None:
    rr = RoundRobin(Clock())
    assert rr.next("nope") is None
    rr.update("svc", [])
    assert rr.next("svc") is None
    rr.update("svc", endpoints(3))
    assert [rr.next("svc") for _ in range(2)] == endpoints(3)[:2]
    rr.update("svc", endpoints(3))  # unchanged: the rotation goes on
    assert rr.next("svc") == endpoints(3)[2]
    rr.update("svc", endpoints(2))
    assert rr.next("svc") == endpoints(2)[0]
    rr.remove("svc")
    assert rr.pools() == [] and rr.next("svc") is None


def test_turning_affinity_off_forgets_clients() -> None:
    rr = RoundRobin(Clock())
    rr.update("svc", endpoints(2), affinity_seconds=100)
    assert rr.next("svc", "c") == rr.next("svc", "c")
    rr.update("svc", endpoints(2))
    assert rr.next("svc", "c") != rr.next("svc", "c")
