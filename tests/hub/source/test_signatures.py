"""Signed-commit verification with real GnuPG keys made for the test, and real signed commits."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from hub.source import GitMirror, SourceError, import_keys, normalize_key_id, verify_commit
from tests.hub.source.helpers import Remote

pytestmark = pytest.mark.skipif(shutil.which("gpg") is None, reason="gpg (GnuPG) is not installed")


@dataclass(frozen=True)
class Signer:
    name: str
    fingerprint: str
    public_key: Path


@dataclass(frozen=True)
class Keys:
    home: str  # the GNUPGHOME holding the private keys that sign
    release: Signer
    mallory: Signer
    stranger: Signer  # never imported into the hub's keyring


def _gpg(home: str, *args: str) -> str:
    done = subprocess.run(["gpg", "--batch", "--homedir", home, *args], capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    return done.stdout


def _make_signer(home: str, uid: str, directory: Path) -> Signer:
    _gpg(home, "--passphrase", "", "--quick-gen-key", uid, "ed25519", "sign", "never")
    listing = _gpg(home, "--with-colons", "--list-keys", uid)
    fingerprint = next(line.split(":")[9] for line in listing.splitlines() if line.startswith("fpr:"))
    public = directory / f"{fingerprint}.asc"
    public.write_text(_gpg(home, "--armor", "--export", fingerprint))
    return Signer(uid, fingerprint, public)


@pytest.fixture(scope="module")
def keys(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Keys]:
    home = tempfile.mkdtemp(prefix="flgpg", dir="/tmp")  # short: gpg-agent's socket path has a length limit
    os.chmod(home, 0o700)
    exported = tmp_path_factory.mktemp("public-keys")
    try:
        yield Keys(home, _make_signer(home, "Release Manager <rm@example.com>", exported),
                   _make_signer(home, "Mallory <mallory@example.com>", exported),
                   _make_signer(home, "Stranger <s@example.com>", exported))
    finally:
        subprocess.run(["gpgconf", "--homedir", home, "--kill", "gpg-agent"], capture_output=True, check=False)
        shutil.rmtree(home, ignore_errors=True)


@pytest.fixture
def keyring(tmp_path: Path, keys: Keys) -> Path:
    """The hub's keyring: the release manager's and Mallory's public keys (not the stranger's)."""
    directory = tmp_path / "keyring"
    imported = import_keys(directory, [keys.release.public_key, keys.mallory.public_key])
    assert imported == [keys.release.fingerprint, keys.mallory.fingerprint]
    return directory


def signed_commit(remote: Remote, keys: Keys, signer: Signer, message: str) -> str:
    env = {**os.environ, "GNUPGHOME": keys.home}
    (remote.path / "model.txt").write_text(message)
    remote.git("add", "-A")
    done = subprocess.run(["git", "-c", "user.name=Ada", "-c", "user.email=ada@example.com", "-c", "gpg.program=gpg",
                           "-c", f"user.signingkey={signer.fingerprint}", "commit", "-q", "-S", "-m", message],
                          cwd=remote.path, env=env, capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    return remote.head()


def test_a_commit_signed_by_a_trusted_key_is_trusted(remote: Remote, keys: Keys, keyring: Path) -> None:
    sha = signed_commit(remote, keys, keys.release, "model v7")
    status = verify_commit(remote.path, sha, [keys.release.fingerprint], keyring, environment="prod")
    assert status.state == "trusted" and status.trusted
    assert status.key == keys.release.fingerprint and status.signer == "Release Manager <rm@example.com>"
    assert status.message == (f"commit {sha[:7]} is signed by Release Manager <rm@example.com> with trusted key "
                              f"0x{keys.release.fingerprint}")
    long_id = "0x" + keys.release.fingerprint[-16:].lower()  # a long key id, written the way people write them
    assert verify_commit(remote.path, sha, [keys.mallory.fingerprint, long_id], keyring).trusted


def test_verification_reads_the_hubs_bare_mirror(tmp_path: Path, remote: Remote, keys: Keys, keyring: Path) -> None:
    sha = signed_commit(remote, keys, keys.release, "model v8")
    mirror = GitMirror(tmp_path / "data", str(remote.path))
    mirror.fetch()
    assert verify_commit(mirror.path, mirror.resolve("main"), [keys.release.fingerprint], keyring).trusted
    assert mirror.resolve("main") == sha


def test_an_unsigned_commit_is_refused_with_the_reason(remote: Remote, keys: Keys, keyring: Path) -> None:
    sha = remote.head()
    status = verify_commit(remote.path, sha, [keys.release.fingerprint], keyring, environment="prod")
    assert (status.state, status.key, status.signer) == ("unsigned", "", "")
    assert status.message == (f"commit {sha[:7]} is not signed; environment prod requires signatures from "
                              f"0x{keys.release.fingerprint}")


def test_a_commit_signed_by_a_known_but_untrusted_key(remote: Remote, keys: Keys, keyring: Path) -> None:
    sha = signed_commit(remote, keys, keys.mallory, "sneaky")
    status = verify_commit(remote.path, sha, [keys.release.fingerprint], keyring, environment="prod")
    assert status.state == "untrusted" and status.key == keys.mallory.fingerprint
    assert status.signer == "Mallory <mallory@example.com>"
    assert "which is not trusted; environment prod requires signatures from" in status.message


def test_a_commit_signed_by_a_key_missing_from_the_keyring(remote: Remote, keys: Keys, keyring: Path) -> None:
    sha = signed_commit(remote, keys, keys.stranger, "unknown")
    status = verify_commit(remote.path, sha, [keys.release.fingerprint], keyring, environment="staging")
    assert status.state == "untrusted" and status.key == keys.stranger.fingerprint
    assert "is not in the hub's keyring; environment staging requires" in status.message
    # trusting its id is not enough without its public key: nothing vouches for the signature
    assert verify_commit(remote.path, sha, [keys.stranger.fingerprint], keyring).state == "untrusted"


def test_an_altered_signed_commit_is_bad(remote: Remote, keys: Keys, keyring: Path) -> None:
    sha = signed_commit(remote, keys, keys.release, "replicas: 2")
    raw = subprocess.run(["git", "cat-file", "commit", sha], cwd=remote.path, capture_output=True,
                         check=True).stdout
    forged = subprocess.run(["git", "hash-object", "-t", "commit", "-w", "--stdin"], cwd=remote.path,
                            input=raw.replace(b"replicas: 2", b"replicas: 200"), capture_output=True,
                            check=True).stdout.decode().strip()
    status = verify_commit(remote.path, forged, [keys.release.fingerprint], keyring)
    assert status.state == "bad" and "bad signature" in status.message and not status.trusted


def test_a_missing_commit_and_bad_key_ids_are_errors(remote: Remote, keys: Keys, keyring: Path) -> None:
    with pytest.raises(SourceError, match="not found"):
        verify_commit(remote.path, "e" * 40, [keys.release.fingerprint], keyring)
    with pytest.raises(ValueError, match="short 8-digit ids are not accepted"):
        verify_commit(remote.path, remote.head(), [keys.release.fingerprint[-8:]], keyring)
    assert normalize_key_id(" 0x" + keys.release.fingerprint.lower()) == keys.release.fingerprint
    with pytest.raises(ValueError, match="'release-key'"):
        normalize_key_id("release-key")


def test_import_keys_refuses_files_without_a_public_key(tmp_path: Path, keys: Keys) -> None:
    junk = tmp_path / "junk.asc"
    junk.write_text("this is not a key\n")
    with pytest.raises(SourceError, match="junk.asc: no OpenPGP public key found"):
        import_keys(tmp_path / "ring", [junk])
    private = tmp_path / "private.asc"
    private.write_text(_gpg(keys.home, "--armor", "--export-secret-keys", "--pinentry-mode", "loopback",
                            "--passphrase", "", keys.mallory.fingerprint))
    with pytest.raises(SourceError, match="holds a private key"):
        import_keys(tmp_path / "ring", [private])
    assert oct((tmp_path / "ring").stat().st_mode & 0o777) == "0o700"


@pytest.mark.skipif(shutil.which("ssh-keygen") is None, reason="ssh-keygen is not installed")
def test_an_ssh_signature_is_not_taken_for_an_openpgp_one(tmp_path: Path, remote: Remote, keys: Keys,
                                                          keyring: Path) -> None:
    key = tmp_path / "id_ed25519"
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(key)], check=True, capture_output=True)
    (remote.path / "model.txt").write_text("ssh-signed")
    remote.git("add", "-A")
    remote.git("-c", "gpg.format=ssh", "-c", f"user.signingkey={key}", "commit", "-q", "-S", "-m", "ssh-signed")
    status = verify_commit(remote.path, remote.head(), [keys.release.fingerprint], keyring, environment="prod")
    assert status.state == "untrusted" and "only OpenPGP signatures are checked" in status.message
