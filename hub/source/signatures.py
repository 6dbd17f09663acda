"""Signed-commit verification with GnuPG: importing trusted public keys into a keyring the hub owns, and deciding
whether a commit is signed by one of the keys an environment trusts.

Trust is ours, not GnuPG's web of trust: a commit is `trusted` when gpg reports a good signature (GOODSIG and
VALIDSIG) and the signing key or its primary key is in the list given (fingerprints or long key ids, matched
either way). `untrusted` is a good signature by another key (or one whose public key is missing, expired or
revoked); `unsigned` carries no signature; `bad` has a signature that does not verify.
"""

from __future__ import annotations

import os
import re
import subprocess
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from hub.source.errors import SourceError
from hub.source.gitrun import GitRunner

State = Literal["trusted", "untrusted", "unsigned", "bad"]
_HEX_SHA = re.compile(r"^[0-9a-fA-F]{4,64}$")
_KEY_ID = re.compile(r"^(?:[0-9A-F]{16}|[0-9A-F]{40}|[0-9A-F]{64})$")
_SIG_HEADERS = (b"gpgsig ", b"gpgsig-sha256 ")


@dataclass(frozen=True)
class SignatureStatus:
    """The verdict on one commit: its state, the key (primary fingerprint when known, else the key id gpg gave),
    the signer's user id, and a sentence saying why (shown to users as the environment's status)."""

    state: State
    key: str
    signer: str
    message: str

    @property
    def trusted(self) -> bool:
        return self.state == "trusted"


def normalize_key_id(text: str) -> str:
    """`text` as an upper-case fingerprint or long key id (`0x`, spaces and case ignored); ValueError naming the
    value for anything else, short 8-digit ids included (they collide too easily to be trusted)."""
    if not isinstance(text, str):
        raise ValueError(f"trusted key {text!r}: expected a fingerprint or a 16-digit key id as a string")
    value = text.strip().replace(" ", "").upper()
    if value.startswith("0X"):
        value = value[2:]
    if not _KEY_ID.match(value):
        raise ValueError(f"trusted key {text!r}: expected a 40-digit fingerprint or a 16-digit long key id "
                         "(gpg --list-keys --keyid-format long shows them); short 8-digit ids are not accepted")
    return value


def import_keys(keyring_dir: str | os.PathLike[str], paths: Sequence[str | os.PathLike[str]]) -> list[str]:
    """Import the armored (or binary) public keys in `paths` into the keyring `keyring_dir` (created, mode 0700);
    the fingerprints imported. SourceError naming the file when one holds no public key or a private key."""
    home = _keyring(keyring_dir)
    runner = GitRunner()
    fingerprints: list[str] = []
    for path in paths:
        name = os.fspath(path)
        try:
            data = Path(name).read_bytes()
        except OSError as exc:
            raise SourceError(f"{name}: cannot read the public key file ({exc.strerror or exc})") from None
        if b"PRIVATE KEY BLOCK" in data:
            raise SourceError(f"{name}: holds a private key; give the public key only (gpg --armor --export <id>)")
        found = _gpg_import(runner, home, name)
        if not found:
            raise SourceError(f"{name}: no OpenPGP public key found; export one with gpg --armor --export <key id>")
        fingerprints.extend(f for f in found if f not in fingerprints)
    return fingerprints


def _gpg_import(runner: GitRunner, home: str, path: str) -> list[str]:
    try:
        done = subprocess.run(["gpg", "--batch", "--no-tty", "--no-autostart", "--homedir", home, "--status-fd",
                               "1", "--import", path], capture_output=True, env=runner.environment(),
                              timeout=runner.timeout, check=False)
    except OSError as exc:
        raise SourceError(f"{path}: cannot run gpg ({exc.strerror or exc}); install GnuPG on the hub") from None
    except subprocess.TimeoutExpired:
        raise SourceError(f"{path}: gpg did not finish importing within {runner.timeout:g} s") from None
    found = []
    for line in done.stdout.decode("utf-8", "replace").splitlines():
        parts = line.split()
        if len(parts) >= 4 and parts[:2] == ["[GNUPG:]", "IMPORT_OK"]:
            found.append(parts[3].upper())
    return found


def _keyring(keyring_dir: str | os.PathLike[str]) -> str:
    home = Path(keyring_dir)
    home.mkdir(parents=True, exist_ok=True, mode=0o700)
    home.chmod(0o700)  # gpg refuses to trust a homedir others can write
    return str(home)


def verify_commit(repo_path: str | os.PathLike[str], sha: str, trusted_keys: Sequence[str],
                  keyring_dir: str | os.PathLike[str], *, environment: str | None = None,
                  timeout: float = 30.0) -> SignatureStatus:
    """Whether commit `sha` of the repository at `repo_path` is signed by one of `trusted_keys` (fingerprints or
    long key ids), checked with `git verify-commit --raw` against the keyring `keyring_dir`. `environment`
    names who asks, in the message. SourceError when the commit is not in the repository; ValueError for a
    malformed trusted key."""
    trusted = [normalize_key_id(key) for key in trusted_keys]
    if not isinstance(sha, str) or not _HEX_SHA.match(sha):
        raise SourceError(f"{sha!r} is not a commit sha (expected 4 to 64 hexadecimal digits)")
    runner = GitRunner(timeout=timeout)
    git_dir = _git_dir(repo_path)
    code, raw, _ = runner.call(["cat-file", "commit", sha], git_dir=git_dir, what=f"cannot read commit {sha}")
    if code != 0:
        raise SourceError(f"commit {sha} not found in {repo_path}")
    verdict = _Verdict(sha[:7], trusted, environment)
    signature = _signature_of(raw.encode("utf-8"))
    if signature is None:
        return verdict.unsigned()
    if not signature.startswith(b"-----BEGIN PGP SIGNATURE"):
        return verdict.other_format(signature.split(b"\n", 1)[0].decode("utf-8", "replace"))
    _, _, status = runner.call(["-c", "gpg.program=gpg", "-c", "gpg.format=openpgp", "verify-commit", "--raw", sha],
                               git_dir=git_dir, what=f"cannot verify commit {sha}",
                               extra_env={"GNUPGHOME": _keyring(keyring_dir)})
    return verdict.from_status(status)


def _git_dir(repo_path: str | os.PathLike[str]) -> str:
    path = Path(repo_path)
    return str(path / ".git") if (path / ".git").exists() else str(path)


def _signature_of(commit: bytes) -> bytes | None:
    """The signature in a raw commit object's headers (continuation lines start with a space), or None."""
    header, _, _ = commit.partition(b"\n\n")
    lines = header.split(b"\n")
    for index, line in enumerate(lines):
        for prefix in _SIG_HEADERS:
            if line.startswith(prefix):
                body = [line[len(prefix):]]
                body += [more[1:] for more in lines[index + 1:] if more.startswith(b" ")][:10_000]
                return b"\n".join(body).lstrip()
    return None


class _Verdict:
    """Builds the SignatureStatus and its message for one commit."""

    def __init__(self, short: str, trusted: list[str], environment: str | None) -> None:
        self.short = short
        self.trusted = trusted
        self.who = f"environment {environment}" if environment else "the hub"

    def _wanted(self) -> str:
        if not self.trusted:
            return f"{self.who} requires signed commits but trusts no key yet (list fingerprints to trust)"
        return f"{self.who} requires signatures from " + ", ".join(f"0x{key}" for key in self.trusted)

    def unsigned(self) -> SignatureStatus:
        return SignatureStatus("unsigned", "", "", f"commit {self.short} is not signed; {self._wanted()}")

    def other_format(self, first_line: str) -> SignatureStatus:
        return SignatureStatus("untrusted", "", "", f"commit {self.short} carries a signature Fleetline does not "
                               f"verify ({first_line.strip()}): only OpenPGP signatures are checked; {self._wanted()}")

    def from_status(self, status_text: str) -> SignatureStatus:
        status: dict[str, list[str]] = {}
        for line in status_text.splitlines():
            if line.startswith("[GNUPG:] "):
                keyword, *fields = line[len("[GNUPG:] "):].split(" ")
                status.setdefault(keyword, fields)
        who_line = next((status[k] for k in ("GOODSIG", "EXPSIG", "EXPKEYSIG", "REVKEYSIG", "BADSIG") if k in status),
                        None)
        signer = " ".join(who_line[1:]) if who_line else ""
        key_id = who_line[0].upper() if who_line else ""
        if "BADSIG" in status:
            return SignatureStatus("bad", key_id, signer, f"commit {self.short} has a bad signature (claimed by "
                                   f"0x{key_id} {signer}): the commit or its signature was altered")
        if "ERRSIG" in status:
            fields = status["ERRSIG"]
            key = (fields[6] if len(fields) > 6 and fields[6] != "-" else fields[0]).upper() if fields else ""
            if "NO_PUBKEY" in status:
                return SignatureStatus("untrusted", key, "", f"commit {self.short} is signed with key 0x{key}, which "
                                       f"is not in the hub's keyring; {self._wanted()}")
            code = fields[5] if len(fields) > 5 else "?"
            return SignatureStatus("bad", key, "", f"commit {self.short}: the signature by key 0x{key} cannot be "
                                   f"checked (gpg error {code})")
        validsig = status.get("VALIDSIG")
        if validsig is None:
            return SignatureStatus("bad", key_id, signer, f"commit {self.short}: gpg gave no verdict on its "
                                   "signature (is GnuPG installed on the hub?)")
        signing = validsig[0].upper()
        primary = validsig[9].upper() if len(validsig) > 9 else signing
        for keyword, why in (("EXPKEYSIG", "an expired key"), ("REVKEYSIG", "a revoked key"),
                             ("EXPSIG", "an expired signature")):
            if keyword in status:
                return SignatureStatus("untrusted", primary, signer, f"commit {self.short} is signed by {signer} "
                                       f"with {why} (0x{primary}); {self._wanted()}")
        if "GOODSIG" not in status:
            return SignatureStatus("bad", primary, signer, f"commit {self.short}: gpg did not report a good signature")
        if any(_matches(key, signing, primary) for key in self.trusted):
            return SignatureStatus("trusted", primary, signer, f"commit {self.short} is signed by {signer} with "
                                   f"trusted key 0x{primary}")
        return SignatureStatus("untrusted", primary, signer, f"commit {self.short} is signed by {signer} with key "
                               f"0x{primary}, which is not trusted; {self._wanted()}")


def _matches(trusted: str, signing: str, primary: str) -> bool:
    """A trusted fingerprint or long key id names the signing (sub)key or its primary key."""
    return any(trusted == fpr or (len(trusted) == 16 and fpr.endswith(trusted)) for fpr in (signing, primary))
