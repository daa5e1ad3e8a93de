"""REST storage for one resource over the Store: the verbs with Kubernetes' metadata semantics.

Objects are JSON-shaped dicts here. They are stored under ``/registry/<plural>/<namespace>/<name>``
(``/registry/<plural>/<name>`` when cluster-scoped) without ``metadata.resourceVersion``, which is
the key's ``mod_revision`` and is filled in on every read, as kube-apiserver does with etcd.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import attrs

from kframe.api import DecodeError, FieldSelector, Selector, evolve, from_dict
from kframe.apiserver import _errors as errors
from kframe.apiserver._admission import AdmissionChain, AdmissionRequest, Operation
from kframe.apiserver._defaults import apply_defaults
from kframe.apiserver._errors import Cause
from kframe.apiserver._fieldsets import object_fields
from kframe.apiserver._json import dumps, loads
from kframe.apiserver._meta import (
    deadline_rfc3339,
    generate_name,
    metadata,
    stamp_create,
)
from kframe.apiserver._patch import (
    PatchError,
    json_patch,
    merge_patch,
    patch_error,
    strategic_merge_patch,
)
from kframe.apiserver._resources import Resource
from kframe.apiserver._strategy import STRATEGIES, Strategy, decode_causes
from kframe.apiserver._tokens import decode_continue, encode_continue
from kframe.apiserver._validate import validate
from kframe.store import (
    CompactedError,
    ConflictError,
    FutureRevisionError,
    KeyExistsError,
    KeyNotFoundError,
    KeyValue,
    Store,
)

__all__ = ["INITIAL_EVENTS_END", "ListOptions", "ObjectStorage", "WatchEvent"]

#: The pseudo event a watch with sendInitialEvents yields after the last initial ADDED.
INITIAL_EVENTS_END = "INITIAL_EVENTS_END"

# How many written objects' models a storage keeps for watchers to pick up (see ``recalled``):
# of the latest writes, and of each object its latest version (for objects written again long
# after they were created, as pods a scheduler binds minutes after a burst of creations).
RECALL_MAX = 4096
RECALL_LATEST_MAX = 1 << 16
# How many distinct pod specs' models a pods storage keeps (see ``_decode_pod``).
SPEC_CACHE_MAX = 256


@attrs.frozen
class ListOptions:
    """The query parameters of list and watch requests."""

    label_selector: Selector = attrs.field(factory=Selector.everything)
    field_selector: FieldSelector = attrs.field(factory=FieldSelector.everything)
    limit: int = 0
    continue_token: str = ""
    resource_version: str = ""
    resource_version_match: str = ""


@attrs.frozen
class WatchEvent:
    type: str  # ADDED, MODIFIED, DELETED, or INITIAL_EVENTS_END
    object: dict[str, Any]
    revision: int


class ObjectStorage:
    """create/get/list/update/delete/watch for one resource."""

    def __init__(self, store: Store, resource: Resource) -> None:
        self.store = store
        self.resource = resource
        self.strategy: Strategy = STRATEGIES.get(resource.plural, Strategy)(
            "status" in resource.subresources
        )
        self._root = f"/registry/{resource.plural}/"
        #: Set by the API server: the admission plugins every write goes through.
        self.admission: AdmissionChain | None = None
        # (namespace, name, resourceVersion) -> the model that version decodes to, the latest
        # writes'.
        self._recent: dict[tuple[Any, Any, Any], Any] = {}
        # (namespace, name) -> (resourceVersion, model) of the object's latest write.
        self._latest: dict[tuple[Any, Any], tuple[str, Any]] = {}
        # A pod spec's JSON -> its model, for the pods that share it (see ``_decode_pod``).
        self._specs: dict[bytes, Any] = {}

    def _admission_request(
        self,
        operation: Operation,
        obj: dict[str, Any] | None,
        old: dict[str, Any] | None,
        namespace: str | None,
        name: str,
        subresource: str = "",
        dry_run: bool = False,
    ) -> AdmissionRequest:
        r = self.resource
        return AdmissionRequest(
            operation,
            r.group,
            r.version,
            r.plural,
            r.kind,
            subresource,
            namespace,
            name,
            obj,
            old,
            dry_run,
        )

    # -- keys and encoding ----------------------------------------------------------------------

    def _prefix(self, namespace: str | None) -> str:
        if self.resource.namespaced and namespace:
            return f"{self._root}{namespace}/"
        return self._root

    def _key(self, namespace: str | None, name: str) -> str:
        return self._prefix(namespace) + name

    def _decode(self, kv: KeyValue) -> dict[str, Any]:
        obj: dict[str, Any] = loads(kv.value)
        metadata(obj)["resourceVersion"] = str(kv.mod_revision)
        return obj

    @staticmethod
    def _encode(obj: dict[str, Any]) -> bytes:
        stored = dict(obj)
        meta = dict(metadata(stored))
        meta.pop("resourceVersion", None)
        stored["metadata"] = meta
        return dumps(stored)

    def _not_found(self, name: str) -> errors.APIError:
        return errors.not_found(self.resource.plural, self.resource.group, name)

    # -- decoded objects ------------------------------------------------------------------------

    def remember(self, obj: dict[str, Any], typed: Any) -> None:
        """Note that ``obj`` (as stored, with its resourceVersion) decodes to ``typed``.

        The write already decoded it for validation: an in-process watcher of the object then
        takes that model (:meth:`recalled`) rather than decoding the event's object again.
        Models are frozen, so one instance serves every reader. The latest writes are kept.
        """
        meta = metadata(obj)
        rv = meta.get("resourceVersion")
        if not rv or not isinstance(typed, self.resource.model):
            return
        recent = self._recent
        if len(recent) >= RECALL_MAX:
            del recent[next(iter(recent))]
        ns, name = meta.get("namespace"), meta.get("name")
        recent[(ns, name, rv)] = typed
        latest = self._latest
        if latest.pop((ns, name), None) is None and len(latest) >= RECALL_LATEST_MAX:
            del latest[next(iter(latest))]
        latest[(ns, name)] = (rv, typed)

    def recalled(self, obj: dict[str, Any]) -> Any | None:
        """The model ``obj`` decodes to, if this storage wrote that version lately; else None."""
        meta = obj.get("metadata")
        if not isinstance(meta, dict):
            return None
        ns, name, rv = meta.get("namespace"), meta.get("name"), meta.get("resourceVersion")
        latest = self._latest.get((ns, name))
        if latest is not None and latest[0] == rv:
            return latest[1]
        return self._recent.get((ns, name, rv))

    # -- validation -----------------------------------------------------------------------------

    def check(
        self,
        obj: dict[str, Any],
        *,
        strict: bool,
        warnings: list[str] | None,
        old: dict[str, Any] | None = None,
        subresource: str = "",
    ) -> Any:
        """Typed decoding and validation; raises 400 or 422 as upstream would. Returns the
        decoded object.

        The kind's own rules (``_validate``) apply to main-resource writes; a status write is
        checked for its shape and metadata only, as upstream's status strategies mostly are.
        Unknown fields are looked for only when strict or when the caller takes ``warnings``
        (the in-process client, which writes typed objects, has none to report).
        """
        typed = self.decode_shape(obj, strict=strict, warnings=warnings)
        name = metadata(obj).get("name") or metadata(obj).get("generateName") or ""
        causes = self.strategy.validate(obj)
        if not subresource:
            causes += validate(self.resource.plural, obj, old)
        if causes:
            raise errors.invalid(self.resource.kind, self.resource.group, name, causes)
        return typed

    def decode_shape(self, obj: dict[str, Any], *, strict: bool, warnings: list[str] | None) -> Any:
        """The object decoded as the kind's model; a body of the wrong shape is the 400 (or,
        for an unsupported enum value, the 422) upstream's decoder gives."""
        name = metadata(obj).get("name") or metadata(obj).get("generateName") or ""
        unknown: list[str] | None = [] if warnings is not None else None
        if not strict and unknown is None and self.resource.plural == "pods":
            pod = self._decode_pod(obj)
            if pod is not None:
                return pod
        try:
            typed: Any = from_dict(obj, self.resource.model, strict=strict, unknown=unknown)
        except DecodeError as exc:
            causes = decode_causes(exc)
            if all(c.reason == "FieldValueInvalid" for c in causes):  # unknown fields, strict
                raise errors.bad_request(
                    "strict decoding error: "
                    + ", ".join(f'unknown field "{c.field}"' for c in causes),
                    causes,
                ) from None
            if all(c.reason == "FieldValueNotSupported" for c in causes):
                raise errors.invalid(
                    self.resource.kind, self.resource.group, name, causes
                ) from None
            raise errors.bad_request(
                f'{self.resource.kind} in version "{self.resource.version}" cannot be handled '
                f"as a {self.resource.kind}: {exc}",
                causes,
            ) from None
        if warnings is not None and unknown:
            warnings.extend(f'unknown field "{p}"' for p in unknown)
        return typed

    def _decode_pod(self, obj: dict[str, Any]) -> Any:
        """A pod whose spec (by its JSON) decoded lately: the rest decoded, the spec model
        shared (models are frozen), as a workload's pods share one spec. None otherwise (or if
        the rest does not decode), for the caller to decode it all, errors included."""
        spec = obj.get("spec")
        if not isinstance(spec, dict):
            return None
        try:
            key = dumps(spec)
        except (TypeError, ValueError):
            return None
        cache = self._specs
        model = cache.get(key)
        if model is None:
            try:
                typed: Any = from_dict(obj, self.resource.model)
            except DecodeError:
                return None
            if len(cache) >= SPEC_CACHE_MAX:
                del cache[next(iter(cache))]
            cache[key] = typed.spec
            return typed
        rest = {k: v for k, v in obj.items() if k != "spec"}
        try:
            typed = from_dict(rest, self.resource.model)
        except DecodeError:
            return None
        return evolve(typed, spec=model)

    def _check_shape(
        self, obj: dict[str, Any], *, strict: bool, warnings: list[str] | None
    ) -> None:
        # Upstream decodes a request body into the typed object before defaulting and
        # admission: a body of the wrong shape is a 400 there, and mutating admission plugins
        # (which read the raw object here) never see it.
        self.decode_shape(obj, strict=strict, warnings=warnings)

    def _check_identity(self, obj: dict[str, Any], namespace: str | None) -> None:
        if obj.get("kind") not in (None, "", self.resource.kind) or obj.get("apiVersion") not in (
            None,
            "",
            self.resource.api_version,
        ):
            raise errors.bad_request(
                f"the API version in the data ({obj.get('apiVersion')}) does not match the "
                f"expected API version ({self.resource.api_version})"
                if obj.get("apiVersion") != self.resource.api_version
                else f'kind "{obj.get("kind")}" does not match "{self.resource.kind}"'
            )
        obj["apiVersion"], obj["kind"] = self.resource.api_version, self.resource.kind
        meta = metadata(obj)
        if self.resource.namespaced:
            body_ns = meta.get("namespace")
            if body_ns and namespace and body_ns != namespace:
                raise errors.bad_request(
                    "the namespace of the provided object does not match the namespace sent on "
                    "the request"
                )
            meta["namespace"] = namespace or body_ns or "default"
        else:
            meta.pop("namespace", None)

    # -- verbs ----------------------------------------------------------------------------------

    async def create(
        self,
        obj: dict[str, Any],
        namespace: str | None,
        *,
        strict: bool = False,
        dry_run: bool = False,
        warnings: list[str] | None = None,
    ) -> dict[str, Any]:
        created, _ = await self.create_typed(
            obj, namespace, strict=strict, dry_run=dry_run, warnings=warnings
        )
        return created

    async def create_typed(
        self,
        obj: dict[str, Any],
        namespace: str | None,
        *,
        strict: bool = False,
        dry_run: bool = False,
        warnings: list[str] | None = None,
        copy: bool = True,
        from_model: bool = False,
    ) -> tuple[dict[str, Any], Any]:
        """:meth:`create`, and the created object as the kind's model (what decoding the
        returned dict gives), from the decoding validation did. ``copy=False``: the caller
        hands ``obj`` over, and it is changed in place rather than copied first.
        ``from_model``: ``obj`` was encoded from the kind's model, so its shape is right."""
        if not from_model:
            self._check_shape(obj, strict=strict, warnings=warnings)
            strict, warnings = False, None  # reported once, here
        obj = stamp_create(obj, copy=copy)
        self._check_identity(obj, namespace)
        meta = metadata(obj)
        generated = not meta.get("name")
        if generated:
            if not meta.get("generateName"):
                raise errors.invalid(
                    self.resource.kind,
                    self.resource.group,
                    "",
                    [
                        Cause(
                            "metadata.name",
                            "Required value: name or generateName is required",
                            "FieldValueRequired",
                        )
                    ],
                )
            meta["name"] = generate_name(meta["generateName"])
        # Upstream's order: defaulting, mutating admission, PrepareForCreate (which may reset
        # status and derive fields such as a pod's QoS class from what admission filled in),
        # validation, validating admission. Defaulting again restores status defaults.
        apply_defaults(self.resource.plural, obj)
        request = self._admission_request(
            "CREATE", obj, None, meta.get("namespace"), meta["name"], dry_run=dry_run
        )
        if self.admission is not None:
            await self.admission.admit(request)
        self.strategy.prepare_for_create(obj)
        apply_defaults(self.resource.plural, obj)
        typed = self.check(obj, strict=strict, warnings=warnings)
        if self.admission is not None:
            await self.admission.validate(request)
        if dry_run:
            return obj, typed
        kv = await self._store_new(obj, generated=generated)
        if from_model:
            # Encoded from a model just now and changed only by defaulting and admission, so
            # ``obj`` is what the stored JSON decodes to (and the caller handed it over).
            created = obj
            metadata(created)["resourceVersion"] = str(kv.mod_revision)
        else:
            created = self._decode(kv)
        # What decoding ``created`` gives: the object as validated, with its resourceVersion.
        typed_meta = getattr(typed, "metadata", None)
        if attrs.has(type(typed)) and typed_meta is not None and attrs.has(type(typed_meta)):
            rv = metadata(created)["resourceVersion"]
            typed = evolve(
                typed,
                metadata=evolve(typed_meta, resource_version=rv, name=metadata(created)["name"]),
            )
        else:
            typed = from_dict(created, self.resource.model)
        self.remember(created, typed)
        return created, typed

    async def _store_new(self, obj: dict[str, Any], *, generated: bool) -> Any:
        """Write a new object; a generated name that is taken is generated again, up to 7
        more times (upstream's RetryGenerateName, GA in 1.32: five random characters collide
        for one in a few dozen creates of 1,000 pods)."""
        meta = metadata(obj)
        # (Upstream retries the whole create; only the name changes between tries here.)
        for attempt in range(8):
            key = self._key(meta.get("namespace"), meta["name"])
            try:
                return await self.store.create(key, self._encode(obj))
            except KeyExistsError:
                if not generated or attempt == 7:
                    raise errors.already_exists(
                        self.resource.plural, self.resource.group, meta["name"]
                    ) from None
                meta["name"] = generate_name(meta["generateName"])
        raise AssertionError("unreachable")

    async def get(self, namespace: str | None, name: str) -> dict[str, Any]:
        kv = await self.store.get(self._key(namespace, name))
        if kv is None:
            raise self._not_found(name)
        return self._decode(kv)

    async def update(
        self,
        obj: dict[str, Any],
        namespace: str | None,
        name: str,
        *,
        subresource: str = "",
        strict: bool = False,
        dry_run: bool = False,
        warnings: list[str] | None = None,
        from_model: bool = False,
    ) -> dict[str, Any]:
        """Replace the object (or its status); a stale resourceVersion is a 409 Conflict."""
        key = self._key(namespace, name)
        if not from_model:
            self._check_shape(obj, strict=strict, warnings=warnings)
            strict, warnings = False, None  # reported once, here
        obj = dict(obj)
        obj["metadata"] = dict(metadata(obj))
        self._check_identity(obj, namespace)
        meta = metadata(obj)
        if meta.get("name") not in (None, name):
            raise errors.bad_request(
                f"the name of the object ({meta.get('name')}) does not match the name on the URL "
                f"({name})"
            )
        current = await self.store.get(key)
        if current is None:
            raise self._not_found(name)
        expected = meta.get("resourceVersion")
        if expected and expected != str(current.mod_revision):
            raise errors.conflict(
                self.resource.plural, self.resource.group, name, errors.OPTIMISTIC_LOCK_MESSAGE
            )
        old = self._decode(current)
        old_meta = metadata(old)
        given_uid = meta.get("uid")
        if given_uid and given_uid != old_meta.get("uid"):
            # Upstream takes the body's uid as a precondition (DefaultUpdatedObjectInfo
            # .Preconditions): an update or patch meant for an earlier object of the same
            # name is a 409, never applied to its successor.
            raise errors.conflict(
                self.resource.plural,
                self.resource.group,
                name,
                f"Precondition failed: UID in precondition: {given_uid}, "
                f"UID in object meta: {old_meta.get('uid')}",
            )
        for owned in (
            "uid",
            "creationTimestamp",
            "deletionTimestamp",
            "deletionGracePeriodSeconds",
            "generation",
        ):
            if owned in old_meta:
                meta[owned] = old_meta[owned]
            else:
                meta.pop(owned, None)
        meta["name"] = name
        apply_defaults(self.resource.plural, obj)  # the same order as create
        request = self._admission_request("UPDATE", obj, old, namespace, name, subresource, dry_run)
        if self.admission is not None:
            await self.admission.admit(request)
        if subresource == "status":
            self.strategy.prepare_for_status_update(obj, old)
            metadata(obj)["resourceVersion"] = old_meta["resourceVersion"]
        elif subresource == "finalize":
            self.strategy.prepare_for_finalize(obj, old)
        else:
            self.strategy.prepare_for_update(obj, old)
        apply_defaults(self.resource.plural, obj)
        # A finalize write is validated as the object (upstream ValidateNamespaceFinalizeUpdate
        # checks the finalizer names); a status write for its shape only.
        checked = "" if subresource == "finalize" else subresource
        self.check(obj, strict=strict, warnings=warnings, old=old, subresource=checked)
        if self.admission is not None:
            await self.admission.validate(request)
        if dry_run:
            return obj
        new_meta = metadata(obj)
        if (
            new_meta.get("deletionTimestamp")
            and not new_meta.get("finalizers")
            and self.strategy.finalized(obj)
        ):
            # The last finalizer is gone: the deletion that was waiting for it happens now.
            return await self._remove(key, current.mod_revision, name)
        return await self._write(key, obj, current.mod_revision, name)

    async def _write(
        self, key: str, obj: dict[str, Any], revision: int, name: str, *, handed_over: bool = False
    ) -> dict[str, Any]:
        """Compare-and-swap ``obj`` over the version at ``revision``: 409 or 404 otherwise.

        ``handed_over``: ``obj`` is plain decoded JSON the caller gives up, returned as the
        written object (with its new resourceVersion) rather than decoding what was stored."""
        try:
            kv = await self.store.update(key, self._encode(obj), expected_revision=revision)
        except ConflictError:
            raise errors.conflict(
                self.resource.plural, self.resource.group, name, errors.OPTIMISTIC_LOCK_MESSAGE
            ) from None
        except KeyNotFoundError:
            raise self._not_found(name) from None
        if handed_over:
            metadata(obj)["resourceVersion"] = str(kv.mod_revision)
            return obj
        return self._decode(kv)

    async def system_update(
        self, obj: dict[str, Any], namespace: str | None, name: str, *, handed_over: bool = False
    ) -> dict[str, Any]:
        """Write ``obj`` as is if its resourceVersion is still current (409 otherwise).

        For subresources that own parts of the object no user verb may write together (binding
        sets spec.nodeName and the PodScheduled condition), as upstream's registries write
        through their storage directly.
        """
        expected = int(metadata(obj).get("resourceVersion") or 0)
        return await self._write(
            self._key(namespace, name), obj, expected, name, handed_over=handed_over
        )

    async def patch(
        self,
        namespace: str | None,
        name: str,
        patch: Any,
        patch_type: str,
        *,
        subresource: str = "",
        strict: bool = False,
        dry_run: bool = False,
        warnings: list[str] | None = None,
    ) -> dict[str, Any]:
        """Apply a ``json``, ``merge`` or ``strategic`` patch to the current object.

        Without a resourceVersion in the patch, a write that raced with ours is retried on the
        new state, as upstream's patcher does; with one, the patch is a conditional update.
        """
        for _attempt in range(5):
            current = await self.get(namespace, name)
            try:
                if patch_type == "json":
                    patched = json_patch(current, patch)
                elif patch_type == "merge":
                    patched = merge_patch(current, patch)
                else:
                    patched = strategic_merge_patch(current, patch, self.resource.model)
            except PatchError as exc:
                raise patch_error(exc) from None
            if not isinstance(patched, dict):
                raise errors.bad_request("the patched object is not a JSON object")
            explicit_rv = isinstance(patch, dict) and metadata(patch).get("resourceVersion")
            if not explicit_rv:
                metadata(patched)["resourceVersion"] = metadata(current)["resourceVersion"]
            try:
                return await self.update(
                    patched,
                    namespace,
                    name,
                    subresource=subresource,
                    strict=strict,
                    dry_run=dry_run,
                    warnings=warnings,
                )
            except errors.APIError as exc:
                if exc.reason != "Conflict" or explicit_rv:
                    raise
        raise errors.conflict(
            self.resource.plural, self.resource.group, name, errors.OPTIMISTIC_LOCK_MESSAGE
        )

    async def delete(
        self,
        namespace: str | None,
        name: str,
        *,
        preconditions: dict[str, Any] | None = None,
        propagation: str | None = None,
        dry_run: bool = False,
        grace_period: int | None = None,
    ) -> dict[str, Any]:
        """Delete now, or mark for deletion (returns the object) while finalizers remain or
        the kind deletes gracefully (a pod on a node: its kubelet makes the final delete)."""
        key = self._key(namespace, name)
        current = await self.store.get(key)
        if current is None:
            raise self._not_found(name)
        obj = self._decode(current)
        meta = metadata(obj)
        for field, actual in (
            ("uid", meta.get("uid")),
            ("resourceVersion", meta.get("resourceVersion")),
        ):
            wanted = (preconditions or {}).get(field)
            if wanted and wanted != actual:
                raise errors.conflict(
                    self.resource.plural,
                    self.resource.group,
                    name,
                    f"Precondition failed: {field.capitalize() if field == 'uid' else field} in "
                    f"precondition: {wanted}, {field} in object meta: {actual}",
                )
        if self.admission is not None:
            request = self._admission_request("DELETE", None, obj, namespace, name, dry_run=dry_run)
            await self.admission.admit(request)
            await self.admission.validate(request)
        begun = self.strategy.begin_deletion(obj, propagation)
        if begun == "keep" or (begun and dry_run):
            return obj
        if begun:
            try:
                kv = await self.store.update(
                    key, self._encode(obj), expected_revision=current.mod_revision
                )
            except (ConflictError, KeyNotFoundError):
                return await self.delete(
                    namespace, name, preconditions=preconditions, propagation=propagation
                )
            return self._decode(kv)
        had = list(meta.get("finalizers") or [])
        # Upstream records foreground/orphan propagation as a finalizer for the garbage
        # collector (deletionFinalizersForGarbageCollection): an explicit policy replaces
        # whichever of the two the object had; without one, the object's own stays.
        extra = {"Foreground": "foregroundDeletion", "Orphan": "orphan"}.get(propagation or "")
        finalizers = had
        if propagation:
            finalizers = [f for f in had if f not in ("foregroundDeletion", "orphan")]
        if extra and extra not in finalizers:
            finalizers.append(extra)
        if set(finalizers) == set(had):
            finalizers = had
        if dry_run:
            return obj
        grace = self.strategy.grace_period(obj, grace_period)
        if not finalizers and grace == 0:
            return await self._remove(key, current.mod_revision, name)
        marked = meta.get("deletionGracePeriodSeconds")
        if (
            meta.get("deletionTimestamp")
            and finalizers == meta.get("finalizers")
            and (marked is not None and grace >= marked)
        ):
            return obj  # already marked, and the new request does not shorten the grace
        meta["finalizers"] = finalizers
        if not finalizers:
            del meta["finalizers"]
        meta["deletionTimestamp"] = deadline_rfc3339(grace)
        meta["deletionGracePeriodSeconds"] = grace
        try:
            kv = await self.store.update(
                key, self._encode(obj), expected_revision=current.mod_revision
            )
        except (ConflictError, KeyNotFoundError):
            return await self.delete(
                namespace,
                name,
                preconditions=preconditions,
                propagation=propagation,
                grace_period=grace_period,
            )
        return self._decode(kv)

    async def _remove(self, key: str, revision: int, name: str) -> dict[str, Any]:
        try:
            deleted = await self.store.delete(key, expected_revision=revision)
        except ConflictError:
            raise errors.conflict(
                self.resource.plural, self.resource.group, name, errors.OPTIMISTIC_LOCK_MESSAGE
            ) from None
        except KeyNotFoundError:
            raise self._not_found(name) from None
        return self._decode(deleted)

    # -- list and watch -------------------------------------------------------------------------

    def matches(self, obj: dict[str, Any], options: ListOptions) -> bool:
        labels = metadata(obj).get("labels") or {}
        if not options.label_selector.matches(labels):
            return False
        if options.field_selector.empty():
            return True
        selector = options.field_selector
        named = [r.field for r in selector.requirements]
        return selector.matches(object_fields(self.resource, obj, named))

    async def list(self, namespace: str | None, options: ListOptions) -> dict[str, Any]:
        prefix = self._prefix(namespace)
        revision: int | None = None
        start = prefix
        if options.continue_token:
            revision, relative = decode_continue(options.continue_token)
            start = prefix + relative
        elif options.resource_version not in ("", "0"):
            wanted = _parse_rv(options.resource_version)
            if options.resource_version_match == "Exact":
                revision = wanted
            elif await self.store.revision() < wanted:
                raise errors.APIError(
                    504,
                    "Timeout",
                    f"Too large resource version: {wanted}, current: {await self.store.revision()}",
                )
        items: list[dict[str, Any]] = []
        more = False
        next_start = ""
        limit = options.limit if options.limit > 0 else None
        try:
            while True:
                page = await self.store.list(
                    prefix,
                    start=start,
                    revision=revision,
                    limit=(limit - len(items)) if limit else None,
                )
                revision = page.revision
                for kv in page.items:
                    obj = self._decode(kv)
                    if self.matches(obj, options):
                        items.append(obj)
                if not page.more:
                    break
                start = page.items[-1].key + "\x00"
                if limit and len(items) >= limit:
                    more = True
                    next_start = start[len(prefix) :]
                    break
        except CompactedError:
            raise errors.expired(
                _CONTINUE_EXPIRED
                if options.continue_token
                else f"too old resource version: {revision}"
            ) from None
        except FutureRevisionError as exc:
            raise errors.APIError(
                504,
                "Timeout",
                f"Too large resource version: {exc.requested}, current: {exc.current}",
            ) from None
        list_meta: dict[str, Any] = {"resourceVersion": str(revision)}
        if more:
            list_meta["continue"] = encode_continue(revision, next_start)
            list_meta["remainingItemCount"] = (
                max(0, await self.store.count(prefix) - len(items))
                if options.label_selector.empty() and options.field_selector.empty()
                else None
            )
            if list_meta["remainingItemCount"] is None:
                del list_meta["remainingItemCount"]
        return {
            "apiVersion": self.resource.api_version,
            "kind": self.resource.list_kind,
            "metadata": list_meta,
            "items": items,
        }

    async def watch(
        self, namespace: str | None, options: ListOptions, *, send_initial: bool
    ) -> AsyncIterator[WatchEvent]:
        """Events after ``options.resource_version``; with ``send_initial``, first an ADDED for
        every current object. Selectors apply to both old and new state, so an object that
        stops matching is DELETED and one that starts matching is ADDED, as upstream."""
        prefix = self._prefix(namespace)
        if send_initial or options.resource_version in ("", "0"):
            page = await self.store.list(prefix)
            start = page.revision + 1
            initial = [self._decode(kv) for kv in page.items]
        else:
            start = _parse_rv(options.resource_version) + 1
            initial = []
        watch = self.store.watch(prefix, start_revision=start)
        try:
            for obj in initial:
                if self.matches(obj, options):
                    yield WatchEvent("ADDED", obj, start - 1)
            if send_initial:
                yield WatchEvent(INITIAL_EVENTS_END, {}, start - 1)
            async for event in watch:
                new = self._decode(event.kv) if event.type == "PUT" else None
                old = self._decode(event.prev_kv) if event.prev_kv else None
                new_ok = new is not None and self.matches(new, options)
                old_ok = old is not None and self.matches(old, options)
                if new is not None and new_ok:
                    yield WatchEvent("MODIFIED" if old_ok else "ADDED", new, event.revision)
                elif old is not None and old_ok:
                    gone = new if new is not None else old
                    metadata(gone)["resourceVersion"] = str(event.revision)
                    yield WatchEvent("DELETED", gone, event.revision)
        except CompactedError as exc:
            raise errors.expired(
                f"too old resource version: {start - 1} ({exc.compacted})"
            ) from None
        finally:
            await watch.close()


_CONTINUE_EXPIRED = (
    "The provided continue parameter is too old to display a consistent list result. You can "
    "start a new list without the continue parameter, or use the continue token in this "
    "response to retrieve the remainder of the results. Continuing with the provided token "
    "results in an inconsistent list - objects that were created, modified, or deleted between "
    "the time the first chunk was returned and now may show up in the list."
)


def _parse_rv(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise errors.bad_request(f'invalid resource version "{text}"') from None
    if value < 0:
        raise errors.bad_request(f'invalid resource version "{text}"')
    return value
