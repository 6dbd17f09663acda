"""`LiveFacade`: the REST API's view of the running hub (`hub.api.facade.HubFacade`) over the session layer, the
pipeline, its Git source, the store and the recorder.

Reading: the fleet from fleet.yaml with each cluster's session (connected, last seen, agent version), desired
state (revision, generation) and last status report (applications, resources, drift); diffs from the drift the
agents reported and have not healed, plus the field-level diff of a release waiting for the cluster
(hub.operator.releasediff, also linked from each pending approval); history from the store's sync history and
the commits the audit log saw; approvals and rollouts from the pipeline; audit queries (a region's with the
commit records of the revisions its clusters ran), verification and reports from the store. Acting: sync
requests through the session layer, approvals, resume and abort through the pipeline, rollback and promotion
through the source's Git operations (each recorded in the audit log).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import UTC, datetime
from urllib.parse import quote

from google.protobuf.json_format import MessageToDict

from hub.api.errors import Conflict, NotFound, Unprocessable
from hub.api.facade import AuditQuery, HubFacade, PromoteRequest
from hub.changes import ChangeError
from hub.fleet.model import Cluster, Fleet
from hub.operator.recorder import Recorder
from hub.operator.releasediff import ReleaseDiffs
from hub.pipeline.runner import SourcePipeline
from hub.sessions.service import SessionHub, SessionInfo
from hub.store import AuditDraft, AuditEntry, Store, verify
from hub.store import AuditQuery as StoreQuery
from hub.store import kinds as audit
from hub.store.report import report
from hub.store.report_csv import render_csv
from hub.store.report_html import render_html
from hub.store.timefmt import rfc3339

COMMITS_PER_QUERY = 500  # revisions per query for their commit records


def _time(seconds: float | None) -> str | None:
    return rfc3339(datetime.fromtimestamp(seconds, UTC)) if seconds else None


class LiveFacade(HubFacade):
    """See the module docstring."""

    def __init__(self, sessions: SessionHub, source: SourcePipeline, recorder: Recorder) -> None:
        self.sessions = sessions
        self.source = source
        self.pipeline = source.pipeline
        self.recorder = recorder
        self.store = recorder.store
        self.releases = ReleaseDiffs(self.pipeline)

    # ---- health and scope ----------------------------------------------------------------------------------

    def _fleet(self) -> Fleet:
        fleet = self.recorder.fleet() or self.source.fleet
        if fleet is None:
            raise NotFound("the hub has not read fleet.yaml yet (is the repository reachable?)")
        return fleet

    async def ready(self) -> list[str]:
        problems = []
        if self.source.fleet is None:
            problems.append("pipeline: fleet.yaml not read yet")
        if self.source.watcher.stale:
            problems.append(f"source: stale ({self.source.watcher.last_error})")
        return problems

    async def cluster_scope(self, cluster: str) -> tuple[str, str]:
        try:
            found = self._fleet().cluster(cluster)
        except KeyError as exc:
            raise NotFound(str(exc).strip("'\"")) from None
        return found.region, found.environment

    async def environment_regions(self, environment: str) -> list[str]:
        fleet = self._fleet()
        if environment not in fleet.environments:
            raise NotFound(f"no environment {environment!r} in fleet.yaml")
        return sorted({c.region for c in fleet.clusters if c.environment == environment})

    # ---- reading -------------------------------------------------------------------------------------------

    def _summary(self, cluster: Cluster, session: SessionInfo | None) -> dict:
        name = cluster.name
        desired = self.sessions.desired_state(name)
        report = self.sessions.status(name)
        apps = []
        for app in report.applications if report is not None else []:
            apps.append({"name": app.name, "sync_status": app.sync_status, "health": app.health,
                         "revision": app.revision, "message": app.message, "operation_phase": app.operation_phase})
        return {"name": name, "region": cluster.region, "environment": cluster.environment,
                "connected": session is not None, "last_seen": _time(session.last_seen) if session else None,
                "agent_version": session.agent_version if session else "",
                "revision": desired.revision if desired is not None else "",
                "generation": desired.generation if desired is not None else 0, "applications": apps}

    def _session(self, name: str) -> SessionInfo | None:
        return next((info for info in self.sessions.registry() if info.cluster == name), None)

    async def fleet(self) -> list[dict]:
        sessions = {info.cluster: info for info in self.sessions.registry()}  # one snapshot, not one per cluster
        return [self._summary(c, sessions.get(c.name)) for c in self._fleet().clusters]

    async def cluster(self, cluster: str) -> dict:
        await self.cluster_scope(cluster)
        session = self._session(cluster)
        summary = self._summary(self._fleet().cluster(cluster), session)
        summary["session"] = None if session is None else {
            "session_id": session.session_id, "peer": session.peer, "protocol": session.protocol,
            "auth": session.auth, "connected_at": _time(session.connected_at),
            "applied_generation": session.applied_generation}
        return summary

    def _app_status(self, cluster: str, application: str):  # noqa: ANN202 - a protobuf message
        report = self.sessions.status(cluster)
        for app in report.applications if report is not None else []:
            if app.name == application:
                return app
        raise NotFound(f"cluster {cluster} has reported no application {application!r} (yet)")

    async def application(self, cluster: str, application: str) -> dict:
        await self.cluster_scope(cluster)
        app = self._app_status(cluster, application)
        return {"name": app.name, "sync_status": app.sync_status, "health": app.health, "revision": app.revision,
                "message": app.message, "operation_phase": app.operation_phase,
                "resources": [MessageToDict(r, preserving_proto_field_name=True,
                                            always_print_fields_with_no_presence=True) for r in app.resources],
                "drift": {"drifted_resources": app.drift.drifted_resources,
                          "drifted_fields": app.drift.drifted_fields, "fields": list(app.drift.fields)},
                "conditions": [part for part in app.message.split("; ") if part.startswith("SyncLoop")]}

    async def diff(self, cluster: str, application: str) -> dict:
        await self.cluster_scope(cluster)
        events = await self.store.read(lambda s: s.events(cluster, 0, 100_000))
        open_drift: dict[str, tuple[str, list[dict]]] = {}
        for event in events:
            if event.application != application:
                continue
            obj = str(event.details.get("object", event.resource))
            if event.type == "DRIFT_DETECTED":
                open_drift[obj] = (event.occurred_at, list(event.details.get("fields") or []))
            elif event.type in ("DRIFT_HEALED", "SYNC_SUCCEEDED"):
                if event.type == "SYNC_SUCCEEDED":
                    open_drift.clear()
                else:
                    open_drift.pop(obj, None)
        fields = [{"object": obj, "path": f.get("path", ""), "desired": f.get("desired"), "live": f.get("live"),
                   "manager": f.get("manager")} for obj, (_, items) in sorted(open_drift.items()) for f in items]
        as_of = max((at for at, _ in open_drift.values()), default=None)
        return {"fields": fields, "as_of": as_of, "pending": await self.releases.pending(cluster, application)}

    async def history(self, cluster: str, application: str) -> list[dict]:
        await self.cluster_scope(cluster)
        syncs = await self.store.read(lambda s: s.sync_history(cluster, application, 100))
        revisions = tuple(sorted({s.revision for s in syncs if s.revision}))
        commits = {}
        if revisions:
            entries = await self.store.read(lambda s: list(s.audit_entries(StoreQuery(
                kinds=(audit.REVISION_SEEN,), revisions=revisions))))
            commits = {e.revision: e.data for e in entries}
        return [{"revision": s.revision, "generation": (s.result or {}).get("generation"),
                 "pushed_at": s.started_at or None, "author": commits.get(s.revision, {}).get("author", ""),
                 "subject": commits.get(s.revision, {}).get("subject", ""), "result": s.phase,
                 "finished_at": s.finished_at or None} for s in syncs]

    async def pending_approvals(self) -> list[dict]:
        pending = []
        for item in self.pipeline.describe()["pending_approvals"]:
            release = self.releases.waiting(item["cluster"], item["application"])
            pending.append({**item, "from_revision": release.base.revision if release and release.base else "",
                            "diff": f"/api/v1/clusters/{quote(item['cluster'], safe='')}/applications/"
                                    f"{quote(item['application'], safe='')}/diff"})
        return pending

    async def rollouts(self) -> list[dict]:
        return list(self.pipeline.describe()["rollouts"])

    async def audit_query(self, query: AuditQuery) -> list[dict]:
        wanted = StoreQuery(region=query.region or "", cluster=query.cluster or "",
                            kinds=(query.kind,) if query.kind else (),
                            since=rfc3339(query.since) if query.since else "",
                            until=rfc3339(query.until) if query.until else "", newest_first=True,
                            limit=query.limit)
        with_commits = bool(query.region) and not query.cluster and query.kind in (None, "", audit.REVISION_SEEN)
        entries = await self.store.read(lambda s: _with_commits(s, wanted) if with_commits
                                        else list(s.audit_entries(wanted)))
        return [entry.to_dict() for entry in reversed(entries)]

    async def audit_verify(self) -> dict:
        result = await self.store.read(verify)
        return {"ok": result.ok, "entries": result.entries, "last_hash": result.last_hash,
                "first_broken": result.first_broken, "reason": result.reason}

    async def audit_report(self, region: str, since: datetime, until: datetime | None, fmt: str) -> dict | str:
        made = await self.store.read(lambda s: report(s, region, since, until))
        if fmt == "csv":
            return render_csv(made)
        if fmt == "html":
            return render_html(made)
        return made.to_dict()

    # ---- acting --------------------------------------------------------------------------------------------

    async def sync(self, cluster: str, application: str, revision: str | None, prune: bool | None,
                   actor: str) -> dict:
        await self.cluster_scope(cluster)
        desired = self.sessions.desired_state(cluster)
        bundle = next((b for b in desired.applications if b.name == application), None) if desired else None
        if bundle is None:
            raise NotFound(f"cluster {cluster} has no application {application!r} in its desired state")
        wanted = revision or bundle.revision
        if wanted != bundle.revision:
            raise Conflict(f"cluster {cluster} holds {application} at {bundle.revision[:12]}, not {wanted[:12]}: "
                           "sync the revision it holds, or wait for the pipeline to deliver the newer one")
        request_id = await self.sessions.request_sync(cluster, application, wanted, actor,
                                                      prune=bool(prune) if prune is not None
                                                      else bundle.sync_policy.automated.prune)
        return {"request_id": request_id, "revision": wanted}

    async def approve(self, environment: str, application: str, revision: str, approver: str,
                      region: str | None) -> dict:
        try:
            state = await self.pipeline.approve(environment, application, revision, approver, region)
        except KeyError as exc:
            raise NotFound(str(exc).strip("'\"")) from None
        except ValueError as exc:
            raise Unprocessable(str(exc)) from None
        return {"approvers": state.approvers, "required": state.required, "satisfied": state.satisfied}

    async def resume(self, environment: str, application: str, actor: str) -> dict:
        rollout = next((r for r in self.pipeline.describe()["rollouts"] if r["environment"] == environment
                        and r["application"] == application), None)
        if rollout is None:
            raise NotFound(f"no rollout of {application} in environment {environment}")
        if rollout["phase"] != "Halted":
            raise Conflict(f"the rollout of {application} in {environment} is {rollout['phase']}, not halted")
        await self.pipeline.resume(environment, application)
        return {"phase": self._phase(environment, application)}

    async def abort(self, environment: str, application: str, actor: str) -> dict:
        try:
            phase = await self.pipeline.abort(environment, application, actor)
        except KeyError as exc:
            raise NotFound(str(exc).strip("'\"")) from None
        except ValueError as exc:
            raise Conflict(str(exc)) from None
        return {"phase": phase}

    def _phase(self, environment: str, application: str) -> str:
        for rollout in self.pipeline.describe()["rollouts"]:
            if rollout["environment"] == environment and rollout["application"] == application:
                return str(rollout["phase"])
        return ""

    async def rollback(self, application: str, *, cluster: str | None, environment: str | None, reason: str,
                       actor: str) -> dict:
        target = f"cluster:{cluster}" if cluster else f"environment:{environment}"
        try:
            done = await self.source.rollback(application, target, reason, _author(actor))
        except (ChangeError, KeyError, ValueError) as exc:
            raise Conflict(str(exc)) from None
        self.pipeline.emit("rollback", {"application": application, "environment": environment or "",
                                        "cluster": cluster or "", "commit": done.commit, "reverted": done.reverted,
                                        "actor": actor, "reason": reason, "message": done.message})
        return {"commit": done.commit, "reverted": done.reverted, "message": done.message}

    async def promote(self, request: PromoteRequest, actor: str) -> dict:
        options = {k: v for k, v in (("configmap", request.configmap), ("key", request.key)) if v}
        try:
            done = await self.source.promote(request.environment, request.overlay, request.image, request.tag,
                                             request.model_version, _author(actor), **options)
        except (ChangeError, KeyError, ValueError) as exc:
            raise Conflict(str(exc)) from None
        self.pipeline.emit("promotion", {"environment": request.environment, "commit": done.commit,
                                         "image": request.image, "tag": request.tag,
                                         "model_version": request.model_version, "actor": actor,
                                         "files": list(done.files)})
        return {"commit": done.commit, "files": list(done.files)}

    # ---- streams and audit ---------------------------------------------------------------------------------

    def subscribe(self) -> AsyncIterator[tuple[str, dict]]:
        return self.recorder.broadcast.subscribe()

    async def audit_refused(self, actor: str | None, method: str, path: str, status: int, reason: str) -> None:
        cluster = ""
        parts = path.split("/")
        if "clusters" in parts and parts.index("clusters") + 1 < len(parts):
            cluster = parts[parts.index("clusters") + 1]
        await self.recorder.refused(actor, method, path, status, reason, cluster)

    async def audit_token(self, actor: str, action: str, token: dict) -> None:
        kind = audit.CREDENTIAL_ISSUED if action == "created" else audit.CREDENTIAL_REVOKED
        await self.store.append(AuditDraft(kind, actor=actor, data={"credential": "api-token", **token}))


def _with_commits(store: Store, wanted: StoreQuery) -> list[AuditEntry]:
    """A region's entries (newest first, at most `wanted.limit`) with the commit records (`revision_seen`, kept
    per environment, not per region) of the revisions the region's clusters ran, as its compliance report has
    them: without them a region-scoped reader would see which revisions ran but never their subject or author."""
    entries = list(store.audit_entries(wanted))
    ran: set[str] = set()
    for pushed in store.audit_entries(replace(wanted, kinds=(audit.DESIRED_STATE_PUSHED,), since="", limit=0)):
        ran.add(pushed.revision)
        ran.update(str(app.get("revision") or "") for app in pushed.data.get("applications") or []
                   if isinstance(app, dict))
    ran.discard("")
    revisions = sorted(ran)
    for start in range(0, len(revisions), COMMITS_PER_QUERY):
        entries.extend(store.audit_entries(replace(wanted, region="", kinds=(audit.REVISION_SEEN,),
                                                   revisions=tuple(revisions[start:start + COMMITS_PER_QUERY]))))
    merged = sorted({entry.seq: entry for entry in entries}.values(), key=lambda entry: entry.seq, reverse=True)
    return merged[:wanted.limit] if wanted.limit else merged


def _author(actor: str) -> str:
    """A token's name as a Git author: `Name <email>` when it already is one, else `actor <actor@fleetline>`."""
    return actor if "<" in actor and actor.endswith(">") else f"{actor} <{actor}@fleetline.invalid>"

