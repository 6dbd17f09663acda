"""Keeping secrets out of text: URL credentials and known secret values replaced before anything is shown.

Every message `hub.source` raises or logs passes through `redact`; `kv` builds the key=value log lines.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

MASK = "***"

# scheme://userinfo@ ; userinfo ends at the last "@" before the host (a password may contain "@" if encoded as %40)
_URL_USERINFO = re.compile(r"(?P<scheme>\b[a-zA-Z][a-zA-Z0-9+.-]*://)(?P<userinfo>[^/\s@'\"]+)@")
_HTTP_SCHEMES = ("http://", "https://")


def _mask_userinfo(match: re.Match[str]) -> str:
    scheme, userinfo = match.group("scheme"), match.group("userinfo")
    if ":" in userinfo:
        return f"{scheme}{userinfo.split(':', 1)[0]}:{MASK}@"
    if scheme.lower() in _HTTP_SCHEMES:  # a token used as the user name (https://<token>@github.com/...)
        return f"{scheme}{MASK}@"
    return match.group(0)  # ssh://git@host: a user name, not a secret


def redact(text: str, secrets: Iterable[str] = ()) -> str:
    """`text` with URL passwords (and user names of http(s) URLs) and every value in `secrets` masked."""
    text = _URL_USERINFO.sub(_mask_userinfo, text)
    for secret in sorted({s for s in secrets if s}, key=len, reverse=True):
        text = text.replace(secret, MASK)
    return text


def redact_url(url: str) -> str:
    """`url` safe to show: `https://user:***@host/repo.git`, `https://***@host/...` for a token user name."""
    return redact(url)


def kv(**fields: object) -> str:
    """One log line of key=value pairs; values with spaces, quotes or `=` are quoted (as `fleetline.logs` parses).

    Values are not redacted here: pass text that went through `redact` already."""
    parts = []
    for key, value in fields.items():
        text = "" if value is None else str(value)
        if not text or any(c in text for c in ' "=\n'):
            text = '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'
        parts.append(f"{key}={text}")
    return " ".join(parts)
