"""The fake runtime's knobs: :class:`FakeRuntimeConfig` for a whole node, annotations per pod.

``FakeRuntimeConfig.from_mapping`` decodes ``RuntimeOptions.config`` (what the kubelet's
``--runtime-config`` file holds); :func:`knobs_for` resolves what one container does from the
config and its pod's annotations (``fake.kframe.io/<knob>``, or ``fake.kframe.io/<knob>.<name>``
for the container called ``name`` only), once, when the container is created.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

import attrs

from kframe.runtime import REASON_OOM_KILLED, InvalidArgumentError

__all__ = [
    "ANNOTATION_PREFIX",
    "ANNOTATIONS",
    "FakeRuntimeConfig",
    "Knobs",
    "knobs_for",
    "parse_duration",
]

ANNOTATION_PREFIX = "fake.kframe.io/"

#: Pod annotation (after the prefix) -> what it does. docs/runtime.md lists the same.
ANNOTATIONS = {
    "start-delay": "StartContainer takes this long (a duration: 500ms, 2s, 1m30s)",
    "exit-after": "the container exits this long after it started (Job-style pods)",
    "exit-code": "the exit code when it exits by itself (default 0: reason Completed)",
    "exit-reason": "the reason when it exits by itself (OOMKilled implies exit code 137)",
    "fail-start": "StartContainer fails: the container is EXITED, exit code 128, this reason",
    "fail-pull": "PullImage for this pod fails with this message (ErrImagePull)",
    "ignore-sigterm": '"true": StopContainer waits the whole timeout, then exit code 137',
    "exec-output": "what exec prints for commands other than echo, true, false and cat",
    "exec-exit-code": "the exit code of those commands",
}

_UNITS = {"ns": 1e-9, "us": 1e-6, "µs": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0, "h": 3600.0}
_PART = re.compile(r"(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|ms|s|m|h)")


def parse_duration(value: object, *, what: str = "duration") -> float:
    """Seconds from a Go duration (``1m30s``, ``500ms``) or a number of seconds."""
    if isinstance(value, bool):
        raise InvalidArgumentError(f"{what}: not a duration: {value!r}")
    if isinstance(value, int | float):
        seconds = float(value)
    elif isinstance(value, str):
        text = value.strip()
        try:
            seconds = float(text)
        except ValueError:
            parts = _PART.findall(text)
            if not parts or "".join(n + u for n, u in parts) != text:
                raise InvalidArgumentError(f"{what}: not a duration: {value!r}") from None
            seconds = sum(float(n) * _UNITS[u] for n, u in parts)
    else:
        raise InvalidArgumentError(f"{what}: not a duration: {value!r}")
    if seconds < 0:
        raise InvalidArgumentError(f"{what}: negative duration: {value!r}")
    return seconds


def _int(value: object, what: str) -> int:
    try:
        if isinstance(value, bool):
            raise ValueError
        return int(str(value).strip())
    except ValueError:
        raise InvalidArgumentError(f"{what}: not an integer: {value!r}") from None


@attrs.frozen(kw_only=True)
class FakeRuntimeConfig:
    """Knobs of one fake node's runtime. Durations are seconds; all default to instant.

    Per-pod annotations override the container-level ones (``exit_after`` ... ``exec_exit_code``).
    """

    sandbox_delay: float = 0.0  #: RunPodSandbox takes this long
    start_delay: float = 0.0  #: StartContainer takes this long (CREATED until then)
    pull_delay: float = 0.0  #: PullImage of an image not yet stored takes this long
    exit_after: float | None = None  #: containers exit this long after starting (None: never)
    exit_code: int = 0  #: ... with this exit code
    stop_exit_code: int = 0  #: exit code of a container stopped by StopContainer (SIGTERM)
    fail_start: str = ""  #: a reason: every StartContainer fails with it
    fail_pull: str = ""  #: a message: every PullImage fails with it
    exec_output: str | None = None  #: output of other commands (None: the command line)
    exec_exit_code: int = 0
    images: tuple[str, ...] = ("registry.k8s.io/pause:3.10",)  #: stored from the start
    image_size: int = 50 * 1024 * 1024  #: bytes per image
    pod_cidr: str = "10.244.0.0/24"  #: sandbox IPs (UpdateRuntimeConfig replaces it)
    host_ip: str = "10.0.0.1"  #: the IP of host-network sandboxes
    cpu_fraction: float = 0.25  #: share of its CPU (limit, else request) a container uses
    memory_fraction: float = 0.5  #: share of its memory limit a container's working set is
    idle_cpu_cores: float = 0.001  #: CPU of a container with neither request nor limit
    idle_memory_bytes: int = 8 * 1024 * 1024  #: memory of a container without a limit
    write_logs: bool = True  #: write start and exit lines to log_path (when one is given)
    runtime_ready: bool = True  #: the RuntimeReady condition (False: the node goes NotReady)
    network_ready: bool = True  #: the NetworkReady condition

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any]) -> FakeRuntimeConfig:
        """Decode a config mapping; InvalidArgumentError names the bad key."""
        fields = attrs.fields_dict(cls)
        kwargs: dict[str, Any] = {}
        for key, value in data.items():
            name = key.replace("-", "_")
            if name not in fields:
                known = ", ".join(sorted(fields))
                raise InvalidArgumentError(f"fake runtime: unknown config key {key!r} ({known})")
            what = f"fake runtime config {key}"
            if name.endswith("_delay") or name == "exit_after":
                kwargs[name] = None if value is None else parse_duration(value, what=what)
            elif name in ("exit_code", "stop_exit_code", "exec_exit_code", "image_size"):
                kwargs[name] = _int(value, what)
            elif name == "images":
                if not isinstance(value, list | tuple) or not all(
                    isinstance(v, str) for v in value
                ):
                    raise InvalidArgumentError(f"{what}: a list of image names expected")
                kwargs[name] = tuple(value)
            elif name.endswith(("_fraction", "_cores")):
                kwargs[name] = float(value)
            elif name == "idle_memory_bytes":
                kwargs[name] = _int(value, what)
            elif name in ("write_logs", "runtime_ready", "network_ready"):
                if not isinstance(value, bool):
                    raise InvalidArgumentError(f"{what}: true or false expected")
                kwargs[name] = value
            else:
                kwargs[name] = None if value is None and name == "exec_output" else str(value)
        return cls(**kwargs)


@attrs.frozen
class Knobs:
    """What one container does, resolved at create time."""

    start_delay: float
    exit_after: float | None
    exit_code: int
    exit_reason: str
    fail_start: str
    ignore_sigterm: bool
    exec_output: str | None
    exec_exit_code: int


def _lookup(annotations: Mapping[str, str], knob: str, container: str) -> str | None:
    own = annotations.get(f"{ANNOTATION_PREFIX}{knob}.{container}")
    return own if own is not None else annotations.get(ANNOTATION_PREFIX + knob)


def knobs_for(config: FakeRuntimeConfig, annotations: Mapping[str, str], container: str) -> Knobs:
    """The knobs of container ``container`` of a pod with ``annotations``.

    InvalidArgumentError (naming the annotation) for a value that does not parse.
    """

    def get(knob: str) -> str | None:
        return _lookup(annotations, knob, container) if annotations else None

    def what(knob: str) -> str:
        return f"annotation {ANNOTATION_PREFIX}{knob}"

    start = get("start-delay")
    exit_after = get("exit-after")
    exit_code = get("exit-code")
    reason = get("exit-reason") or ""
    code = config.exit_code if exit_code is None else _int(exit_code, what("exit-code"))
    if reason == REASON_OOM_KILLED and exit_code is None:
        code = 137
    exec_code = get("exec-exit-code")
    output = get("exec-output")
    return Knobs(
        start_delay=config.start_delay
        if start is None
        else parse_duration(start, what=what("start-delay")),
        exit_after=config.exit_after
        if exit_after is None
        else parse_duration(exit_after, what=what("exit-after")),
        exit_code=code,
        exit_reason=reason,
        fail_start=get("fail-start") or config.fail_start,
        ignore_sigterm=(get("ignore-sigterm") or "").lower() == "true",
        exec_output=config.exec_output if output is None else output,
        exec_exit_code=config.exec_exit_code
        if exec_code is None
        else _int(exec_code, what("exec-exit-code")),
    )
