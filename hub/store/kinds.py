"""The kinds of audit entries, the `data` each carries (what reports read), builders for the ones reports
depend on, and a one-line description of any entry for people.

Each kind, the entry fields it fills, and its `data`:

- revision_seen: environment; revision = the full commit SHA. data: `ref`, `author`, `committer`
  ("Name <email>"), `subject`, `signature`: {`state`, `signer`, `key`}.
- desired_state_pushed: region, environment, cluster, revision. data: `generation`, `content_hash`,
  `applications`: [{`name`, `revision`, `content_hash`}].
- sync_result: region, environment, cluster, application, revision; actor = the approver of a requested sync.
  data: `phase` (Succeeded, Failed, Error), `message`, `trigger`, `started_at`, `finished_at`, `duration_ms`,
  `generation`, `request_id`, `warnings`, `resources` (how many), `failed_resources` (up to 20).
- drift_detected: region, environment, cluster, application; actor = the field managers who changed it.
  data: `object`, `resource`, `missing`, `fields`: [{`path`, `desired`, `live`, `manager`}] (Secret values
  redacted), `managers`, `self_heal`.
- drift_healed: as drift_detected; actor = `fleetline` when self-heal restored it. data: `object`, `resource`,
  `healed_after_ms`, `self_heal`.
- sync_loop, outbox_gap, desired_state_applied: from the agent's events; data: the event's details.
- approval: environment, application, revision; actor = the approver. data: `required`, `approvals` (so far).
- approval_refused: environment, application, revision, actor. data: `reason`.
- rollback, promotion: environment, application, revision (the new commit), actor. data: `from_revision`,
  `to_revision`, `message`.
- rollout_step, rollout_halted: environment, application, revision. data: `step`, `clusters`, `reason`.
- credential_issued, credential_revoked: cluster, actor. data: `fingerprint`, `credential` (certificate, token).
- agent_connected, agent_disconnected: region, cluster. data: `peer`, `agent_version`, `reason`.
- api_refused: actor (the token's name, or "anonymous"), cluster when the call named one. data: `method`,
  `path`, `status`, `reason`.

Any other lowercase_underscore kind may be appended; reports list it under "other events" of its region.
"""

from __future__ import annotations

from datetime import datetime

from hub.store.records import AuditDraft, AuditEntry

REVISION_SEEN = "revision_seen"
DESIRED_STATE_PUSHED = "desired_state_pushed"
SYNC_RESULT = "sync_result"
DRIFT_DETECTED = "drift_detected"
DRIFT_HEALED = "drift_healed"
SYNC_LOOP = "sync_loop"
OUTBOX_GAP = "outbox_gap"
DESIRED_STATE_APPLIED = "desired_state_applied"
APPROVAL = "approval"
APPROVAL_REFUSED = "approval_refused"
ROLLBACK = "rollback"
PROMOTION = "promotion"
ROLLOUT_STEP = "rollout_step"
ROLLOUT_HALTED = "rollout_halted"
CREDENTIAL_ISSUED = "credential_issued"
CREDENTIAL_REVOKED = "credential_revoked"
AGENT_CONNECTED = "agent_connected"
AGENT_DISCONNECTED = "agent_disconnected"
API_REFUSED = "api_refused"
SUCCEEDED = "Succeeded"


def revision_seen(environment: str, commit: str, *, author: str, committer: str, signature_state: str,
                  signer: str = "", key: str = "", ref: str = "", subject: str = "",
                  at: datetime | None = None) -> AuditDraft:
    """A commit the hub saw on the ref an environment tracks (signature_state as hub.source.signatures says:
    trusted, untrusted, unsigned, ...)."""
    return AuditDraft(REVISION_SEEN, environment=environment, revision=commit, at=at, data={
        "ref": ref, "author": author, "committer": committer, "subject": subject,
        "signature": {"state": signature_state, "signer": signer, "key": key}})


def desired_state_pushed(cluster: str, *, region: str, environment: str, revision: str, generation: int,
                         content_hash: str, applications: list[dict], at: datetime | None = None) -> AuditDraft:
    """A desired state the hub pushed to a cluster; `applications`: [{name, revision, content_hash}]."""
    return AuditDraft(DESIRED_STATE_PUSHED, region=region, environment=environment, cluster=cluster,
                      revision=revision, at=at, data={"generation": generation, "content_hash": content_hash,
                                                      "applications": applications})


def approval(environment: str, application: str, revision: str, approver: str, *, required: int = 0,
             approvals: int = 0, region: str = "", at: datetime | None = None) -> AuditDraft:
    """A person approved a revision of an application in an environment."""
    return AuditDraft(APPROVAL, region=region, environment=environment, application=application, revision=revision,
                      actor=approver, at=at, data={"required": required, "approvals": approvals})


def approval_refused(environment: str, application: str, revision: str, actor: str, reason: str, *,
                     region: str = "", at: datetime | None = None) -> AuditDraft:
    """An approval that was not accepted (not allowed, wrong revision, ...)."""
    return AuditDraft(APPROVAL_REFUSED, region=region, environment=environment, application=application,
                      revision=revision, actor=actor, at=at, data={"reason": reason})


def describe(entry: AuditEntry) -> str:
    """One line saying what the entry records, in plain words."""
    data = entry.data
    kind = entry.kind
    short = entry.revision[:12]
    if kind == REVISION_SEEN:
        signature = (data.get("signature") or {}).get("state", "")
        return f"commit {short} by {data.get('author', '?')}: {data.get('subject', '')} (signature: {signature})"
    if kind == DESIRED_STATE_PUSHED:
        apps = ", ".join(str(a.get("name")) for a in data.get("applications") or [] if isinstance(a, dict))
        return f"pushed generation {data.get('generation', '?')} at {short} ({apps})"
    if kind == SYNC_RESULT:
        return f"sync {data.get('phase', '?')} at {short}: {data.get('message', '')}".rstrip(": ")
    if kind == DRIFT_DETECTED:
        paths = ", ".join(str(f.get("path")) for f in data.get("fields") or [] if isinstance(f, dict))
        what = "deleted" if data.get("missing") else paths
        by = ", ".join(data.get("managers") or []) or "unknown"
        return f"{data.get('object', '?')} drifted ({what}) by {by}"
    if kind == DRIFT_HEALED:
        how = "by self-heal" if data.get("self_heal") else "by a change in the cluster"
        return f"{data.get('object', '?')} matches Git again {how} after {data.get('healed_after_ms', '?')} ms"
    if kind == APPROVAL:
        return f"{entry.actor} approved {entry.application} {short} in {entry.environment}"
    if kind == APPROVAL_REFUSED:
        return f"approval by {entry.actor} refused: {data.get('reason', '')}"
    for key in ("message", "reason", "summary"):
        if data.get(key):
            return str(data[key])
    return kind.replace("_", " ")
