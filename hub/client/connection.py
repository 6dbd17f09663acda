"""Where the hub is and how to authenticate to it: the connection flags every operator command takes.

`--hub URL` (or FLEETLINE_HUB), a token from `--token`, `--token-file FILE` or FLEETLINE_TOKEN (in that order),
`--ca FILE` (or FLEETLINE_CA) to trust a private CA, and `--insecure` to allow sending the token over plain
http to a host other than this machine (refused by default: the token is a password).
"""

from __future__ import annotations

import argparse
import ipaddress
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from hub.client.errors import MissingToken, UsageError

LOOPBACK_NAMES = {"localhost", "localhost.localdomain", "ip6-localhost"}


@dataclass(frozen=True)
class HubTarget:
    """A hub's API base URL (no trailing slash) and the credentials to call it with."""

    url: str
    token: str
    ca_file: str | None = None

    def __repr__(self) -> str:  # never show the token
        return f"HubTarget(url={self.url!r}, token=<hidden>, ca_file={self.ca_file!r})"


def add_connection_arguments(parser: argparse.ArgumentParser) -> None:
    """Add --hub, --token, --token-file, --ca and --insecure to `parser`."""
    group = parser.add_argument_group("hub connection")
    group.add_argument("--hub", metavar="URL",
                       help="the hub's API address, e.g. https://hub.example.com or http://127.0.0.1:7080 "
                            "(default: $FLEETLINE_HUB)")
    group.add_argument("--token", metavar="TOKEN",
                       help="API token (default: --token-file, else $FLEETLINE_TOKEN); prefer --token-file or the "
                            "variable: a flag is visible to other users in the process list")
    group.add_argument("--token-file", metavar="FILE", help="read the API token from FILE")
    group.add_argument("--ca", metavar="FILE",
                       help="CA certificate (PEM) to verify an https hub (default: $FLEETLINE_CA, else the system's)")
    group.add_argument("--insecure", action="store_true",
                       help="allow plain http to a host other than this machine (the token travels in clear text)")


def resolve_target(args: argparse.Namespace, environ: Mapping[str, str]) -> HubTarget:
    """The hub and token the command should use; UsageError or MissingToken saying what to give."""
    url = normalise_url(getattr(args, "hub", None) or environ.get("FLEETLINE_HUB", ""))
    scheme, host = urlsplit(url).scheme, urlsplit(url).hostname or ""
    if scheme == "http" and not is_loopback(host) and not getattr(args, "insecure", False):
        raise UsageError(f"--hub {url}: plain http would send the API token in clear text to {host}; use "
                         "https://, or --insecure if you really mean it")
    return HubTarget(url, read_token(args, environ), getattr(args, "ca", None) or environ.get("FLEETLINE_CA") or None)


def normalise_url(raw: str) -> str:
    """`raw` as a base URL: `host:port` gets http://, a trailing slash goes; UsageError when empty or odd."""
    raw = raw.strip()
    if not raw:
        raise UsageError("no hub address: give --hub URL or set FLEETLINE_HUB (e.g. http://127.0.0.1:7080)")
    if "://" not in raw:
        raw = "http://" + raw
    parts = urlsplit(raw)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise UsageError(f"--hub {raw}: not an http(s) URL (e.g. https://hub.example.com or http://127.0.0.1:7080)")
    if parts.query or parts.fragment:
        raise UsageError(f"--hub {raw}: give the hub's base address without ?query or #fragment")
    try:
        parts.port  # noqa: B018 - raises ValueError on a bad port
    except ValueError as exc:
        raise UsageError(f"--hub {raw}: bad port ({exc})") from None
    return raw.rstrip("/")


def read_token(args: argparse.Namespace, environ: Mapping[str, str]) -> str:
    """The token from --token, --token-file or FLEETLINE_TOKEN; MissingToken when none, UsageError when bad."""
    flag, path = getattr(args, "token", None), getattr(args, "token_file", None)
    if flag and path:
        raise UsageError("give --token or --token-file, not both")
    if path:
        try:
            token = Path(path).read_text(encoding="utf-8").strip()
        except (OSError, UnicodeDecodeError) as exc:
            raise UsageError(f"--token-file {path}: cannot read it ({exc})") from None
        if not token:
            raise UsageError(f"--token-file {path}: the file is empty (it should hold the token `fleetline tokens "
                             "create` printed)")
    else:
        token = (flag or environ.get("FLEETLINE_TOKEN", "")).strip()
    if not token:
        raise MissingToken("no API token: give --token-file FILE, --token TOKEN or set FLEETLINE_TOKEN (an admin "
                           "creates one with `fleetline tokens create`)")
    if any(ch.isspace() for ch in token) or not token.isprintable():
        raise UsageError("the API token holds spaces or control characters: check --token/--token-file/"
                         "FLEETLINE_TOKEN (one token, nothing else)")
    return token


def is_loopback(host: str) -> bool:
    """True for localhost and loopback addresses (127.0.0.0/8, ::1)."""
    if host.lower() in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False
