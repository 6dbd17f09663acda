"""`HubFacade`: everything the REST API needs from the rest of the hub, one method per need.

The API never imports the pipeline, the sessions or the store: the hub's composition root implements this ABC
over them. Methods return plain JSON-ready dicts and lists shaped as docs/api.md shows (times as RFC 3339 strings
or null); the API adds the envelopes (`{"regions": ...}`, `{"entries": ...}`), filters lists to the caller's scope
and checks roles and scopes before calling. Raise `NotFound` (unknown cluster, application, environment,
rollout), `Conflict` (the state does not allow it now), `Unprocessable` (well formed but impossible) or
`Unavailable` (a part of the hub is down) from `hub.api.errors`, with a message saying what and how to fix; any
other exception becomes a 500 whose details go to the hub's log only.

Scope filtering relies on the shapes: every ClusterSummary carries `region` and `environment`; pending approvals,
audit entries and streamed items carry `cluster` and/or `region`/`environment` where they are about one.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import datetime

from hub.api.errors import Conflict, NotFound, Unavailable, Unprocessable

__all__ = ["AuditQuery", "Conflict", "HubFacade", "NotFound", "PromoteRequest", "Unavailable", "Unprocessable"]

STREAM_KINDS = ("status", "event", "pipeline", "session")


@dataclass(frozen=True)
class AuditQuery:
    """`GET /api/v1/audit`'s filters; None means "any". `since` and `until` are timezone-aware (UTC)."""

    region: str | None = None
    cluster: str | None = None
    kind: str | None = None
    since: datetime | None = None
    until: datetime | None = None
    limit: int = 100


@dataclass(frozen=True)
class PromoteRequest:
    """`POST /api/v1/promote`: a new image tag and the coupled model version, written into `overlay` in one commit
    on the ref `environment` tracks (hub.pipeline's SourcePipeline.promote)."""

    environment: str
    overlay: str
    image: str
    tag: str
    model_version: str
    configmap: str | None = None
    key: str | None = None


class HubFacade(ABC):
    """The hub as the REST API sees it (see the module docstring for the conventions)."""

    # ---- health and scope ----------------------------------------------------------------------------------

    @abstractmethod
    async def ready(self) -> list[str]:
        """What is not ready (e.g. ["pipeline: not started"]); empty when the session server and pipeline run."""

    @abstractmethod
    async def cluster_scope(self, cluster: str) -> tuple[str, str]:
        """The cluster's (region, environment); NotFound for a cluster fleet.yaml does not name."""

    @abstractmethod
    async def environment_regions(self, environment: str) -> list[str]:
        """The regions that have clusters in `environment` (a region-scoped token may act on an environment only
        when all of them are in its scope); NotFound for an unknown environment."""

    # ---- reading -------------------------------------------------------------------------------------------

    @abstractmethod
    async def fleet(self) -> list[dict]:
        """Every cluster's ClusterSummary: {name, region, environment, connected, last_seen, agent_version,
        revision, generation, applications: [AppSummary]} with AppSummary = {name, sync_status, health,
        revision, message, operation_phase}. The API groups them by region."""

    @abstractmethod
    async def cluster(self, cluster: str) -> dict:
        """The cluster's ClusterSummary plus {"session": {...the session registry's info, or null...}}."""

    @abstractmethod
    async def application(self, cluster: str, application: str) -> dict:
        """AppSummary plus {resources: [{group, version, kind, namespace, name, sync_status, health, message,
        sync_wave}], drift: {drifted_resources, drifted_fields, fields: [...]}, conditions: [...]}."""

    @abstractmethod
    async def diff(self, cluster: str, application: str) -> dict:
        """{fields: [{object, path, desired, live, manager}], as_of: RFC 3339 | null, pending: {revision,
        from_revision, waiting_on, reason, fields: [{object, path, from, to}]} | null (a newer revision waiting for
        the cluster: approval, sync window or rollout step)}, Secret values redacted."""

    @abstractmethod
    async def history(self, cluster: str, application: str) -> list[dict]:
        """The application's revisions on the cluster, newest first: {revision, generation, pushed_at, author,
        subject, result ("Succeeded" | "Failed" | null), finished_at}."""

    @abstractmethod
    async def pending_approvals(self) -> list[dict]:
        """{environment, region, cluster, application, revision, approvers, required, held, from_revision, diff}
        per release waiting for approvals (`diff`: the path of the diff route that shows what it changes)."""

    @abstractmethod
    async def rollouts(self) -> list[dict]:
        """{environment, application, revision, previous_revision, phase, step, waiting_on, halted_reason,
        released, rolled_back, steps} per rollout."""

    @abstractmethod
    async def audit_query(self, query: AuditQuery) -> list[dict]:
        """Audit entries matching `query`, oldest first, at most `query.limit`; each carries `region` and
        `environment` (null or "" when the entry is hub-wide) and `cluster` when it is about one, so that the API
        can filter them to a token's scope (hub.store's AuditEntry.to_dict has that shape)."""

    @abstractmethod
    async def audit_verify(self) -> dict:
        """{ok, entries, last_hash, first_broken, reason}: the whole chain checked."""

    @abstractmethod
    async def audit_report(self, region: str, since: datetime, until: datetime | None, fmt: str) -> dict | str:
        """The compliance report of `region` over [since, until) (until None: now): a dict for fmt "json", the
        document's text for "csv" and "html" (hub.store.report)."""

    # ---- acting --------------------------------------------------------------------------------------------

    @abstractmethod
    async def sync(self, cluster: str, application: str, revision: str | None, prune: bool | None,
                   actor: str) -> dict:
        """Ask the cluster's agent to sync the application (revision None: the desired one); {request_id,
        revision}."""

    @abstractmethod
    async def approve(self, environment: str, application: str, revision: str, approver: str,
                      region: str | None) -> dict:
        """Record `approver`'s approval (for `region`'s clusters only when a region is given); {approvers,
        required, satisfied}."""

    @abstractmethod
    async def resume(self, environment: str, application: str, actor: str) -> dict:
        """Resume a paused or halted rollout; {phase}. Conflict when it is neither."""

    @abstractmethod
    async def abort(self, environment: str, application: str, actor: str) -> dict:
        """Abort a rollout; {phase}. Conflict when it has finished."""

    @abstractmethod
    async def rollback(self, application: str, *, cluster: str | None, environment: str | None, reason: str,
                       actor: str) -> dict:
        """Revert the commit that last changed the application on the cluster or environment (exactly one is
        given), authored by `actor`; {commit, reverted, message}."""

    @abstractmethod
    async def promote(self, request: PromoteRequest, actor: str) -> dict:
        """Commit the promotion, authored by `actor`; {commit, files}."""

    # ---- streams and audit ---------------------------------------------------------------------------------

    @abstractmethod
    def subscribe(self) -> AsyncIterator[tuple[str, dict]]:
        """Changes from now on as (kind, data), kind one of STREAM_KINDS. The API closes the iterator (aclose)
        when its client goes; ending it (or raising) ends the client's stream, which then reconnects."""

    @abstractmethod
    async def audit_refused(self, actor: str | None, method: str, path: str, status: int, reason: str) -> None:
        """Record a refused API call (401 or 403; actor None when no valid token named one)."""

    @abstractmethod
    async def audit_token(self, actor: str, action: str, token: dict) -> None:
        """Record an API token created or revoked through the API (action "created" | "revoked"; `token` is its
        listing, never the secret)."""
