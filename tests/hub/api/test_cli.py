"""`fleetline tokens create|list|revoke` on its own parser (the composition root registers it), in-process and
as a real process."""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

import pytest

from hub.api.cli import add_tokens_parser
from hub.api.tokens import ApiTokenStore

ROOT = Path(__file__).resolve().parents[3]
RUN_TOKENS = (
    "import argparse, sys\n"
    "from hub.api.cli import add_tokens_parser\n"
    "parser = argparse.ArgumentParser(prog='fleetline')\n"
    "add_tokens_parser(parser.add_subparsers())\n"
    "args = parser.parse_args(sys.argv[1:])\n"
    "sys.exit(args.run(args))\n"
)


def run(*argv: str) -> int:
    parser = argparse.ArgumentParser(prog="fleetline")
    add_tokens_parser(parser.add_subparsers())
    args = parser.parse_args(["tokens", *argv])
    return args.run(args)


def test_create_prints_the_token_once_on_stdout(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run("create", "--data-dir", str(tmp_path), "--name", "eu-ops", "--role", "operator", "--region", "eu",
               "--environment", "prod") == 0
    out, err = capsys.readouterr()
    secret = out.strip()
    assert "\n" not in secret and secret.startswith("flt_")
    assert "operator token 'eu-ops' for region(s) eu and environment(s) prod" in err and "only this once" in err
    token = ApiTokenStore.in_data_dir(tmp_path).authenticate(secret)
    assert (token.name, token.role, token.regions, token.environments) == ("eu-ops", "operator", ("eu",), ("prod",))


def test_list_and_revoke(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    store = ApiTokenStore.in_data_dir(tmp_path)
    secret = store.create("ci", "viewer")
    store.create("eu-ops", "operator", ["eu"])
    assert run("revoke", "ci", "--data-dir", str(tmp_path)) == 0
    assert "revoked token 'ci'" in capsys.readouterr().out
    assert store.authenticate(secret) is None
    assert run("list", "--data-dir", str(tmp_path)) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split() == ["NAME", "ROLE", "REGIONS", "ENVIRONMENTS", "CREATED", "STATUS"]
    assert lines[1].split()[:3] == ["ci", "viewer", "*"] and lines[1].endswith("revoked")
    assert lines[2].split()[:3] == ["eu-ops", "operator", "eu"] and lines[2].endswith("active")
    assert run("list", "--data-dir", str(tmp_path), "-o", "json") == 0
    listed = json.loads(capsys.readouterr().out)["tokens"]
    assert [t["name"] for t in listed] == ["ci", "eu-ops"] and secret not in json.dumps(listed)


def test_errors_and_exit_codes(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run("revoke", "nobody", "--data-dir", str(tmp_path)) == 1
    assert "no token named 'nobody'" in capsys.readouterr().err
    assert run("create", "--data-dir", str(tmp_path), "--name", "bad name", "--role", "viewer") == 2
    assert "invalid token name" in capsys.readouterr().err
    (tmp_path / "api-tokens.json").write_text("{broken")
    assert run("list", "--data-dir", str(tmp_path)) == 2
    assert "api-tokens.json: not valid JSON" in capsys.readouterr().err
    assert run("create", "--data-dir", str(tmp_path), "--name", "ok", "--role", "viewer") == 2
    assert (tmp_path / "api-tokens.json").read_text() == "{broken"


def test_role_is_checked_by_the_parser(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as caught:
        run("create", "--data-dir", str(tmp_path), "--name", "x", "--role", "root")
    assert caught.value.code == 2
    assert "invalid choice: 'root'" in capsys.readouterr().err


def test_as_a_process(tmp_path: Path) -> None:
    done = subprocess.run([sys.executable, "-c", RUN_TOKENS, "tokens", "create", "--data-dir", str(tmp_path),
                           "--name", "ci", "--role", "viewer"], capture_output=True, text=True, cwd=ROOT, timeout=60)
    assert done.returncode == 0, done.stderr
    assert ApiTokenStore.in_data_dir(tmp_path).authenticate(done.stdout.strip()).name == "ci"
    help_text = subprocess.run([sys.executable, "-c", RUN_TOKENS, "tokens", "create", "--help"],
                               capture_output=True, text=True, cwd=ROOT, timeout=60).stdout
    assert "examples:" in help_text and "--region eu" in help_text
