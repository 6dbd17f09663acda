"""The demo's directory, `--workdir DIR` (default `.demo/`), and what is made in it before anything starts.

    DIR/repo/               the Git working copy the hub tracks (made from overlays-example/ on the first run,
                            kept afterwards: your commits stay); branch main, a post-commit hook, pushes allowed
    DIR/certs/              the fleet CA, the hub's serving certificate, one client certificate per cluster
    DIR/kubeconfig/<c>.yaml one kubeconfig per simulated cluster
    DIR/hub/  DIR/agents/   the hub's data directory and the agents' caches (new on every run)
    DIR/logs/<process>.log  what each process printed
    DIR/demo.json           hub URLs, the admin token, the clusters (see docs/demo.md); mode 0600

kubesim keeps nothing across restarts, so every run starts the clusters, the hub and the agents afresh from
the repository as it is; only `repo/` and `certs/` are reused.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import stat
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from fleetline.atomicfile import atomic_write
from fleetline.certs_cli import CertsError, init_ca_dir, issue_cluster_files

DEMO_AUTHOR = ("Fleetline Demo", "demo@fleetline.invalid")
HOOK = """#!/bin/sh
# Installed by `fleetline demo`: tell the hub about this commit at once, as a Git host's push webhook would.
exec "{python}" -m hub.demo.hook "{workdir}"
"""


class WorkdirError(RuntimeError):
    """Something in the work directory that the demo cannot use; the message names the path and the fix."""


@dataclass(frozen=True)
class Workdir:
    """The paths of one demo directory."""

    root: Path

    @property
    def repo(self) -> Path:
        return self.root / "repo"

    @property
    def certs(self) -> Path:
        return self.root / "certs"

    @property
    def kubeconfigs(self) -> Path:
        return self.root / "kubeconfig"

    @property
    def hub_data(self) -> Path:
        return self.root / "hub"

    @property
    def agents(self) -> Path:
        return self.root / "agents"

    @property
    def logs(self) -> Path:
        return self.root / "logs"

    @property
    def webhook_secret(self) -> Path:
        return self.root / "webhook-secret"

    @property
    def demo_json(self) -> Path:
        return self.root / "demo.json"

    def kubeconfig(self, cluster: str) -> Path:
        return self.kubeconfigs / f"{cluster}.yaml"

    def reset_runtime(self) -> None:
        """Forget the previous run's hub, agents, kubeconfigs and logs (its clusters are gone with it)."""
        self.root.mkdir(parents=True, exist_ok=True)
        for path in (self.hub_data, self.agents, self.kubeconfigs, self.logs):
            shutil.rmtree(path, ignore_errors=True)
        self.demo_json.unlink(missing_ok=True)
        for path in (self.hub_data, self.agents, self.kubeconfigs, self.logs):
            path.mkdir(parents=True)
        if not self.webhook_secret.exists():
            atomic_write(self.webhook_secret, secrets.token_hex(32).encode(), 0o600)

    def write_demo_json(self, data: dict) -> None:
        atomic_write(self.demo_json, (json.dumps(data, indent=2) + "\n").encode(), 0o600)


def _git(repo: Path, *args: str) -> str:
    try:
        result = subprocess.run(["git", "-C", str(repo), *args], capture_output=True, text=True, check=False)
    except FileNotFoundError:
        raise WorkdirError("git is not installed (or not on PATH): the demo's fleet repository is a Git working "
                           "copy; install git and run the demo again") from None
    if result.returncode != 0:
        raise WorkdirError(f"{repo}: git {' '.join(args)} failed: {(result.stderr or result.stdout).strip()}")
    return result.stdout.strip()


def make_repo(workdir: Workdir, example: Path) -> bool:
    """Make `DIR/repo` a Git working copy of `example` (branch main, one commit) unless it exists; install the
    post-commit hook and let the hub push to it (rollbacks and promotions are commits). True when it was made."""
    repo = workdir.repo
    made = False
    if not (repo / ".git").is_dir():
        if repo.exists() and any(repo.iterdir()):
            raise WorkdirError(f"{repo}: exists but is not a Git working copy; remove it (the demo makes it from "
                               f"{example})")
        if not (example / "fleet.yaml").is_file():
            raise WorkdirError(f"{example}: no fleet.yaml here; give the example repository with --example DIR")
        shutil.copytree(example, repo, dirs_exist_ok=True)
        _git(repo, "init", "-q", "-b", "main")
        made = True
    # the demo's commits (and yours in DIR/repo) need an identity; a local one never touches your global config
    if not subprocess.run(["git", "-C", str(repo), "config", "user.email"], capture_output=True,
                          check=False).stdout.strip():
        _git(repo, "config", "user.name", DEMO_AUTHOR[0])
        _git(repo, "config", "user.email", DEMO_AUTHOR[1])
    _git(repo, "config", "receive.denyCurrentBranch", "updateInstead")
    if made:
        _git(repo, "add", "-A")
        _git(repo, "commit", "-q", "--no-verify", "-m", "The ML platform fleet, from overlays-example")
    install_hook(workdir)
    return made


def install_hook(workdir: Workdir) -> Path:
    hooks = Path(_git(workdir.repo, "rev-parse", "--git-path", "hooks"))
    hooks = hooks if hooks.is_absolute() else workdir.repo / hooks
    hooks.mkdir(parents=True, exist_ok=True)
    hook = hooks / "post-commit"
    hook.write_text(HOOK.format(python=sys.executable, workdir=workdir.root.resolve()))
    hook.chmod(hook.stat().st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)
    return hook


def head(workdir: Workdir) -> str:
    return _git(workdir.repo, "rev-parse", "HEAD")


def make_certificates(workdir: Workdir, clusters: list[str]) -> None:
    """The CA and the hub's certificate (once), and a client certificate for each cluster that has none."""
    try:
        if not (workdir.certs / "ca.key").exists():
            workdir.certs.mkdir(parents=True, exist_ok=True)
            init_ca_dir(workdir.certs)
        for cluster in clusters:
            if not (workdir.certs / f"{cluster}.crt").exists():
                issue_cluster_files(workdir.certs, cluster)
    except CertsError as exc:
        raise WorkdirError(str(exc)) from exc
    os.chmod(workdir.certs, 0o700)
