"""Pulling a container's image by its ``imagePullPolicy``, as upstream's image manager.

``Always`` pulls each time, ``IfNotPresent`` (the default unless the tag is ``latest`` or
missing) only when the runtime lacks it, ``Never`` fails with ``ErrImageNeverPull``. A failed
pull is ``ErrImagePull``; while its back-off (10 s doubling to 5 min) runs the container waits
in ``ImagePullBackOff``. Each step is an event, in upstream's words.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from kframe.api.models import Container
from kframe.kubelet._backoff import go_duration_ms
from kframe.kubelet._status import ContainerView
from kframe.runtime import ImagePullError, ImageSpec

if TYPE_CHECKING:
    from kframe.kubelet._worker import PodWorker

__all__ = ["pull_image"]


async def pull_image(worker: PodWorker, container: Container, view: ContainerView) -> str | None:
    """The image ref to create the container from, or None (the view says why)."""
    kubelet = worker.kubelet
    images = kubelet.runtime.image_service
    image = container.image or ""
    spec = ImageSpec(image=image)
    policy = container.image_pull_policy or (
        "Always"
        if ":" not in image.rsplit("/", 1)[-1] or image.endswith(":latest")
        else "IfNotPresent"
    )
    key = f"{worker.uid}/{container.name}/image"
    name = container.name or ""
    present = None if policy == "Always" else await images.image_status(spec)
    if present is not None:
        worker.event(
            "Normal", "Pulled", f'Container image "{image}" already present on machine', name
        )
        return present.id
    if policy == "Never":
        view.waiting_reason = "ErrImageNeverPull"
        view.waiting_message = f'Container image "{image}" is not present with pull policy of Never'
        worker.event("Warning", "ErrImageNeverPull", view.waiting_message, name)
        return None
    seen = kubelet.image_failures.get(key)
    # A failed sync is retried after upstream's workerBackOffPeriod (10 s, jittered by
    # half), so a second failure usually finds the image back-off still running.
    retry = 10.0 * (1 + 0.5 * kubelet.rng.random())
    if seen is not None and kubelet.backoff.in_backoff_since(key, seen):
        view.waiting_reason = "ImagePullBackOff"
        view.waiting_message = f'Back-off pulling image "{image}"'
        worker.event("Normal", "BackOff", view.waiting_message, name)
        worker.event("Warning", "Failed", "Error: ImagePullBackOff", name)
        worker.wake_after(min(retry, kubelet.backoff.remaining(key, seen)))
        return None
    worker.event("Normal", "Pulling", f'Pulling image "{image}"', name)
    started = kubelet.clock.now()
    try:
        ref = await images.pull_image(spec, None, worker.sandbox_config)
    except ImagePullError as exc:
        kubelet.image_failures[key] = kubelet.clock.now()
        kubelet.backoff.next(key)
        worker.wake_after(retry)
        view.waiting_reason, view.waiting_message = "ErrImagePull", str(exc)
        worker.event("Warning", "Failed", f'Failed to pull image "{image}": {exc.message}', name)
        worker.event("Warning", "Failed", "Error: ErrImagePull", name)
        return None
    kubelet.image_failures.pop(key, None)
    took = go_duration_ms(kubelet.clock.now() - started)
    pulled = await images.image_status(ImageSpec(image=ref))
    size = pulled.size if pulled is not None else 0
    worker.event(
        "Normal",
        "Pulled",
        f'Successfully pulled image "{image}" in {took} ({took} including waiting). '
        f"Image size: {size} bytes.",
        name,
    )
    return ref
