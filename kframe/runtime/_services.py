"""RuntimeService and ImageService: CRI v1's two gRPC services as typed async Protocols.

The kubelet is the only caller. It calls ``run_pod_sandbox`` once per pod (again with a higher
``attempt`` when the sandbox dies), ``create_container`` and ``start_container`` per container,
relists ``list_pod_sandbox`` and ``list_containers`` every second (its PLEG) and reads
``container_status`` of what changed, ``stop_container`` with the pod's grace period when a pod
is deleted, then ``stop_pod_sandbox`` and ``remove_pod_sandbox``; exec probes use ``exec_sync``,
``kubectl exec`` and ``kubectl attach`` use ``exec`` and ``attach`` (see :mod:`._streams`).

Semantics every runtime keeps (the conformance suite, :mod:`kframe.testing.runtime`, checks
them), as CRI states them in ``api.proto``:

- ids are unique, non-empty strings, never reused after removal;
- run_pod_sandbox returns a READY sandbox; stop makes it NOTREADY, stopping (killing) its
  containers; stop and remove are idempotent and take ids that do not exist without error;
  removing a sandbox removes its containers;
- a container is created in a READY sandbox (NotFoundError for a missing sandbox), starts
  CREATED, start_container makes it RUNNING (FailedPreconditionError unless CREATED), and
  stop_container(timeout) makes it EXITED with an exit code, killing it after ``timeout``
  seconds; stopping a CREATED container makes it EXITED too. States only move forward;
- status, start, exec and stats calls on a missing id raise NotFoundError;
- ``created_at``/``started_at``/``finished_at`` are nanoseconds since the Unix epoch;
- a call the runtime does not implement raises UnimplementedError, and its
  :class:`~kframe.runtime.Capabilities` say so.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol, runtime_checkable

from kframe.runtime._container import (
    Container,
    ContainerConfig,
    ContainerFilter,
    ContainerState,
    ContainerStatus,
    ImageSpec,
    LinuxContainerResources,
)
from kframe.runtime._image import AuthConfig, Image, ImageFilter, ImageFsInfo
from kframe.runtime._sandbox import PodSandbox, PodSandboxConfig, PodSandboxFilter, PodSandboxStatus
from kframe.runtime._stats import ContainerStats, ContainerStatsFilter
from kframe.runtime._status import ExecSyncResponse, RuntimeConfig, RuntimeStatus, VersionResponse
from kframe.runtime._streams import AttachRequest, ExecRequest, StreamSession

__all__ = ["ContainerState", "ImageService", "RuntimeService"]


@runtime_checkable
class RuntimeService(Protocol):
    """CRI's RuntimeService: pod sandboxes, containers, exec, stats."""

    # -- the runtime ----------------------------------------------------------------------------

    async def version(self) -> VersionResponse:
        """The runtime's name and version, and the CRI version it speaks (``v1``)."""
        ...

    async def status(self) -> RuntimeStatus:
        """``RuntimeReady`` and ``NetworkReady`` conditions; the node is Ready only with both."""
        ...

    async def update_runtime_config(self, config: RuntimeConfig) -> None:
        """The kubelet passes the node's pod CIDR once it is known."""
        ...

    # -- pod sandboxes --------------------------------------------------------------------------

    async def run_pod_sandbox(self, config: PodSandboxConfig, runtime_handler: str = "") -> str:
        """Create and start a sandbox (its network namespace, its IP); returns its id.

        AlreadyExistsError if a sandbox with the same metadata exists and is not removed.
        """
        ...

    async def stop_pod_sandbox(self, pod_sandbox_id: str) -> None:
        """Stop the sandbox and kill its containers; NOTREADY. Idempotent; unknown ids are fine."""
        ...

    async def remove_pod_sandbox(self, pod_sandbox_id: str) -> None:
        """Remove the sandbox and all its containers (killed first). Idempotent."""
        ...

    async def pod_sandbox_status(self, pod_sandbox_id: str) -> PodSandboxStatus:
        """The sandbox's state and network; NotFoundError if it does not exist."""
        ...

    async def list_pod_sandbox(
        self, filter: PodSandboxFilter | None = None
    ) -> Sequence[PodSandbox]:
        """Sandboxes matching ``filter`` (every one without), in creation order."""
        ...

    # -- containers -----------------------------------------------------------------------------

    async def create_container(
        self,
        pod_sandbox_id: str,
        config: ContainerConfig,
        sandbox_config: PodSandboxConfig,
    ) -> str:
        """Create a container (CREATED) in the sandbox; returns its id.

        NotFoundError if the sandbox does not exist, FailedPreconditionError if it is not
        READY, AlreadyExistsError for a second container of the same name and attempt.
        """
        ...

    async def start_container(self, container_id: str) -> None:
        """CREATED to RUNNING; ContainerStartError if it cannot start (left EXITED)."""
        ...

    async def stop_container(self, container_id: str, timeout: int) -> None:
        """Ask the container to stop, kill it after ``timeout`` seconds (0: at once); EXITED.

        Idempotent: an exited or unknown container is fine.
        """
        ...

    async def remove_container(self, container_id: str) -> None:
        """Remove the container (killed first if running). Idempotent."""
        ...

    async def list_containers(self, filter: ContainerFilter | None = None) -> Sequence[Container]:
        """Containers matching ``filter``, in creation order."""
        ...

    async def container_status(self, container_id: str) -> ContainerStatus:
        """The container's state, timestamps, exit code and reason; NotFoundError if missing."""
        ...

    async def update_container_resources(
        self, container_id: str, linux: LinuxContainerResources
    ) -> None:
        """Apply new cgroup settings (in-place pod resize)."""
        ...

    async def reopen_container_log(self, container_id: str) -> None:
        """Reopen the log file after the kubelet rotated it (FailedPrecondition if not RUNNING)."""
        ...

    # -- exec, attach ---------------------------------------------------------------------------

    async def exec_sync(
        self, container_id: str, cmd: Sequence[str], timeout: int = 0
    ) -> ExecSyncResponse:
        """Run ``cmd`` in a RUNNING container and wait (``timeout`` seconds, 0: no limit)."""
        ...

    async def exec(self, request: ExecRequest) -> StreamSession:
        """Start ``request.cmd`` in a RUNNING container; the session carries its streams."""
        ...

    async def attach(self, request: AttachRequest) -> StreamSession:
        """Connect to the streams of a RUNNING container's main process."""
        ...

    # -- stats ----------------------------------------------------------------------------------

    async def container_stats(self, container_id: str) -> ContainerStats:
        """CPU, memory and writable-layer usage now; NotFoundError if missing."""
        ...

    async def list_container_stats(
        self, filter: ContainerStatsFilter | None = None
    ) -> Sequence[ContainerStats]:
        """Stats of every RUNNING container matching ``filter``."""
        ...


@runtime_checkable
class ImageService(Protocol):
    """CRI's ImageService: pulling, listing and removing images."""

    async def list_images(self, filter: ImageFilter | None = None) -> Sequence[Image]:
        """Stored images (those ``filter.image`` names, when given)."""
        ...

    async def image_status(self, image: ImageSpec) -> Image | None:
        """The image ``image`` names (by tag, digest or id), or None if it is not stored."""
        ...

    async def pull_image(
        self,
        image: ImageSpec,
        auth: AuthConfig | None = None,
        sandbox_config: PodSandboxConfig | None = None,
    ) -> str:
        """Pull the image (for the pod of ``sandbox_config``); returns its image ref (id).

        ImagePullError if it cannot be pulled. Pulling a stored image is cheap and returns the
        same ref.
        """
        ...

    async def remove_image(self, image: ImageSpec) -> None:
        """Remove the image and every tag naming it. Idempotent."""
        ...

    async def image_fs_info(self) -> ImageFsInfo:
        """Usage of the filesystem images are stored on (for image garbage collection)."""
        ...
