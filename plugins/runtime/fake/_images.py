"""The fake runtime's image store: ImageService with instant (or delayed) pulls, no bytes.

An image's id is ``sha256:`` of its normalized name (``nginx`` is ``docker.io/library/nginx:
latest``), so the same name gets the same id on every node, as the same digest would.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

from kframe.runtime import (
    AuthConfig,
    Clock,
    FilesystemIdentifier,
    FilesystemUsage,
    Image,
    ImageFilter,
    ImageFsInfo,
    ImagePullError,
    ImageSpec,
    InvalidArgumentError,
    PodSandboxConfig,
    wall_nanos,
)

from ._config import ANNOTATION_PREFIX, FakeRuntimeConfig

__all__ = ["FakeImages", "image_id", "normalize_image"]

IMAGE_FS = "/var/lib/kframe/fake/images"


def normalize_image(name: str) -> str:
    """Docker's normalization: a registry, ``library/`` for official images, ``:latest``."""
    if "@" in name:
        return name
    first, _, rest = name.partition("/")
    if not rest or ("." not in first and ":" not in first and first != "localhost"):
        name = f"docker.io/{name if rest else 'library/' + name}"
    last = name.rsplit("/", 1)[-1]
    return name if ":" in last else f"{name}:latest"


def image_id(name: str) -> str:
    return "sha256:" + hashlib.sha256(normalize_image(name).encode()).hexdigest()


class FakeImages:
    """ImageService of one fake node."""

    def __init__(self, config: FakeRuntimeConfig, clock: Clock) -> None:
        self._config = config
        self._clock = clock
        self._images: dict[str, Image] = {}  # id -> image
        self._names: dict[str, str] = {}  # tag, digest or id -> id
        for name in config.images:
            self._store(name)

    def _store(self, name: str) -> Image:
        tag = normalize_image(name)
        ident = image_id(name)
        if (image := self._images.get(ident)) is None:
            repo = tag.split("@", 1)[0].rsplit(":", 1)[0] if "@" not in tag else tag.split("@")[0]
            digest = f"{repo}@{ident}"
            image = Image(
                id=ident,
                repo_tags=() if "@" in tag else (tag,),
                repo_digests=(digest,),
                size=self._config.image_size,
                spec=ImageSpec(image=ident),
            )
            self._images[ident] = image
            for key in (tag, ident, digest, name):
                self._names[key] = ident
        return image

    def find(self, spec: ImageSpec) -> Image | None:
        ident = self._names.get(spec.image) or self._names.get(normalize_image(spec.image))
        return self._images.get(ident) if ident else None

    # -- ImageService ---------------------------------------------------------------------------

    async def list_images(self, filter: ImageFilter | None = None) -> Sequence[Image]:
        if filter is not None and filter.image is not None and filter.image.image:
            found = self.find(filter.image)
            return [found] if found else []
        return list(self._images.values())

    async def image_status(self, image: ImageSpec) -> Image | None:
        return self.find(image)

    async def pull_image(
        self,
        image: ImageSpec,
        auth: AuthConfig | None = None,
        sandbox_config: PodSandboxConfig | None = None,
    ) -> str:
        if not image.image:
            raise InvalidArgumentError("PullImage: image name is empty")
        failure = self._config.fail_pull
        if sandbox_config is not None:
            failure = sandbox_config.annotations.get(ANNOTATION_PREFIX + "fail-pull", failure)
        if failure:
            raise ImagePullError(image.image, failure)
        if (found := self.find(image)) is not None:
            return found.id
        if self._config.pull_delay:
            await self._clock.sleep(self._config.pull_delay)
        return self._store(image.image).id

    async def remove_image(self, image: ImageSpec) -> None:
        found = self.find(image)
        if found is None:
            return
        del self._images[found.id]
        for key in [k for k, v in self._names.items() if v == found.id]:
            del self._names[key]

    async def image_fs_info(self) -> ImageFsInfo:
        used = sum(i.size for i in self._images.values())
        usage = FilesystemUsage(
            timestamp=wall_nanos(self._clock),
            fs_id=FilesystemIdentifier(mountpoint=IMAGE_FS),
            used_bytes=used,
            inodes_used=len(self._images) * 1000,
        )
        return ImageFsInfo(image_filesystems=(usage,), container_filesystems=(usage,))
