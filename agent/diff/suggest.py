"""The ignoreDifferences entry that stops a fight over one field, in fleet.yaml's spelling.

Owns `suggest_ignore`. It chooses the narrowest rule that works, and the rule reads back through
`IgnoreRule.from_dict`, so applying it makes that field's diff go away:

- a path through maps and struct fields only: `jsonPointers: ["/spec/replicas"]`;
- a path through a keyed list (containers, ports, env, ...) or a set: a jq expression that selects the item by
  its key, because a list index in a JSON pointer breaks as soon as the list is reordered or a webhook injects
  an item: `.spec.template.spec.containers[] | select(.name == "main") | .image`;
- `managedFieldsManagers: [manager]` only for a diff that carries no structured path (one rebuilt from a
  report) whose pointer cannot be used; a manager's rule ignores every field it owns, so it is the last resort.
"""

from __future__ import annotations

import json
import re
from typing import Any

from agent.diff.compare import group_of
from agent.diff.diff import FieldDiff
from agent.diff.paths import Step, format_pointer, parse_pointer

_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def suggest_ignore(obj: dict, diff: FieldDiff, manager: str | None = None) -> dict:
    """The fleet.yaml `ignoreDifferences` entry for `diff` of `obj` (the desired or live object):
    `{"group", "kind", "name", "namespace", and jsonPointers, jqPathExpressions or managedFieldsManagers}`.
    ValueError for the diff of a missing object, which no field rule can ignore."""
    metadata = obj.get("metadata") or {}
    entry: dict[str, Any] = {"group": group_of(obj), "kind": str(obj.get("kind") or ""),
                             "name": str(metadata.get("name") or "")}
    if metadata.get("namespace"):
        entry["namespace"] = str(metadata["namespace"])
    if not diff.path:
        raise ValueError(f"{entry['kind']} {entry['name']} is missing from the cluster: an ignoreDifferences "
                         "rule ignores fields, not whole objects (use the Prune=false or Skip options instead)")
    if diff.steps:
        if all(step.kind == "field" for step in diff.steps):
            entry["jsonPointers"] = [format_pointer([step.name for step in diff.steps])]
        else:
            entry["jqPathExpressions"] = [jq_expression(diff.steps)]
    elif _usable_pointer(diff.pointer):
        entry["jsonPointers"] = [diff.pointer]
    elif manager:
        entry["managedFieldsManagers"] = [manager]
    else:
        raise ValueError(f"cannot suggest a rule for {diff.path} of {entry['kind']} {entry['name']}: the diff has "
                         "no structured path and no field manager")
    return entry


def jq_expression(steps: tuple[Step, ...]) -> str:
    """A jq path expression (in the subset of `agent.diff.jq`) for a structured path, items selected by key."""
    segments = [""]
    for step in steps:
        if step.kind == "field":
            segments[-1] += "." + _name(step.name)
        elif step.kind == "item":
            segments[-1] += "[]"
            fields = step.explicit or tuple(name for name, _ in step.key)
            values = dict(step.key)
            segments.extend(f"select(.{_name(name)} == {json.dumps(values[name])})" for name in fields)
            segments.append("")
        else:
            segments[-1] += "[]"
            segments.append(f"select(. == {json.dumps(step.value)})")
            segments.append("")
    if segments[-1] == "":
        segments.pop()  # the path ended on an item
    return " | ".join(segments)


def _name(name: str) -> str:
    return name if _IDENTIFIER.fullmatch(name) else json.dumps(name)


def _usable_pointer(text: str) -> bool:
    try:
        parts = parse_pointer(text)
    except ValueError:
        return False
    return bool(parts) and "-" not in parts
