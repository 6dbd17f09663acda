"""`fleetline demo --check`: the tour, run without a human, each step timed and checked.

Steps: converge from Git (the demo approves production's first revision), drift a production Deployment with
kubectl and wait for the agent to heal it, commit a new model version (the post-commit hook's webhook brings it
to staging-1 at once; production must not move without an approval), approve it, watch it roll out canary ->
us-east -> eu in the order fleet.yaml's rollout says (asserted), roll it back (`POST /api/v1/rollback`: a Git
revert, approved and rolled out like any commit), and end with `fleetline status` exiting 0. Any failure raises
CheckFailed naming the step.
"""

from __future__ import annotations

import asyncio
import os
import re
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path

from hub.client.http import HubClient
from hub.demo.kube import deployment_image, set_image
from hub.demo.progress import FleetView
from hub.demo.stack import DemoError, DemoStack

APP = "inference-server"
NAMESPACE = "ml"
CONTAINER = "server"
KUSTOMIZATION = "apps/inference-server/base/kustomization.yaml"
STEP_TIMEOUT = 60.0


class CheckFailed(DemoError):
    """A step of the check failed; the message names it and says what was seen."""


@dataclass(frozen=True)
class Step:
    name: str
    seconds: float
    detail: str


async def _until(what: str, probe: Callable[[], Awaitable[bool]], timeout: float = STEP_TIMEOUT,
                 interval: float = 0.2) -> None:
    deadline = time.monotonic() + timeout
    while not await probe():
        if time.monotonic() > deadline:
            raise CheckFailed(f"{what}: not within {timeout:g} s")
        await asyncio.sleep(interval)


def _git(repo: Path, *args: str) -> str:
    result = subprocess.run(["git", "-C", str(repo), *args], capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise CheckFailed(f"git {' '.join(args)} in {repo}: {result.stderr.strip() or result.stdout.strip()}")
    return result.stdout.strip()


def bump_model(repo: Path) -> tuple[str, str]:
    """Edit the base overlay: the next patch version of the server image and a new model version, as one commit
    (made by `git commit`, so the post-commit hook runs). Returns (new tag, new model version)."""
    path = repo / KUSTOMIZATION
    text = path.read_text()
    tag = re.search(r'newTag: "?([0-9]+)\.([0-9]+)\.([0-9]+)"?', text)
    model = re.search(r"MODEL_VERSION=(\S+)", text)
    if tag is None or model is None:
        raise CheckFailed(f"{path}: expected an images entry with newTag: X.Y.Z and a MODEL_VERSION literal")
    new_tag = f"{tag.group(1)}.{tag.group(2)}.{int(tag.group(3)) + 1}"
    new_model = f"{model.group(1).split('+')[0]}+{new_tag}"
    text = text[:tag.start()] + f'newTag: "{new_tag}"' + text[tag.end():]
    text = text.replace(model.group(0), f"MODEL_VERSION={new_model}")
    path.write_text(text)
    _git(repo, "commit", "-q", "-am", f"inference-server {new_tag} with model {new_model} (fleetline demo --check)")
    return new_tag, new_model


async def webhooks_accepted(client: HubClient) -> float:
    text = await client.request("GET", "/metrics", text=True)
    total = 0.0
    for line in text.splitlines():
        if line.startswith("fleetline_hub_source_webhooks_total") and 'result="accepted"' in line:
            total += float(line.rsplit(" ", 1)[1])
    return total


class Check:
    """One run of the tour against a started DemoStack."""

    def __init__(self, stack: DemoStack, client: HubClient) -> None:
        self.stack = stack
        self.client = client
        self.steps: list[Step] = []
        assert stack.fleet is not None
        self.clusters = {c.name: c for c in stack.fleet.clusters}
        self.staging = [c.name for c in stack.fleet.clusters if c.environment == "staging"]
        application = stack.fleet.application(APP, next(iter(self.clusters)))
        self.order = [step for step in stack.fleet.rollout_plan(application) if step]
        self.production = [c for step in self.order for c in step if c not in self.staging]

    def record(self, name: str, began: float, detail: str) -> None:
        step = Step(name, time.monotonic() - began, detail)
        self.steps.append(step)
        self.stack.say(f"{self.stack.elapsed()} ok  {name}: {step.seconds:.1f} s ({detail})")

    async def view(self) -> FleetView:
        self.stack.check_processes()
        return await self.stack.view(self.client)

    async def image(self, cluster: str) -> str:
        return await asyncio.to_thread(deployment_image, self.stack.workdir.kubeconfig(cluster), NAMESPACE, APP)

    async def run(self) -> list[Step]:
        began = self.stack.started
        await self.stack.wait_converged(self.client, timeout=120, approve_first=True)
        self.record("converge from Git", began, f"{len(self.stack.approved)} first releases approved by the demo")
        await self.drift_and_heal()
        revision = await self.commit_model()
        await self.approve_and_roll_out(revision, "new model version")
        await self.rollback(revision)
        await self.status_command()
        return self.steps

    async def drift_and_heal(self) -> None:
        cluster = self.production[-1] if self.production else next(iter(self.clusters))
        kubeconfig = self.stack.workdir.kubeconfig(cluster)
        desired = await self.image(cluster)
        began = time.monotonic()
        tool = await asyncio.to_thread(set_image, kubeconfig, NAMESPACE, APP, CONTAINER,
                                       desired.rsplit(":", 1)[0] + ":hotfix", self.stack.workdir.root / "kubectl-cache")

        async def healed() -> bool:
            return await self.image(cluster) == desired and (await self.view()).ready((cluster, APP))

        await _until(f"the drift of {APP} on {cluster} healed", healed, interval=0.1)
        self.record("drift with kubectl, self-heal", began, f"{tool} on {cluster}; the agent restored {desired}")

    async def commit_model(self) -> str:
        repo = self.stack.workdir.repo
        accepted = await webhooks_accepted(self.client)
        began = time.monotonic()
        tag, model = await asyncio.to_thread(bump_model, repo)
        revision = _git(repo, "rev-parse", "HEAD")

        async def staged() -> bool:
            view = await self.view()
            return all(view.ready((c, APP), revision) for c in self.staging)

        await _until(f"staging ({', '.join(self.staging)}) Synced and Healthy at {revision[:7]}", staged)
        if await webhooks_accepted(self.client) <= accepted:
            raise CheckFailed("commit: the hub moved without a webhook from the post-commit hook (see "
                              f"{self.stack.workdir.repo}/.git/hooks/post-commit)")
        view = await self.view()
        early = [c for c in self.production if view.ready((c, APP), revision)]
        if early:
            raise CheckFailed(f"commit: production cluster(s) {', '.join(early)} synced {revision[:7]} without "
                              "an approval")
        self.record("commit a new model version", began, f"{tag} / {model} at {revision[:7]}: staging synced, "
                    "production waits for an approval")
        return revision

    async def approve_and_roll_out(self, revision: str, what: str) -> None:
        async def pending() -> bool:
            entries = (await self.client.approvals()).get("pending", [])
            return any(e["application"] == APP and e["revision"] == revision for e in entries)

        await _until(f"production asks for an approval of {revision[:7]}", pending)
        began = time.monotonic()
        approved = await self.stack.approve_pending(self.client, revision=revision)
        if not approved:
            raise CheckFailed(f"approve: nothing of {revision[:7]} was waiting for an approval")
        first: dict[str, float] = {}

        async def rolled_out() -> bool:
            view = await self.view()
            for cluster in self.production:
                if cluster not in first and view.ready((cluster, APP), revision):
                    first[cluster] = time.monotonic() - began
                    self.stack.say(f"{self.stack.elapsed()}     {cluster} runs {revision[:7]} "
                                   f"({first[cluster]:.1f} s after the approval)")
            return len(first) == len(self.production)

        await _until(f"{what} rolled out to {', '.join(self.production)}", rolled_out, timeout=90, interval=0.1)
        canary = min(first, key=first.__getitem__)
        self.steps.append(Step(f"approve -> first production cluster ({what})", first[canary],
                               f"{canary} Synced and Healthy at {revision[:7]}"))
        seen = sorted(first, key=first.__getitem__)
        expected = list(self.production)
        for earlier, later in zip(expected, expected[1:], strict=False):
            if self._step(earlier) < self._step(later) and first[earlier] >= first[later]:
                raise CheckFailed(f"roll out ({what}): {later} ran {revision[:7]} before {earlier}, but the rollout "
                                  f"steps are {self.order}; order seen: {seen}")
        self.steps.append(Step(f"roll out across regions ({what})", max(first.values()),
                               " -> ".join(f"{c} {first[c]:.1f}s" for c in seen)))
        self.stack.say(f"{self.stack.elapsed()} ok  roll out across regions in the strategy's order: "
                       + " -> ".join(seen))

    def _step(self, cluster: str) -> int:
        return next(i for i, step in enumerate(self.order) if cluster in step)

    async def rollback(self, bad: str) -> None:
        before = {c: await self.image(c) for c in self.production[:1]}
        began = time.monotonic()
        answer = await self.client.rollback(APP, "fleetline demo --check: roll the new model back",
                                            environment="production")
        revert = answer.get("commit", "")
        if not revert or answer.get("reverted", "")[:7] != bad[:7]:
            raise CheckFailed(f"rollback: expected a revert of {bad[:7]}, the hub answered {answer}")
        self.record("rollback (git revert by the hub)", began, f"{revert[:7]} reverts {bad[:7]}")
        await self.approve_and_roll_out(revert, "rollback")
        after = {c: await self.image(c) for c in before}
        if after == before:
            raise CheckFailed(f"rollback: the image stayed {before} after the revert was rolled out")
        self.steps.append(Step("rollback, end to end", time.monotonic() - began,
                               f"image back to {next(iter(after.values()))}"))

    async def status_command(self) -> None:
        began = time.monotonic()
        env = {**os.environ, "FLEETLINE_HUB": self.stack.hub_api, "FLEETLINE_TOKEN": self.stack.token,
               "NO_COLOR": "1"}
        result = await asyncio.to_thread(subprocess.run, [sys.executable, "-m", "fleetline.cli", "status"],
                                         env=env, capture_output=True, text=True, timeout=60, check=False)
        missing = [c for c in self.clusters if c not in result.stdout]
        if result.returncode != 0 or missing:
            raise CheckFailed(f"fleetline status exited {result.returncode}{f', missing {missing}' if missing else ''}"
                              f":\n{result.stdout}{result.stderr}")
        self.record("fleetline status", began, "exit 0, every cluster Synced and Healthy")


def report(steps: list[Step]) -> str:
    width = max(len(step.name) for step in steps)
    lines = ["", "fleetline demo --check: every step passed", f"  {'step':<{width}}  latency  detail"]
    lines += [f"  {step.name:<{width}}  {step.seconds:6.1f}s  {step.detail}" for step in steps]
    return "\n".join(lines)
