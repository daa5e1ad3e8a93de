"""Write tools/proto_fields.py: the protobuf field numbers of every definition gen_models emits.

Kubernetes' protobuf messages are generated from the Go types (go-to-protobuf) and compiled into
every Go client as gzipped ``FileDescriptorProto``s (gogo-protobuf registers them). A kubectl
binary therefore carries the exact descriptors of its release, including the gogo options that
the published ``generated.proto`` texts leave out, notably ``(gogoproto.nullable) = false`` on
fields whose Go type is not a pointer. This script reads them from a kubectl binary of the
schema's minor version:

    python tools/gen_proto_fields.py --kubectl /path/to/kubectl-1.33          # rewrite the table
    python tools/gen_proto_fields.py --kubectl /path/to/kubectl-1.33 --check  # exit 1 if stale

Every JSON property of every generated definition must have a field number, except the
``apiVersion``/``kind`` of top-level kinds: protobuf carries those in the ``runtime.Unknown``
envelope, not in the message. Anything else missing is an error.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
import gen_models

OUT = Path(__file__).resolve().parent / "proto_fields.py"
DEFAULT_KUBECTL = "/usr/lib/google-cloud-sdk/bin/kubectl.1.33"

# google/protobuf/descriptor.proto field numbers and types, and gogo.proto's nullable option.
_TYPE_MESSAGE, _TYPE_BYTES = 11, 12
_LABEL_REPEATED = 3
_GOGO_NULLABLE = 65001


def _fields(data: bytes) -> Iterator[tuple[int, int | bytes]]:
    """(number, value) of each field of one protobuf message; varints as int, the rest as bytes."""
    i = 0

    def varint() -> int:
        nonlocal i
        out = shift = 0
        while True:
            b = data[i]
            i += 1
            out |= (b & 0x7F) << shift
            shift += 7
            if b < 0x80:
                return out

    while i < len(data):
        key = varint()
        number, wire = key >> 3, key & 7
        if wire == 0:
            yield number, varint()
        elif wire == 2:
            n = varint()
            yield number, data[i : i + n]
            i += n
        elif wire in (1, 5):
            size = 8 if wire == 1 else 4
            yield number, data[i : i + size]
            i += size
        else:
            raise ValueError(f"unexpected wire type {wire}")


def _message(data: bytes) -> dict[int, list[int | bytes]]:
    out: dict[int, list[int | bytes]] = {}
    for number, value in _fields(data):
        out.setdefault(number, []).append(value)
    return out


def _str(msg: dict[int, list[int | bytes]], number: int) -> str:
    value = msg.get(number, [b""])[-1]
    assert isinstance(value, bytes)
    return value.decode()


def _int(msg: dict[int, list[int | bytes]], number: int) -> int:
    value = msg.get(number, [0])[-1]
    assert isinstance(value, int)
    return value


def descriptors(binary: bytes) -> Iterator[bytes]:
    """The gzipped FileDescriptorProtos of Kubernetes' generated.proto files in a Go binary."""
    start = 0
    while (start := binary.find(b"\x1f\x8b\x08", start)) >= 0:
        try:
            data = zlib.decompressobj(16 + zlib.MAX_WBITS).decompress(binary[start : start + 2**21])
        except zlib.error:
            data = b""
        if len(data) > 2 and data[0] == 0x0A and b"/generated.proto" in data[: data[1] + 2]:
            yield data
        start += 3


class Field:
    def __init__(self, raw: bytes, nested: dict[str, dict[int, list[int | bytes]]]) -> None:
        f = _message(raw)
        self.name = _str(f, 1)
        self.number = _int(f, 3)
        self.type = _int(f, 5)
        options = _message(_bytes(f, 8))
        self.nullable = _int(options, _GOGO_NULLABLE) if _GOGO_NULLABLE in options else 1
        self.repeated = _int(f, 4) == _LABEL_REPEATED
        self.message = _str(f, 6).removeprefix(".")
        entry = nested.get(self.message.rsplit(".", 1)[-1]) if self.type == _TYPE_MESSAGE else None
        # map<K, V> is a repeated XEntry message marked map_entry (MessageOptions field 7).
        self.map_value: dict[int, list[int | bytes]] | None = None
        if entry is not None and _int(_message(_bytes(entry, 7)), 7):
            self.map_value = next(
                m for raw_f in entry.get(2, []) if _int(m := _message(_b(raw_f)), 3) == 2
            )

    @property
    def bytes(self) -> bool:
        if self.map_value is not None:
            return _int(self.map_value, 5) == _TYPE_BYTES
        return self.type == _TYPE_BYTES

    @property
    def pointer_scalar(self) -> bool:
        """A scalar the Go struct holds through a pointer: on the wire only when set."""
        return self.type != _TYPE_MESSAGE and not self.repeated and bool(self.nullable)


def _b(value: int | bytes) -> bytes:
    assert isinstance(value, bytes)
    return value


def _bytes(msg: dict[int, list[int | bytes]], number: int) -> bytes:
    return _b(msg.get(number, [b""])[-1])


def messages(binary: bytes) -> dict[str, list[Field]]:
    """Fully qualified message name (``k8s.io.api.core.v1.Pod``) -> its fields."""
    out: dict[str, list[Field]] = {}
    for data in descriptors(binary):
        file = _message(data)
        package = _str(file, 2)
        for raw in file.get(4, []):
            msg = _message(_b(raw))
            nested = {_str(n, 1): n for n in (_message(_b(r)) for r in msg.get(3, []))}
            out[f"{package}.{_str(msg, 1)}"] = [Field(_b(r), nested) for r in msg.get(2, [])]
    return out


def proto_name(definition: str) -> str:
    """``io.k8s.api.core.v1.Pod`` -> ``k8s.io.api.core.v1.Pod``."""
    return "k8s.io." + definition.removeprefix("io.k8s.")


class Tables:
    def __init__(self) -> None:
        self.numbers: dict[str, dict[str, int]] = {}
        self.inline: dict[str, dict[str, int]] = {}
        self.pointers: dict[str, list[str]] = {}
        self.bytes: dict[str, list[str]] = {}
        self.problems: list[str] = []


def build(binary: bytes) -> Tables:
    defs = gen_models.load_schema()
    protos = messages(binary)
    tables = Tables()
    for name in sorted(gen_models.reachable(defs)):
        fields = protos.get(proto_name(name))
        if fields is None:
            tables.problems.append(f"{name}: no protobuf message {proto_name(name)}")
            continue
        props: dict[str, Any] = defs[name].get("properties", {})
        # A Go struct embedded with `json:",inline"` is one protobuf field whose message's
        # fields are JSON properties of the outer object (Volume.volumeSource, Probe.handler).
        where: dict[str, tuple[Field, int | None]] = {}
        for field in fields:
            if field.name in props:
                where[field.name] = (field, None)
            elif field.message in protos:
                for inner in protos[field.message]:
                    if inner.name in props and inner.name not in where:
                        where[inner.name] = (inner, field.number)
            else:
                tables.problems.append(f"{name}.{field.name}: not in the schema (ignored)")
        is_kind = "x-kubernetes-group-version-kind" in defs[name]
        table: dict[str, int] = {}
        for prop, schema in props.items():
            if prop not in where:
                if not (is_kind and prop in ("apiVersion", "kind")):
                    tables.problems.append(f"{name}.{prop}: no protobuf field")
                continue
            field, inline = where[prop]
            table[prop] = field.number
            if inline is not None:
                tables.inline.setdefault(name, {})[prop] = inline
            if field.pointer_scalar:
                tables.pointers.setdefault(name, []).append(prop)
            if field.bytes:
                tables.bytes.setdefault(name, []).append(prop)
            extra = schema.get("additionalProperties")
            formats = (schema.get("format"), isinstance(extra, dict) and extra.get("format"))
            if field.bytes != ("byte" in formats):
                tables.problems.append(f"{name}.{prop}: protobuf bytes={field.bytes}; schema not")
        tables.numbers[name] = table
    return tables


def _render(key: str, items: list[str], open_: str, close: str) -> list[str]:
    """One dict entry in the layout ``ruff format`` keeps: one line, or one item per line."""
    inner = ", ".join(items) + ("," if open_ == "(" and len(items) == 1 else "")
    one = f"    {json.dumps(key)}: {open_}{inner}{close},"
    if len(one) <= 100:
        return [one]
    return [f"    {json.dumps(key)}: {open_}", *(f"        {i}," for i in items), f"    {close},"]


def render(tables: Tables, version: str) -> str:
    lines = [
        '"""Protobuf field numbers of the definitions gen_models.py emits (read by gen_models.py).',
        "",
        "Generated by tools/gen_proto_fields.py from the descriptors compiled into kubectl",
        f"{version} (k8s.io/api and k8s.io/apimachinery generated.proto); do not edit. Field names",
        "are JSON names. The apiVersion and kind of a top-level kind have no number: protobuf",
        "carries them in the runtime.Unknown envelope.",
        '"""',
        "",
        "#: Definition -> {JSON property: protobuf field number}. For an inlined property (see",
        "#: PROTO_INLINE) the number is within the embedded message.",
        "PROTO_FIELDS: dict[str, dict[str, int]] = {",
    ]
    for name, table in tables.numbers.items():
        inline = tables.inline.get(name, {})
        ordered = sorted(table.items(), key=lambda kv: (inline.get(kv[0], 0), kv[1]))
        lines += _render(name, [f"{json.dumps(k)}: {v}" for k, v in ordered], "{", "}")
    lines += [
        "}",
        "",
        "#: Definition -> {JSON property: number of the field holding the message it is in}. A Go",
        '#: struct embedded with `json:",inline"` (Volume\'s VolumeSource) is one protobuf field.',
        "PROTO_INLINE: dict[str, dict[str, int]] = {",
    ]
    for name, table in tables.inline.items():
        lines += _render(name, [f"{json.dumps(k)}: {v}" for k, v in table.items()], "{", "}")
    lines += [
        "}",
        "",
        "#: Scalar properties whose Go type is a pointer (no `(gogoproto.nullable) = false`): the",
        "#: wire carries them only when set, so a zero value there is a value, not an unset field.",
        "PROTO_POINTERS: dict[str, tuple[str, ...]] = {",
    ]
    for name, props in tables.pointers.items():
        lines += _render(name, [json.dumps(p) for p in props], "(", ")")
    lines += [
        "}",
        "",
        "#: Properties (or map values) of protobuf type bytes: base64 strings in JSON.",
        "PROTO_BYTES: dict[str, tuple[str, ...]] = {",
    ]
    for name, props in tables.bytes.items():
        lines += _render(name, [json.dumps(p) for p in props], "(", ")")
    lines.append("}")
    return "\n".join(lines) + "\n"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--kubectl", default=DEFAULT_KUBECTL, help="a kubectl binary")
    parser.add_argument("--check", action="store_true", help="fail if the table is stale")
    args = parser.parse_args()
    out = subprocess.run(
        [args.kubectl, "version", "--client", "-o", "json"],
        capture_output=True,
        check=True,
        text=True,
    ).stdout
    version = str(json.loads(out)["clientVersion"]["gitVersion"])
    tables = build(Path(args.kubectl).read_bytes())
    for p in tables.problems:
        print(p, file=sys.stderr)
    text = render(tables, version)
    if args.check:
        stale = not OUT.exists() or OUT.read_text() != text
        if stale:
            print(f"stale: {OUT}", file=sys.stderr)
        return 1 if stale else 0
    OUT.write_text(text)
    fields = sum(len(t) for t in tables.numbers.values())
    print(f"wrote {OUT.name}: {len(tables.numbers)} definitions, {fields} fields")
    return 0


if __name__ == "__main__":
    sys.exit(main())
