"""Who wrote a live field: the field managers of `metadata.managedFields` (FieldsV1).

Owns reading FieldsV1 (`f:<field>`, `k:<JSON key of a list-map item>`, `v:<JSON set value>`, `i:<index>`,
`.` for an owned node) and mapping a path into the live object onto it, with the list semantics of
`fleetline.schema`: an item of a keyed list is `k:{...}` with the server's key defaults (a port's protocol),
a set value is `v:...`, and an atomic list, map or struct is owned as one leaf, so a path inside it belongs to
whoever owns the whole.

`manager_of` answers "who last wrote this": of the managers that own the field, the one with the most recent
`time`; on a tie (managedFields times have one-second resolution) an `Update` (an imperative write such as
`kubectl set image`) wins over an `Apply`, then the later entry. Server-side apply moves ownership of a field
to whoever changed its value last, so a `kubectl-set` Update after our Apply owns the image alone.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from agent.diff.compare import group_of
from fleetline.schema import ListOf, MapOf, Node, Scalar, Struct, child, item, list_key, schema_for

_Trie = dict[str, Any]


@dataclass(frozen=True)
class Manager:
    """One managedFields entry: who, how (`Apply` or `Update`), when, and its position in the list."""

    name: str
    operation: str
    time: str
    position: int
    fields: _Trie


@dataclass(frozen=True)
class Ownership:
    """The decoded managedFields of one live object."""

    schema: Node
    managers: tuple[Manager, ...]

    @classmethod
    def of(cls, live: dict | None) -> Ownership:
        """Read `live`'s managedFields; entries that are not FieldsV1 or do not decode are skipped."""
        live = live or {}
        managers = []
        entries = (live.get("metadata") or {}).get("managedFields") or []
        for position, entry in enumerate(entries if isinstance(entries, list) else []):
            if not isinstance(entry, dict) or not isinstance(entry.get("fieldsV1"), dict):
                continue
            trie = _canonical_trie(entry["fieldsV1"])
            if trie is None:
                continue
            managers.append(Manager(str(entry.get("manager") or ""), str(entry.get("operation") or ""),
                                    str(entry.get("time") or ""), position, trie))
        return cls(schema_for(group_of(live), str(live.get("kind") or "")), tuple(managers))

    def owners(self, live: dict, parts: Sequence[str | int]) -> list[Manager]:
        """The managers owning the live field at `parts` (pointer parts into `live`), or an atomic ancestor."""
        elements = field_path(live, parts, self.schema)
        if elements is None:
            return []
        return [manager for manager in self.managers if _owns(manager.fields, elements)]

    def last_writer(self, live: dict, parts: Sequence[str | int]) -> str | None:
        return self.latest(self.owners(live, parts))

    @staticmethod
    def latest(owners: Sequence[Manager]) -> str | None:
        """The most recent of several owners: latest time, then an Update over an Apply, then the later entry."""
        if not owners:
            return None
        return max(owners, key=lambda m: (m.time, m.operation == "Update", m.position)).name


def manager_of(live: dict, pointer_parts: Sequence[str | int]) -> str | None:
    """The field manager that last wrote the live field at `pointer_parts` (names and list indexes into `live`),
    or None when no manager owns it (the field is absent, or the object has no managedFields)."""
    return Ownership.of(live).last_writer(live, pointer_parts)


def field_path(live: dict, parts: Sequence[str | int], schema: Node) -> tuple[str, ...] | None:
    """The FieldsV1 path (canonical elements) of the live field at `parts`, cut at an atomic value; None when
    `parts` does not name a field of `live`."""
    elements: list[str] = []
    value: Any = live
    node = schema
    for part in parts:
        if _atomic(node, value):
            break
        if isinstance(value, dict):
            key = str(part)
            if key not in value:
                return None
            elements.append("f:" + key)
            value, node = value[key], child(node, key)
        elif isinstance(value, list):
            index = int(part) if isinstance(part, int) or str(part).isdigit() else -1
            if not 0 <= index < len(value):
                return None
            element = value[index]
            if isinstance(node, ListOf) and node.ssa == "map":
                key = list_key(node, element)
                if key is None:
                    break
                elements.append("k:" + _canonical_json(dict(key)))
            else:  # a set (atomic lists stopped above)
                elements.append("v:" + _canonical_json(element))
            value, node = element, item(node)
        else:
            return None
    return tuple(elements)


def _atomic(node: Node, value: Any) -> bool:
    if isinstance(value, list):
        return not (isinstance(node, ListOf) and node.ssa in ("map", "set"))
    if isinstance(value, dict):
        return isinstance(node, Scalar | ListOf) or (isinstance(node, Struct | MapOf) and node.atomic)
    return False


def _owns(trie: _Trie, elements: tuple[str, ...]) -> bool:
    node = trie
    for element in elements:
        if element not in node:
            return False
        node = node[element]
        if not node:  # a leaf: owned whole, everything under it included
            return True
    return "." in node or not node


def _canonical_json(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def _canonical_trie(fields: dict) -> _Trie | None:
    out: _Trie = {}
    for element, sub in fields.items():
        if not isinstance(sub, dict):
            return None
        if element == ".":
            out["."] = {}
            continue
        name = _canonical_element(element)
        inner = _canonical_trie(sub)
        if name is None or inner is None:
            return None
        out[name] = inner
    return out


def _canonical_element(element: str) -> str | None:
    kind, sep, text = element.partition(":")
    if not sep:
        return None
    if kind in ("f", "i"):
        return element
    if kind in ("k", "v"):
        try:
            return f"{kind}:{_canonical_json(json.loads(text))}"
        except json.JSONDecodeError:
            return None
    return None
