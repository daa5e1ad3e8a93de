"""pod_requests / pod_limits: upstream's PodRequests and PodLimits (component-helpers)."""

from __future__ import annotations

from typing import Any

from kframe.api import Quantity, pod_limits, pod_requests, resource_list


def c(name: str, cpu: str, restart: str | None = None, limit: str | None = None) -> dict[str, Any]:
    container: dict[str, Any] = {"name": name, "resources": {"requests": {"cpu": cpu}}}
    if limit:
        container["resources"]["limits"] = {"cpu": limit}
    if restart:
        container["restartPolicy"] = restart
    return container


def cpu(resources: dict[str, Quantity]) -> str:
    return str(resources["cpu"])


def test_containers_add_up_and_init_containers_take_the_max() -> None:
    spec = {"containers": [c("a", "100m"), c("b", "200m")], "initContainers": [c("i", "1")]}
    assert cpu(pod_requests(spec)) == "1"
    spec["initContainers"] = [c("i", "250m")]
    assert cpu(pod_requests(spec)) == "300m"


def test_sidecars_count_for_the_whole_pod_and_for_later_init_containers() -> None:
    # TestPodRequestsAndLimits "restartable init containers" cases: the sidecar runs alongside
    # both the later init container and the regular containers.
    spec = {
        "containers": [c("a", "100m")],
        "initContainers": [c("side", "200m", restart="Always"), c("init", "500m")],
    }
    assert cpu(pod_requests(spec)) == "700m"  # max(200m + 500m, 100m + 200m)


def test_overhead_is_added_to_requests_and_to_set_limits_only() -> None:
    spec = {"containers": [c("a", "100m", limit="1")], "overhead": {"cpu": "50m", "memory": "10Mi"}}
    assert pod_requests(spec) == {"cpu": Quantity("150m"), "memory": Quantity("10Mi")}
    assert pod_limits(spec) == {"cpu": Quantity("1050m")}
    assert pod_requests(spec, overhead=False) == {"cpu": Quantity("100m")}


def test_unparsable_quantities_are_left_out() -> None:
    assert resource_list({"cpu": "1", "memory": "lots", "x": None}) == {"cpu": Quantity(1)}
