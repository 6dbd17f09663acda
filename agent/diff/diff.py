"""The field-level diff of one object: desired (from Git) against live (from the cluster).

Owns `diff_object` and its records, `FieldDiff` and `ObjectDiff`. Which fields are compared and how lists line
up is `agent.diff.compare`; what counts as equal is `agent.diff.normalize`; rules are `agent.diff.rules`; who
wrote a field is `agent.diff.managers`; Secret values are redacted by `agent.diff.redact` before they reach a
record, so no record ever holds one.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from agent.diff.compare import Leaf, declared_leaves, group_of
from agent.diff.managers import Ownership
from agent.diff.normalize import is_secret, normalise_secret
from agent.diff.paths import MISSING, Step, pointer, pointer_parts, readable, without_paths
from agent.diff.redact import SECRET_FIELDS, redact, redact_secret
from agent.diff.rules import IgnoreRule, IgnoreSet


@dataclass(frozen=True)
class FieldDiff:
    """One declared field whose live value differs.

    path: readable (see `agent.diff.paths`), list items named by key:
        `/spec/template/spec/containers[name="main"]/image`; "" for a missing object.
    pointer: an RFC 6901 pointer into the live object, with list indexes (`-` for an item live lacks).
    desired, live: the values (live None when the live object lacks the field); Secret data redacted.
    manager: the field manager that last wrote the live value, None when unknown or absent.
    steps: the structured path (what `suggest_ignore` builds rules from).
    """

    path: str
    pointer: str
    desired: Any
    live: Any
    manager: str | None = None
    steps: tuple[Step, ...] = field(default=(), repr=False, compare=False)

    def to_dict(self) -> dict:
        return {"path": self.path, "pointer": self.pointer, "desired": self.desired, "live": self.live,
                "manager": self.manager}


@dataclass
class ObjectDiff:
    """The diff of one object: the fields that differ, the readable paths of those an ignoreDifferences rule
    suppressed, and whether the live object is missing altogether."""

    fields: list[FieldDiff]
    ignored: list[str] = field(default_factory=list)
    missing: bool = False

    @property
    def in_sync(self) -> bool:
        return not self.fields and not self.missing

    def to_dict(self) -> dict:
        return {"inSync": self.in_sync, "missing": self.missing, "fields": [f.to_dict() for f in self.fields],
                "ignored": list(self.ignored)}


def diff_object(desired: dict, live: dict | None, *, rules: Sequence[IgnoreRule] = ()) -> ObjectDiff:
    """Compare the fields `desired` declares with `live` (None: the object does not exist), minus what the
    rules that select this object ignore. ValueError when the two are not the same object."""
    _check_identity(desired, live)
    secret = is_secret(desired)
    if secret:
        desired = normalise_secret(desired)
        live = normalise_secret(live) if live is not None else None
    if live is None:
        shown = redact_secret(desired) if secret else desired
        return ObjectDiff([FieldDiff("", "", shown, None)], missing=True)
    ignore = IgnoreSet.of(rules, desired, live)
    ownership: Ownership | None = None  # decoded on the first difference: most objects have none
    result = ObjectDiff([])
    for leaf in declared_leaves(desired, live):
        if leaf.equal:
            continue
        ownership = ownership or Ownership.of(live)
        live_parts = pointer_parts(leaf.steps, "live")
        owners = ownership.owners(live, live_parts) if leaf.live is not MISSING else []
        if ignore and _ignored(ignore, leaf, [m.name for m in owners]):
            result.ignored.append(readable(leaf.steps))
            continue
        result.fields.append(_record(leaf, Ownership.latest(owners), secret))
    return result


def _ignored(ignore: IgnoreSet, leaf: Leaf, owners: list[str]) -> bool:
    desired_parts, live_parts = pointer_parts(leaf.steps, "desired"), pointer_parts(leaf.steps, "live")
    if ignore.ignores(desired_parts, live_parts, owners):
        return True
    if leaf.mode == "scalar":
        return False
    below = ignore.below(desired_parts, live_parts)
    if not below:
        return False
    live_value = MISSING if leaf.live is MISSING else without_paths(leaf.live, below)
    return leaf.recheck(without_paths(leaf.desired, below), live_value)


def _record(leaf: Leaf, manager: str | None, secret: bool) -> FieldDiff:
    desired, live = leaf.desired, None if leaf.live is MISSING else leaf.live
    if secret and leaf.steps and leaf.steps[0].name in SECRET_FIELDS:
        desired, live = redact(desired), redact(live)
    return FieldDiff(readable(leaf.steps), pointer(leaf.steps, "live"), desired, live, manager, leaf.steps)


def _identity(obj: dict) -> tuple[str, str, str, str]:
    metadata = obj.get("metadata") or {}
    return (group_of(obj), str(obj.get("kind") or ""), str(metadata.get("namespace") or ""),
            str(metadata.get("name") or ""))


def _check_identity(desired: Any, live: Any) -> None:
    if not isinstance(desired, dict) or not desired.get("kind") or not (desired.get("metadata") or {}).get("name"):
        raise ValueError(f"cannot diff {str(desired)[:80]!r}: the desired object needs apiVersion, kind and "
                         "metadata.name")
    if live is None:
        return
    if not isinstance(live, dict):
        raise ValueError(f"cannot diff {_name(desired)}: the live object is a {type(live).__name__}, not an object")
    want, have = _identity(desired), _identity(live)
    namespace_differs = want[2] and have[2] and want[2] != have[2]
    if want[:2] != have[:2] or want[3] != have[3] or namespace_differs:
        raise ValueError(f"cannot diff {_name(desired)} against {_name(live)}: pass the live object of the same "
                         "group, kind, namespace and name")


def _name(obj: dict) -> str:
    group, kind, namespace, name = _identity(obj)
    return f"{group + '/' if group else ''}{kind} {namespace + '/' if namespace else ''}{name}"
