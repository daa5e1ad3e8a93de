"""``ctx.event``: Events from the controller's upstream component name, through client-go's
correlator (a repeat bumps ``count`` on the first Event), and only of the types upstream
accepts."""

from __future__ import annotations

from kframe.api.models import ConfigMap, Event, Namespace, ObjectMeta
from kframe.client import EventRecorder
from kframe.controller import (
    UPSTREAM_COMPONENTS,
    ControllerContext,
    ControllerSpec,
    Result,
    done,
)
from kframe.testing.controllers import control_plane
from tests.controller.asyncrun import sync


class Noting:
    """Records a Normal event for every ConfigMap it reconciles."""

    def __init__(self, ctx: ControllerContext) -> None:
        self.ctx = ctx
        self.cms = ctx.watch(ConfigMap)

    async def reconcile(self, key: str) -> Result | None:
        obj = self.cms.store.get(key)
        if obj is not None:
            self.ctx.event(obj, "Normal", "Seen", f"saw {key}")
        return done()


def test_component_names_follow_upstream() -> None:
    assert ControllerContext("deployment", None, None).component == "deployment-controller"  # type: ignore[arg-type]
    assert UPSTREAM_COMPONENTS["nodelifecycle"] == "node-controller"
    assert UPSTREAM_COMPONENTS["endpoints"] == "endpoint-controller"


@sync
async def test_an_event_names_the_object_and_the_controller_and_repeats_are_counted() -> None:
    async with control_plane(specs={"replicaset": ControllerSpec(Noting)}) as cp:
        ctx = cp.manager.contexts["replicaset"]
        cm = await cp.client.create(ConfigMap(metadata=ObjectMeta(name="cm", namespace="default")))

        async def events() -> list[Event]:
            return list((await cp.client.list(Event, namespace="default")).items)

        found = await cp.wait_for(events, what="the event")
        (event,) = found
        assert event.reason == "Seen" and event.type == "Normal"
        assert event.source is not None and event.source.component == "replicaset-controller"
        assert event.reporting_component == "replicaset-controller"
        ref = event.involved_object
        assert ref is not None
        assert (ref.kind, ref.api_version, ref.name, ref.namespace) == (
            "ConfigMap",
            "v1",
            "cm",
            "default",
        )
        assert cm.metadata is not None and ref.uid == cm.metadata.uid
        for _ in range(3):
            ctx.event(cm, "Normal", "Seen", "saw default/cm")
        await ctx.recorder.drain()
        (event,) = await events()
        assert event.count == 4


@sync
async def test_cluster_scoped_objects_events_go_to_default_and_bad_types_are_dropped() -> None:
    async with control_plane(specs={}) as cp:
        recorder = EventRecorder(cp.client, "namespace-controller")
        ns = await cp.client.get(Namespace, "kube-public")
        recorder.event(ns, "Sideways", "Odd", "not a type upstream accepts")
        recorder.event(ConfigMap(), "Normal", "Nameless", "no metadata: dropped")
        recorder.event(ns, "Warning", "Stuck", "finalizers remain")
        await recorder.drain()
        items = (await cp.client.list(Event, namespace="default")).items
        assert [(e.type, e.reason) for e in items] == [("Warning", "Stuck")]
        ref = items[0].involved_object
        assert ref is not None and ref.kind == "Namespace" and ref.namespace is None


@sync
async def test_a_recorder_without_a_client_records_nothing() -> None:
    recorder = EventRecorder(None, "x")
    recorder.event(ConfigMap(metadata=ObjectMeta(name="a")), "Normal", "R", "m")
    await recorder.drain()
