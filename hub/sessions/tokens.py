"""Per-cluster bearer tokens, stored hashed, and the revocation list for tokens and client certificates.

The store is one text file, one record a line:

    <cluster> <sha256 hex of the token>      an active token of that cluster
    -token <cluster> <sha256 hex>            a revoked token (refused with reason "revoked", not "unknown")
    -cert <sha256 hex fingerprint>           a revoked client certificate (SHA-256 of its DER form)

Only hashes are ever written; the token itself is returned once by `issue` and never stored or logged.
Verification hashes the presented token and compares it with every stored hash in constant time
(`hmac.compare_digest`). Writes are atomic (temporary file, fsync, rename), and the file is re-read when its
modification time changes, so tokens issued or revoked by `fleetline hub-token` reach a running hub.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import re
import secrets
import threading
from dataclasses import dataclass, field
from pathlib import Path

from fleetline.atomicfile import atomic_write

CLUSTER_NAME = re.compile(r"^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$")
_HEX64 = re.compile(r"^[0-9a-f]{64}$")


def valid_cluster_name(name: str) -> bool:
    """A DNS-1123 subdomain: what Kubernetes accepts as a name, and safe as a file name."""
    return bool(CLUSTER_NAME.match(name))


def normalize_fingerprint(fingerprint: str) -> str:
    """"sha256:AB:CD..." or "abcd..." -> "abcd..." (lower-case hex, as stored)."""
    fingerprint = fingerprint.strip().lower()
    fingerprint = fingerprint.removeprefix("sha256:")
    return fingerprint.replace(":", "")


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


@dataclass
class _Records:
    active: dict[str, list[str]] = field(default_factory=dict)  # cluster -> token hashes
    revoked_tokens: dict[str, str] = field(default_factory=dict)  # token hash -> cluster
    revoked_certs: set[str] = field(default_factory=set)


class TokenStoreError(ValueError):
    """The token file cannot be read; the message names the file and the line."""


class TokenStore:
    """Hashed per-cluster tokens and revoked credentials in one file (see the module docstring)."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)
        self._lock = threading.Lock()
        self._mtime: int | None = None
        self._records = _Records()
        self._reload(force=True)

    # ---- reading -------------------------------------------------------------------------------------------

    def _reload(self, force: bool = False) -> None:
        try:
            stat = self.path.stat()
        except FileNotFoundError:
            self._records, self._mtime = _Records(), None
            return
        if not force and stat.st_mtime_ns == self._mtime:
            return
        self._records = self._parse(self.path.read_text(encoding="utf-8"))
        self._mtime = stat.st_mtime_ns

    def _parse(self, text: str) -> _Records:
        records = _Records()
        for number, raw in enumerate(text.splitlines(), start=1):
            line = raw.strip()
            if not line or line.startswith("#"):
                continue
            parts = line.split()
            if parts[0] == "-cert" and len(parts) == 2 and _HEX64.match(parts[1]):
                records.revoked_certs.add(parts[1])
            elif parts[0] == "-token" and len(parts) == 3 and _HEX64.match(parts[2]):
                records.revoked_tokens[parts[2]] = parts[1]
            elif len(parts) == 2 and valid_cluster_name(parts[0]) and _HEX64.match(parts[1]):
                records.active.setdefault(parts[0], []).append(parts[1])
            else:
                raise TokenStoreError(f"{self.path}:{number}: expected '<cluster> <sha256 hex>', "
                                      "'-token <cluster> <sha256 hex>' or '-cert <sha256 hex>'")
        return records

    def clusters(self) -> list[str]:
        with self._lock:
            self._reload()
            return sorted(self._records.active)

    def verify(self, token: str) -> str | None:
        """The cluster the token belongs to, or None (unknown or revoked). Constant time per stored hash."""
        return self.cluster_of_hash(token_hash(token))

    def cluster_of_hash(self, digest: str) -> str | None:
        """The cluster an active token hash belongs to (a live session re-checks its token with it), else None."""
        found: str | None = None
        with self._lock:
            self._reload()
            for cluster, hashes in self._records.active.items():
                for stored in hashes:
                    if hmac.compare_digest(stored, digest):
                        found = cluster
        return found

    def revoked_token_cluster(self, token: str) -> str | None:
        """The cluster a revoked token belonged to (so that a refusal can say "revoked"), else None."""
        digest = token_hash(token)
        found: str | None = None
        with self._lock:
            self._reload()
            for stored, cluster in self._records.revoked_tokens.items():
                if hmac.compare_digest(stored, digest):
                    found = cluster
        return found

    def is_revoked(self, fingerprint: str) -> bool:
        """Whether a client certificate (SHA-256 fingerprint of its DER form, hex) is revoked."""
        with self._lock:
            self._reload()
            return normalize_fingerprint(fingerprint) in self._records.revoked_certs

    # ---- writing -------------------------------------------------------------------------------------------

    def issue(self, cluster: str) -> str:
        """A new random token for `cluster` (any older ones stay valid until revoked); only its hash is stored."""
        if not valid_cluster_name(cluster):
            raise ValueError(f"invalid cluster name {cluster!r}: use lower-case letters, digits, '-' and '.'")
        token = secrets.token_urlsafe(32)
        with self._lock:
            self._reload()
            self._records.active.setdefault(cluster, []).append(token_hash(token))
            self._write()
        return token

    def revoke(self, cluster: str) -> int:
        """Revoke every token of `cluster`; returns how many were revoked."""
        with self._lock:
            self._reload()
            hashes = self._records.active.pop(cluster, [])
            for digest in hashes:
                self._records.revoked_tokens[digest] = cluster
            if hashes:
                self._write()
        return len(hashes)

    def revoke_certificate(self, fingerprint: str) -> None:
        fingerprint = normalize_fingerprint(fingerprint)
        if not _HEX64.match(fingerprint):
            raise ValueError("a certificate fingerprint is 64 hex digits (SHA-256 of the DER certificate)")
        with self._lock:
            self._reload()
            self._records.revoked_certs.add(fingerprint)
            self._write()

    def _write(self) -> None:
        lines = ["# fleetline hub tokens: '<cluster> <sha256>' active, '-token'/'-cert' revoked. Hashes only."]
        for cluster in sorted(self._records.active):
            lines.extend(f"{cluster} {digest}" for digest in self._records.active[cluster])
        for digest, cluster in sorted(self._records.revoked_tokens.items(), key=lambda item: (item[1], item[0])):
            lines.append(f"-token {cluster} {digest}")
        lines.extend(f"-cert {fingerprint}" for fingerprint in sorted(self._records.revoked_certs))
        atomic_write(self.path, ("\n".join(lines) + "\n").encode("utf-8"), mode=0o600)
        self._mtime = self.path.stat().st_mtime_ns
