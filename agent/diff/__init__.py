"""Declared-field diff: what differs between an object in Git and the same object in the cluster.

Owns the comparison the agent's sync (ApplyOutOfSyncOnly, RespectIgnoreDifferences) and drift detection use:
only the fields the desired object declares are compared, after normalising what the API server normalises;
never `status` or server-populated metadata. Lists line up by the API server's merge keys, so a sidecar a
webhook injects is not drift (see `agent.diff.compare` for the rules). ignoreDifferences rules (jsonPointers,
a documented jq subset in `agent.diff.jq`, managedFieldsManagers) suppress fields; each difference names the
field manager that last wrote the live value; Secret values are always redacted. Pure functions on JSON
dicts: no I/O, no cluster access, never imports `hub` or `kubesim`.

Public API:

    diff_object(desired, live, *, rules=()) -> ObjectDiff       the field-level diff (ObjectDiff.in_sync)
    without_ignored(desired, live, rules) -> dict                what to apply under RespectIgnoreDifferences
    manager_of(live, pointer_parts) -> str | None                who last wrote a live field
    suggest_ignore(obj, diff, manager) -> dict                   the fleet.yaml entry that stops a fight
    IgnoreRule (from_proto, from_dict, matches), FieldDiff, ObjectDiff, Step
"""

from __future__ import annotations

from agent.diff.diff import FieldDiff, ObjectDiff, diff_object
from agent.diff.jq import JqError
from agent.diff.managers import manager_of
from agent.diff.paths import Step
from agent.diff.rules import IgnoreRule, without_ignored
from agent.diff.suggest import suggest_ignore

__all__ = [
    "FieldDiff",
    "IgnoreRule",
    "JqError",
    "ObjectDiff",
    "Step",
    "diff_object",
    "manager_of",
    "suggest_ignore",
    "without_ignored",
]
