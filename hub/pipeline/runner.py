"""The pipeline wired to its Git source: mirror, watcher, signature checks and the webhook, around a `Pipeline`.

`SourcePipeline.start()` mirrors the repository, reads fleet.yaml at the fleet ref (default: the repository's
default branch) to learn which ref each environment tracks, and watches those refs (every `interval` seconds,
and at once when the webhook is called). Each new commit of an environment's ref is checked against the
environment's signature policy (`environments[].signatures`: an unsigned or untrusted commit is refused for
that environment, with a status saying why, and the environment stays where it was) and handed to the
pipeline. When fleet.yaml changes the refs, the watcher follows.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from pathlib import Path

import git
from aiohttp import web

from hub.changes import Promotion, Rollback, promote, rollback
from hub.fleet.load import FleetError, load_fleet
from hub.fleet.model import Fleet
from hub.pipeline.service import Pipeline
from hub.render.files import GitTreeFiles
from hub.sessions.service import kv
from hub.source import GitMirror, SourceWatcher, verify_commit, webhook_routes
from hub.source.credentials import Credentials

log = logging.getLogger(__name__)

FLEET_REF = "HEAD"


@dataclass
class Refusal:
    """A commit an environment refused (its signature), and why."""

    environment: str
    revision: str
    reason: str


class SourcePipeline:
    """See the module docstring."""

    def __init__(self, pipeline: Pipeline, data_dir: str | Path, repo_url: str, *,
                 credentials: Credentials | None = None, interval: float = 60.0, fleet_ref: str = FLEET_REF,
                 webhook_secret: bytes | None = None, keyring_dir: str | Path | None = None) -> None:
        self.pipeline = pipeline
        self.mirror = GitMirror(data_dir, repo_url, credentials)
        self.fleet_ref = fleet_ref
        self.webhook_secret = webhook_secret
        self.keyring_dir = Path(keyring_dir) if keyring_dir is not None else Path(data_dir) / "source" / "gnupg"
        self.fleet: Fleet | None = None
        self.refusals: dict[str, Refusal] = {}
        self.watcher = SourceWatcher(self.mirror, {}, self._on_revision, interval=interval)
        self.work_dir = Path(data_dir) / "source" / "work"

    async def start(self) -> None:
        await asyncio.to_thread(self.mirror.ensure)
        self.watcher.track({"__fleet__": self.fleet_ref, **self._environment_refs()})
        await self.watcher.start()

    async def stop(self) -> None:
        await self.watcher.stop()

    def routes(self) -> list[web.RouteDef]:
        """The webhook route (`POST /api/v1/webhooks/git`), when a secret is configured."""
        if self.webhook_secret is None:
            return []
        return webhook_routes(self.webhook_secret, self.watcher.on_push, metrics=self.watcher.metrics)

    def _environment_refs(self) -> dict[str, str]:
        try:
            sha = self.mirror.resolve(self.fleet_ref)
            self.fleet = load_fleet(GitTreeFiles(self.mirror.path, sha))
        except (FleetError, ValueError, OSError) as exc:
            log.error(kv(event="fleet_unreadable", ref=self.fleet_ref, error=str(exc),
                         action="keeping the environments tracked so far"))
            return {} if self.fleet is None else {n: e.ref for n, e in self.fleet.environments.items()}
        return {name: env.ref for name, env in self.fleet.environments.items()}

    async def _on_revision(self, name: str, sha: str) -> None:
        if name == "__fleet__":
            refs = await asyncio.to_thread(self._environment_refs)
            self.watcher.track({"__fleet__": self.fleet_ref, **refs})
            return
        refusal = await asyncio.to_thread(self._check_signature, name, sha)
        if refusal is not None:
            self.refusals[name] = refusal
            log.error(kv(event="revision_refused", environment=name, revision=sha, reason=refusal.reason))
            return
        self.refusals.pop(name, None)
        self._tell_revision(name, sha)
        await self.pipeline.on_revision(name, sha)

    def _tell_revision(self, environment: str, sha: str) -> None:
        """The commit an environment moves to, for the audit log (author, committer, signature state)."""
        try:
            info = self.mirror.commit_info(sha)
        except (OSError, ValueError) as exc:
            log.warning(kv(event="commit_info_failed", revision=sha, error=str(exc)))
            return
        env = self.fleet.environments.get(environment) if self.fleet is not None else None
        policy = env.signatures if env is not None else None
        self.pipeline.emit("revision", {
            "environment": environment, "revision": sha, "ref": env.ref if env is not None else "",
            "author": f"{info.author} <{info.author_email}>", "committer": f"{info.committer} <{info.committer_email}>",
            "subject": info.subject, "committed_at": info.time.timestamp(),
            "signature": "trusted" if policy is not None and policy.required else "not checked"})

    def _check_signature(self, environment: str, sha: str) -> Refusal | None:
        env = self.fleet.environments.get(environment) if self.fleet is not None else None
        policy = env.signatures if env is not None else None
        if policy is None or not policy.required:
            return None
        status = verify_commit(self.mirror.path, sha, list(policy.trusted_keys), self.keyring_dir,
                               environment=environment)
        if status.state == "trusted":
            return None
        return Refusal(environment, sha, status.message)

    # ---- rollback and promotion: Git commits the pipeline then rolls out ------------------------------------

    async def rollback(self, application: str, target: str, reason: str, author: str) -> Rollback:
        """Revert the commit that last changed `application` on `target` (a cluster or an environment) on the
        ref its environment tracks, and push it; the pipeline takes it from there like any commit."""
        ref = self._tracked_ref(target)
        clone = await asyncio.to_thread(self._work_clone)
        done = await asyncio.to_thread(rollback, clone, ref, application, target, reason, author)
        log.info(kv(event="rollback_pushed", app=application, target=target, commit=done.commit,
                    reverted=done.reverted, author=author, reason=reason))
        self.watcher.nudge()
        return done

    async def promote(self, environment: str, overlay_dir: str, image: str, new_tag: str, model_version: str,
                      author: str, **options: str) -> Promotion:
        """Write a new image tag and the coupled model version into `overlay_dir` in one commit on the ref
        `environment` tracks, and push it."""
        ref = self._tracked_ref(environment)
        clone = await asyncio.to_thread(self._work_clone)
        done = await asyncio.to_thread(promote, clone, ref, overlay_dir, image, new_tag, model_version, author,
                                       **options)
        log.info(kv(event="promotion_pushed", environment=environment, image=image, tag=new_tag,
                    model_version=model_version, commit=done.commit, author=author))
        self.watcher.nudge()
        return done

    def _tracked_ref(self, target: str) -> str:
        fleet = self.fleet
        if fleet is None:
            raise ValueError("fleet.yaml has not been read yet: no ref to change")
        name = target.split(":", 1)[1] if ":" in target else target
        if name in fleet.environments:
            ref = fleet.environments[name].ref
        else:
            ref = fleet.environment_for(name).ref  # KeyError naming the cluster when it is neither
        return "HEAD" if ref == "HEAD" else ref.removeprefix("refs/heads/")

    def _work_clone(self) -> str:
        """The hub's working clone of the repository (made from the remote on first use), for commits."""
        path = self.work_dir
        if not (path / ".git").exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            git.Repo.clone_from(self.mirror.url, path)
        return str(path)

    def describe(self) -> dict:
        status = self.watcher.status()
        return {"source": {"url": self.mirror.display_url, "stale": status.stale, "last_error": status.last_error,
                           "last_success_at": status.last_success_at, "revisions": self.watcher.revisions},
                "refused": [{"environment": r.environment, "revision": r.revision, "reason": r.reason}
                            for r in self.refusals.values()],
                **self.pipeline.describe()}
