"""The compliance report of one region over a period, built from the audit log (rendered by report_html and
report_csv; `Report.to_dict` is the JSON form).

What goes in. The period is [since, until) on entries' `at`. The region's entries are those of that region and
those of no region that name one of its clusters (hub.store.records.AuditQuery); entries of another region never
appear. Two kinds are looked up by revision, outside the period and the region filter, because they describe
what ran rather than where: the commit record (`revision_seen`, recorded per environment) of every revision
that ran on the region's clusters, and the approvals (and refused approvals) of no region given for an
(environment, application, revision) that ran there; approvals tagged with another region are never used.

Sections:
- ran: every desired state pushed to a region's cluster and every sync result, by cluster and time;
- commits: where each revision that ran came from (author, committer, signature status, subject);
- changes: each (environment, application, revision) that ran, who authored it (the commit's author) and who
  approved it; a change to a production environment (`production`, by name) without approval is flagged;
- drift: each incident (drift_detected, until drift_healed on the same cluster, application and object), who
  caused it (the field managers), when it was noticed and undone, and the time to heal (the agent's
  `healed_after_ms`, else the time between the two entries); still open at the end of the period: no heal time;
- sync_failures: sync results whose phase is not Succeeded;
- other_events: the region's remaining entries (rollbacks, promotions, rollout steps and halts, credentials,
  agent connections, refused API calls naming its clusters, ...);
- verification: the whole chain verified in the same snapshot, and the last entry the period covers (the
  highest seq with `at` before `until`): its hash, kept with the report, lets anyone check later with
  `fleetline audit verify --expect SEQ:HASH` that nothing up to it changed.
"""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime

from hub.store import kinds
from hub.store.base import Store
from hub.store.chain import VerifyResult, verify
from hub.store.records import AuditEntry, AuditQuery
from hub.store.timefmt import parse_time, rfc3339

DEFAULT_PRODUCTION = ("prod", "production")
_CONTEXT_KINDS = (kinds.REVISION_SEEN, kinds.APPROVAL, kinds.APPROVAL_REFUSED)
_REVISIONS_PER_QUERY = 500


@dataclass
class ClusterSummary:
    name: str
    environment: str
    pushes: int = 0
    syncs: int = 0
    failed_syncs: int = 0
    last_revision: str = ""
    last_at: str = ""


@dataclass
class Ran:
    at: str
    cluster: str
    environment: str
    application: str
    revision: str
    event: str  # "desired state pushed", "sync Succeeded", "sync Failed", ...
    generation: int | None
    detail: str
    seq: int


@dataclass
class Commit:
    revision: str
    environments: list[str]
    seen_at: str
    author: str
    committer: str
    signature: str
    signer: str
    subject: str


@dataclass
class Change:
    environment: str
    application: str
    revision: str
    production: bool
    clusters: list[str] = field(default_factory=list)
    first_at: str = ""
    last_at: str = ""
    author: str = ""
    approvers: list[dict] = field(default_factory=list)  # {"who", "at"}
    refusals: list[dict] = field(default_factory=list)  # {"who", "at", "reason"}

    @property
    def approved(self) -> bool:
        return bool(self.approvers)


@dataclass
class DriftIncident:
    cluster: str
    environment: str
    application: str
    object: str
    detected_at: str
    healed_at: str = ""
    heal_seconds: float | None = None
    caused_by: list[str] = field(default_factory=list)
    fields: list[str] = field(default_factory=list)
    healed_by: str = ""  # "self-heal", "a change in the cluster", "" while open
    missing: bool = False
    detected_before_period: bool = False


@dataclass
class SyncFailure:
    at: str
    cluster: str
    environment: str
    application: str
    revision: str
    phase: str
    message: str


@dataclass
class OtherEvent:
    seq: int
    at: str
    kind: str
    cluster: str
    application: str
    actor: str
    revision: str
    summary: str


@dataclass
class Report:
    """The report; see the module docstring."""

    region: str
    since: str
    until: str
    generated_at: str
    production: list[str]
    clusters: list[ClusterSummary]
    ran: list[Ran]
    commits: list[Commit]
    changes: list[Change]
    drift: list[DriftIncident]
    sync_failures: list[SyncFailure]
    other_events: list[OtherEvent]
    entries: int  # the region's entries in the period
    verification: VerifyResult
    covered_seq: int
    covered_hash: str

    def summary(self) -> dict:
        """The figures a reader wants first."""
        production = [c for c in self.changes if c.production]
        heal = [d.heal_seconds for d in self.drift if d.heal_seconds is not None]
        return {
            "region": self.region, "since": self.since, "until": self.until,
            "clusters": len(self.clusters), "entries": self.entries,
            "desired_states_pushed": sum(c.pushes for c in self.clusters),
            "syncs": sum(c.syncs for c in self.clusters), "sync_failures": len(self.sync_failures),
            "commits": len(self.commits),
            "commits_not_trusted": sum(1 for c in self.commits if c.signature != "trusted"),
            "changes": len(self.changes), "production_changes": len(production),
            "production_changes_approved": sum(1 for c in production if c.approved),
            "production_changes_without_approval": sum(1 for c in production if not c.approved),
            "drift_incidents": len(self.drift), "drift_healed": sum(1 for d in self.drift if d.healed_at),
            "drift_open": sum(1 for d in self.drift if not d.healed_at),
            "median_heal_seconds": round(statistics.median(heal), 3) if heal else None,
            "max_heal_seconds": round(max(heal), 3) if heal else None,
            "other_events": len(self.other_events),
            "chain_ok": self.verification.ok, "chain_entries": self.verification.entries,
            "chain_first_broken": self.verification.first_broken,
            "covered_seq": self.covered_seq, "covered_hash": self.covered_hash,
        }

    def to_dict(self) -> dict:
        """The JSON form: the summary, then every section, then the verification."""
        out = {"region": self.region, "since": self.since, "until": self.until, "generated_at": self.generated_at,
               "production_environments": self.production, "summary": self.summary()}
        for name in ("clusters", "ran", "commits", "changes", "drift", "sync_failures", "other_events"):
            out[name] = [asdict(item) for item in getattr(self, name)]
        for change, item in zip(self.changes, out["changes"], strict=True):
            item["approved"] = change.approved
        out["verification"] = {**self.verification.to_dict(), "covered_seq": self.covered_seq,
                               "covered_hash": self.covered_hash}
        return out


def report(store: Store, region: str, since: datetime | None = None, until: datetime | None = None, *,
           production: Sequence[str] = DEFAULT_PRODUCTION, now: datetime | None = None) -> Report:
    """The report of `region` over [since, until) (None: unbounded), read in one snapshot of `store`."""
    since_text = rfc3339(since) if since else ""
    until_text = rfc3339(until) if until else ""
    with store.snapshot():
        builder = _Builder(region, {c.name: c.environment for c in store.clusters(region)}, production)
        for entry in store.audit_entries(AuditQuery(region=region, since=since_text, until=until_text)):
            builder.add(entry)
        revisions = sorted(builder.revisions_that_ran())
        for start in range(0, len(revisions), _REVISIONS_PER_QUERY):
            chunk = tuple(revisions[start:start + _REVISIONS_PER_QUERY])
            for entry in store.audit_entries(AuditQuery(kinds=_CONTEXT_KINDS, revisions=chunk, until=until_text)):
                if entry.region in ("", region):
                    builder.add_context(entry)
        verification = verify(store)
        latest = list(store.audit_entries(AuditQuery(until=until_text, newest_first=True, limit=1)))
    last = latest[0] if latest else None
    return builder.finish(verification, last, since_text, until_text, rfc3339(now or datetime.now(UTC)))


class _Builder:
    """Accumulates the sections from entries (memory: the region's entries of the period, summarised)."""

    def __init__(self, region: str, cluster_env: dict[str, str], production: Sequence[str]) -> None:
        self.region = region
        self.cluster_env = dict(cluster_env)
        self.production = {p.lower() for p in production}
        self.clusters = {name: ClusterSummary(name, env) for name, env in cluster_env.items()}
        self.ran: list[Ran] = []
        self.commits: dict[str, Commit] = {}
        self.changes: dict[tuple[str, str, str], Change] = {}
        self.open_drift: dict[tuple[str, str, str], DriftIncident] = {}
        self.drift: list[DriftIncident] = []
        self.failures: list[SyncFailure] = []
        self.other: list[OtherEvent] = []
        self.seen: set[int] = set()
        self.entries = 0

    def _env(self, entry: AuditEntry) -> str:
        return entry.environment or self.cluster_env.get(entry.cluster, "")

    def _cluster(self, entry: AuditEntry) -> ClusterSummary:
        name = entry.cluster
        if name not in self.clusters:
            self.clusters[name] = ClusterSummary(name, self._env(entry))
            self.cluster_env.setdefault(name, entry.environment)
        return self.clusters[name]

    def _change(self, environment: str, application: str, revision: str) -> Change:
        key = (environment, application, revision)
        if key not in self.changes:
            self.changes[key] = Change(environment, application, revision, environment.lower() in self.production)
        return self.changes[key]

    def _ran_change(self, entry: AuditEntry, application: str, revision: str) -> None:
        change = self._change(self._env(entry), application, revision)
        if entry.cluster and entry.cluster not in change.clusters:
            change.clusters.append(entry.cluster)
        change.first_at = min(change.first_at or entry.at, entry.at)
        change.last_at = max(change.last_at, entry.at)

    def revisions_that_ran(self) -> set[str]:
        return {revision for (_, _, revision) in self.changes if revision}

    def add(self, entry: AuditEntry) -> None:
        self.entries += 1
        self.seen.add(entry.seq)
        handler = {kinds.DESIRED_STATE_PUSHED: self._pushed, kinds.SYNC_RESULT: self._synced,
                   kinds.DRIFT_DETECTED: self._drift_detected, kinds.DRIFT_HEALED: self._drift_healed,
                   kinds.REVISION_SEEN: self._commit, kinds.APPROVAL: self._approval,
                   kinds.APPROVAL_REFUSED: self._approval}.get(entry.kind, self._other)
        handler(entry)

    def add_context(self, entry: AuditEntry) -> None:
        """A commit or approval found by revision: used only for what ran in the region."""
        if entry.seq in self.seen:
            return
        self.seen.add(entry.seq)
        if entry.kind == kinds.REVISION_SEEN:
            self._commit(entry)
            return
        for (environment, application, revision), _change in list(self.changes.items()):
            if revision == entry.revision and application == entry.application and \
                    (not entry.environment or not environment or entry.environment == environment):
                self._approval(entry, environment)

    def _pushed(self, entry: AuditEntry) -> None:
        data = entry.data
        summary = self._cluster(entry)
        summary.pushes += 1
        summary.last_revision, summary.last_at = entry.revision, max(summary.last_at, entry.at)
        apps = [a for a in data.get("applications") or [] if isinstance(a, dict)]
        for app in apps:
            self._ran_change(entry, str(app.get("name") or ""), str(app.get("revision") or entry.revision))
        names = ", ".join(str(a.get("name")) for a in apps)
        generation = data.get("generation")
        self.ran.append(Ran(entry.at, entry.cluster, self._env(entry), names, entry.revision,
                            "desired state pushed", generation if isinstance(generation, int) else None,
                            f"content {data.get('content_hash', '')}".strip(), entry.seq))

    def _synced(self, entry: AuditEntry) -> None:
        data = entry.data
        phase = str(data.get("phase") or "")
        summary = self._cluster(entry)
        summary.syncs += 1
        self._ran_change(entry, entry.application, entry.revision)
        generation = data.get("generation")
        self.ran.append(Ran(entry.at, entry.cluster, self._env(entry), entry.application, entry.revision,
                            f"sync {phase}", generation if isinstance(generation, int) else None,
                            str(data.get("message") or ""), entry.seq))
        if phase != kinds.SUCCEEDED:
            summary.failed_syncs += 1
            self.failures.append(SyncFailure(entry.at, entry.cluster, self._env(entry), entry.application,
                                             entry.revision, phase, str(data.get("message") or "")))

    def _drift_key(self, entry: AuditEntry) -> tuple[str, str, str]:
        data = entry.data
        return entry.cluster, entry.application, str(data.get("object") or data.get("resource") or "")

    def _drift_detected(self, entry: AuditEntry) -> None:
        data = entry.data
        key = self._drift_key(entry)
        incident = self.open_drift.get(key)
        if incident is None:
            incident = self.open_drift[key] = DriftIncident(entry.cluster, self._env(entry), entry.application,
                                                            key[2], entry.at)
            self.drift.append(incident)
        managers = [str(m) for m in data.get("managers") or []] or \
            [str(f.get("manager")) for f in data.get("fields") or [] if isinstance(f, dict) and f.get("manager")]
        incident.caused_by += [m for m in managers if m not in incident.caused_by]
        paths = [str(f.get("path")) for f in data.get("fields") or [] if isinstance(f, dict)]
        incident.fields += [p for p in paths if p not in incident.fields]
        incident.missing = incident.missing or bool(data.get("missing"))

    def _drift_healed(self, entry: AuditEntry) -> None:
        data = entry.data
        key = self._drift_key(entry)
        incident = self.open_drift.pop(key, None)
        after_ms = data.get("healed_after_ms")
        after = after_ms / 1000 if isinstance(after_ms, int | float) and not isinstance(after_ms, bool) else None
        if incident is None:  # noticed before the period began
            detected = rfc3339(datetime.fromtimestamp(parse_time(entry.at).timestamp() - after, tz=UTC)) \
                if after is not None else ""
            incident = DriftIncident(entry.cluster, self._env(entry), entry.application, key[2], detected,
                                     detected_before_period=True)
            self.drift.append(incident)
        incident.healed_at = entry.at
        if after is None and incident.detected_at:
            after = (parse_time(entry.at) - parse_time(incident.detected_at)).total_seconds()
        incident.heal_seconds = after
        incident.healed_by = "self-heal" if data.get("self_heal") else "a change in the cluster"

    def _commit(self, entry: AuditEntry) -> None:
        data = entry.data
        signature = data.get("signature") if isinstance(data.get("signature"), dict) else {}
        commit = self.commits.get(entry.revision)
        if commit is None:
            self.commits[entry.revision] = Commit(
                entry.revision, [entry.environment] if entry.environment else [], entry.at,
                str(data.get("author") or ""), str(data.get("committer") or ""), str(signature.get("state") or ""),
                str(signature.get("signer") or ""), str(data.get("subject") or ""))
        elif entry.environment and entry.environment not in commit.environments:
            commit.environments.append(entry.environment)

    def _approval(self, entry: AuditEntry, environment: str | None = None) -> None:
        change = self._change(environment if environment is not None else entry.environment, entry.application,
                              entry.revision)
        if entry.kind == kinds.APPROVAL:
            if all(a["who"].lower() != entry.actor.lower() for a in change.approvers):
                change.approvers.append({"who": entry.actor, "at": entry.at})
        else:
            change.refusals.append({"who": entry.actor, "at": entry.at, "reason": str(entry.data.get("reason", ""))})

    def _other(self, entry: AuditEntry) -> None:
        self.other.append(OtherEvent(entry.seq, entry.at, entry.kind, entry.cluster, entry.application, entry.actor,
                                     entry.revision, kinds.describe(entry)))

    def finish(self, verification: VerifyResult, last: AuditEntry | None, since: str, until: str,
               generated_at: str) -> Report:
        for change in self.changes.values():
            commit = self.commits.get(change.revision)
            change.author = commit.author if commit else ""
        return Report(
            region=self.region, since=since, until=until, generated_at=generated_at,
            production=sorted(self.production), clusters=sorted(self.clusters.values(), key=lambda c: c.name),
            ran=sorted(self.ran, key=lambda r: (r.cluster, r.at, r.seq)),
            commits=sorted(self.commits.values(), key=lambda c: (c.seen_at, c.revision)),
            changes=sorted(self.changes.values(), key=lambda c: (c.first_at or "~", c.environment, c.application)),
            drift=self.drift, sync_failures=self.failures, other_events=self.other, entries=self.entries,
            verification=verification, covered_seq=last.seq if last else 0, covered_hash=last.hash if last else "")
