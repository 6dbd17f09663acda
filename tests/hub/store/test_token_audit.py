"""`fleetline tokens create|revoke` on a data directory records credential issue and revocation in the hub's audit
log (never the secret or its hash), in the same chain a running hub appends to; a data directory whose audit log
cannot be written refuses to create a token."""

from __future__ import annotations

import argparse
import getpass
import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from hub.api.cli import add_tokens_parser
from hub.api.tokens import ApiTokenStore
from hub.store import AsyncStore, AuditDraft, AuditQuery, SqliteStore, verify

ROOT = Path(__file__).resolve().parents[3]


def tokens(*argv: str) -> int:
    parser = argparse.ArgumentParser(prog="fleetline")
    add_tokens_parser(parser.add_subparsers())
    args = parser.parse_args(["tokens", *argv])
    return args.run(args)


def credential_entries(data_dir: Path) -> list:
    store = SqliteStore.open(data_dir, readonly=True)
    try:
        return list(store.audit_entries(AuditQuery(kinds=("credential_issued", "credential_revoked"))))
    finally:
        store.close()


def test_create_and_revoke_are_audited(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert tokens("create", "--data-dir", str(tmp_path), "--name", "eu-ops", "--role", "operator",
                  "--region", "eu") == 0
    secret = capsys.readouterr().out.strip()
    assert tokens("revoke", "eu-ops", "--data-dir", str(tmp_path)) == 0
    assert tokens("revoke", "eu-ops", "--data-dir", str(tmp_path)) == 0  # already revoked: nothing new
    issued, revoked = credential_entries(tmp_path)
    actor = f"{getpass.getuser()}@{socket.gethostname()}"
    assert (issued.kind, issued.actor, revoked.kind, revoked.actor) == (
        "credential_issued", actor, "credential_revoked", actor)
    assert issued.data["name"] == "eu-ops" and issued.data["role"] == "operator" and issued.data["regions"] == ["eu"]
    assert issued.data["credential"] == "api-token" and issued.data["via"] == "fleetline tokens"
    assert revoked.data["revoked"] is True and revoked.data["revoked_at"]
    stored = (tmp_path / "fleetline.db").read_bytes() + (tmp_path / "fleetline.db-wal").read_bytes() \
        if (tmp_path / "fleetline.db-wal").exists() else (tmp_path / "fleetline.db").read_bytes()
    assert secret.encode() not in stored and secret[4:].encode() not in stored
    assert json.dumps(issued.data).find("sha256") == -1, "never the token's hash either"


async def test_the_cli_appends_to_the_chain_a_running_hub_writes(tmp_path: Path) -> None:
    hub_store = await AsyncStore.open(tmp_path, synchronous="NORMAL")  # the running hub's writer
    await hub_store.append(AuditDraft("agent_connected", region="eu", cluster="eu-1"))
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    done = subprocess.run([sys.executable, "-m", "fleetline.cli", "tokens", "create", "--data-dir", str(tmp_path),
                           "--name", "ci", "--role", "viewer"], env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    await hub_store.append(AuditDraft("agent_disconnected", region="eu", cluster="eu-1"))
    await hub_store.close()
    store = SqliteStore.open(tmp_path, readonly=True)
    assert [e.kind for e in store.audit_entries()] == ["agent_connected", "credential_issued", "agent_disconnected"]
    result = verify(store)
    store.close()
    assert result.ok and result.entries == 3, result.reason


def test_no_token_is_created_when_the_audit_log_cannot_be_written(tmp_path: Path,
                                                                   capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "fleetline.db").write_bytes(b"not a database" * 100)
    assert tokens("create", "--data-dir", str(tmp_path), "--name", "ci", "--role", "viewer") == 2
    out, err = capsys.readouterr()
    assert out == "" and "fleetline.db" in err and "nothing was changed" in err
    assert ApiTokenStore.in_data_dir(tmp_path).get("ci") is None


def test_a_hub_database_older_than_this_command_is_not_migrated(tmp_path: Path,
                                                                 capsys: pytest.CaptureFixture[str]) -> None:
    """An operator's newer `fleetline tokens` on an older hub's data directory: migrating the database would make
    the hub refuse to start again, so nothing is done and the message says to upgrade the hub first."""
    import sqlite3

    from hub.store import schema

    conn = sqlite3.connect(tmp_path / "fleetline.db", isolation_level=None)
    schema.migrate(conn, "test", target=schema.LATEST - 1)
    conn.close()
    assert tokens("create", "--data-dir", str(tmp_path), "--name", "ci", "--role", "viewer") == 2
    err = capsys.readouterr().err
    assert f"schema version {schema.LATEST - 1}" in err and "upgrade the hub first" in err
    assert ApiTokenStore.in_data_dir(tmp_path).get("ci") is None
    conn = sqlite3.connect(tmp_path / "fleetline.db")
    assert schema.current_version(conn) == schema.LATEST - 1
    conn.close()
