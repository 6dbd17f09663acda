"""Secret values never leave the agent: the redacted form a diff shows instead.

Owns the redaction of a Secret's `data` and `stringData` values. A value becomes
`<redacted hmac-sha256:1a2b3c4d>`: the first 8 hex digits of an HMAC-SHA256 of its bytes (base64 `data` is
decoded first, so `stringData: {a: x}` and `data: {a: eA==}` give the same token) under a key drawn at random
when the agent process starts. Equal values show equal tokens and a change shows a different token, which is
all a drift report needs; unlike a plain hash, a token cannot be checked against guessed passwords by anyone
who sees the report. Tokens are stable within one agent process only.
"""

from __future__ import annotations

import copy
import hashlib
import hmac
import secrets
from typing import Any

from agent.diff.normalize import SERVER_ANNOTATIONS, decode_base64

SECRET_FIELDS = ("data", "stringData")

_PROCESS_KEY = secrets.token_bytes(32)  # immutable; drawn once per process, never logged


def redact(value: Any) -> Any:
    """A secret value (or every value of a map or list of them) replaced by its token; None stays None."""
    if value is None:
        return None
    if isinstance(value, dict):
        return {key: redact(inner) for key, inner in value.items()}
    if isinstance(value, list):
        return [redact(inner) for inner in value]
    raw = decode_base64(value) if isinstance(value, str) else None
    if raw is None:
        raw = str(value).encode()
    token = hmac.new(_PROCESS_KEY, raw, hashlib.sha256).hexdigest()[:8]
    return f"<redacted hmac-sha256:{token}>"


def redact_secret(obj: dict) -> dict:
    """A copy of a Secret with its data redacted and kubectl's last-applied annotation (a copy of the data)
    removed."""
    out = copy.deepcopy(obj)
    for name in SECRET_FIELDS:
        if isinstance(out.get(name), dict):
            out[name] = redact(out[name])
    annotations = (out.get("metadata") or {}).get("annotations")
    if isinstance(annotations, dict):
        for key in SERVER_ANNOTATIONS:
            annotations.pop(key, None)
    return out
