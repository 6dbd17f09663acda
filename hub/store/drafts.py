"""Turning an AuditDraft into the exact texts an entry stores: checked, redacted, canonical.

Any Store implementation prepares drafts with `prepare` before chaining them, so that every backend stores (and
hashes) the same bytes for the same draft. `check_draft` is the cheap part, for callers that want a bad draft
refused where it is made.
"""

from __future__ import annotations

import re

from fleetline.identity import canonical_json
from hub.store.records import AuditDraft, AuditError
from hub.store.redact import redact
from hub.store.timefmt import rfc3339

_KIND = re.compile(r"^[a-z][a-z0-9_]{0,63}$")
TEXT_FIELDS = ("region", "environment", "cluster", "application", "actor", "revision")


def check_draft(draft: AuditDraft) -> None:
    """AuditError naming the field when the draft's kind, text fields or data are not of the right form."""
    kind = draft.kind
    if not isinstance(kind, str) or not _KIND.match(kind):
        raise AuditError(f"audit entry kind {kind!r}: use lowercase words joined by underscores, at most 64 "
                         "characters (e.g. sync_result)")
    for name in TEXT_FIELDS:
        value = getattr(draft, name)
        if not isinstance(value, str):
            raise AuditError(f"audit entry {kind}: {name} must be a string, not {type(value).__name__} (use \"\" "
                             "when it does not apply)")
    if not isinstance(draft.data, dict):
        raise AuditError(f"audit entry {kind}: data must be a JSON object (a dict), not {type(draft.data).__name__}")


def prepare(draft: AuditDraft, now: str) -> tuple[str, str, str, str, str, str, str, str, str]:
    """(at, kind, region, environment, cluster, application, actor, revision, data_json) of a draft: its data
    redacted (hub.store.redact) and encoded canonically; `at` is the draft's or `now`."""
    check_draft(draft)
    try:
        encoded = canonical_json(draft.data)
    except (TypeError, ValueError) as exc:
        raise AuditError(f"audit entry {draft.kind}: data is not JSON ({exc}); use strings, numbers, booleans, "
                         "null, lists and maps only") from exc
    if b"Secret" in encoded:  # redaction changes nothing in data that never says "Secret" (hub.store.redact)
        encoded = canonical_json(redact(draft.data))
    data_json = encoded.decode("utf-8")
    at = rfc3339(draft.at) if draft.at is not None else now
    return (at, draft.kind, draft.region, draft.environment, draft.cluster, draft.application, draft.actor,
            draft.revision, data_json)
