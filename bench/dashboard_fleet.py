"""A synthetic hub for the dashboard benchmark: a `HubFacade` over N clusters in three regions with several
applications each, and an event stream producing a set number of changes per second.

The stream mixes what a busy fleet sends (shaped as the hub's recorder publishes them): `status` reports of a
cluster whose applications change sync status and health, and `event`s (drift detected and healed, with field,
field manager and time to heal; sync succeeded). `rate` can be changed while clients are connected (0 stops the
stream, keep-alives still flow). `last_status` keeps the latest state sent per cluster, so the benchmark can
check that the page applied what it was sent. Reads never fail; actions answer as docs/api.md says and change
nothing. Owns no I/O: `hub.api.app.build_app(BenchFacade(...), tokens)` serves it.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import AsyncIterator
from datetime import datetime

from hub.api.errors import Conflict, NotFound
from hub.api.facade import AuditQuery, HubFacade, PromoteRequest

REGIONS = ("us-east", "us-west", "eu")
APPS = ("inference", "model-registry", "training-jobs")
REVISIONS = ("4f2a9c1e0b7d3a5f6c8e9d0a1b2c3d4e5f607182", "9e8d7c6b5a4f3e2d1c0b9a8f7e6d5c4b3a291807")
SUBJECTS = {REVISIONS[0]: "inference: model-server 1.4.2", REVISIONS[1]: "inference: model-server 1.4.3"}
SYNC = ("Synced", "OutOfSync")
HEALTH = ("Healthy", "Progressing", "Degraded")
NOW = "2026-03-01T09:00:00Z"


def cluster_name(index: int) -> str:
    return f"{REGIONS[index % len(REGIONS)]}-{index:04d}"


def _app(name: str, revision: str, sync: str = "Synced", health: str = "Healthy") -> dict:
    return {"name": name, "sync_status": sync, "health": health, "revision": revision, "message": "",
            "operation_phase": "Succeeded"}


def _entry(seq: int, kind: str, region: str, environment: str, *, cluster: str = "", actor: str = "",
           revision: str = REVISIONS[0], data: dict | None = None) -> dict:
    return {"seq": seq, "at": NOW, "kind": kind, "region": region, "environment": environment, "cluster": cluster,
            "application": "inference" if cluster else "", "actor": actor, "revision": revision, "data": data or {},
            "prev_hash": "00" * 32, "hash": f"{seq:064x}"}


def _resources(app: str) -> list[dict]:
    kinds = (("apps", "Deployment", 0), ("", "Service", 0), ("", "ConfigMap", -1), ("policy", "PodDisruptionBudget", 1))
    return [{"group": group, "version": "v1", "kind": kind, "namespace": "ml", "name": app, "sync_status": "Synced",
             "health": "Healthy", "message": "", "sync_wave": wave} for group, kind, wave in kinds]


class BenchFacade(HubFacade):
    """See the module docstring."""

    def __init__(self, clusters: int = 1000, rate: float = 0.0, seed: int = 8) -> None:
        self.names = [cluster_name(i) for i in range(clusters)]
        self.places = {name: (REGIONS[i % len(REGIONS)], "staging" if i % 10 == 0 else "prod")
                       for i, name in enumerate(self.names)}
        self.rate = rate
        self.sent = 0
        self.last_status: dict[str, dict[str, tuple[str, str]]] = {}  # cluster -> app -> (sync, health)
        self._rng = random.Random(seed)
        self._sequence = 0

    # ---- scope and health ----------------------------------------------------------------------------------

    async def ready(self) -> list[str]:
        return []

    async def cluster_scope(self, cluster: str) -> tuple[str, str]:
        if cluster not in self.places:
            raise NotFound(f"no cluster {cluster!r} in fleet.yaml", "unknown_cluster")
        return self.places[cluster]

    async def environment_regions(self, environment: str) -> list[str]:
        return sorted({r for r, e in self.places.values() if e == environment})

    # ---- reading -------------------------------------------------------------------------------------------

    def _summary(self, name: str) -> dict:
        region, environment = self.places[name]
        revision = REVISIONS[0]
        return {"name": name, "region": region, "environment": environment, "connected": True, "last_seen": NOW,
                "agent_version": "0.1.0", "revision": revision, "generation": 3,
                "applications": [_app(app, revision) for app in APPS]}

    async def fleet(self) -> list[dict]:
        return [self._summary(name) for name in self.names]

    async def cluster(self, cluster: str) -> dict:
        await self.cluster_scope(cluster)
        return {**self._summary(cluster), "session": {"peer": "127.0.0.1:50000", "auth": "token"}}

    async def application(self, cluster: str, application: str) -> dict:
        await self.cluster_scope(cluster)
        return {**_app(application, REVISIONS[0]), "resources": _resources(application),
                "drift": {"drifted_resources": 0, "drifted_fields": 0, "fields": []}, "conditions": []}

    async def diff(self, cluster: str, application: str) -> dict:
        await self.cluster_scope(cluster)
        return {"fields": [], "as_of": NOW}

    async def history(self, cluster: str, application: str) -> list[dict]:
        await self.cluster_scope(cluster)
        return [{"revision": r, "generation": 3 - i, "pushed_at": NOW, "author": "ana", "subject": SUBJECTS[r],
                 "result": "Succeeded", "finished_at": NOW} for i, r in enumerate(REVISIONS)]

    async def pending_approvals(self) -> list[dict]:
        return [{"environment": "prod", "region": self.places[name][0], "cluster": name, "application": "inference",
                 "revision": REVISIONS[1], "approvers": [], "required": 1, "held": None}
                for name in self.names[1:4]]

    async def rollouts(self) -> list[dict]:
        return [{"environment": "prod", "application": "inference", "revision": REVISIONS[1],
                 "previous_revision": REVISIONS[0], "phase": "Soaking", "step": 1,
                 "waiting_on": f"soaking {self.names[1]} for 4m12s more", "halted_reason": "",
                 "released": self.names[1:3], "rolled_back": [],
                 "steps": [self.names[1:3], self.names[3:]]}]

    async def audit_query(self, query: AuditQuery) -> list[dict]:
        """The commits seen (their subjects label the cards) and a few drift incidents, as hub.store shapes
        audit entries."""
        entries = [_entry(i + 1, "revision_seen", "", "", revision=r,
                          data={"ref": "main", "author": "ana", "committer": "ana", "subject": SUBJECTS[r],
                                "signature": {"state": "unsigned", "signer": "", "key": ""}})
                   for i, r in enumerate(REVISIONS)]
        for i, name in enumerate(self.names[:20]):
            region, environment = self.places[name]
            base = {"resource": "inference:apps/Deployment:ml/inference", "object": "Deployment ml/inference"}
            entries.append(_entry(10 + 2 * i, "drift_detected", region, environment, cluster=name, actor="kubectl-set",
                                  data={**base, "managers": ["kubectl-set"], "fields": [
                                      {"path": "/spec/replicas", "desired": 2, "live": 3, "manager": "kubectl-set"}]}))
            entries.append(_entry(11 + 2 * i, "drift_healed", region, environment, cluster=name, actor="fleetline",
                                  data={**base, "healed_after_ms": 120 + i, "self_heal": True}))
        return [e for e in entries if query.kind in (None, e["kind"])][: query.limit]

    async def audit_verify(self) -> dict:
        return {"ok": True, "entries": 0, "last_hash": "", "first_broken": None, "reason": None}

    async def audit_report(self, region: str, since: datetime, until: datetime | None, fmt: str) -> dict | str:
        if fmt == "csv":
            return "cluster,revision\n"
        if fmt == "html":
            return f"<!doctype html><title>{region}</title><h1>{region}</h1>"
        return {"region": region, "since": since.isoformat(), "clusters": []}

    # ---- acting (answers only) -----------------------------------------------------------------------------

    async def sync(self, cluster: str, application: str, revision: str | None, prune: bool | None,
                   actor: str) -> dict:
        await self.cluster_scope(cluster)
        return {"request_id": "bench", "revision": revision or REVISIONS[0]}

    async def approve(self, environment: str, application: str, revision: str, approver: str,
                      region: str | None) -> dict:
        return {"approvers": [approver], "required": 1, "satisfied": True}

    async def resume(self, environment: str, application: str, actor: str) -> dict:
        return {"phase": "Progressing"}

    async def abort(self, environment: str, application: str, actor: str) -> dict:
        raise Conflict("the benchmark's rollouts cannot be aborted")

    async def rollback(self, application: str, *, cluster: str | None, environment: str | None, reason: str,
                       actor: str) -> dict:
        return {"commit": REVISIONS[0], "reverted": REVISIONS[1], "message": f"Revert: {reason}"}

    async def promote(self, request: PromoteRequest, actor: str) -> dict:
        return {"commit": REVISIONS[1], "files": [f"{request.overlay}/kustomization.yaml"]}

    async def audit_refused(self, actor: str | None, method: str, path: str, status: int, reason: str) -> None:
        return None

    async def audit_token(self, actor: str, action: str, token: dict) -> None:
        return None

    # ---- the stream ----------------------------------------------------------------------------------------

    def next_change(self) -> tuple[str, dict]:
        """One change of a random cluster: a status report (3 in 5), else a drift detected or healed, or a
        sync that succeeded."""
        self._sequence += 1
        name = self._rng.choice(self.names)
        region, environment = self.places[name]
        app = self._rng.choice(APPS)
        base = {"cluster": name, "region": region, "environment": environment}
        roll = self._rng.random()
        if roll < 0.6:
            states = dict(self.last_status.get(name, {a: ("Synced", "Healthy") for a in APPS}))
            states[app] = (self._rng.choice(SYNC), self._rng.choice(HEALTH))
            self.last_status[name] = states
            applications = [{**_app(a, REVISIONS[0], *states[a]), "resources": _resources(a)} for a in APPS]
            return "status", {**base, "generation": 3, "applications": applications}
        event = {**base, "application": app, "revision": REVISIONS[0], "sequence": self._sequence,
                 "object": f"apps/Deployment:ml/{app}"}
        if roll < 0.8:
            field = {"path": "spec.template.spec.containers[0].image", "desired": "model-server:1.4.2",
                     "live": "model-server:hotfix", "manager": "kubectl-set"}
            return "event", {**event, "type": "DRIFT_DETECTED", "fields": [field], "more_fields": 0,
                             "managers": ["kubectl-set"], "missing": False, "self_heal": True,
                             "message": f"Deployment ml/{app} drifted from Git: {field['path']} (by kubectl-set)"}
        if roll < 0.95:
            healed = self._rng.randint(80, 900)
            return "event", {**event, "type": "DRIFT_HEALED", "healed_after_ms": healed, "self_heal": True,
                             "message": f"Deployment ml/{app} matches Git again (by self-heal) after {healed} ms"}
        return "event", {**event, "type": "SYNC_SUCCEEDED", "message": "sync succeeded", "phase": "Succeeded"}

    async def subscribe(self) -> AsyncIterator[tuple[str, dict]]:  # type: ignore[override]
        """`rate` changes per second, paced by the clock (bursts catch up after a slow tick)."""
        started, due_sent = time.monotonic(), 0.0
        rate = self.rate
        while True:
            await asyncio.sleep(0.01)
            now = time.monotonic()
            if self.rate != rate:  # the rate changed: pace from now
                rate, started, due_sent = self.rate, now, 0.0
            if rate <= 0:
                continue
            due = (now - started) * rate
            while due_sent + 1 <= due:
                due_sent += 1
                self.sent += 1
                yield self.next_change()
