"""The API token store: secrets shown once and stored hashed (mode 0600), roles and scopes, revocation seen by a
running hub, names never reused, and a bad file refused with the file and field named, never overwritten."""

from __future__ import annotations

import json
import stat
from datetime import UTC, datetime
from pathlib import Path

import pytest

from hub.api.tokens import ApiTokenStore, Token, TokenError, TokenFileError, TokenNameTaken, secret_hash

MOMENT = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)


def store_at(tmp_path: Path) -> ApiTokenStore:
    return ApiTokenStore.in_data_dir(tmp_path, clock=lambda: MOMENT)


def test_create_stores_only_the_hash(tmp_path: Path) -> None:
    store = store_at(tmp_path)
    secret = store.create("eu-ops", "operator", ["eu"], ["prod"])
    path = tmp_path / "api-tokens.json"
    text = path.read_text()
    assert secret not in text and secret_hash(secret) in text
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert json.loads(text)["tokens"][0] == {
        "name": "eu-ops", "role": "operator", "regions": ["eu"], "environments": ["prod"],
        "created_at": "2026-03-01T09:00:00Z", "revoked": False, "revoked_at": None, "sha256": secret_hash(secret)}
    assert store.authenticate(secret) == Token("eu-ops", "operator", ("eu",), ("prod",), created_at=MOMENT)
    assert store.authenticate(secret + "x") is None
    assert store.authenticate("") is None


def test_secrets_differ_and_carry_a_prefix(tmp_path: Path) -> None:
    store = store_at(tmp_path)
    first, second = store.create("a", "viewer"), store.create("b", "viewer")
    assert first != second and first.startswith("flt_") and len(first) > 40
    assert store.authenticate(first).name == "a" and store.authenticate(second).name == "b"


def test_revoke_keeps_the_token_listed_and_refused(tmp_path: Path) -> None:
    store = store_at(tmp_path)
    secret = store.create("ci", "viewer")
    revoked = store.revoke("ci")
    assert revoked.revoked and revoked.revoked_at == MOMENT
    assert store.authenticate(secret) is None
    assert store.identify(secret).revoked
    assert [t.name for t in store.all_tokens()] == ["ci"]
    with pytest.raises(TokenError, match="no token named 'nope'"):
        store.revoke("nope")


def test_names_are_never_reused(tmp_path: Path) -> None:
    store = store_at(tmp_path)
    store.create("ci", "viewer")
    store.revoke("ci")
    with pytest.raises(TokenNameTaken, match="choose another name"):
        store.create("ci", "admin")


@pytest.mark.parametrize(("name", "role", "regions", "message"), [
    ("", "viewer", [], "invalid token name"),
    ("has space", "viewer", [], "invalid token name"),
    ("ok", "root", [], "use one of viewer, operator, admin"),
    ("ok", "viewer", ["eu west"], "invalid region"),
])
def test_bad_requests_are_refused(tmp_path: Path, name: str, role: str, regions: list[str], message: str) -> None:
    store = store_at(tmp_path)
    with pytest.raises(TokenError, match=message):
        store.create(name, role, regions)
    assert not (tmp_path / "api-tokens.json").exists()


def test_changes_by_another_process_reach_a_running_store(tmp_path: Path) -> None:
    running = store_at(tmp_path)
    cli = store_at(tmp_path)
    secret = cli.create("ci", "viewer")
    assert running.authenticate(secret) is not None
    cli.revoke("ci")  # within the same clock tick: the file's size and inode still change
    assert running.authenticate(secret) is None


def test_roles_and_scopes() -> None:
    operator = Token("eu-ops", "operator", ("eu",), ())
    assert operator.has_role("viewer") and operator.has_role("operator") and not operator.has_role("admin")
    assert operator.covers("eu", "prod") and not operator.covers("us-east", "prod")
    prod = Token("p", "viewer", (), ("prod",))
    assert prod.covers("us-east", "prod") and not prod.covers("eu", "staging")
    assert not Token("all", "admin").scoped and prod.scoped


@pytest.mark.parametrize(("content", "where"), [
    ("{not json", "not valid JSON"),
    ('{"version": 1}', '"tokens": [...]'),
    ('{"version": 9, "tokens": []}', "version 9"),
    ('{"version": 1, "tokens": [{"name": "a", "role": "viewer", "sha256": "xyz"}]}', "tokens[0].sha256"),
    ('{"version": 1, "tokens": [{"name": "a", "role": "god", "sha256": "' + "a" * 64 + '"}]}',
     "tokens[0]: invalid role"),
    ('{"version": 1, "tokens": [{"name": "a", "role": "viewer", "regions": "eu", "sha256": "' + "a" * 64 + '"}]}',
     "tokens[0].regions"),
    ('{"version": 1, "tokens": [{"name": "a", "role": "viewer", "created_at": "yesterday", "sha256": "'
     + "a" * 64 + '"}]}', "tokens[0].created_at"),
])
def test_bad_file_names_the_field_and_is_never_overwritten(tmp_path: Path, content: str, where: str) -> None:
    path = tmp_path / "api-tokens.json"
    path.write_text(content)
    with pytest.raises(TokenFileError, match="api-tokens.json") as caught:
        store_at(tmp_path)
    assert where in str(caught.value)
    assert "fix the file" in str(caught.value) or "release" in str(caught.value)
    path.write_text('{"version": 1, "tokens": []}')
    store = store_at(tmp_path)
    path.write_text(content)
    with pytest.raises(TokenFileError):
        store.create("new", "viewer")
    assert path.read_text() == content


def test_duplicate_names_in_the_file_are_refused(tmp_path: Path) -> None:
    entry = {"name": "a", "role": "viewer", "sha256": "a" * 64}
    (tmp_path / "api-tokens.json").write_text(json.dumps({"version": 1, "tokens": [entry, entry]}))
    with pytest.raises(TokenFileError, match=r"tokens\[1\].name: 'a' appears twice"):
        store_at(tmp_path)
