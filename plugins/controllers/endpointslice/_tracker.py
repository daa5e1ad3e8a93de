"""The generations of the slices this controller wrote (upstream endpointslice_tracker.go).

The informer cache lags the controller's own writes. The tracker remembers, per service, the
generation of each slice it created or updated and the slices it deleted, so a sync can tell
that its cache is stale (and retry) and an informer event can tell the controller's own echo
from someone else's change (only the latter needs a sync).
"""

from __future__ import annotations

from collections.abc import Iterable

from kframe.api.models import EndpointSlice

__all__ = ["DELETION_EXPECTED", "SliceTracker"]

#: The generation recorded for a slice the controller deleted.
DELETION_EXPECTED = -1


def _service_key(slice_: EndpointSlice) -> str | None:
    meta = slice_.metadata
    if meta is None:
        return None
    name = (meta.labels or {}).get("kubernetes.io/service-name")
    return f"{meta.namespace}/{name}" if name else None


class SliceTracker:
    def __init__(self) -> None:
        self._generations: dict[str, dict[str, int]] = {}

    def update(self, slice_: EndpointSlice) -> None:
        """Record a slice as written (created or updated) with its new generation."""
        key = _service_key(slice_)
        meta = slice_.metadata
        if key is None or meta is None or not meta.uid:
            return
        self._generations.setdefault(key, {})[meta.uid] = meta.generation or 0

    def expect_deletion(self, slice_: EndpointSlice) -> None:
        key = _service_key(slice_)
        meta = slice_.metadata
        if key is None or meta is None or not meta.uid:
            return
        self._generations.setdefault(key, {})[meta.uid] = DELETION_EXPECTED

    def handle_deletion(self, slice_: EndpointSlice) -> bool:
        """Forget a deleted slice; True when the deletion was not expected (a sync is due)."""
        key = _service_key(slice_)
        meta = slice_.metadata
        if key is None or meta is None:
            return False
        gens = self._generations.get(key, {})
        expected = gens.pop(meta.uid or "", None) == DELETION_EXPECTED
        return not expected

    def should_sync(self, slice_: EndpointSlice) -> bool:
        """False for the echo of this controller's own write (same generation)."""
        key = _service_key(slice_)
        meta = slice_.metadata
        if key is None or meta is None:
            return True
        gen = self._generations.get(key, {}).get(meta.uid or "")
        return gen is None or gen != (meta.generation or 0)

    def stale(self, service_key: str, cached: Iterable[EndpointSlice]) -> bool:
        """Whether the cache lacks one of this controller's writes (StaleSlices): a slice
        older than written, a deleted slice still there, or a created slice not there yet."""
        gens = self._generations.get(service_key, {})
        seen: set[str] = set()
        for slice_ in cached:
            meta = slice_.metadata
            if meta is None or not meta.uid:
                continue
            seen.add(meta.uid)
            gen = gens.get(meta.uid)
            if gen is None:
                continue
            if gen == DELETION_EXPECTED or (meta.generation or 0) < gen:
                return True
        return any(uid not in seen and gen != DELETION_EXPECTED for uid, gen in gens.items())

    def delete_service(self, service_key: str) -> None:
        self._generations.pop(service_key, None)
