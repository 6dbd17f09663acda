"""The demo's parts that need no running fleet: the work directory's repository (made once, reused), the
post-commit hook's signed webhook as the hub reads it, and the tour's commands."""

from __future__ import annotations

import subprocess
from pathlib import Path

from hub.demo.hook import payload, signature
from hub.demo.tour import tour
from hub.demo.workdir import Workdir, make_repo
from hub.source.webhooks import parse_push, verify_github

EXAMPLE = Path(__file__).resolve().parents[2] / "overlays-example"


def _git(repo: Path, *args: str) -> str:
    return subprocess.run(["git", "-C", str(repo), *args], capture_output=True, text=True, check=True).stdout.strip()


def test_the_repository_is_made_on_the_first_run_and_kept_afterwards(tmp_path: Path) -> None:
    workdir = Workdir(tmp_path / "demo")
    workdir.reset_runtime()
    assert make_repo(workdir, EXAMPLE) is True
    assert _git(workdir.repo, "branch", "--show-current") == "main"
    assert (workdir.repo / "fleet.yaml").read_text() == (EXAMPLE / "fleet.yaml").read_text()
    hook = workdir.repo / ".git" / "hooks" / "post-commit"
    assert hook.stat().st_mode & 0o111 and "hub.demo.hook" in hook.read_text()
    assert _git(workdir.repo, "config", "receive.denyCurrentBranch") == "updateInstead"  # the hub's reverts land
    (workdir.repo / "NOTES.md").write_text("mine\n")
    _git(workdir.repo, "add", "NOTES.md")
    _git(workdir.repo, "commit", "-q", "-m", "my change")  # the hook runs and says the demo is not running
    mine = _git(workdir.repo, "rev-parse", "HEAD")
    workdir.reset_runtime()
    assert make_repo(workdir, EXAMPLE) is False
    assert _git(workdir.repo, "rev-parse", "HEAD") == mine


def test_a_directory_that_is_not_a_repository_is_refused_with_the_fix(tmp_path: Path) -> None:
    workdir = Workdir(tmp_path / "demo")
    workdir.repo.mkdir(parents=True)
    (workdir.repo / "something").write_text("x")
    try:
        make_repo(workdir, EXAMPLE)
    except RuntimeError as exc:
        assert str(workdir.repo) in str(exc) and "remove it" in str(exc)
    else:
        raise AssertionError("a non-repository directory was used")


def test_the_hook_sends_a_push_the_hub_verifies_and_reads() -> None:
    body = payload("refs/heads/main", "0" * 40, "a" * 40, "/tmp/repo")
    assert verify_github(body, signature(body, b"s3cret"), b"s3cret")
    assert not verify_github(body, signature(body, b"other"), b"s3cret")
    notice = parse_push(body, "application/json")
    assert (notice.ref, notice.after_sha) == ("refs/heads/main", "a" * 40)


def test_the_tour_names_the_dashboard_token_and_the_three_things_to_try(tmp_path: Path) -> None:
    clusters = [{"name": n, "region": r, "environment": e, "kubeconfig": str(tmp_path / f"{n}.yaml"),
                 "api_server": "https://127.0.0.1:1"} for n, r, e in
                [("staging-1", "us-east", "staging"), ("us-east-1", "us-east", "production"),
                 ("eu-west-1", "eu", "production")]]
    text = tour({"hub_api": "http://127.0.0.1:7080", "dashboard": "http://127.0.0.1:7080/", "hub_grpc": "x:1",
                 "admin_token": "flt_secret", "repo": str(tmp_path / "repo"), "clusters": clusters})
    assert "http://127.0.0.1:7080/" in text and "flt_secret" in text
    assert "FLEETLINE_HUB=http://127.0.0.1:7080" in text and " status" in text
    assert f"--kubeconfig {tmp_path / 'eu-west-1.yaml'}" in text
    assert "set image deployment/inference-server" in text and "approve production inference-server" in text
    assert "rollback --env production inference-server" in text
