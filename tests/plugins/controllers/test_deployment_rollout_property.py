"""A property of the rolling update planner: against a simulated ReplicaSet controller (pods
made and deleted at once, the unavailable ones deleted first, pods becoming available in a
random order), a rollout (and a roll-over to a third template half way) never runs more than
replicas + maxSurge pods, never has fewer than replicas - maxUnavailable available, and ends
with every pod on the newest template."""

from __future__ import annotations

import random
from typing import Any

import attrs
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from kframe.api.models import Deployment, ReplicaSet, ReplicaSetStatus
from kframe_plugins.controllers.deployment._annotations import (
    DESIRED_REPLICAS_ANNOTATION,
    MAX_REPLICAS_ANNOTATION,
    REVISION_ANNOTATION,
    max_revision,
    replicas_annotations,
)
from kframe_plugins.controllers.deployment._plan import plan_rolling
from kframe_plugins.controllers.deployment._replicas import (
    deployment_replicas,
    max_surge,
    max_unavailable,
    rs_replicas,
)
from kframe_plugins.controllers.deployment._replicasets import (
    find_new_replica_set,
    find_old_replica_sets,
    make_new_replica_set,
)
from tests.plugins.controllers.deployment_objects import deployment, replica_set


@attrs.define
class SimRS:
    """A ReplicaSet as the simulated world holds it: the object and its pods' availability."""

    rs: ReplicaSet
    pods: list[bool] = attrs.field(factory=list)

    def model(self) -> ReplicaSet:
        available = sum(self.pods)
        status = ReplicaSetStatus(
            replicas=len(self.pods), available_replicas=available, ready_replicas=available
        )
        return attrs.evolve(self.rs, status=status)

    def sync(self) -> None:
        """The ReplicaSet controller: as many pods as spec.replicas, unavailable ones (new
        ones, here) deleted first."""
        want = rs_replicas(self.rs)
        while len(self.pods) < want:
            self.pods.append(False)
        while len(self.pods) > want:
            del self.pods[self.pods.index(False) if False in self.pods else 0]


class World:
    def __init__(self, d: Deployment) -> None:
        self.d = d
        self.sets: list[SimRS] = []
        self.age = 0

    def models(self) -> list[ReplicaSet]:
        return [s.model() for s in self.sets]

    def by_uid(self, uid: str) -> SimRS:
        return next(s for s in self.sets if s.rs.metadata.uid == uid)  # type: ignore[union-attr]

    def deployment_step(self) -> None:
        """One sync of the rolling update, applied at once."""
        rss = self.models()
        new = find_new_replica_set(self.d, rss)
        olds = find_old_replica_sets(self.d, rss)
        if new is None:
            made = make_new_replica_set(self.d, olds, max_revision(olds) + 1)
            self.age += 1
            meta = attrs.evolve(
                made.metadata, uid=f"uid-{self.age}", creation_timestamp=_ts(self.age)
            )  # type: ignore[arg-type]
            self.sets.append(SimRS(attrs.evolve(made, metadata=meta)))
            return
        _, steps = plan_rolling(self.d, new, olds)
        desired = deployment_replicas(self.d)
        for step in steps:
            sim = self.by_uid(step.rs.metadata.uid)  # type: ignore[union-attr,arg-type]
            meta = sim.rs.metadata
            annotations = replicas_annotations(
                meta.annotations or {},  # type: ignore[union-attr]
                desired,
                desired + max_surge(self.d),
            )
            sim.rs = attrs.evolve(
                sim.rs,
                metadata=attrs.evolve(meta, annotations=annotations),  # type: ignore[arg-type]
                spec=attrs.evolve(sim.rs.spec, replicas=step.replicas),  # type: ignore[arg-type]
            )

    def spec_total(self) -> int:
        return sum(rs_replicas(s.rs) for s in self.sets)

    def pods(self) -> int:
        return sum(len(s.pods) for s in self.sets)

    def available(self) -> int:
        return sum(sum(s.pods) for s in self.sets)

    def settled_available(self) -> int:
        """What stays available once every ReplicaSet has caught up with its spec."""
        return sum(min(sum(s.pods), rs_replicas(s.rs)) for s in self.sets)

    def complete(self) -> bool:
        new = find_new_replica_set(self.d, self.models())
        if new is None:
            return False
        sim = self.by_uid(new.metadata.uid)  # type: ignore[union-attr,arg-type]
        replicas = deployment_replicas(self.d)
        others = [s for s in self.sets if s is not sim]
        return (
            rs_replicas(sim.rs) == replicas
            and sum(sim.pods) == replicas
            and all(not s.pods and rs_replicas(s.rs) == 0 for s in others)
        )


def _ts(seconds: int) -> Any:
    import datetime as _dt

    from tests.plugins.controllers.deployment_objects import T0

    return T0 + _dt.timedelta(seconds=seconds)


fencepost = st.one_of(
    st.integers(min_value=0, max_value=5),
    st.integers(min_value=0, max_value=100).map(lambda p: f"{p}%"),
)


@settings(max_examples=100, deadline=None)
@given(
    replicas=st.integers(min_value=1, max_value=12),
    surge=fencepost,
    unavailable=fencepost,
    roll_over_at=st.none() | st.integers(min_value=0, max_value=10),
    lazy=st.booleans(),
    rng=st.randoms(use_true_random=False),
)
def test_rolling_update_respects_surge_and_availability(
    replicas: int,
    surge: int | str,
    unavailable: int | str,
    roll_over_at: int | None,
    lazy: bool,
    rng: random.Random,
) -> None:
    """``lazy``: the ReplicaSet controller lags, so the Deployment controller also syncs on
    statuses that do not yet reflect the last scale (a scaled-down ReplicaSet still counting
    the pods it is about to delete); pods may then exceed the surge for a while, as upstream's
    terminating pods do, but what stays available never drops below the minimum."""
    d = deployment(replicas=replicas, max_surge=surge, max_unavailable=unavailable, image="v1")
    cap = replicas + max_surge(d)
    floor = replicas - max_unavailable(d)
    world = World(d)
    old = replica_set(
        "web-old",
        replicas=replicas,
        annotations={
            REVISION_ANNOTATION: "1",
            DESIRED_REPLICAS_ANNOTATION: str(replicas),
            MAX_REPLICAS_ANNOTATION: str(cap),
        },
    )
    world.sets.append(SimRS(old, [True] * replicas))
    for step in range(12 * (replicas + 3)):
        if roll_over_at is not None and step == roll_over_at:
            world.d = deployment(
                replicas=replicas, max_surge=surge, max_unavailable=unavailable, image="v2"
            )
        world.deployment_step()
        assert world.spec_total() <= cap
        for sim in world.sets:
            if not lazy or step % 4 == 3 or rng.random() > 0.7:
                sim.sync()
        if not lazy:
            assert world.pods() <= cap
        assert world.settled_available() >= floor
        if world.complete() and (roll_over_at is None or step > roll_over_at):
            break
        # Some of the pods not yet available become so: none to two a round, at least one
        # every third round (so the rollout can finish).
        waiting = [(s, i) for s in world.sets for i, ok in enumerate(s.pods) if not ok]
        rng.shuffle(waiting)
        for sim, i in waiting[: rng.randint(1 if step % 3 == 2 else 0, 2)]:
            sim.pods[i] = True
    assert world.complete(), [(s.rs.metadata.name, rs_replicas(s.rs), s.pods) for s in world.sets]  # type: ignore[union-attr]


@settings(max_examples=300, deadline=None)
@given(
    sizes=st.lists(st.integers(min_value=0, max_value=50), min_size=2, max_size=5),
    was=st.integers(min_value=1, max_value=60),
    now=st.integers(min_value=0, max_value=120),
    surge=st.integers(min_value=0, max_value=5),
    annotate=st.booleans(),
)
def test_proportional_scale_stays_in_bounds(
    sizes: list[int], was: int, now: int, surge: int, annotate: bool
) -> None:
    """A scaling event mid-rollout (upstream ``scale``): no ReplicaSet goes below 0; with
    several active, inactive ones stay at 0 (never scaled up from zero), growing reaches
    replicas + maxSurge exactly, shrinking never overshoots it (the leftover goes to the largest
    only and stops at 0, as upstream's: the rollout removes the rest); otherwise one
    ReplicaSet takes all of spec.replicas."""
    from kframe_plugins.controllers.deployment._plan import plan_proportional_scale

    assume(was != now)  # a scaling event (and so no saturated new ReplicaSet)
    d = deployment(
        replicas=now,
        max_surge=surge,
        max_unavailable=1,
        image="v9",
        status={"replicas": sum(sizes)},
    )
    # Last scaled for ``was``, when the ReplicaSets held what they hold now (max-replicas);
    # without that annotation the Deployment's status.replicas stands in, the same number.
    annotations = {DESIRED_REPLICAS_ANNOTATION: str(was)}
    if annotate:
        annotations[MAX_REPLICAS_ANNOTATION] = str(sum(sizes))
    rss = [
        replica_set(f"rs{i}", replicas=n, age=i, annotations=annotations)
        for i, n in enumerate(sizes)
    ]
    *olds, newest = rss
    new = attrs.evolve(newest, spec=attrs.evolve(newest.spec, template=d.spec.template))  # type: ignore[union-attr,arg-type]
    steps = plan_proportional_scale(d, new, olds)
    after = {rs.metadata.name: rs_replicas(rs) for rs in rss}  # type: ignore[union-attr]
    for step in steps:
        after[step.rs.metadata.name] = step.replicas  # type: ignore[union-attr]
    assert all(n >= 0 for n in after.values())
    active = [n for n in sizes if n > 0]
    if len(active) > 1:
        allowed = now + surge if now > 0 else 0
        if allowed >= sum(sizes):
            assert sum(after.values()) == allowed
        else:
            assert allowed <= sum(after.values()) <= sum(sizes)
        for rs in rss:
            if rs_replicas(rs) == 0:
                assert after[rs.metadata.name] == 0  # type: ignore[union-attr]
    else:
        # One active ReplicaSet (or, with none, the newest) takes spec.replicas.
        assert sum(after.values()) == now
