"""Server-side apply and `metadata.managedFields` tracking, as kube-apiserver does them.

Owns the ownership rules of structured-merge-diff for kubesim: `server_side_apply` (conflicts, merge,
removal of fields a manager stopped applying, the manager's Apply entry) and `track_update` (the Update
entry of a create, PUT or non-apply PATCH). The set type, its FieldsV1 encoding and the walk of an object
into fields live in `kubesim.fieldset` and are re-exported here. This module never touches storage,
resource versions, defaults, validation or the status/spec split of subresources: the API server does that
before and after calling in. Inputs are never mutated.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from fleetline.jsoncopy import clone
from fleetline.schema import ListOf, Node, Struct
from kubesim.fieldset import (
    UNTRACKED,
    FieldPathError,
    FieldSet,
    Path,
    decode_fields_v1,
    encode_fields_v1,
    fields_of,
    path_string,
    split,
    subtree,
)

__all__ = [
    "ApplyConflict",
    "FieldPathError",
    "FieldSet",
    "decode_fields_v1",
    "encode_fields_v1",
    "fields_of",
    "managed_fields_readable",
    "path_string",
    "server_side_apply",
    "track_update",
]

# Metadata the server owns: an applied object's values for these are ignored, never merged.
_SERVER_METADATA = ("uid", "resourceVersion", "generation", "creationTimestamp", "managedFields", "selfLink",
                    "deletionTimestamp", "deletionGracePeriodSeconds")


@dataclass(eq=False)
class ApplyConflict(Exception):
    """An apply changes fields other managers own; `conflicts` are (manager description, field path) pairs,
    e.g. ('"kubectl-set" using apps/v1', '.spec.template.spec.containers[name="nginx"].image')."""

    conflicts: list[tuple[str, str]]

    def __str__(self) -> str:
        n = len(self.conflicts)
        lines = "\n".join(f"conflict with {who}: {path}" for who, path in self.conflicts)
        return f"Apply failed with {n} conflict{'s' if n != 1 else ''}: {lines}"


# -- managedFields entries ------------------------------------------------------------------------------


@dataclass
class _Entry:
    """One managedFields entry; written back exactly as stored while nothing in it changed."""

    manager: str
    operation: str  # "Apply" | "Update"
    api_version: str
    time: str | None
    subresource: str | None
    fields: FieldSet
    stored: dict | None = None
    stored_state: tuple | None = field(default=None, repr=False)

    @property
    def ident(self) -> tuple[str, str, str | None]:
        return (self.manager, self.operation, self.subresource)

    def state(self) -> tuple:
        return (self.api_version, self.time, self.fields)

    def describe(self) -> str:
        """As kube-apiserver names a manager in conflicts: `"mgr" with subresource "scale" using apps/v1`."""
        text = json.dumps(self.manager, ensure_ascii=False)
        if self.subresource:
            text += f" with subresource {json.dumps(self.subresource, ensure_ascii=False)}"
        if self.operation == "Update":
            text += f" using {self.api_version}"
        return text

    def to_dict(self) -> dict:
        if self.stored is not None and self.state() == self.stored_state:
            return clone(self.stored)
        out: dict[str, Any] = {"manager": self.manager, "operation": self.operation,
                               "apiVersion": self.api_version}
        if self.time is not None:
            out["time"] = self.time
        out["fieldsType"] = "FieldsV1"
        out["fieldsV1"] = encode_fields_v1(self.fields)
        if self.subresource:
            out["subresource"] = self.subresource
        return out


def _read_entries(obj: dict | None) -> list[_Entry] | None:
    """The entries an object carries ([] when none); None when they cannot be decoded."""
    raw = ((obj or {}).get("metadata") or {}).get("managedFields")
    if not raw:
        return []
    if not isinstance(raw, list):
        return None
    entries: list[_Entry] = []
    by_ident: dict[tuple, _Entry] = {}
    for stored in raw:
        if not isinstance(stored, dict):
            return None
        try:
            fields = decode_fields_v1(stored.get("fieldsV1") or {})
        except ValueError:
            return None
        manager, operation = stored.get("manager"), stored.get("operation")
        if not manager and not fields:
            continue  # `[{}]`: kube's way of clearing managedFields
        if not isinstance(manager, str) or operation not in ("Apply", "Update"):
            return None
        entry = _Entry(manager, operation, str(stored.get("apiVersion") or ""), stored.get("time"),
                       stored.get("subresource") or None, fields, stored)
        entry.stored_state = entry.state()
        if entry.ident in by_ident:  # one entry per (manager, operation, subresource)
            first = by_ident[entry.ident]
            first.fields = first.fields | fields
            continue
        by_ident[entry.ident] = entry
        entries.append(entry)
    return entries


def managed_fields_readable(obj: dict) -> bool:
    """Whether an object's metadata.managedFields decode (kube-apiserver ignores a write's undecodable ones and
    keeps tracking from the live object's)."""
    return _read_entries(obj) is not None


def _write_entries(entries: list[_Entry]) -> list[dict]:
    return [e.to_dict() for e in entries if e.fields]


def _content(obj: dict | None) -> dict:
    """A copy of the object without metadata.managedFields (what the ownership rules compare)."""
    out = clone(obj) if obj else {}
    meta = out.get("metadata")
    if isinstance(meta, dict):
        meta.pop("managedFields", None)
    return out


# -- comparing two versions of an object ----------------------------------------------------------------


@dataclass
class _Diff:
    modified: set[Path] = field(default_factory=set)  # leaves whose value changed
    added: set[Path] = field(default_factory=set)  # every node that appeared
    added_owned: set[Path] = field(default_factory=set)  # what an Update takes of what appeared
    removed: set[Path] = field(default_factory=set)  # every node that disappeared


def _equal(a: Any, b: Any) -> bool:
    """JSON equality: 1 == 1.0, but a bool never equals a number."""
    if type(a) is not type(b):
        if isinstance(a, bool) or isinstance(b, bool):
            return False
        return isinstance(a, int | float) and isinstance(b, int | float) and a == b
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(_equal(a[k], b[k]) for k in a)
    if isinstance(a, list):
        return len(a) == len(b) and all(_equal(x, y) for x, y in zip(a, b, strict=True))
    return a == b


def _compare(lhs: Any, rhs: Any, node: Node, path: Path, diff: _Diff) -> None:
    left, right = split(lhs, node), split(rhs, node)
    if left is None or right is None:
        if not _equal(lhs, rhs):
            diff.modified.add(path)
            for c in left or ():
                _removed(c.value, c.node, path + (c.element,), diff)
            for c in right or ():
                _added(c.value, c.node, path + (c.element,), diff)
        return
    before = {c.element: c for c in left}
    after = {c.element: c for c in right}
    for element, c in after.items():
        old = before.get(element)
        if old is None:
            _added(c.value, c.node, path + (element,), diff)
        else:
            _compare(old.value, c.value, c.node, path + (element,), diff)
    for element, c in before.items():
        if element not in after:
            _removed(c.value, c.node, path + (element,), diff)


def _added(value: Any, node: Node, path: Path, diff: _Diff) -> None:
    # An Update owns what it creates: leaves, list items, maps. A struct field holding a fixed-shape struct
    # is not owned as a node (in kube-apiserver it exists as a Go zero value before the write), only its
    # leaves are; an empty one is a leaf.
    for sub, v, n, leaf in subtree(value, node, path):
        diff.added.add(sub)
        if leaf or not (isinstance(n, Struct) and v and sub[-1].startswith("f:")):
            diff.added_owned.add(sub)


def _removed(value: Any, node: Node, path: Path, diff: _Diff) -> None:
    diff.removed.update(sub for sub, _, _, _ in subtree(value, node, path))


# -- merging and pruning --------------------------------------------------------------------------------


def _fresh(value: Any, node: Node) -> Any:
    """An applied value taking a place of its own: explicit nulls in granular maps are dropped."""
    children = split(value, node)
    if children is None:
        return value
    if isinstance(value, dict):
        return {c.element[2:]: _fresh(c.value, c.node) for c in children if c.value is not None}
    return [_fresh(c.value, c.node) for c in children]


def _merge(live: Any, applied: Any, node: Node) -> Any:
    """`applied` merged onto `live`: maps recursively, list-maps by key (live order, new items appended),
    sets unioned, atomic values replaced; an applied null removes the field."""
    new = split(applied, node)
    old = split(live, node) if new is not None else None
    if new is None or old is None or type(live) is not type(applied):
        return _fresh(applied, node)
    if isinstance(applied, dict):
        out = dict(live)
        for c in new:
            name = c.element[2:]
            if c.value is None:
                out.pop(name, None)
            elif name in out:
                out[name] = _merge(out[name], c.value, c.node)
            else:
                out[name] = _fresh(c.value, c.node)
        return out
    items = list(live)
    index = {c.element: i for i, c in enumerate(old)}
    for c in new:
        at = index.get(c.element)
        if at is None:
            index[c.element] = len(items)
            items.append(_fresh(c.value, c.node))
        elif isinstance(node, ListOf) and node.ssa == "map":
            items[at] = _merge(items[at], c.value, c.node)
    return items


def _emptied(before: Any, after: Any) -> bool:
    return isinstance(before, dict | list) and bool(before) and not after


@dataclass(frozen=True)
class _Pruner:
    """Takes out of an object the fields an applier stopped applying that nobody else owns."""

    remove: frozenset[Path]
    descend: frozenset[Path]  # the paths to remove and their ancestors
    keep: frozenset[Path]  # what someone owns after the apply, and the ancestors of that

    def prune(self, value: Any, node: Node, path: Path, key_fields: tuple[str, ...] = ()) -> Any:
        children = split(value, node)
        if children is None:
            return value
        item_keys = node.ssa_keys if isinstance(node, ListOf) else ()
        kept: list[tuple[str, Any]] = []
        for c in children:
            sub = path + (c.element,)
            if c.element.startswith("f:") and c.element[2:] in key_fields:
                kept.append((c.element, c.value))  # an item that stays keeps its key
            elif sub in self.remove and sub not in self.keep:
                continue
            elif sub in self.descend:
                new = self.prune(c.value, c.node, sub, item_keys)
                if not (_emptied(c.value, new) and sub not in self.keep):
                    kept.append((c.element, new))
            else:
                kept.append((c.element, c.value))
        if isinstance(value, dict):
            return {element[2:]: v for element, v in kept}
        return [v for _, v in kept]


def _without_server_metadata(applied: dict) -> dict:
    out = clone(applied)
    meta = out.get("metadata")
    if isinstance(meta, dict):
        for name in _SERVER_METADATA:
            meta.pop(name, None)
    return out


# -- the two operations ---------------------------------------------------------------------------------


def server_side_apply(live: dict | None, applied: dict, *, manager: str, api_version: str, force: bool,
                      node: Node, subresource: str | None, now: str) -> dict:
    """Return the new object after `manager` applies `applied` (a partial object) onto `live` (None: create).

    The returned object carries updated metadata.managedFields. Raises ApplyConflict when fields other
    managers own would change and not `force`; FieldPathError when `applied` has a list-map item without
    its key fields or duplicate keys."""
    applied = _without_server_metadata(applied)
    mine_now = fields_of(applied, node, strict=True)
    entries = _read_entries(live) or []
    before = _content(live)
    after = _merge(before, applied, node)

    ident = (manager, "Apply", subresource)
    mine = next((e for e in entries if e.ident == ident), None)
    others = [e for e in entries if e.ident != ident]
    owned_by_others = FieldSet(frozenset().union(*(e.fields.paths for e in others)))
    if mine is not None:
        to_remove = mine.fields - mine_now - owned_by_others
        if to_remove:
            keep = (mine_now | owned_by_others).prefixes()
            pruner = _Pruner(to_remove.paths, to_remove.prefixes(), keep)
            after = pruner.prune(after, node, ())

    diff = _Diff()
    _compare(before, after, node, (), diff)
    changed = diff.modified | diff.added
    conflicts = [(e.describe(), path_string(p)) for e in others for p in (e.fields & changed).sorted()]
    if conflicts and not force:
        raise ApplyConflict(conflicts)
    for e in others:
        e.fields = e.fields - diff.removed - changed

    unchanged = _equal(before, after)
    if mine is None:
        entries.append(_Entry(manager, "Apply", api_version, now, subresource, mine_now))
    else:
        same = unchanged and mine.fields == mine_now and mine.api_version == api_version
        mine.fields, mine.api_version = mine_now, api_version
        if not same:
            mine.time = now

    result = after
    metadata = dict(result.get("metadata") or {})
    managed = _write_entries(entries)
    if managed:
        metadata["managedFields"] = managed
    result["metadata"] = metadata
    return result


def track_update(old: dict | None, new: dict, *, manager: str, api_version: str, node: Node,
                 subresource: str | None, now: str) -> list[dict]:
    """managedFields for `new` after a non-apply write (create, PUT, merge/json/strategic patch) by `manager`.

    The manager's operation:Update entry gains every field whose value changed or that was created; those
    fields, and fields that disappeared, are removed from the other managers' sets; empty entries are
    dropped. The starting entries are `new`'s when it carries some (a client writing managedFields
    directly, main resource only), else `old`'s. Returns the list (does not mutate)."""
    entries = _read_entries(new) if subresource is None else None
    if not entries:
        entries = _read_entries(old) or []
    diff = _Diff()
    _compare(_content(old), _content(new), node, (), diff)
    gained = FieldSet(frozenset(diff.modified | diff.added_owned)) - UNTRACKED
    for e in entries:
        e.fields = e.fields - diff.removed - gained
    if gained:
        ident = (manager, "Update", subresource)
        mine = next((e for e in entries if e.ident == ident), None)
        if mine is None:
            entries.append(_Entry(manager, "Update", api_version, now, subresource, gained))
        else:
            mine.fields, mine.api_version, mine.time = mine.fields | gained, api_version, now
    return _write_entries(entries)
