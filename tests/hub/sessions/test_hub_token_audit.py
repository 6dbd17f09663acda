"""`fleetline hub-token issue|revoke|revoke-cert` records cluster credentials issued and revoked in the hub's audit
log (never the token), in the data directory given or the one the token file lives in; with no audit log it says
so; an audit log that cannot be opened changes nothing."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from hub.sessions.tokens import TokenStore, token_hash
from hub.store import AuditQuery, SqliteStore, verify

ROOT = Path(__file__).resolve().parents[3]
FINGERPRINT = "ab" * 32


def hub_token(*argv: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "fleetline.cli", "hub-token", *argv], cwd=ROOT, capture_output=True,
                          text=True, timeout=60, env={**os.environ, "PYTHONPATH": str(ROOT)})


def credential_entries(data_dir: Path) -> list:
    store = SqliteStore.open(data_dir, readonly=True)
    try:
        return list(store.audit_entries(AuditQuery(kinds=("credential_issued", "credential_revoked"))))
    finally:
        store.close()


def test_issue_and_revocations_are_audited_in_the_data_dir_of_the_token_file(tmp_path: Path) -> None:
    SqliteStore.open(tmp_path).close()  # the hub's data directory, with its store
    tokens = str(tmp_path / "cluster-tokens")
    issued = hub_token("issue", "eu-west-1", "--tokens", tokens)
    assert issued.returncode == 0, issued.stderr
    token = issued.stdout.strip()
    assert TokenStore(tokens).verify(token) == "eu-west-1"
    assert hub_token("revoke", "eu-west-1", "--tokens", tokens).returncode == 0
    assert hub_token("revoke", "eu-west-1", "--tokens", tokens).returncode == 1  # none left: nothing recorded
    assert hub_token("revoke-cert", f"sha256:{FINGERPRINT.upper()}", "--tokens", tokens).returncode == 0

    entries = credential_entries(tmp_path)
    assert [(e.kind, e.cluster, e.data["credential"]) for e in entries] == [
        ("credential_issued", "eu-west-1", "cluster-token"), ("credential_revoked", "eu-west-1", "cluster-token"),
        ("credential_revoked", "", "client-certificate")]
    assert entries[0].data["token_sha256"] == token_hash(token)[:12] and entries[1].data["tokens"] == 1
    assert entries[2].data["fingerprint"] == FINGERPRINT
    assert all(e.actor and e.data["via"] == "fleetline hub-token" for e in entries)
    assert token not in "".join(e.data_json for e in entries)
    store = SqliteStore.open(tmp_path, readonly=True)
    try:
        assert verify(store).ok
    finally:
        store.close()


def test_an_explicit_data_dir_is_used_and_no_audit_log_is_said_plainly(tmp_path: Path) -> None:
    data_dir, elsewhere = tmp_path / "hub", tmp_path / "keys"
    data_dir.mkdir()
    elsewhere.mkdir()
    SqliteStore.open(data_dir).close()
    done = hub_token("issue", "us-east-1", "--tokens", str(elsewhere / "tokens"), "--data-dir", str(data_dir))
    assert done.returncode == 0 and done.stderr == ""
    assert [e.cluster for e in credential_entries(data_dir)] == ["us-east-1"]

    unaudited = hub_token("issue", "us-west-2", "--tokens", str(elsewhere / "tokens"))
    assert unaudited.returncode == 0
    assert "not recorded (pass --data-dir)" in unaudited.stderr


def test_an_audit_log_that_cannot_be_opened_changes_nothing(tmp_path: Path) -> None:
    not_a_dir = tmp_path / "hub"
    not_a_dir.write_text("a file where the data directory should be\n")
    tokens = tmp_path / "tokens"
    refused = hub_token("issue", "eu-west-1", "--tokens", str(tokens), "--data-dir", str(not_a_dir))
    assert refused.returncode == 2
    assert "nothing was changed" in refused.stderr and refused.stdout == ""
    assert not tokens.exists() or "eu-west-1" not in tokens.read_text()
