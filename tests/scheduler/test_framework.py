"""The framework's machinery: profile building (multiPoint expansion, weights, errors) and the
semantics of each extension point, with small plugins from toyplugins."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from kframe.scheduler import (
    Code,
    ConfigError,
    CycleState,
    Framework,
    PluginRef,
    Plugins,
    PluginSet,
    Profile,
    SchedulingError,
    Snapshot,
    Status,
)
from kframe.testing.scheduler import make_node, make_pod
from tests.scheduler import toyplugins as toy


def ref(name: str, weight: int | None = None) -> PluginRef:
    return PluginRef(name=name, weight=weight)


def profile(
    multi: tuple[str | PluginRef, ...] = (), config: tuple[Any, ...] = (), **points: Any
) -> Profile:
    def pset(value: Any) -> PluginSet:
        if isinstance(value, PluginSet):
            return value
        return PluginSet(enabled=tuple(ref(v) if isinstance(v, str) else v for v in value))

    return Profile(
        plugins=Plugins(multi_point=pset(multi), **{k: pset(v) for k, v in points.items()}),
        plugin_config=config,
    )


def framework(p: Profile, **extra: Any) -> Framework:
    return Framework(p, toy.lookup(toy.factories(**extra)))


BASE = ("Sort", "Binder")


def names(plugins: list[Any]) -> list[str]:
    return [pl.name for pl in plugins]


def test_multi_point_expands_into_every_point_a_plugin_implements() -> None:
    fwk = framework(profile((*BASE, "ByName", "Constant"), pre_bind=()))
    assert names(fwk.score_plugins) == ["ByName", "Constant"]
    assert fwk.score_weights == {"ByName": 1, "Constant": 1}
    assert names(fwk.bind_plugins) == ["Binder"]
    assert fwk.filter_plugins == []


def test_explicit_point_settings_win_over_multi_point_and_keep_their_order() -> None:
    fwk = framework(
        profile(
            (*BASE, ref("ByName", 2), ref("Constant", 3)),
            score=PluginSet(enabled=(ref("Constant", 5),)),
        )
    )
    # The explicitly enabled plugin comes first, with its own weight.
    assert names(fwk.score_plugins) == ["Constant", "ByName"]
    assert fwk.score_weights == {"Constant": 5, "ByName": 2}


def test_disabled_at_one_point_drops_a_multi_point_plugin_there_only() -> None:
    fwk = framework(
        profile(
            (*BASE, "ByName"),
            score=PluginSet(disabled=(ref("ByName"),)),
        )
    )
    assert fwk.score_plugins == []
    assert fwk.plugins["ByName"] is not None


@pytest.mark.parametrize(
    ("p", "message"),
    [
        (profile(("Binder",)), "only one queue sort plugin required"),
        (profile(("Sort",)), "at least one bind plugin is needed"),
        (profile((*BASE, "Nope")), "plugin 'Nope' does not exist"),
        (profile(BASE, filter=("ByName",)), "plugin 'ByName' does not extend FilterPlugin"),
        (profile(BASE, score=("ByName", "ByName")), "already registered as 'ScorePlugin'"),
        (profile((*BASE, "ByName", "ByName")), "already registered as 'ScorePlugin'"),
    ],
)
def test_profiles_kube_scheduler_would_refuse(p: Profile, message: str) -> None:
    with pytest.raises(ConfigError) as info:
        framework(p)
    assert message in str(info.value)


def test_plugin_args_come_from_plugin_config_strictly() -> None:
    fwk = framework(
        profile(
            (*BASE, "RejectNode"),
            config=(_pc("RejectNode", {"kind": "RejectNodeArgs", "names": ["n1"]}),),
        )
    )
    assert fwk.plugins["RejectNode"].names == {"n1"}  # type: ignore[attr-defined]
    with pytest.raises(ConfigError, match=r"decoding args for plugin .RejectNode.*unknown field"):
        framework(profile((*BASE, "RejectNode"), config=(_pc("RejectNode", {"nmes": []}),)))


def _pc(name: str, args: dict[str, Any]) -> Any:
    from kframe.scheduler import PluginConfig

    return PluginConfig(name=name, args=args)


def nodes(*names: str) -> Snapshot:
    return Snapshot.build([make_node(n) for n in names])


def test_filter_answers_the_first_rejecting_plugin_with_its_name() -> None:
    fwk = framework(profile((*BASE, "RejectNode"), config=(_pc("RejectNode", {"names": ["a"]}),)))
    snap = nodes("a", "b")
    pod = make_pod("p")
    status = fwk.run_filter_plugins(CycleState(), pod, snap.get("a"))
    assert status == Status(Code.UNSCHEDULABLE, "rejected a", plugin="RejectNode")
    assert fwk.run_filter_plugins(CycleState(), pod, snap.get("b")) is None


def test_a_filter_answering_another_code_is_an_error() -> None:
    bad = toy.RejectNode(["a"], Code.WAIT)
    fwk = framework(profile((*BASE, "Bad")), Bad=bad)
    status = fwk.run_filter_plugins(CycleState(), make_pod("p"), nodes("a").get("a"))
    assert status is not None and status.code is Code.ERROR
    assert "running 'RejectNode' filter plugin" in status.message


def test_pre_filter_results_intersect_and_an_empty_intersection_is_unresolvable() -> None:
    fwk = framework(
        profile((*BASE, "A", "B")), A=toy.Only("A", ["n1", "n2"]), B=toy.Only("B", ["n2"])
    )
    snap = nodes("n1", "n2", "n3")
    result, status, narrowing = fwk.run_pre_filter_plugins(CycleState(), make_pod("p"), snap.list())
    assert status is None and result is not None
    assert result.node_names == {"n2"} and narrowing == {"A", "B"}
    fwk = framework(profile((*BASE, "A", "B")), A=toy.Only("A", ["n1"]), B=toy.Only("B", ["n2"]))
    result, status, _ = fwk.run_pre_filter_plugins(CycleState(), make_pod("p"), snap.list())
    assert status == Status(
        Code.UNSCHEDULABLE_AND_UNRESOLVABLE,
        "node(s) didn't satisfy plugin(s) [A B] simultaneously",
    )


def test_pre_filter_skip_skips_that_plugins_filter() -> None:
    toy.CALLS.clear()
    fwk = framework(profile((*BASE, "A")), A=toy.Only("A", []))
    state = CycleState()
    snap = nodes("n1")
    fwk.run_pre_filter_plugins(state, make_pod("p"), snap.list())
    assert state.skip_filter_plugins == {"A"}
    assert fwk.run_filter_plugins(state, make_pod("p"), snap.get("n1")) is None
    assert toy.CALLS == []


def test_scores_are_normalized_then_weighted() -> None:
    fwk = framework(profile((*BASE, ref("ByName", 2), ref("Constant", 3))))
    snap = nodes("n1", "n5")
    totals, details = fwk.run_score_plugins(CycleState(), make_pod("p"), snap.list(), keep_raw=True)
    assert totals == [10 * 2 + 7 * 3, 50 * 2 + 7 * 3]
    by_name = {d.plugin: d for d in details}
    assert by_name["ByName"].raw == [1, 5] and by_name["ByName"].normalized == [10, 50]


def test_a_score_out_of_range_after_normalizing_fails_the_cycle() -> None:
    fwk = framework(profile((*BASE, "Big")), Big=toy.Constant(101, "Big"))
    with pytest.raises(SchedulingError, match="invalid score 101"):
        fwk.run_score_plugins(CycleState(), make_pod("p"), nodes("n1").list())


def test_unreserve_runs_in_reverse_order() -> None:
    toy.CALLS.clear()
    fwk = framework(profile((*BASE, "R1", "R2")), R1=toy.Recorder("R1"), R2=toy.Recorder("R2"))
    pod = make_pod("p")
    assert fwk.run_reserve_plugins(CycleState(), pod, "n1") is None
    fwk.run_unreserve_plugins(CycleState(), pod, "n1")
    assert toy.CALLS == ["reserve R1", "reserve R2", "unreserve R2", "unreserve R1"]


def test_permit_wait_until_allowed_rejected_or_timed_out() -> None:
    async def main() -> None:
        fwk = framework(profile((*BASE, "W")), W=toy.Recorder("W", Status(Code.WAIT), timeout=60))
        pod = make_pod("p")
        status = fwk.run_permit_plugins(CycleState(), pod, "n1")
        assert status is not None and status.code is Code.WAIT
        waiting = fwk.waiting_pods.get_for(pod)
        assert waiting is not None and waiting.pending_plugins == ["W"]
        task = asyncio.create_task(fwk.wait_on_permit(pod))
        await asyncio.sleep(0)
        waiting.allow("W")
        assert await task is None
        assert fwk.waiting_pods.get_for(pod) is None

        fwk.run_permit_plugins(CycleState(), pod, "n1")
        task = asyncio.create_task(fwk.wait_on_permit(pod))
        await asyncio.sleep(0)
        fwk.waiting_pods.get_for(pod).reject("W", "no")  # type: ignore[union-attr]
        assert await task == Status(Code.UNSCHEDULABLE, "no", plugin="W")

        fast = framework(
            profile((*BASE, "W")), W=toy.Recorder("W", Status(Code.WAIT), timeout=0.01)
        )
        fast.run_permit_plugins(CycleState(), pod, "n1")
        status = await fast.wait_on_permit(pod)
        assert status is not None and status.code is Code.UNSCHEDULABLE
        assert "rejected due to timeout after waiting 0.01s at plugin W" in status.message

    asyncio.run(main())


def test_bind_skips_to_the_next_binder() -> None:
    toy.CALLS.clear()
    fwk = framework(
        profile(("Sort",), bind=("SkipBinder", "Binder")),
    )
    status = asyncio.run(fwk.run_bind_plugins(CycleState(), make_pod("p"), "n1"))
    assert status.success and status.plugin == "Binder"
    assert toy.CALLS == ["bind n1"]


def test_the_default_profile_builds_from_the_installed_plugins() -> None:
    from kframe.registry import build_registry
    from kframe.scheduler import parse_config, registry_factories

    config = parse_config({})
    fwk = Framework(config.profiles[0], registry_factories(build_registry()))
    assert fwk.queue_sort.name == "PrioritySort"
    assert names(fwk.bind_plugins) == ["DefaultBinder"]
    assert fwk.score_weights["TaintToleration"] == 3
