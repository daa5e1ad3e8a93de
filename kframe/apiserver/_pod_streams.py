"""Where a pod's log, exec and attach streams are: upstream's ``LogLocation``, ``streamLocation``.

:mod:`kframe.apiserver._node_proxy` calls this to turn a ``pods/log``, ``pods/exec`` or
``pods/attach`` request into a kubelet URL, as ``pkg/registry/core/pod/strategy.go`` does: decode
the options from the query (``PodLogOptions``, ``PodExecOptions``, ``PodAttachOptions``), validate
them (``ValidatePodLogOptions``), pick the container (``validateContainer``), find the node's
kubelet (``NodeConnectionInfoGetter``) and re-encode the options for it (``url.Values.Encode``:
keys sorted). The kubelet side of the contract is described in ``docs/api.md``.
"""

from __future__ import annotations

import datetime as _dt
import re
from typing import Any
from urllib.parse import urlencode

import attrs
from multidict import MultiMapping
from yarl import URL

from kframe.api import format_time, parse_time
from kframe.apiserver import _errors as errors
from kframe.apiserver._storage import ObjectStorage
from kframe.apiserver._validate_field import NEGATIVE, forbidden, invalid

__all__ = [
    "KUBELET_PORT",
    "PREFERRED_ADDRESS_TYPES",
    "LogOptions",
    "StreamOptions",
    "kubelet_url",
    "resolve_container",
]

#: The kubelet port when the Node does not report one (kube-apiserver's ``--kubelet-port``).
KUBELET_PORT = 10250
#: kube-apiserver's default ``--kubelet-preferred-address-types``, in order.
PREFERRED_ADDRESS_TYPES = ("Hostname", "InternalDNS", "InternalIP", "ExternalDNS", "ExternalIP")

_INT = re.compile(r"[+-]?[0-9]+")
_INT64 = range(-(2**63), 2**63)


def _bad_value(name: str, text: str, expected: str) -> errors.APIError:
    return errors.bad_request(
        f'invalid value "{text}" for query parameter {name}: expected {expected}'
    )


def _bool(query: MultiMapping[str], name: str) -> bool:
    # Upstream reads anything but "0"/"false" as true; kframe rejects what is neither.
    text = query.get(name)
    if text is None:
        return False
    if text.lower() in ("true", "1"):
        return True
    if text.lower() in ("false", "0"):
        return False
    raise _bad_value(name, text, "true or false")


def _int(query: MultiMapping[str], name: str) -> int | None:
    text = query.get(name)
    if text is None:
        return None
    if not _INT.fullmatch(text) or int(text) not in _INT64:
        raise _bad_value(name, text, "a 64-bit integer")
    return int(text)


def _time(query: MultiMapping[str], name: str) -> _dt.datetime | None:
    text = query.get(name)
    if not text:
        return None
    try:
        return parse_time(text)
    except ValueError:
        raise _bad_value(name, text, "an RFC 3339 time such as 2024-05-01T10:00:00Z") from None


@attrs.frozen(kw_only=True)
class LogOptions:
    """``PodLogOptions``, decoded from the query of ``GET pods/{name}/log``."""

    container: str = ""
    follow: bool = False
    previous: bool = False
    timestamps: bool = False
    since_seconds: int | None = None
    since_time: _dt.datetime | None = None
    tail_lines: int | None = None
    limit_bytes: int | None = None
    #: Accepted and ignored: kframe talks plain HTTP to kubelets.
    insecure_skip_tls_verify_backend: bool = False

    @classmethod
    def from_query(cls, query: MultiMapping[str]) -> LogOptions:
        """Decode; a value that is not an integer, boolean or time is a 400 BadRequest."""
        return cls(
            container=query.get("container", ""),
            follow=_bool(query, "follow"),
            previous=_bool(query, "previous"),
            timestamps=_bool(query, "timestamps"),
            since_seconds=_int(query, "sinceSeconds"),
            since_time=_time(query, "sinceTime"),
            tail_lines=_int(query, "tailLines"),
            limit_bytes=_int(query, "limitBytes"),
            insecure_skip_tls_verify_backend=_bool(query, "insecureSkipTLSVerifyBackend"),
        )

    def validate(self, name: str) -> None:
        """``ValidatePodLogOptions``: a 422 Invalid of kind PodLogOptions, with field causes."""
        causes = []
        if self.tail_lines is not None and self.tail_lines < 0:
            causes.append(invalid("tailLines", self.tail_lines, NEGATIVE))
        if self.limit_bytes is not None and self.limit_bytes < 1:
            causes.append(invalid("limitBytes", self.limit_bytes, "must be greater than 0"))
        if self.since_seconds is not None and self.since_time is not None:
            # field.NewPath("") prints as "[]" upstream.
            causes.append(
                forbidden("[]", "at most one of `sinceTime` or `sinceSeconds` may be specified")
            )
        elif self.since_seconds is not None and self.since_seconds < 1:
            causes.append(invalid("sinceSeconds", self.since_seconds, "must be greater than 0"))
        if causes:
            raise errors.invalid("PodLogOptions", "", name, causes)

    def kubelet_query(self) -> list[tuple[str, str]]:
        """The options as ``LogLocation`` passes them to the kubelet (``container`` is in the
        path; unset options are left out)."""
        params: list[tuple[str, str]] = []
        if self.follow:
            params.append(("follow", "true"))
        if self.previous:
            params.append(("previous", "true"))
        if self.timestamps:
            params.append(("timestamps", "true"))
        if self.since_seconds is not None:
            params.append(("sinceSeconds", str(self.since_seconds)))
        if self.since_time is not None:
            params.append(("sinceTime", format_time(self.since_time)))
        if self.tail_lines is not None:
            params.append(("tailLines", str(self.tail_lines)))
        if self.limit_bytes is not None:
            params.append(("limitBytes", str(self.limit_bytes)))
        return params


@attrs.frozen(kw_only=True)
class StreamOptions:
    """``PodExecOptions`` (``command`` set) or ``PodAttachOptions``, decoded from the query."""

    container: str = ""
    stdin: bool = False
    stdout: bool = False
    stderr: bool = False
    tty: bool = False
    command: tuple[str, ...] = ()

    @classmethod
    def from_query(cls, query: MultiMapping[str], *, exec_: bool) -> StreamOptions:
        return cls(
            container=query.get("container", ""),
            stdin=_bool(query, "stdin"),
            stdout=_bool(query, "stdout"),
            stderr=_bool(query, "stderr"),
            tty=_bool(query, "tty"),
            command=tuple(query.getall("command", ())) if exec_ else (),
        )

    def kubelet_query(self) -> list[tuple[str, str]]:
        """``streamParams``: the kubelet's names ``input``/``output``/``error``/``tty`` set to
        ``1``, then every ``command`` argument in order."""
        flags = (("input", self.stdin), ("output", self.stdout), ("error", self.stderr))
        params = [(key, "1") for key, on in (*flags, ("tty", self.tty)) if on]
        return params + [("command", arg) for arg in self.command]


def _names(spec: dict[str, Any]) -> list[str]:
    # podutil.VisitContainers order: init containers, containers, ephemeral containers.
    keys = ("initContainers", "containers", "ephemeralContainers")
    return [c.get("name", "") for key in keys for c in spec.get(key) or ()]


def resolve_container(pod: dict[str, Any], container: str) -> str:
    """``validateContainer``: the named container, or the only one; a 400 otherwise."""
    spec = pod.get("spec") or {}
    name = (pod.get("metadata") or {}).get("name", "")
    if container:
        if container not in _names(spec):
            raise errors.bad_request(f"container {container} is not valid for pod {name}")
        return container
    containers = spec.get("containers") or []
    if len(containers) == 1:
        return str(containers[0].get("name", ""))
    if not containers:
        raise errors.bad_request(f"a container name must be specified for pod {name}")
    # Go's %s of a []string: "[a b c]".
    listed = "[" + " ".join(_names(spec)) + "]"
    raise errors.bad_request(
        f"a container name must be specified for pod {name}, choose one of: {listed}"
    )


async def _kubelet_endpoint(nodes: ObjectStorage, node_name: str) -> tuple[str, int]:
    """``NodeConnectionInfoGetter``: the first address of a preferred type, and the port the
    kubelet reports in ``status.daemonEndpoints`` (10250 when it reports none)."""
    node = await nodes.get(None, node_name)  # 404 nodes "x" not found
    status = node.get("status") or {}
    addresses = [a for a in status.get("addresses") or () if isinstance(a, dict)]
    for kind in PREFERRED_ADDRESS_TYPES:
        host = next((a.get("address") for a in addresses if a.get("type") == kind), None)
        if host:
            break
    else:
        known = " ".join(f"{{{a.get('type', '')} {a.get('address', '')}}}" for a in addresses)
        # Upstream answers 500 with reason Unknown; the node cannot be reached, so 503.
        raise errors.APIError(
            503,
            "ServiceUnavailable",
            f"no preferred addresses found; known addresses: [{known}]",
        )
    endpoint = (status.get("daemonEndpoints") or {}).get("kubeletEndpoint") or {}
    port = endpoint.get("Port")  # DaemonEndpoint's JSON name is capitalized upstream
    if not isinstance(port, int) or isinstance(port, bool) or port <= 0:
        port = KUBELET_PORT
    return str(host), port


async def kubelet_url(
    nodes: ObjectStorage, node_name: str, path: str, query: list[tuple[str, str]]
) -> URL:
    """``http://host:port/<path>?<query>``, the query keys sorted as Go's ``url.Values``.

    Plain http: kframe has no TLS between the API server and kubelets yet.
    """
    host, port = await _kubelet_endpoint(nodes, node_name)
    if ":" in host:  # an IPv6 address, bracketed as net.JoinHostPort does
        host = f"[{host}]"
    encoded = urlencode(sorted(query, key=lambda kv: kv[0]))
    return URL(f"http://{host}:{port}{path}" + (f"?{encoded}" if encoded else ""), encoded=True)
