"""The short tour `fleetline demo` prints once the fleet is Synced and Healthy: where things are, and three things
to try. Commands are written as they run from the directory the demo was started in."""

from __future__ import annotations

import shlex
import shutil
import sys
from pathlib import Path

IMAGE_DIR = "apps/inference-server/base"


def shown(path: str | Path) -> str:
    """`path` relative to the current directory when it is below it, else absolute; quoted for a shell."""
    absolute = Path(path).resolve()
    try:
        text = str(absolute.relative_to(Path.cwd()))
    except ValueError:
        text = str(absolute)
    return shlex.quote(text)


def fleetline_command() -> str:
    """How to run `fleetline` here: the venv's script next to this Python, else `fleetline` on PATH."""
    script = Path(sys.executable).with_name("fleetline")
    if script.exists() and shutil.which("fleetline") != str(script):
        return shown(script)
    return "fleetline"


def tour(data: dict) -> str:
    """The tour for a demo described by `data` (the contents of demo.json)."""
    fl = fleetline_command()
    by_name = {c["name"]: c for c in data["clusters"]}
    prod = [c for c in data["clusters"] if c["environment"] != "staging"]
    east = by_name.get("us-east-1", prod[0] if prod else data["clusters"][0])
    eu = by_name.get("eu-west-1", data["clusters"][-1])
    repo = shown(data["repo"])
    kubectl = "kubectl" if shutil.which("kubectl") else "kubectl (install it to try this)"
    regions = ", ".join(f"{c['name']} ({c['region']}, {c['environment']})" for c in data["clusters"])
    return f"""
Fleetline is running: {regions} are Synced and Healthy, all from Git.
The demo's state is in {shown(Path(data['repo']).parent)} (demo.json, logs/). Press Ctrl-C to stop everything.

  Dashboard    {data['dashboard']}
  Admin token  {data['admin_token']}
  Hub API      {data['hub_api']}   (agents dial {data['hub_grpc']} with mutual TLS)

Look at the fleet (in another terminal):
  export FLEETLINE_HUB={data['hub_api']} FLEETLINE_TOKEN={data['admin_token']}
  {fl} status
  {kubectl} --kubeconfig {shown(eu['kubeconfig'])} -n ml get deploy,pods,hpa

Three things to try:
  1. Drift and self-heal: change a Deployment behind Git's back, and watch the agent put it back.
       {kubectl} --kubeconfig {shown(east['kubeconfig'])} -n ml set image deployment/inference-server \\
           server=registry.example.com/ml/inference-server:hotfix
       {kubectl} --kubeconfig {shown(east['kubeconfig'])} -n ml get deploy inference-server -o wide
  2. Ship a new model version: one commit changes the server image and the model together.
       sed -i 's/newTag: .*/newTag: "2.4.0"/; s/MODEL_VERSION=.*/MODEL_VERSION=2026-02-01/' \\
           {repo}/{IMAGE_DIR}/kustomization.yaml
       git -C {repo} commit -am "inference-server 2.4.0 with the February model"
     staging-1 syncs at once. Production waits for you:
       {fl} approvals
       {fl} approve production inference-server $(git -C {repo} rev-parse HEAD)
       {fl} rollout status inference-server      # canary us-west-2, then us-east, then eu
       {fl} status --watch
  3. Revert it: a rollback is a Git revert, rolled out like any commit (approve it as in 2).
       {fl} rollback --env production inference-server --reason "p99 latency regression"
     or: git -C {repo} revert --no-edit HEAD

More: docs/demo.md (this tour), docs/cli.md (every command), docs/pipeline.md (rollouts, approvals).
"""

