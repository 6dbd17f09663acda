"""API tokens of the operator interface: named, with a role and optional region/environment scopes, stored hashed.

The store is one JSON file, `<data_dir>/api-tokens.json` (mode 0600, replaced atomically on every change):

    {"version": 1, "tokens": [{"name": "alice", "role": "operator", "regions": ["eu"], "environments": [],
      "created_at": "2026-03-01T09:00:00Z", "revoked": false, "revoked_at": null, "sha256": "<hex>"}]}

Only the SHA-256 of a secret is written; `create` returns the secret once. `authenticate` hashes the presented
secret and compares it with every stored hash in constant time (`hmac.compare_digest`, no early exit). The file
is re-read when it changes (inode, modification time or size), so `fleetline tokens create|revoke` reaches a
running hub at its next request. A revoked token stays in the file (so that a refusal says "revoked" and the
audit log's names stay unambiguous); names are never reused. A file that cannot be read raises TokenFileError
naming the file, the field and the fix, and is never overwritten.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import hmac
import json
import os
import re
import secrets
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path

from fleetline.atomicfile import atomic_write

FILE_NAME = "api-tokens.json"
ROLES = ("viewer", "operator", "admin")  # each role can do everything the ones before it can
SECRET_PREFIX = "flt_"
FORMAT_VERSION = 1
TOKEN_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$")
SCOPE_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$")
_HEX64 = re.compile(r"^[0-9a-f]{64}$")


class TokenError(ValueError):
    """A request the store refuses (bad name, role or scope; a name taken; an unknown token)."""


class TokenNameTaken(TokenError):
    """A token of that name exists (revoked or not): names are never reused."""


class TokenFileError(TokenError):
    """The token file cannot be read; the message names the file, the field and the fix."""


@dataclass(frozen=True)
class Token:
    """One API token as the API sees it: never the secret, never its hash."""

    name: str
    role: str
    regions: tuple[str, ...] = ()
    environments: tuple[str, ...] = ()
    created_at: datetime | None = None
    revoked: bool = False
    revoked_at: datetime | None = None

    def has_role(self, needed: str) -> bool:
        """Whether this token's role includes `needed` (admin > operator > viewer)."""
        return ROLES.index(self.role) >= ROLES.index(needed)

    @property
    def scoped(self) -> bool:
        return bool(self.regions or self.environments)

    def region_in_scope(self, region: str | None) -> bool:
        """Whether `region` is in the token's regions (always, for a token without a region scope)."""
        return not self.regions or region in self.regions

    def environment_in_scope(self, environment: str | None) -> bool:
        return not self.environments or environment in self.environments

    def covers(self, region: str | None, environment: str | None) -> bool:
        """Whether a cluster of `region` and `environment` is in this token's scope."""
        return self.region_in_scope(region) and self.environment_in_scope(environment)

    def to_json(self) -> dict:
        return {"name": self.name, "role": self.role, "regions": list(self.regions),
                "environments": list(self.environments), "created_at": rfc3339(self.created_at),
                "revoked": self.revoked, "revoked_at": rfc3339(self.revoked_at)}


def rfc3339(moment: datetime | None) -> str | None:
    if moment is None:
        return None
    return moment.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def secret_hash(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def check_token_request(name: str, role: str, regions: Iterable[str], environments: Iterable[str]) -> None:
    """Raise TokenError saying what is wrong with a token's name, role or scopes (and what is allowed)."""
    if not isinstance(name, str) or not TOKEN_NAME.match(name):
        raise TokenError(f"invalid token name {name!r}: use 1-64 letters, digits, '.', '_', '@' or '-', "
                         "starting with a letter or digit")
    if role not in ROLES:
        raise TokenError(f"invalid role {role!r}: use one of {', '.join(ROLES)}")
    for kind, values in (("region", regions), ("environment", environments)):
        for value in values:
            if not isinstance(value, str) or not SCOPE_NAME.match(value):
                raise TokenError(f"invalid {kind} {value!r}: use letters, digits, '.', '_' and '-'")


@dataclass(frozen=True)
class _Record:
    token: Token
    digest: str


class ApiTokenStore:
    """The API tokens of one hub, in one file (see the module docstring)."""

    def __init__(self, path: str | os.PathLike[str], *, clock: Callable[[], datetime] | None = None,
                 fsync: bool = True) -> None:
        self.path = Path(path)
        self._fsync = fsync  # False only in tests and benchmarks: the atomic rename alone survives a SIGKILL
        self._clock = clock or (lambda: datetime.now(UTC))
        self._version: tuple[int, int, int] | None = None  # what the file was when last read
        self._records: list[_Record] = []
        self._reload(force=True)

    @classmethod
    def in_data_dir(cls, data_dir: str | os.PathLike[str], *, clock: Callable[[], datetime] | None = None,
                    fsync: bool = True) -> ApiTokenStore:
        """The store of the hub whose data directory is `data_dir` (`<data_dir>/api-tokens.json`)."""
        return cls(Path(data_dir) / FILE_NAME, clock=clock, fsync=fsync)

    # ---- reading -------------------------------------------------------------------------------------------

    def authenticate(self, secret: str) -> Token | None:
        """The active token whose secret this is, or None (unknown or revoked). Constant time per stored hash."""
        token = self.identify(secret)
        return token if token is not None and not token.revoked else None

    def identify(self, secret: str) -> Token | None:
        """The token whose secret this is, revoked or not (so that a refusal can say "revoked"), else None."""
        digest = secret_hash(secret)
        found: Token | None = None
        self._reload()
        for record in self._records:
            if hmac.compare_digest(record.digest, digest):
                found = record.token
        return found

    def all_tokens(self) -> list[Token]:
        """Every token, revoked ones included, sorted by name."""
        self._reload()
        return sorted((r.token for r in self._records), key=lambda t: t.name)

    def get(self, name: str) -> Token | None:
        self._reload()
        return next((r.token for r in self._records if r.token.name == name), None)

    def _reload(self, force: bool = False) -> None:
        try:
            stat = self.path.stat()
        except FileNotFoundError:
            self._records, self._version = [], None
            return
        if not force and _version(stat) == self._version:
            return
        self._records = self._parse(self.path.read_bytes())
        self._version = _version(stat)

    def _parse(self, data: bytes) -> list[_Record]:
        fix = "fix the file by hand or restore it from a backup (secrets cannot be recovered: re-create tokens)"
        try:
            document = json.loads(data.decode("utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise TokenFileError(f"{self.path}: not valid JSON ({exc}); {fix}") from None
        if not isinstance(document, dict) or not isinstance(document.get("tokens"), list):
            raise TokenFileError(f'{self.path}: expected {{"version": 1, "tokens": [...]}}; {fix}')
        if document.get("version") != FORMAT_VERSION:
            raise TokenFileError(f"{self.path}: version {document.get('version')!r} is not one this hub reads "
                                 f"({FORMAT_VERSION}); use the fleetline release that wrote it")
        records: list[_Record] = []
        names: set[str] = set()
        for index, entry in enumerate(document["tokens"]):
            where = f"{self.path}: tokens[{index}]"
            record = _record_from_json(entry, where, fix)
            if record.token.name in names:
                raise TokenFileError(f"{where}.name: {record.token.name!r} appears twice; {fix}")
            names.add(record.token.name)
            records.append(record)
        return records

    # ---- writing -------------------------------------------------------------------------------------------

    def create(self, name: str, role: str, regions: Iterable[str] = (), environments: Iterable[str] = ()) -> str:
        """Add a token and return its secret (shown once: only its hash is stored). Names are never reused."""
        regions, environments = tuple(dict.fromkeys(regions)), tuple(dict.fromkeys(environments))
        check_token_request(name, role, regions, environments)
        secret = SECRET_PREFIX + secrets.token_urlsafe(32)
        with self._locked():
            if any(r.token.name == name for r in self._records):
                raise TokenNameTaken(f"a token named {name!r} exists (names are never reused, so that the audit log "
                                 "stays unambiguous): choose another name")
            token = Token(name, role, regions, environments, created_at=self._clock())
            self._records.append(_Record(token, secret_hash(secret)))
            self._write()
        return secret

    def ensure(self, name: str, role: str, secret: str) -> tuple[str, Token]:
        """Register a secret the operator chose (`fleetline hub --admin-token-file`, the Helm chart's first admin
        token) as token `name`, idempotently: a hub restarted with the same file changes nothing. Returns
        ("created" | "exists" | "revoked", the token): "exists" when this secret is already a token (of any
        name), "revoked" when it is a revoked one (it stays revoked). TokenNameTaken when `name` belongs to
        another secret (names are never reused); TokenError for a weak secret."""
        check_token_request(name, role, (), ())
        if len(secret) < 16 or any(c.isspace() for c in secret):
            raise TokenError("the token must be at least 16 characters without whitespace "
                             "(e.g. `openssl rand -hex 24`)")
        digest = secret_hash(secret)
        with self._locked():
            for record in self._records:
                if hmac.compare_digest(record.digest, digest):
                    return ("revoked" if record.token.revoked else "exists"), record.token
            if any(r.token.name == name for r in self._records):
                raise TokenNameTaken(f"a token named {name!r} exists with another secret (names are never reused): "
                                     "give the new secret another name, or put the old secret back")
            token = Token(name, role, created_at=self._clock())
            self._records.append(_Record(token, digest))
            self._write()
        return "created", token

    def revoke(self, name: str) -> Token:
        """Revoke the token `name` (it stays listed, refused with reason "revoked_token"); returns it."""
        with self._locked():
            for index, record in enumerate(self._records):
                if record.token.name == name:
                    if record.token.revoked:
                        return record.token
                    token = replace(record.token, revoked=True, revoked_at=self._clock())
                    self._records[index] = _Record(token, record.digest)
                    self._write()
                    return token
        raise TokenError(f"no token named {name!r}: `fleetline tokens list` shows the names")

    @contextlib.contextmanager
    def _locked(self) -> Iterator[None]:
        """Hold an exclusive lock beside the file (several `fleetline tokens` may run at once) and re-read it."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        lock = os.open(self.path.with_name(self.path.name + ".lock"), os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(lock, fcntl.LOCK_EX)
            self._reload(force=True)
            yield
        finally:
            os.close(lock)

    def _write(self) -> None:
        document = {"version": FORMAT_VERSION, "tokens": [{**r.token.to_json(), "sha256": r.digest}
                                                           for r in self._records]}
        atomic_write(self.path, (json.dumps(document, indent=2) + "\n").encode("utf-8"), mode=0o600,
                     fsync=self._fsync)
        self._version = _version(self.path.stat())


def _version(stat: os.stat_result) -> tuple[int, int, int]:
    """What identifies one version of the file: every write is a new file (new inode), and two writes within one
    tick of a coarse clock still differ in size (a token added, or `revoked` and `revoked_at` filled in)."""
    return stat.st_ino, stat.st_mtime_ns, stat.st_size


def _record_from_json(entry: object, where: str, fix: str) -> _Record:
    if not isinstance(entry, dict):
        raise TokenFileError(f"{where}: expected an object with name, role and sha256; {fix}")
    digest = entry.get("sha256")
    if not isinstance(digest, str) or not _HEX64.match(digest):
        raise TokenFileError(f"{where}.sha256: expected 64 lower-case hex digits; {fix}")
    regions, environments = entry.get("regions", []), entry.get("environments", [])
    for field, value in (("regions", regions), ("environments", environments)):
        if not isinstance(value, list):
            raise TokenFileError(f"{where}.{field}: expected a list of names; {fix}")
    try:
        check_token_request(entry.get("name"), entry.get("role"), regions, environments)  # type: ignore[arg-type]
    except TokenError as exc:
        raise TokenFileError(f"{where}: {exc}; {fix}") from None
    revoked = entry.get("revoked", False)
    if not isinstance(revoked, bool):
        raise TokenFileError(f"{where}.revoked: expected true or false; {fix}")
    token = Token(entry["name"], entry["role"], tuple(regions), tuple(environments),
                  created_at=_moment(entry.get("created_at"), f"{where}.created_at", fix), revoked=revoked,
                  revoked_at=_moment(entry.get("revoked_at"), f"{where}.revoked_at", fix))
    return _Record(token, digest)


def _moment(value: object, where: str, fix: str) -> datetime | None:
    if value is None:
        return None
    try:
        moment = datetime.fromisoformat(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise TokenFileError(f"{where}: expected an RFC 3339 time such as 2026-03-01T09:00:00Z; {fix}") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
