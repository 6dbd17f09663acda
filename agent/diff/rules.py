"""ignoreDifferences: which objects a rule selects, which of their fields it ignores, and the desired object
to apply when RespectIgnoreDifferences leaves those fields alone.

Owns `IgnoreRule` (Argo CD's entry: group, kind, name, namespace, jsonPointers, jqPathExpressions,
managedFieldsManagers; read from the wire's `IgnoreDifference` or from fleet.yaml's spelling) and
`without_ignored`. A rule selects an object when its group and kind match (`*` globs allowed, as Argo CD
allows) and, when given, its name and namespace are equal. A field is ignored when

- a JSON pointer names it or one of its ancestors (pointers index lists as the object on either side does);
- a jq path expression (the subset of `agent.diff.jq`) selects it or an ancestor, in the live or the desired
  object;
- one of the named managers owns it in the live object's managedFields;
- for a value compared whole (an atomic list such as a webhook configuration's `webhooks`), the value is equal
  once the paths the rule names inside it are removed from both sides.

Bad rules raise `ValueError` naming the rule and the offending pointer or expression.
"""

from __future__ import annotations

import copy
import fnmatch
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from agent.diff.compare import declared_leaves, group_of
from agent.diff.jq import JqError, JqPath, parse
from agent.diff.managers import Ownership
from agent.diff.paths import MISSING, is_prefix, parse_pointer, pointer_parts, resolve, set_at, without_paths
from fleetline.wire import fleet_pb2

Parts = tuple[str | int, ...]


@dataclass(frozen=True)
class IgnoreRule:
    """One ignoreDifferences entry. Construction validates it (ValueError naming the rule and what to fix)."""

    group: str = ""
    kind: str = ""
    name: str = ""
    namespace: str = ""
    json_pointers: tuple[str, ...] = ()
    jq_path_expressions: tuple[str, ...] = ()
    managed_fields_managers: tuple[str, ...] = ()
    _pointers: tuple[tuple[str, ...], ...] = field(default=(), init=False, repr=False, compare=False)
    _expressions: tuple[JqPath, ...] = field(default=(), init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        for name in ("json_pointers", "jq_path_expressions", "managed_fields_managers"):
            object.__setattr__(self, name, tuple(getattr(self, name)))
        if not self.kind:
            raise ValueError(f"{self.describe()}: kind is required (for example kind: Deployment, or kind: '*')")
        if not (self.json_pointers or self.jq_path_expressions or self.managed_fields_managers):
            raise ValueError(f"{self.describe()}: ignores nothing; give jsonPointers, jqPathExpressions or "
                             "managedFieldsManagers")
        pointers = []
        for text in self.json_pointers:
            try:
                parts = parse_pointer(text)
            except ValueError as exc:
                raise ValueError(f"{self.describe()}: jsonPointers: {exc}") from None
            if not parts:
                raise ValueError(f"{self.describe()}: jsonPointers: '' would ignore the whole object; "
                                 "name a field such as /spec/replicas")
            pointers.append(parts)
        expressions = []
        for text in self.jq_path_expressions:
            try:
                expressions.append(parse(text))
            except JqError as exc:
                raise ValueError(f"{self.describe()}: {exc}") from None
        object.__setattr__(self, "_pointers", tuple(pointers))
        object.__setattr__(self, "_expressions", tuple(expressions))

    def describe(self) -> str:
        where = "/".join(part for part in (self.namespace, self.name) if part)
        what = f"{self.group or 'core'}/{self.kind or '?'}" + (f" {where}" if where else "")
        return f"ignoreDifferences entry for {what}"

    @classmethod
    def from_proto(cls, msg: fleet_pb2.IgnoreDifference) -> IgnoreRule:
        return cls(group=msg.group, kind=msg.kind, name=msg.name, namespace=msg.namespace,
                   json_pointers=tuple(msg.json_pointers), jq_path_expressions=tuple(msg.jq_path_expressions),
                   managed_fields_managers=tuple(msg.managed_fields_managers))

    @classmethod
    def from_dict(cls, entry: dict) -> IgnoreRule:
        """From fleet.yaml's (Argo CD's) spelling: group, kind, name, namespace, jsonPointers,
        jqPathExpressions, managedFieldsManagers."""
        allowed = {"group", "kind", "name", "namespace", "jsonPointers", "jqPathExpressions", "managedFieldsManagers"}
        unknown = sorted(set(entry) - allowed)
        if unknown:
            raise ValueError(f"ignoreDifferences entry {entry!r}: unknown field(s) {', '.join(unknown)}; "
                             f"expected {', '.join(sorted(allowed))}")
        lists = {}
        for key in ("jsonPointers", "jqPathExpressions", "managedFieldsManagers"):
            value = entry.get(key) or []
            if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
                raise ValueError(f"ignoreDifferences entry {entry!r}: {key} must be a list of strings")
            lists[key] = tuple(value)
        return cls(group=str(entry.get("group") or ""), kind=str(entry.get("kind") or ""),
                   name=str(entry.get("name") or ""), namespace=str(entry.get("namespace") or ""),
                   json_pointers=lists["jsonPointers"], jq_path_expressions=lists["jqPathExpressions"],
                   managed_fields_managers=lists["managedFieldsManagers"])

    def to_dict(self) -> dict:
        """fleet.yaml's spelling, empty fields left out."""
        out: dict[str, Any] = {"group": self.group, "kind": self.kind}
        for key, value in (("name", self.name), ("namespace", self.namespace)):
            if value:
                out[key] = value
        for key, values in (("jsonPointers", self.json_pointers), ("jqPathExpressions", self.jq_path_expressions),
                            ("managedFieldsManagers", self.managed_fields_managers)):
            if values:
                out[key] = list(values)
        return out

    def matches(self, obj: dict) -> bool:
        """Whether this rule selects `obj` (by group, kind, and name and namespace when the rule gives them)."""
        metadata = obj.get("metadata") or {}
        return (fnmatch.fnmatchcase(group_of(obj), self.group or "")
                and fnmatch.fnmatchcase(str(obj.get("kind") or ""), self.kind)
                and (not self.name or metadata.get("name") == self.name)
                and (not self.namespace or metadata.get("namespace") == self.namespace))

    def ignored_paths(self, document: dict | None) -> list[Parts]:
        """The paths this rule's pointers and expressions name in `document` (present there or not)."""
        if document is None:
            return []
        paths: list[Parts] = list(self._pointers)
        for expression in self._expressions:
            paths.extend(expression.paths(document))
        return paths


@dataclass(frozen=True)
class IgnoreSet:
    """The rules that select one object, evaluated once against its desired and live sides."""

    desired_paths: tuple[Parts, ...]
    live_paths: tuple[Parts, ...]
    managers: frozenset[str]

    @classmethod
    def of(cls, rules: Iterable[IgnoreRule], desired: dict, live: dict | None) -> IgnoreSet:
        selected = [rule for rule in rules if rule.matches(desired)]
        return cls(tuple(p for rule in selected for p in rule.ignored_paths(desired)),
                   tuple(p for rule in selected for p in rule.ignored_paths(live)),
                   frozenset(m for rule in selected for m in rule.managed_fields_managers))

    def __bool__(self) -> bool:
        return bool(self.desired_paths or self.live_paths or self.managers)

    def below(self, desired_parts: Parts, live_parts: Parts) -> list[Parts]:
        """The ignored paths strictly inside the value at this path, relative to it (either side's)."""
        out = [p[len(desired_parts):] for p in self.desired_paths
               if len(p) > len(desired_parts) and is_prefix(desired_parts, p)]
        out += [p[len(live_parts):] for p in self.live_paths if len(p) > len(live_parts) and is_prefix(live_parts, p)]
        return out

    def ignores(self, desired_parts: Parts, live_parts: Parts, owners: Sequence[str]) -> bool:
        return (any(is_prefix(p, desired_parts) for p in self.desired_paths)
                or any(is_prefix(p, live_parts) for p in self.live_paths)
                or bool(self.managers.intersection(owners)))


def without_ignored(desired: dict, live: dict | None, rules: Sequence[IgnoreRule], *,
                    manager: str = "fleetline") -> dict:
    """The desired object to apply under RespectIgnoreDifferences: every ignored declared field left alone.

    An ignored field that another manager owns in the live object is removed from the apply (Flux's "Strip"):
    server-side apply then leaves it to that owner (an HPA's `/spec/replicas`). One that only `manager` (us)
    owns, or nobody, takes the live value (Flux's "Adopt"): merely dropping it would make server-side apply
    delete a field we stop applying. A field the live object lacks is removed. An ignored part of an atomic
    value (a cert-manager `caBundle` inside a webhook list) takes the live value inside the desired one, as
    Argo CD does, since an atomic value can only be applied whole. With no live object (a create) the desired
    object is returned as it is, as in Argo CD. `desired` is never modified.
    """
    if live is None:
        return desired
    ignore = IgnoreSet.of(rules, desired, live)
    if not ignore:
        return desired
    ownership = Ownership.of(live)
    out = copy.deepcopy(desired)
    chosen: dict[Parts, Parts] = {}
    for leaf in declared_leaves(desired, live):
        desired_parts, live_parts = pointer_parts(leaf.steps, "desired"), pointer_parts(leaf.steps, "live")
        owners = [m.name for m in ownership.owners(live, live_parts)] if leaf.live is not MISSING else []
        if ignore.ignores(desired_parts, live_parts, owners):
            # the outermost path a pointer or expression names, so that an ignored map moves whole
            top = _outermost(ignore, desired_parts, live_parts)
            chosen.setdefault(desired_parts[:top], live_parts[:top])
        elif leaf.mode != "scalar" and leaf.live is not MISSING:
            below = ignore.below(desired_parts, live_parts)
            if below:
                set_at(out, desired_parts, _with_live_parts(leaf.desired, leaf.live, below))
    removals: list[Parts] = []
    for desired_parts, live_parts in chosen.items():
        live_value = MISSING if "-" in live_parts else resolve(live, live_parts)
        others = [m.name for m in ownership.owners(live, live_parts) if m.name != manager]
        if live_value is MISSING or others:
            removals.append(desired_parts)
        else:
            set_at(out, desired_parts, copy.deepcopy(live_value))
    return without_paths(out, removals)


def _outermost(ignore: IgnoreSet, desired_parts: Parts, live_parts: Parts) -> int:
    lengths = [len(p) for p in ignore.desired_paths if is_prefix(p, desired_parts)]
    lengths += [len(p) for p in ignore.live_paths if is_prefix(p, live_parts)]
    return min(lengths) if lengths else len(desired_parts)


def _with_live_parts(desired: Any, live: Any, relative: Sequence[Parts]) -> Any:
    out = copy.deepcopy(desired)
    missing = []
    for parts in relative:
        value = resolve(live, parts)
        if value is MISSING:
            missing.append(parts)
        else:
            set_at(out, parts, copy.deepcopy(value))
    return without_paths(out, missing)
