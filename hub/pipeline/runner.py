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

from aiohttp import web

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
        return webhook_routes(self.webhook_secret, self.watcher.on_push)

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
        await self.pipeline.on_revision(name, sha)

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

    def describe(self) -> dict:
        status = self.watcher.status()
        return {"source": {"url": self.mirror.display_url, "stale": status.stale, "last_error": status.last_error,
                           "last_success_at": status.last_success_at, "revisions": self.watcher.revisions},
                "refused": [{"environment": r.environment, "revision": r.revision, "reason": r.reason}
                            for r in self.refusals.values()],
                **self.pipeline.describe()}
