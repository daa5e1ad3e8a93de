"""ImageLocality, ported from upstream image_locality_test.go."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kframe.api.models import Pod
from kframe.scheduler import CycleState, ScoreExtensions, ScorePlugin, Snapshot
from kframe.testing.scheduler import StaticHandle, make_node, make_pod
from kframe_plugins.scheduler.imagelocality import (
    FACTORIES,
    ImageLocality,
    calculate_priority,
    normalized_image_name,
)
from kframe_plugins.scheduler.names import IMAGE_LOCALITY

MB = 1024 * 1024


def _plugin(snapshot: Snapshot) -> ImageLocality:
    plugin = FACTORIES[IMAGE_LOCALITY].new(None, StaticHandle(snapshot))
    assert isinstance(plugin, ImageLocality)
    return plugin


def test_conformance() -> None:
    plugin = _plugin(Snapshot(()))
    assert plugin.name == "ImageLocality"
    assert isinstance(plugin, ScorePlugin)
    assert not isinstance(plugin, ScoreExtensions)


def _pod(images: Sequence[str], init: Sequence[str] = ()) -> Pod:
    spec: dict[str, Any] = {
        "containers": [{"name": f"c{i}", "image": image} for i, image in enumerate(images)]
    }
    if init:
        spec["initContainers"] = [{"name": f"i{i}", "image": image} for i, image in enumerate(init)]
    return make_pod("p", spec=spec)


def _image(size_mb: int, *names: str) -> dict[str, Any]:
    return {"names": list(names), "sizeBytes": size_mb * MB}


NODE_40_300_2000 = [
    _image(40, "gcr.io/40:latest", "gcr.io/40:v1", "gcr.io/40:v1"),
    _image(300, "gcr.io/300:latest", "gcr.io/300:v1"),
    _image(2000, "gcr.io/2000:latest"),
]
NODE_250_10 = [_image(250, "gcr.io/250:latest"), _image(10, "gcr.io/10:latest", "gcr.io/10:v1")]
NODE_600_40_900 = [
    _image(600, "gcr.io/600:latest"),
    _image(40, "gcr.io/40:latest"),
    _image(900, "gcr.io/900:latest"),
]
NODE_300_600_900 = [
    _image(300, "gcr.io/300:latest"),
    _image(600, "gcr.io/600:latest"),
    _image(900, "gcr.io/900:latest"),
]
NODE_4000_30 = [_image(4000, "gcr.io/4000:latest"), _image(30, "gcr.io/30:latest")]
NODE_20_30_40 = [
    _image(20, "gcr.io/20:latest"),
    _image(30, "gcr.io/30:latest"),
    _image(40, "gcr.io/40:latest"),
]
NO_IMAGES: list[dict[str, Any]] = []

# TestImageLocalityPriority: (name, pod, node images in order, expected scores).
CASES: list[tuple[str, Pod, list[list[dict[str, Any]]], list[int]]] = [
    (
        "two images spread on two nodes, prefer the larger image one",
        _pod(["gcr.io/40", "gcr.io/250"]),
        [NODE_40_300_2000, NODE_250_10],
        [0, 5],
    ),
    (
        "two images on one node, prefer this node",
        _pod(["gcr.io/40", "gcr.io/300"]),
        [NODE_40_300_2000, NODE_250_10],
        [7, 0],
    ),
    (
        "if exceed limit, use limit",
        _pod(["gcr.io/10", "gcr.io/4000"]),
        [NODE_4000_30, NODE_250_10],
        [100, 0],
    ),
    (
        "if exceed limit, use limit (with node which has no images present)",
        _pod(["gcr.io/10", "gcr.io/4000"]),
        [NODE_4000_30, NODE_250_10, NO_IMAGES],
        [66, 0, 0],
    ),
    (
        "pod with multiple large images, node2 is preferred",
        _pod(["gcr.io/300", "gcr.io/600", "gcr.io/900"]),
        [NODE_600_40_900, NODE_300_600_900, NO_IMAGES],
        [32, 36, 0],
    ),
    (
        "pod with multiple small images",
        _pod(["gcr.io/30", "gcr.io/40"]),
        [NODE_20_30_40, NODE_4000_30],
        [1, 0],
    ),
    (
        "include InitContainers: two images spread on two nodes, prefer the larger image one",
        _pod(["gcr.io/30"], init=["gcr.io/300"]),
        [NODE_40_300_2000, NODE_20_30_40],
        [6, 0],
    ),
]


@pytest.mark.parametrize(
    ("pod", "node_images", "expected"),
    [pytest.param(*c[1:], id=f"TestImageLocalityPriority/{c[0]}") for c in CASES],
)
def test_score(pod: Pod, node_images: list[list[dict[str, Any]]], expected: list[int]) -> None:
    names = [f"node{i + 1}" for i in range(len(node_images))]
    snapshot = Snapshot.build(
        [make_node(n, images=imgs) for n, imgs in zip(names, node_images, strict=True)]
    )
    plugin = _plugin(snapshot)
    state = CycleState()
    assert [plugin.score(state, pod, snapshot.get(n)) for n in names] == expected


def _fake_digest(content: str) -> str:
    return "sha256:" + hashlib.sha256(content.encode()).hexdigest()


@pytest.mark.parametrize(
    ("name", "want"),
    [
        pytest.param("root", "root:latest", id="TestNormalizedImageName/add :latest postfix 1"),
        pytest.param(
            "gcr.io:5000/root",
            "gcr.io:5000/root:latest",
            id="TestNormalizedImageName/add :latest postfix 2",
        ),
        pytest.param("root:tag", "root:tag", id="TestNormalizedImageName/keep it as is 1"),
        pytest.param(
            "root@" + _fake_digest("root"),
            "root@" + _fake_digest("root"),
            id="TestNormalizedImageName/keep it as is 2",
        ),
    ],
)
def test_normalized_image_name(name: str, want: str) -> None:
    assert normalized_image_name(name) == want


def test_scores_follow_the_snapshot_of_each_cycle() -> None:
    # The spread is over all nodes of the current snapshot, read at Score time.
    nodes = [make_node("node1", images=NODE_250_10), make_node("node2")]
    handle = StaticHandle(Snapshot.build(nodes[:1]))
    plugin = FACTORIES[IMAGE_LOCALITY].new(None, handle)
    assert isinstance(plugin, ImageLocality)
    pod = _pod(["gcr.io/250"])
    assert plugin.score(CycleState(), pod, handle.snapshot().get("node1")) == 23
    handle.set_snapshot(Snapshot.build(nodes))
    assert plugin.score(CycleState(), pod, handle.snapshot().get("node1")) == 10


@given(st.integers(0, 10**13), st.integers(0, 8))
def test_priority_in_range(total: int, containers: int) -> None:
    assert 0 <= calculate_priority(total, containers) <= 100
