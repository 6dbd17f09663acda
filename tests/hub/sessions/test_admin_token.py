"""`fleetline hub --admin-token-file`: the first admin API token from a file the operator wrote (the Helm chart's
Secret), registered idempotently at start; on the store (`ApiTokenStore.ensure`) and on a real hub process."""

from __future__ import annotations

import asyncio
import subprocess
import sys
from pathlib import Path

import pytest
from aiohttp import ClientSession

from hub.api.tokens import ApiTokenStore, TokenError, TokenNameTaken

ROOT = Path(__file__).resolve().parents[3]
SECRET = "first-admin-0123456789abcdef"
FLEET = """\
apiVersion: fleetline.io/v1alpha1
kind: Fleet
metadata: {name: ml}
spec:
  environments:
    staging: {ref: main}
  clusters:
  - {name: stg-1, region: us-west, environment: staging}
  applications:
  - name: settings
    source: {path: apps/settings}
    destination: {namespace: ml}
"""


def test_ensure_registers_once_and_never_revives_a_revoked_token(tmp_path: Path) -> None:
    store = ApiTokenStore.in_data_dir(tmp_path, fsync=False)
    outcome, token = store.ensure("admin", "admin", SECRET)
    assert outcome == "created" and token.role == "admin"
    assert store.authenticate(SECRET).name == "admin"
    written = store.path.read_bytes()
    assert SECRET not in written.decode(), "only the hash is stored"
    assert store.ensure("admin", "admin", SECRET)[0] == "exists"
    assert store.path.read_bytes() == written, "a restart with the same file changes nothing"
    store.revoke("admin")
    assert store.ensure("admin", "admin", SECRET)[0] == "revoked"
    assert store.authenticate(SECRET) is None, "a revoked first token stays revoked"


def test_ensure_refuses_a_taken_name_and_a_weak_secret(tmp_path: Path) -> None:
    store = ApiTokenStore.in_data_dir(tmp_path, fsync=False)
    store.ensure("admin", "admin", SECRET)
    with pytest.raises(TokenNameTaken, match="'admin' exists with another secret"):
        store.ensure("admin", "admin", "another-secret-0123456789")
    with pytest.raises(TokenError, match="at least 16 characters"):
        store.ensure("root", "admin", "short")
    with pytest.raises(TokenError, match="at least 16 characters"):
        store.ensure("root", "admin", "has white space in it, long enough")


def fleet_repo(path: Path) -> Path:
    (path / "apps" / "settings").mkdir(parents=True)
    (path / "fleet.yaml").write_text(FLEET)
    (path / "apps" / "settings" / "kustomization.yaml").write_text("resources: [cm.yaml]\n")
    (path / "apps" / "settings" / "cm.yaml").write_text(
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: settings}\ndata: {k: v}\n")
    for command in (["init", "-q", "-b", "main"], ["add", "-A"],
                    ["-c", "user.name=t", "-c", "user.email=t@example.com", "commit", "-q", "-m", "fleet"]):
        subprocess.run(["git", *command], cwd=path, check=True)
    return path


def hub_command(tmp_path: Path, *extra: str) -> list[str]:
    return [sys.executable, "-m", "fleetline.cli", "hub", "--listen", "127.0.0.1:0", "--insecure",
            "--data-dir", str(tmp_path / "data"), "--http-listen", "127.0.0.1:0", "--poll-interval", "3600", *extra]


async def test_a_hub_started_with_an_admin_token_file_accepts_it_as_admin(tmp_path: Path) -> None:
    repo = fleet_repo(tmp_path / "repo")
    (tmp_path / "admin-token").write_text(SECRET + "\n")
    process = await asyncio.create_subprocess_exec(
        *hub_command(tmp_path, "--repo", str(repo), "--admin-token-file", str(tmp_path / "admin-token")),
        cwd=ROOT, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    try:
        assert process.stdout is not None
        for _ in range(2):  # "listening on", then "pipeline on http://..."
            line = (await asyncio.wait_for(process.stdout.readline(), 30)).decode()
            assert line, "the hub exited early"
        base = line.rsplit(" ", 1)[1].strip().removesuffix("/api/v1/pipeline")
        async with ClientSession() as client:
            async with client.get(f"{base}/api/v1/tokens", headers={"Authorization": f"Bearer {SECRET}"}) as answer:
                assert answer.status == 200, await answer.text()
                names = {(t["name"], t["role"]) for t in (await answer.json())["tokens"]}
            async with client.get(f"{base}/api/v1/tokens", headers={"Authorization": "Bearer wrong"}) as answer:
                assert answer.status == 401
        assert ("admin", "admin") in names
    finally:
        process.terminate()
        _out, err = await asyncio.wait_for(process.communicate(), 20)
    assert SECRET not in err.decode(), "the secret is never logged"
    assert "event=admin_token_registered" in err.decode()


@pytest.mark.parametrize(("content", "repo", "message"), [
    ("", True, "the admin token file is empty"),
    (SECRET, False, "--admin-token-file needs --repo"),
    ("short", True, "at least 16 characters"),
])
def test_a_hub_refuses_an_unusable_admin_token_file(tmp_path: Path, content: str, repo: bool, message: str) -> None:
    (tmp_path / "admin-token").write_text(content)
    extra = ["--repo", str(tmp_path / "no-such-repo")] if repo else []
    result = subprocess.run(hub_command(tmp_path, *extra, "--admin-token-file", str(tmp_path / "admin-token")),
                            cwd=ROOT, capture_output=True, text=True, timeout=30)
    assert result.returncode == 2, result.stderr
    assert message in result.stderr
    if repo:
        assert str(tmp_path / "admin-token") in result.stderr, "the file is named"
