"""TokenStore: hashed per-cluster tokens, revocation of tokens and certificates, atomic file, reloads."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from hub.sessions.state import SessionState
from hub.sessions.tokens import TokenStore, TokenStoreError, token_hash


def test_issue_stores_only_the_hash_and_verifies(tmp_path: Path):
    store = TokenStore(tmp_path / "tokens")
    token = store.issue("eu-1")
    text = (tmp_path / "tokens").read_text()
    assert token not in text and token_hash(token) in text
    assert stat.S_IMODE((tmp_path / "tokens").stat().st_mode) == 0o600
    assert store.verify(token) == "eu-1"
    assert store.verify(token + "x") is None and store.verify("") is None
    assert TokenStore(tmp_path / "tokens").verify(token) == "eu-1", "a second reader of the file agrees"


def test_revoke_marks_tokens_revoked_and_other_processes_see_it(tmp_path: Path):
    hub_view = TokenStore(tmp_path / "tokens")
    cli_view = TokenStore(tmp_path / "tokens")
    first, second = cli_view.issue("eu-1"), cli_view.issue("eu-1")
    other = cli_view.issue("us-east-1")
    assert hub_view.verify(second) == "eu-1"
    assert cli_view.revoke("eu-1") == 2
    assert hub_view.verify(first) is None and hub_view.verify(second) is None
    assert hub_view.revoked_token_cluster(first) == "eu-1"
    assert hub_view.verify(other) == "us-east-1" and hub_view.clusters() == ["us-east-1"]


def test_certificate_revocation_accepts_common_fingerprint_spellings(tmp_path: Path):
    store = TokenStore(tmp_path / "tokens")
    fingerprint = "AB" * 32
    store.revoke_certificate("sha256:" + fingerprint)
    assert store.is_revoked(fingerprint.lower())
    assert TokenStore(tmp_path / "tokens").is_revoked(":".join(["ab"] * 32))
    assert not store.is_revoked("cd" * 32)
    with pytest.raises(ValueError, match="64 hex"):
        store.revoke_certificate("not-a-fingerprint")


def test_bad_cluster_names_and_bad_files_are_refused_with_the_line(tmp_path: Path):
    store = TokenStore(tmp_path / "tokens")
    with pytest.raises(ValueError, match="invalid cluster name"):
        store.issue("../etc")
    (tmp_path / "bad").write_text("# comment\neu-1 deadbeef\n")
    with pytest.raises(TokenStoreError, match="bad:2"):
        TokenStore(tmp_path / "bad")


def test_session_state_ignores_a_corrupt_file(tmp_path: Path, caplog):
    state = SessionState(tmp_path)
    state.save_event_sequences({"eu-1": 7, "us-east-1": 3})
    assert SessionState(tmp_path).load_event_sequences() == {"eu-1": 7, "us-east-1": 3}
    (tmp_path / "sessions" / "event_sequences").write_text("eu-1 7\n../x 4\nus-east-1 three\n")
    assert state.load_event_sequences() == {"eu-1": 7}  # bad lines are skipped, with a warning
    (tmp_path / "sessions" / "eu-1").mkdir()
    (tmp_path / "sessions" / "eu-1" / "desired.pb").write_bytes(b"\xff\xff\xff")
    assert state.load_desired("eu-1") is None
    assert "state_file_unreadable" in caplog.text
    (tmp_path / "sessions" / "eu-1" / "event_sequence").write_text("5\n")  # an earlier hub's file is still read
    assert state.load_event_sequence("eu-1") == 5
    with pytest.raises(ValueError):
        state.load_event_sequence("../x")
