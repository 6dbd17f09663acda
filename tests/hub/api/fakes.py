"""A fake HubFacade for the API's tests: a small fleet in two regions, canned answers shaped as docs/api.md says,
and a record of every call (actions, refusals, token changes) for the tests to assert on."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import datetime

from hub.api.errors import Conflict, NotFound
from hub.api.facade import AuditQuery, HubFacade, PromoteRequest

# cluster -> (region, environment)
CLUSTERS = {"eu-1": ("eu", "prod"), "eu-2": ("eu", "staging"), "us-east-1": ("us-east", "prod")}
APPS = ("inference",)


def app_summary(name: str) -> dict:
    return {"name": name, "sync_status": "Synced", "health": "Healthy", "revision": "4f2a9c1", "message": "",
            "operation_phase": "Succeeded"}


def cluster_summary(name: str) -> dict:
    region, environment = CLUSTERS[name]
    return {"name": name, "region": region, "environment": environment, "connected": True,
            "last_seen": "2026-03-01T09:00:00Z", "agent_version": "0.1.0", "revision": "4f2a9c1", "generation": 3,
            "applications": [app_summary(app) for app in APPS]}


class FakeFacade(HubFacade):
    def __init__(self) -> None:
        self.calls: list[tuple] = []
        self.refused: list[tuple] = []
        self.token_changes: list[tuple] = []
        self.not_ready: list[str] = []
        self.subscribers = 0
        self._queues: list[asyncio.Queue] = []
        self.fail_with: Exception | None = None  # raised by fleet() when set

    # ---- the stream ----------------------------------------------------------------------------------------

    def publish(self, kind: str, data: dict) -> None:
        for queue in self._queues:
            queue.put_nowait((kind, data))

    def end_streams(self) -> None:
        for queue in self._queues:
            queue.put_nowait(None)

    async def subscribe(self) -> AsyncIterator[tuple[str, dict]]:  # type: ignore[override]
        queue: asyncio.Queue = asyncio.Queue()
        self._queues.append(queue)
        self.subscribers += 1
        try:
            while (item := await queue.get()) is not None:
                yield item
        finally:
            self.subscribers -= 1
            self._queues.remove(queue)

    # ---- scope and health ----------------------------------------------------------------------------------

    async def ready(self) -> list[str]:
        return list(self.not_ready)

    async def cluster_scope(self, cluster: str) -> tuple[str, str]:
        if cluster not in CLUSTERS:
            raise NotFound(f"no cluster {cluster!r} in fleet.yaml", "unknown_cluster")
        return CLUSTERS[cluster]

    async def environment_regions(self, environment: str) -> list[str]:
        regions = sorted({region for region, env in CLUSTERS.values() if env == environment})
        if not regions:
            raise NotFound(f"no environment {environment!r} in fleet.yaml", "unknown_environment")
        return regions

    def _app(self, cluster: str, application: str) -> None:
        if application not in APPS:
            raise NotFound(f"no application {application!r} on cluster {cluster}", "unknown_application")

    # ---- reading -------------------------------------------------------------------------------------------

    async def fleet(self) -> list[dict]:
        if self.fail_with is not None:
            raise self.fail_with
        return [cluster_summary(name) for name in CLUSTERS]

    async def cluster(self, cluster: str) -> dict:
        return {**cluster_summary(cluster), "session": {"peer": "127.0.0.1:50000", "identity": "token"}}

    async def application(self, cluster: str, application: str) -> dict:
        self._app(cluster, application)
        resource = {"group": "apps", "version": "v1", "kind": "Deployment", "namespace": "ml", "name": application,
                    "sync_status": "Synced", "health": "Healthy", "message": "", "sync_wave": 0}
        return {**app_summary(application), "resources": [resource],
                "drift": {"drifted_resources": 0, "drifted_fields": 0, "fields": []}, "conditions": []}

    async def diff(self, cluster: str, application: str) -> dict:
        self._app(cluster, application)
        return {"fields": [{"object": "apps/Deployment:ml/inference", "path": "spec.replicas", "desired": 3,
                            "live": 5, "manager": "kubectl-edit"}], "as_of": "2026-03-01T09:00:00Z"}

    async def history(self, cluster: str, application: str) -> list[dict]:
        self._app(cluster, application)
        return [{"revision": "4f2a9c1", "generation": 3, "pushed_at": "2026-03-01T09:00:00Z", "author": "ana",
                 "subject": "bump inference", "result": "Succeeded", "finished_at": "2026-03-01T09:01:00Z"}]

    async def pending_approvals(self) -> list[dict]:
        return [{"environment": "prod", "region": region, "cluster": cluster, "application": "inference",
                 "revision": "4f2a9c1", "approvers": [], "required": 1, "held": None}
                for cluster, (region, env) in CLUSTERS.items() if env == "prod"]

    async def rollouts(self) -> list[dict]:
        return [{"environment": env, "application": "inference", "revision": "4f2a9c1",
                 "previous_revision": "1b2c3d4", "phase": "Paused", "step": 1, "waiting_on": "approval",
                 "halted_reason": None, "released": [], "rolled_back": [], "steps": [["eu-1"], ["us-east-1"]]}
                for env in ("prod", "staging")]

    async def audit_query(self, query: AuditQuery) -> list[dict]:
        self.calls.append(("audit_query", query))
        entries = [{"seq": 1, "kind": "revision_seen", "region": "", "environment": "", "cluster": ""},
                   {"seq": 2, "kind": "sync_result", "region": "eu", "environment": "prod", "cluster": "eu-1"},
                   {"seq": 3, "kind": "sync_result", "region": "us-east", "environment": "prod",
                    "cluster": "us-east-1"}]
        return entries[: query.limit]

    async def audit_verify(self) -> dict:
        return {"ok": True, "entries": 3, "last_hash": "ab" * 32, "first_broken": None, "reason": None}

    async def audit_report(self, region: str, since: datetime, until: datetime | None, fmt: str) -> dict | str:
        self.calls.append(("audit_report", region, since, until, fmt))
        if fmt == "csv":
            return "cluster,revision\neu-1,4f2a9c1\n"
        if fmt == "html":
            return "<!doctype html><title>eu</title><h1>eu</h1>"
        return {"region": region, "since": since.isoformat(), "clusters": []}

    # ---- acting --------------------------------------------------------------------------------------------

    async def sync(self, cluster: str, application: str, revision: str | None, prune: bool | None,
                   actor: str) -> dict:
        self._app(cluster, application)
        self.calls.append(("sync", cluster, application, revision, prune, actor))
        return {"request_id": "r-1", "revision": revision or "4f2a9c1"}

    async def approve(self, environment: str, application: str, revision: str, approver: str,
                      region: str | None) -> dict:
        self.calls.append(("approve", environment, application, revision, approver, region))
        return {"approvers": [approver], "required": 1, "satisfied": True}

    async def resume(self, environment: str, application: str, actor: str) -> dict:
        self.calls.append(("resume", environment, application, actor))
        if application != "inference":
            raise NotFound(f"no rollout of {application} in {environment}", "unknown_rollout")
        return {"phase": "Progressing"}

    async def abort(self, environment: str, application: str, actor: str) -> dict:
        self.calls.append(("abort", environment, application, actor))
        if environment == "staging":
            raise Conflict("the rollout of inference in staging has finished: nothing to abort")
        return {"phase": "Aborted"}

    async def rollback(self, application: str, *, cluster: str | None, environment: str | None, reason: str,
                       actor: str) -> dict:
        self.calls.append(("rollback", application, cluster, environment, reason, actor))
        return {"commit": "9e8d7c6", "reverted": "4f2a9c1", "message": f"Revert inference: {reason}"}

    async def promote(self, request: PromoteRequest, actor: str) -> dict:
        self.calls.append(("promote", request, actor))
        return {"commit": "7a6b5c4", "files": [f"{request.overlay}/kustomization.yaml"]}

    # ---- audit ---------------------------------------------------------------------------------------------

    async def audit_refused(self, actor: str | None, method: str, path: str, status: int, reason: str) -> None:
        self.refused.append((actor, method, path, status, reason))

    async def audit_token(self, actor: str, action: str, token: dict) -> None:
        self.token_changes.append((actor, action, token["name"]))
