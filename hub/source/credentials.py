"""Credentials for the fleet repository: the `Credentials` record, its loader (a file or environment variables),
and taking credentials out of a URL (`https://user:password@host/...`) so that the URL can be stored and shown.

A token is a password with a default user name (`x-access-token`, which GitHub, Gitea and Bitbucket accept
with a token; GitLab accepts any user name). No secret value appears in a repr, an error or a log line.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from urllib.parse import unquote, urlsplit, urlunsplit

from hub.source.errors import SourceError

TOKEN_USERNAME = "x-access-token"
ENV_TOKEN = "FLEETLINE_GIT_TOKEN"
ENV_USERNAME = "FLEETLINE_GIT_USERNAME"
ENV_PASSWORD = "FLEETLINE_GIT_PASSWORD"
ENV_FILE = "FLEETLINE_GIT_CREDENTIALS_FILE"
_KEYS = ("username", "password", "token")
_KEY_LINE = re.compile(r"^\s*(?P<key>[A-Za-z_]+)\s*[:=]\s*(?P<value>.*?)\s*$")


@dataclass(frozen=True)
class Credentials:
    """A user name and a password or token for HTTP(S) Git remotes (the password never shows in a repr)."""

    username: str
    password: str = field(repr=False)

    @classmethod
    def from_token(cls, token: str, username: str | None = None) -> Credentials:
        return cls(username or TOKEN_USERNAME, token)

    def secrets(self) -> tuple[str, ...]:
        """The values to mask in any text shown."""
        return (self.password,) if self.password else ()


def load_credentials(file: str | os.PathLike[str] | None = None,
                     environ: Mapping[str, str] | None = None) -> Credentials | None:
    """Credentials from `file` when given, else from the environment, else None (an anonymous remote).

    The environment: `FLEETLINE_GIT_CREDENTIALS_FILE` (a file as below), or `FLEETLINE_GIT_TOKEN` (with an
    optional `FLEETLINE_GIT_USERNAME`), or `FLEETLINE_GIT_USERNAME` and `FLEETLINE_GIT_PASSWORD`.
    A file holds either the token alone (one line, as a mounted Kubernetes Secret key does) or
    `username:`, `password:` and `token:` lines."""
    env = os.environ if environ is None else environ
    if file is None and env.get(ENV_FILE):
        file = env[ENV_FILE]
    if file is not None:
        return _from_file(os.fspath(file))
    return _from_values({k: env[name] for k, name in (("username", ENV_USERNAME), ("password", ENV_PASSWORD),
                                                       ("token", ENV_TOKEN)) if env.get(name)},
                        f"environment variables {ENV_TOKEN} / {ENV_USERNAME} / {ENV_PASSWORD}")


def _from_file(path: str) -> Credentials:
    try:
        with open(path, encoding="utf-8") as handle:
            text = handle.read()
    except OSError as exc:
        raise SourceError(f"{path}: cannot read the Git credentials file ({exc.strerror or exc}); "
                          "give a readable file holding a token, or username:/password: lines") from None
    except UnicodeDecodeError:
        raise SourceError(f"{path}: the Git credentials file is not UTF-8 text") from None
    lines = [line for line in text.splitlines() if line.strip() and not line.lstrip().startswith("#")]
    if not lines:
        raise SourceError(f"{path}: the Git credentials file is empty; write a token, or username:/password: lines")
    keyed = [_KEY_LINE.match(line) for line in lines]
    if any(m and m.group("key").lower() in _KEYS for m in keyed):
        values: dict[str, str] = {}
        for number, match in enumerate(keyed, start=1):
            key = match.group("key").lower() if match else ""
            if key not in _KEYS:
                shown = match.group("key") if match else f"line {number}"
                raise SourceError(f"{path}: unknown entry {shown!r} in the Git credentials file; "
                                  "expected username:, password: or token: lines")
            values[key] = _unquote(match.group("value"))
        return _from_values(values, path)
    if len(lines) > 1:
        raise SourceError(f"{path}: expected the token alone on one line, or username:/password: lines "
                          f"(found {len(lines)} lines)")
    return Credentials.from_token(lines[0].strip())


def _unquote(value: str) -> str:
    if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
        return value[1:-1]
    return value


def _from_values(values: Mapping[str, str], where: str) -> Credentials | None:
    username, password, token = values.get("username"), values.get("password"), values.get("token")
    if token and password:
        raise SourceError(f"{where}: give a token or a password, not both")
    if token:
        return Credentials.from_token(token, username)
    if password and not username:
        raise SourceError(f"{where}: a password needs a username (or give it as a token)")
    if username and not password:
        raise SourceError(f"{where}: username {username!r} has no password or token")
    if username and password:
        return Credentials(username, password)
    return None


def is_remote_url(location: str) -> bool:
    """Whether `location` is a URL or an scp-like address (`git@host:path`, `host:path`) rather than a local path,
    by git's own rule: a colon before the first slash makes an ssh address (a one-letter drive excepted)."""
    if re.match(r"^[a-zA-Z][a-zA-Z0-9+.-]*://", location):
        return True
    head = location.split("/", 1)[0]
    before_colon = head.split(":", 1)[0]
    return ":" in head and not (len(before_colon) == 1 and before_colon.isalpha())


def split_url_credentials(url: str, explicit: Credentials | None = None) -> tuple[str, Credentials | None]:
    """`url` without the credentials of an http(s) URL, and the credentials to use for it.

    `https://user:secret@host/r.git` -> (`https://host/r.git`, Credentials(user, secret)). A lone user name
    of an http(s) URL is a token (`https://<token>@github.com/...`), unless `explicit` credentials hold a
    token, for which it is the user name (`https://oauth2@gitlab.example/...`). `explicit` credentials win over
    a password in the URL. Other schemes (ssh, file, local paths) are returned unchanged."""
    parts = urlsplit(url)
    if parts.scheme.lower() not in ("http", "https") or "@" not in parts.netloc:
        return url, explicit
    userinfo, _, host = parts.netloc.rpartition("@")
    clean = urlunsplit((parts.scheme, host, parts.path, parts.query, parts.fragment))
    user, sep, password = (unquote(part) for part in userinfo.partition(":"))
    if explicit is not None:
        if explicit.username == TOKEN_USERNAME and user and not sep:
            return clean, Credentials(user, explicit.password)
        return clean, explicit
    if sep:
        return clean, Credentials(user, password)
    return clean, Credentials.from_token(user)
