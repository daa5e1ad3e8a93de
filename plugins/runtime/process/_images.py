"""The process runtime's images: names recorded on pull, nothing downloaded.

Containers run their commands on the host's filesystem, so an image is only a name the
kubelet asked for. PullImage records it (ListImages and ImageStatus report it, RemoveImage
forgets it); the records are kept in ``<root_dir>/images.json`` so they survive a restart of
the runtime. An image's id is ``sha256:`` of its normalized name (``nginx`` is
``docker.io/library/nginx:latest``, Docker's normalization), the same on every node.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
from collections.abc import Sequence

from kframe.runtime import (
    AuthConfig,
    FilesystemIdentifier,
    FilesystemUsage,
    Image,
    ImageFilter,
    ImageFsInfo,
    ImageSpec,
    InvalidArgumentError,
    PodSandboxConfig,
    SystemClock,
    wall_nanos,
)

__all__ = ["ProcessImages", "image_id", "normalize_image"]


def normalize_image(name: str) -> str:
    """Docker's normalization: a registry, ``library/`` for official images, ``:latest``."""
    if "@" in name or name.startswith("sha256:"):
        return name
    first, _, rest = name.partition("/")
    if not rest or ("." not in first and ":" not in first and first != "localhost"):
        name = f"docker.io/{name if rest else 'library/' + name}"
    last = name.rsplit("/", 1)[-1]
    return name if ":" in last else f"{name}:latest"


def image_id(name: str) -> str:
    return "sha256:" + hashlib.sha256(normalize_image(name).encode()).hexdigest()


class ProcessImages:
    """ImageService of one node: recorded image names, saved under ``root_dir``."""

    def __init__(self, root_dir: str, preloaded: Sequence[str] = ()) -> None:
        self.root_dir = root_dir
        self._file = os.path.join(root_dir, "images.json")
        self._images: dict[str, Image] = {}  # id -> image
        self._names: dict[str, str] = {}  # tag, digest, id or the name as given -> id
        saved: list[str] = []
        with contextlib.suppress(OSError, ValueError):
            with open(self._file, encoding="utf-8") as f:
                loaded = json.load(f)
            saved = [n for n in loaded if isinstance(n, str)] if isinstance(loaded, list) else []
        for name in (*preloaded, *saved):
            self._store(name)

    def _store(self, name: str) -> Image:
        tag = normalize_image(name)
        ident = image_id(name)
        if (image := self._images.get(ident)) is None:
            repo = tag.split("@", 1)[0].rsplit(":", 1)[0] if "@" not in tag else tag.split("@")[0]
            image = Image(
                id=ident,
                repo_tags=() if "@" in tag else (tag,),
                repo_digests=(f"{repo}@{ident}",),
                spec=ImageSpec(image=ident),
            )
            self._images[ident] = image
            for key in (tag, ident, f"{repo}@{ident}", name):
                self._names[key] = ident
        return image

    def _save(self) -> None:
        images = self._images.values()
        names = [i.repo_tags[0] if i.repo_tags else i.repo_digests[0] for i in images]
        tmp = self._file + ".tmp"
        with open(tmp, "w", encoding="utf-8") as f:
            json.dump(names, f)
        os.replace(tmp, self._file)

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
        if (found := self.find(image)) is not None:
            return found.id
        stored = self._store(image.image)
        self._save()
        return stored.id

    async def remove_image(self, image: ImageSpec) -> None:
        found = self.find(image)
        if found is None:
            return
        del self._images[found.id]
        for key in [k for k, v in self._names.items() if v == found.id]:
            del self._names[key]
        self._save()

    async def image_fs_info(self) -> ImageFsInfo:
        usage = FilesystemUsage(
            timestamp=wall_nanos(SystemClock()),
            fs_id=FilesystemIdentifier(mountpoint=self.root_dir),
            used_bytes=0,  # images take no space: they are names
            inodes_used=len(self._images),
        )
        return ImageFsInfo(image_filesystems=(usage,), container_filesystems=(usage,))
