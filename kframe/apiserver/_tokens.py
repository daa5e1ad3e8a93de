"""Continue tokens for paginated lists, in upstream's format.

A token is base64url of ``{"v":"meta.k8s.io/v1","rv":<revision>,"start":"<key>"}``: the next
page is read at the first page's revision, from the key after the last one returned.
"""

from __future__ import annotations

import base64
import binascii
import json

from kframe.apiserver._errors import APIError, bad_request

__all__ = ["decode_continue", "encode_continue"]


def encode_continue(revision: int, start: str) -> str:
    raw = json.dumps({"v": "meta.k8s.io/v1", "rv": revision, "start": start}, separators=(",", ":"))
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def decode_continue(token: str) -> tuple[int, str]:
    """(revision, start key relative to the resource prefix); 400 if malformed."""
    try:
        padded = token + "=" * (-len(token) % 4)
        data = json.loads(base64.urlsafe_b64decode(padded.encode()))
        if data.get("v") != "meta.k8s.io/v1":
            raise ValueError
        revision, start = int(data["rv"]), str(data["start"])
    except (ValueError, KeyError, TypeError, binascii.Error, UnicodeDecodeError):
        raise _invalid() from None
    if revision <= 0:
        raise _invalid()
    return revision, start


def _invalid() -> APIError:
    return bad_request(
        "continue key is not valid: incorrect encoded start resourceVersion "
        "(version meta.k8s.io/v1)"
    )
