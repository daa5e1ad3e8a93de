"""ImageLocality: prefers nodes that already have the pod's container images, weighed by image
size and by how widely the image has spread across the cluster
(upstream pkg/scheduler/framework/plugins/imagelocality).

Score only, no normalizing: each image already on the node adds its size scaled by the fraction
of all nodes that have it; the sum is clamped to [23MB, 1000MB x containers] and mapped onto
[0, 100]. Init containers count, as upstream counts them.
"""

from __future__ import annotations

from collections.abc import Sequence

from kframe.api.models import Pod
from kframe.scheduler import (
    MAX_NODE_SCORE,
    BatchScorePlugin,
    CycleState,
    Handle,
    ImageStateSummary,
    NodeInfo,
    PluginFactory,
)

from ..names import IMAGE_LOCALITY

__all__ = [
    "FACTORIES",
    "MAX_CONTAINER_THRESHOLD",
    "MIN_THRESHOLD",
    "ImageLocality",
    "calculate_priority",
    "normalized_image_name",
]

MB = 1024 * 1024
# The bounds of the image score range: roughly the sizes of compressed images in registries.
MIN_THRESHOLD = 23 * MB
MAX_CONTAINER_THRESHOLD = 1000 * MB


def normalized_image_name(name: str) -> str:
    """The CRI name of an image: ``:latest`` appended when the reference has no tag."""
    if name.rfind(":") <= name.rfind("/"):
        return name + ":latest"
    return name


def scaled_image_score(state: ImageStateSummary, total_num_nodes: int) -> int:
    """The image's size scaled by its spread (float64 arithmetic, truncated as Go's int64())."""
    spread = float(state.num_nodes) / float(total_num_nodes)
    return int(float(state.size) * spread)


def calculate_priority(sum_scores: int, num_containers: int) -> int:
    """``sum_scores`` clamped to the thresholds and mapped onto [0, 100] (integer division)."""
    max_threshold = MAX_CONTAINER_THRESHOLD * num_containers
    if sum_scores < MIN_THRESHOLD:
        sum_scores = MIN_THRESHOLD
    elif sum_scores > max_threshold:
        sum_scores = max_threshold
    numerator = MAX_NODE_SCORE * (sum_scores - MIN_THRESHOLD)
    denominator = max_threshold - MIN_THRESHOLD
    # Go divides toward zero; the numerator is never negative, the denominator only is when the
    # pod has no containers (and then the numerator is 0).
    quotient = abs(numerator) // abs(denominator)
    return quotient if (numerator >= 0) == (denominator > 0) else -quotient


class ImageLocality:
    name = IMAGE_LOCALITY

    def __init__(self, handle: Handle) -> None:
        self._handle = handle
        # The last pod scored and its normalized image names (init containers first): Score runs
        # once per node for the same pod object, and upstream has no PreScore to compute them.
        self._pod: Pod | None = None
        self._images: tuple[str, ...] = ()

    def _pod_images(self, pod: Pod) -> tuple[str, ...]:
        if pod is not self._pod:
            spec = pod.spec
            containers = (*spec.init_containers, *spec.containers) if spec is not None else ()
            self._images = tuple(normalized_image_name(c.image or "") for c in containers)
            self._pod = pod
        return self._images

    def score(self, state: CycleState, pod: Pod, node_info: NodeInfo) -> int:
        images = self._pod_images(pod)
        states = node_info.image_states
        total = 0
        if states:
            total_num_nodes = len(self._handle.snapshot())
            for image in images:
                summary = states.get(image)
                if summary is not None:
                    total += scaled_image_score(summary, total_num_nodes)
        return calculate_priority(total, len(images))

    def score_nodes(self, state: CycleState, pod: Pod, nodes: Sequence[NodeInfo]) -> list[int]:
        images = self._pod_images(pod)
        # A node without images scores the same as every other such node: compute it once.
        # The snapshot knows whether any node has images at all.
        bare = calculate_priority(0, len(images))
        if not self._handle.snapshot().have_images():
            return [bare] * len(nodes)
        score = self.score
        return [score(state, pod, n) if n.image_states else bare for n in nodes]


def _new(args: None, handle: Handle) -> ImageLocality:
    return ImageLocality(handle)


_score: type[BatchScorePlugin] = ImageLocality

FACTORIES = {IMAGE_LOCALITY: PluginFactory(new=_new)}
