"""CRI's image messages (``Image``, ``AuthConfig``, ``FilesystemUsage``, ...) as attrs classes.

The kubelet's image manager calls ``ImageService.pull_image`` before creating a container whose
image is missing (by the pod's ``imagePullPolicy``), ``list_images`` to report ``node.status
.images`` and ``image_fs_info`` and ``remove_image`` for image garbage collection.
"""

from __future__ import annotations

import attrs

from kframe.runtime._container import ImageSpec

__all__ = [
    "AuthConfig",
    "FilesystemIdentifier",
    "FilesystemUsage",
    "Image",
    "ImageFilter",
    "ImageFsInfo",
]


@attrs.frozen(kw_only=True)
class Image:
    """A stored image: its id (a digest), the tags and digests that name it, its size."""

    id: str
    repo_tags: tuple[str, ...] = ()
    repo_digests: tuple[str, ...] = ()
    size: int = 0
    uid: int | None = None
    username: str = ""
    spec: ImageSpec | None = None
    pinned: bool = False


@attrs.frozen(kw_only=True)
class ImageFilter:
    """ListImages' filter: only images that ``image`` names (by tag, digest or id)."""

    image: ImageSpec | None = None


@attrs.frozen(kw_only=True, repr=False)
class AuthConfig:
    """Registry credentials from the pod's ``imagePullSecrets`` (never printed)."""

    username: str = ""
    password: str = ""
    auth: str = ""
    server_address: str = ""
    identity_token: str = ""
    registry_token: str = ""

    def __repr__(self) -> str:
        return f"AuthConfig(server_address={self.server_address!r}, ...)"


@attrs.frozen(kw_only=True)
class FilesystemIdentifier:
    mountpoint: str


@attrs.frozen(kw_only=True)
class FilesystemUsage:
    """Usage of one filesystem at ``timestamp`` (nanoseconds)."""

    timestamp: int
    fs_id: FilesystemIdentifier
    used_bytes: int = 0
    inodes_used: int = 0


@attrs.frozen(kw_only=True)
class ImageFsInfo:
    """ImageFsInfo's answer: where images live, and where writable layers live."""

    image_filesystems: tuple[FilesystemUsage, ...] = ()
    container_filesystems: tuple[FilesystemUsage, ...] = ()
