"""Formats and label rules shared by every kind: names, ports, IPs, labels and label selectors.

Renders ``apimachinery/pkg/util/validation`` (``IsValidPortName``, ``IsConfigMapKey``, ``IsValidIP``
...) and ``apimachinery/pkg/apis/meta/v1/validation`` (``ValidateLabels``,
``ValidateLabelSelector``) with upstream's messages.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Mapping
from typing import Any

from kframe.api import (
    Selector,
    SelectorError,
    is_dns1123_label,
    is_dns1123_subdomain,
    is_qualified_name,
    is_valid_label_value,
    selector_from_label_selector,
)
from kframe.apiserver._errors import Cause
from kframe.apiserver._validate_field import forbidden, invalid, required, too_long

# --- name and value formats ------------------------------------------------------------------


def dns_label(value: str, path: str) -> list[Cause]:
    return [invalid(path, value, m) for m in is_dns1123_label(value)]


def dns_subdomain(value: str, path: str) -> list[Cause]:
    return [invalid(path, value, m) for m in is_dns1123_subdomain(value)]


def qualified_name(value: str, path: str) -> list[Cause]:
    return [invalid(path, value, m) for m in is_qualified_name(value)]


def path_segment_name(name: str) -> list[str]:
    """``path.IsValidPathSegmentName`` (RBAC and scale-target names)."""
    if name in (".", ".."):
        return [f"may not be '{name}'"]
    return [f"may not contain '{c}'" for c in ("/", "%") if c in name]


def _chdir_prefix(value: str) -> list[str]:
    if value in (".", ".."):
        return [f"must not be '{value}'"]
    return ["must not start with '..'"] if value.startswith("..") else []


_CONFIG_KEY = re.compile(r"[-._a-zA-Z0-9]+")


def is_config_map_key(value: str) -> list[str]:
    errs = ["must be no more than 253 characters"] if len(value.encode()) > 253 else []
    if not _CONFIG_KEY.fullmatch(value):
        errs.append(
            "a valid config key must consist of alphanumeric characters, '-', '_' or '.' "
            "(e.g. 'key.name',  or 'KEY_NAME',  or 'key-name', "
            "regex used for validation is '[-._a-zA-Z0-9]+')"
        )
    return errs + _chdir_prefix(value)


def is_env_var_name(value: str) -> list[str]:
    """``IsRelaxedEnvVarName`` (the RelaxedEnvironmentVariableValidation gate is on)."""
    errs = ["environment variable name must be non-empty"] if not value else []
    if any(ord(c) > 0x7E or ord(c) < 0x20 or c == "=" for c in value):
        errs.append(
            "a valid environment variable name must consist only of printable ASCII "
            "characters other than '='"
        )
    return errs


def is_valid_port_name(port: str) -> list[str]:
    errs = ["must be no more than 15 characters"] if len(port) > 15 else []
    if not re.fullmatch(r"[-a-z0-9]+", port):
        errs.append("must contain only alpha-numeric characters (a-z, 0-9), and hyphens (-)")
    if not re.search(r"[a-z]", port):
        errs.append("must contain at least one letter (a-z)")
    if "--" in port:
        errs.append("must not contain consecutive hyphens")
    if port and (port[0] == "-" or port[-1] == "-"):
        errs.append("must not begin or end with a hyphen")
    return errs


def is_valid_percent(value: str) -> list[str]:
    if re.fullmatch(r"[0-9]+%", value):
        return []
    return [
        "a valid percent string must be a numeric string followed by an ending '%' "
        "(e.g. '1%',  or '93%', regex used for validation is '[0-9]+%')"
    ]


def port_num_or_name(value: Any, path: str) -> list[Cause]:
    """``ValidatePortNumOrName``."""
    if isinstance(value, str):
        return [invalid(path, value, m) for m in is_valid_port_name(value)]
    if isinstance(value, int) and not 1 <= value <= 65535:
        return [invalid(path, value, "must be between 1 and 65535, inclusive")]
    return []


def parse_ip(value: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    """``netutils.ParseIPSloppy``: IPv4 parts may carry leading zeros; IPv4-mapped is IPv4."""
    if ":" in value:
        if "%" in value:
            return None
        try:
            ip6 = ipaddress.IPv6Address(value)
        except ValueError:
            return None
        return ip6.ipv4_mapped or ip6
    parts = value.split(".")
    if len(parts) != 4 or not all(p.isascii() and p.isdigit() and int(p) <= 255 for p in parts):
        return None
    return ipaddress.IPv4Address(".".join(str(int(p)) for p in parts))


def ip_causes(path: str, value: str) -> list[Cause]:
    if parse_ip(value) is None:
        return [
            invalid(path, value, "must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)")
        ]
    return []


def cidr_causes(path: str, value: str) -> list[Cause]:
    ip, _, bits = value.partition("/")
    addr = parse_ip(ip)
    width = 32 if isinstance(addr, ipaddress.IPv4Address) and ":" not in ip else 128
    if addr is None or not bits.isdigit() or int(bits) > width:
        return [
            invalid(path, value, "must be a valid CIDR value, (e.g. 10.9.8.0/24 or 2001:db8::/64)")
        ]
    return []


def non_special_ip(value: str, path: str) -> list[Cause]:
    """``ValidateNonSpecialIP``."""
    ip = parse_ip(value)
    if ip is None:
        return [invalid(path, value, "must be a valid IP address")]
    errs = []
    if ip.is_unspecified:
        errs.append(invalid(path, value, f"may not be unspecified ({value})"))
    if ip.is_loopback:
        errs.append(invalid(path, value, "may not be in the loopback range (127.0.0.0/8, ::1/128)"))
    if ip.is_link_local:
        detail = "may not be in the link-local range (169.254.0.0/16, fe80::/10)"
        errs.append(invalid(path, value, detail))
    multicast = (
        ip in ipaddress.ip_network("224.0.0.0/24")
        if ip.version == 4
        else ip.packed[0] == 0xFF and ip.packed[1] & 0x0F == 0x02
    )
    if multicast:
        detail = "may not be in the link-local multicast range (224.0.0.0/24, ff02::/10)"
        errs.append(invalid(path, value, detail))
    return errs


# --- labels and selectors --------------------------------------------------------------------


def labels(values: Mapping[str, Any] | None, path: str) -> list[Cause]:
    """``ValidateLabels``: every error at the map's own path."""
    errs: list[Cause] = []
    for key, value in (values or {}).items():
        errs += qualified_name(key, path)
        errs += [invalid(path, value, m) for m in is_valid_label_value(str(value))]
    return errs


def check_annotations(values: Mapping[str, Any] | None, path: str) -> list[Cause]:
    errs: list[Cause] = []
    total = 0
    for key, value in (values or {}).items():
        errs += [invalid(path, key, m) for m in is_qualified_name(key.lower())]
        total += len(key.encode()) + len(str(value).encode())
    if total > 256 * 1024:
        errs.append(too_long(path, 256 * 1024))
    return errs


def label_selector(sel: Mapping[str, Any] | None, path: str, values: bool = True) -> list[Cause]:
    """``ValidateLabelSelector``; ``values`` checks In/NotIn values as label values."""
    if sel is None:
        return []
    errs = labels(sel.get("matchLabels"), f"{path}.matchLabels")
    for i, expr in enumerate(sel.get("matchExpressions") or []):
        ipath = f"{path}.matchExpressions[{i}]"
        op, vals = expr.get("operator", ""), expr.get("values") or []
        if op in ("In", "NotIn"):
            if not vals:
                detail = "must be specified when `operator` is 'In' or 'NotIn'"
                errs.append(required(f"{ipath}.values", detail))
        elif op in ("Exists", "DoesNotExist"):
            if vals:
                detail = "may not be specified when `operator` is 'Exists' or 'DoesNotExist'"
                errs.append(forbidden(f"{ipath}.values", detail))
        else:
            errs.append(invalid(f"{ipath}.operator", op, "not a valid selector operator"))
        errs += qualified_name(expr.get("key", ""), f"{ipath}.key")
        if values:
            for j, value in enumerate(vals):
                vpath = f"{ipath}.values[{j}]"
                errs += [invalid(vpath, value, m) for m in is_valid_label_value(value)]
    return errs


def as_selector(sel: Mapping[str, Any] | None) -> Selector | None:
    """``LabelSelectorAsSelector``: ``None`` when it errors; a missing selector selects nothing."""
    if sel is None:
        return Selector.nothing()
    try:
        return selector_from_label_selector(sel.get("matchLabels"), sel.get("matchExpressions"))
    except (SelectorError, TypeError):
        return None


def percent_or_int(value: Any) -> int:
    """``getIntOrPercentValue``: the number of ``"25%"`` or of ``3``; a bad percent is 0."""
    if isinstance(value, str):
        if not is_valid_percent(value):
            return int(value[:-1])
        return int(value) if re.fullmatch(r"[+-]?[0-9]+", value) else 0
    return int(value or 0)
