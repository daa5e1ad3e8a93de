"""Generate kframe's typed Kubernetes models from the published OpenAPI schema.

The schema is the JSON-schema rendering of Kubernetes' OpenAPI document that the
``kubernetes-validate`` package ships (a dev dependency). Run from the repository root:

    python tools/gen_models.py            # rewrite kframe/api/models/*_v*.py
    python tools/gen_models.py --check    # exit 1 if the committed files are stale

Every field carries its JSON name explicitly (``metadata["json"]``): names are never converted
by algorithm at run time. The snake_case attribute names are derived here, once, and the
generated files are what users and reviewers read.
"""

from __future__ import annotations

import argparse
import json
import keyword
import re
import sys
from collections.abc import Iterator
from importlib import resources
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from enums import ENUMS
from proto_fields import PROTO_BYTES, PROTO_FIELDS, PROTO_INLINE, PROTO_POINTERS

SCHEMA_VERSION = "1.33.0"
OUT_DIR = Path(__file__).resolve().parent.parent / "kframe" / "api" / "models"

# The kinds kframe models, with their list kinds where Kubernetes has one.
ROOTS = (
    [
        "io.k8s.api.core.v1." + k
        for k in (
            "Pod",
            "PodList",
            "Node",
            "NodeList",
            "Service",
            "ServiceList",
            "Endpoints",
            "EndpointsList",
            "Namespace",
            "NamespaceList",
            "ConfigMap",
            "ConfigMapList",
            "Secret",
            "SecretList",
            "ServiceAccount",
            "ServiceAccountList",
            "Event",
            "EventList",
            "PersistentVolume",
            "PersistentVolumeList",
            "PersistentVolumeClaim",
            "PersistentVolumeClaimList",
            "Binding",
            "LimitRange",
            "LimitRangeList",
            "ResourceQuota",
            "ResourceQuotaList",
        )
    ]
    + [
        "io.k8s.api.apps.v1." + k
        for k in (
            "Deployment",
            "DeploymentList",
            "ReplicaSet",
            "ReplicaSetList",
            "DaemonSet",
            "DaemonSetList",
            "StatefulSet",
            "StatefulSetList",
            "ControllerRevision",
            "ControllerRevisionList",
        )
    ]
    + [
        "io.k8s.api.batch.v1.Job",
        "io.k8s.api.batch.v1.JobList",
        "io.k8s.api.batch.v1.CronJob",
        "io.k8s.api.batch.v1.CronJobList",
        "io.k8s.api.autoscaling.v1.Scale",
        "io.k8s.api.autoscaling.v2.HorizontalPodAutoscaler",
        "io.k8s.api.autoscaling.v2.HorizontalPodAutoscalerList",
        "io.k8s.api.coordination.v1.Lease",
        "io.k8s.api.coordination.v1.LeaseList",
        "io.k8s.api.discovery.v1.EndpointSlice",
        "io.k8s.api.discovery.v1.EndpointSliceList",
        "io.k8s.api.policy.v1.PodDisruptionBudget",
        "io.k8s.api.policy.v1.PodDisruptionBudgetList",
        "io.k8s.api.policy.v1.Eviction",
    ]
    + [
        "io.k8s.api.rbac.v1." + k
        for k in (
            "Role",
            "RoleList",
            "ClusterRole",
            "ClusterRoleList",
            "RoleBinding",
            "RoleBindingList",
            "ClusterRoleBinding",
            "ClusterRoleBindingList",
        )
    ]
    + [
        "io.k8s.api.scheduling.v1.PriorityClass",
        "io.k8s.api.scheduling.v1.PriorityClassList",
        "io.k8s.api.node.v1.RuntimeClass",
        "io.k8s.api.node.v1.RuntimeClassList",
    ]
    + [
        "io.k8s.apimachinery.pkg.apis.meta.v1." + k
        for k in (
            "Status",
            "WatchEvent",
            "DeleteOptions",
            "APIGroup",
            "APIGroupList",
            "APIResourceList",
            "APIVersions",
            "Condition",
        )
    ]
)

# Definitions that map onto hand-written runtime types instead of generated classes.
SPECIAL = {
    "io.k8s.apimachinery.pkg.api.resource.Quantity": "Quantity",
    "io.k8s.apimachinery.pkg.util.intstr.IntOrString": "IntOrString",
    "io.k8s.apimachinery.pkg.apis.meta.v1.Time": "Time",
    "io.k8s.apimachinery.pkg.apis.meta.v1.MicroTime": "MicroTime",
    "io.k8s.apimachinery.pkg.runtime.RawExtension": "JSONObject",
    "io.k8s.apimachinery.pkg.apis.meta.v1.FieldsV1": "JSONObject",
}

_PREFIXES = (
    ("io.k8s.apimachinery.pkg.apis.meta.v1.", "meta_v1"),
    ("io.k8s.api.core.v1.", "core_v1"),
)


def module_of(defn: str) -> str:
    for prefix, module in _PREFIXES:
        if defn.startswith(prefix):
            return module
    m = re.fullmatch(r"io\.k8s\.api\.([a-z]+)\.(v[0-9a-z]+)\.[A-Za-z0-9]+", defn)
    if not m:
        raise SystemExit(f"gen_models: no module rule for {defn}")
    return f"{m.group(1)}_{m.group(2)}"


def class_of(defn: str) -> str:
    return defn.rsplit(".", 1)[1]


def snake(name: str) -> str:
    """``podIPs`` -> ``pod_ips``, ``hostIPC`` -> ``host_ipc``, ``IPFamilies`` -> ``ip_families``."""
    # An uppercase run followed by a lone "s" at a word end is a plural acronym (IPs, CIDRs).
    parts = re.findall(r"[A-Z]+s(?=[A-Z]|$)|[A-Z]+(?=[A-Z][a-z])|[A-Z]?[a-z0-9]+|[A-Z]+", name)
    if "".join(parts) != name:
        raise SystemExit(f"gen_models: cannot split {name!r}")
    out = "_".join(p.lower() for p in parts)
    if keyword.iskeyword(out) or keyword.issoftkeyword(out):
        out += "_"
    return out


def load_schema() -> dict[str, Any]:
    root = resources.files("kubernetes_validate") / "kubernetes-json-schema"
    path = root / f"v{SCHEMA_VERSION}-local" / "_definitions.json"
    defs: dict[str, Any] = json.loads(path.read_text())["$defs"]
    return defs


def ref_name(prop: dict[str, Any]) -> str | None:
    ref = prop.get("$ref")
    return ref.rsplit("/", 1)[1] if ref else None


def reachable(defs: dict[str, Any]) -> list[str]:
    seen: list[str] = []
    todo = list(ROOTS)
    while todo:
        name = todo.pop()
        if name in seen or name in SPECIAL:
            continue
        seen.append(name)
        for prop in defs[name].get("properties", {}).values():
            for sub in (prop, prop.get("items", {}), prop.get("additionalProperties", {})):
                if isinstance(sub, dict) and (r := ref_name(sub)):
                    todo.append(r)
    return seen


def types_of(prop: dict[str, Any]) -> set[str]:
    t = prop.get("type", [])
    return {t} if isinstance(t, str) else set(t)


class Emitter:
    def __init__(self, defs: dict[str, Any], names: list[str]) -> None:
        self.defs = defs
        self.names = names
        # Simple class names that exist in more than one module are imported qualified.
        self.module_names = {n: module_of(n) for n in names}

    def py_type(self, owner: str, prop_name: str, prop: dict[str, Any], module: str) -> str:
        enum = ENUMS.get((owner, prop_name))
        ref = ref_name(prop)
        if ref is not None:
            return self.ref_type(ref, module)
        kinds = types_of(prop) - {"null"}
        if kinds == {"array"}:
            item = prop["items"]
            inner = self._literal(enum) if enum else self.py_type(owner, "", item, module)
            return f"tuple[{inner}, ...]"
        if kinds == {"object"}:
            extra = prop.get("additionalProperties")
            if isinstance(extra, dict):
                return f"Mapping[str, {self.py_type(owner, '', extra, module)}]"
            return "JSONObject"
        if enum:
            return self._literal(enum)
        scalar = {"string": "str", "integer": "int", "number": "float", "boolean": "bool"}
        if len(kinds) == 1 and (k := next(iter(kinds))) in scalar:
            return scalar[k]
        raise SystemExit(f"gen_models: unsupported property {owner}.{prop_name}: {prop}")

    @staticmethod
    def _literal(values: tuple[str, ...]) -> str:
        return "Literal[" + ", ".join(json.dumps(v) for v in values) + "]"

    def ref_type(self, ref: str, module: str) -> str:
        if ref in SPECIAL:
            return SPECIAL[ref]
        target = self.module_names[ref]
        return class_of(ref) if target == module else f"{target}.{class_of(ref)}"

    def gvk(self, name: str) -> tuple[str, str] | None:
        gvks = self.defs[name].get("x-kubernetes-group-version-kind", [])
        if len(gvks) != 1:
            return None
        g = gvks[0]
        api_version = f"{g['group']}/{g['version']}" if g["group"] else g["version"]
        return api_version, g["kind"]

    def emit_class(self, name: str, module: str) -> Iterator[str]:
        defn = self.defs[name]
        cls = class_of(name)
        required = set(defn.get("required", []))
        gvk = self.gvk(name)
        yield ""
        yield ""
        yield "@attrs.frozen(kw_only=True)"
        yield f"class {cls}:"
        doc = (defn.get("description") or cls).split("\n\n")[0].strip().replace("\\", "\\\\")
        doc = doc.replace('"""', "'''")
        yield f'    """{doc}"""'
        yield ""
        if gvk:
            yield f'    API_VERSION: ClassVar[str] = "{gvk[0]}"'
            yield f'    KIND: ClassVar[str] = "{gvk[1]}"'
            yield ""
        seen: set[str] = set()
        for prop_name, prop in defn.get("properties", {}).items():
            attr = snake(prop_name)
            if attr in seen:
                raise SystemExit(f"gen_models: {name}: two fields named {attr}")
            seen.add(attr)
            tp = self.py_type(name, prop_name, prop, module)
            meta: dict[str, Any] = {"json": prop_name}
            # Protobuf: field number, the embedded message it sits in, presence, bytes.
            if (number := PROTO_FIELDS.get(name, {}).get(prop_name)) is not None:
                meta["proto"] = number
                if prop_name in PROTO_INLINE.get(name, {}):
                    meta["proto_inline"] = PROTO_INLINE[name][prop_name]
                if prop_name in PROTO_POINTERS.get(name, ()):
                    meta["proto_pointer"] = True
                if prop_name in PROTO_BYTES.get(name, ()):
                    meta["proto_bytes"] = True
            if prop_name in required:
                meta["required"] = True
            for key, short in (
                ("x-kubernetes-patch-strategy", "patch_strategy"),
                ("x-kubernetes-patch-merge-key", "patch_merge_key"),
                ("x-kubernetes-list-type", "list_type"),
                ("x-kubernetes-map-type", "map_type"),
            ):
                if key in prop:
                    meta[short] = prop[key]
            if "x-kubernetes-list-map-keys" in prop:
                meta["list_map_keys"] = tuple(prop["x-kubernetes-list-map-keys"])
            if gvk and prop_name in ("apiVersion", "kind"):
                default = json.dumps(gvk[0] if prop_name == "apiVersion" else gvk[1])
                meta["always"] = True
            elif tp.startswith("tuple["):
                default = "()"
                if prop_name in required:
                    meta["always"] = True  # Go has no omitempty here; clients expect the key.
            elif tp.startswith("Mapping["):
                default = "attrs.Factory(dict)"
                if prop_name in required:
                    meta["always"] = True
            else:
                tp += " | None"
                default = "None"
            yield f"    {attr}: {tp} = attrs.field(default={default}, metadata={meta!r})"

    def emit_module(self, module: str, members: list[str]) -> str:
        body: list[str] = []
        imports: set[str] = set()
        for name in members:
            lines = list(self.emit_class(name, module))
            body.extend(lines)
            text = "\n".join(lines)
            imports.update(m for m in re.findall(r"\b([a-z]+_v[0-9a-z]+)\.", text) if m != module)
        kinds = [(g, class_of(n)) for n in members if (g := self.gvk(n))]
        runtime = [
            t
            for t in ("IntOrString", "JSONObject", "MicroTime", "Quantity", "Time")
            if re.search(rf"\b{t}\b", "\n".join(body))
        ]
        head = [
            f'"""Kubernetes {module.replace("_", "/")} models.',
            "",
            "Generated by tools/gen_models.py from the Kubernetes "
            f"{SCHEMA_VERSION} OpenAPI schema; do not edit.",
            "Regenerate with: python tools/gen_models.py",
            '"""',
            "",
            "from __future__ import annotations",
            "",
            "from collections.abc import Mapping",
            "from typing import ClassVar, Literal",
            "",
            "import attrs",
            "",
        ]
        if runtime:
            head.append(f"from kframe.api._types import {', '.join(runtime)}")
        for imp in sorted(imports):
            head.append(f"from kframe.api.models import {imp}")
        head += ["", "__all__ = ["]
        head += [f'    "{class_of(n)}",' for n in members]
        head.append("]")
        tail = ["", "", "# (apiVersion, kind) -> class, for the kinds this module defines."]
        tail.append("KINDS: dict[tuple[str, str], type] = {")
        tail += [f'    ("{g[0]}", "{g[1]}"): {c},' for g, c in kinds]
        tail.append("}")
        return "\n".join(head + body + tail) + "\n"


def generate() -> dict[Path, str]:
    defs = load_schema()
    names = sorted(reachable(defs), key=lambda n: (module_of(n), class_of(n)))
    for key in ENUMS:
        if key[0] not in defs or key[1] not in defs[key[0]].get("properties", {}):
            raise SystemExit(f"gen_models: enum for unknown field {key}")
    emitter = Emitter(defs, names)
    modules: dict[str, list[str]] = {}
    for n in names:
        modules.setdefault(module_of(n), []).append(n)
    files = {
        OUT_DIR / f"{module}.py": emitter.emit_module(module, members)
        for module, members in sorted(modules.items())
    }
    files[OUT_DIR / "__init__.py"] = emit_package(modules)
    return files


def emit_package(modules: dict[str, list[str]]) -> str:
    """The package: every module, and flat names for the classes no two modules share."""
    owners: dict[str, list[str]] = {}
    for module, members in modules.items():
        for n in members:
            owners.setdefault(class_of(n), []).append(module)
    # meta first: every other module refers to it.
    order = sorted(modules, key=lambda m: (m != "meta_v1", m))
    lines = [
        '"""Typed models of the Kubernetes kinds kframe understands, one module per group/version.',
        "",
        "Names that two groups share (``EndpointPort`` is in core/v1 and discovery/v1) are only",
        "reachable through their module: ``models.discovery_v1.EndpointPort``.",
        "",
        f"Generated by tools/gen_models.py from the Kubernetes {SCHEMA_VERSION} OpenAPI schema; "
        "do not edit.",
        '"""',
        "",
        "from kframe.api.models import " + ", ".join(order),
    ]
    flat = sorted((c, m[0]) for c, m in owners.items() if len(m) == 1)
    for module in order:
        names = [c for c, m in flat if m == module]
        lines.append(f"from kframe.api.models.{module} import (")
        lines += [f"    {c} as {c}," for c in names]
        lines.append(")")
    lines += ["", "KINDS: dict[tuple[str, str], type] = {"]
    lines += [f"    **{m}.KINDS," for m in order]
    lines += ["}", "", "__all__ = ["]
    lines += ['    "KINDS",'] + [f'    "{m}",' for m in order] + [f'    "{c}",' for c, _ in flat]
    lines.append("]")
    return "\n".join(lines) + "\n"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="fail if generated files are stale")
    args = parser.parse_args()
    files = generate()
    stale = [p for p, text in files.items() if not p.exists() or p.read_text() != text]
    stale += sorted(set(OUT_DIR.glob("*.py")) - set(files))
    if args.check:
        for p in stale:
            print(f"stale: {p}", file=sys.stderr)
        return 1 if stale else 0
    for path, text in files.items():
        path.write_text(text)
    for path in set(OUT_DIR.glob("*.py")) - set(files):
        path.unlink()
    print(
        f"wrote {len(files)} modules, {sum(t.count('@attrs.frozen') for t in files.values())} "
        "classes"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
