"""Paths to a field of an object: the structured form the diff walks, and the three ways it is written.

Owns `Step` (one hop: a map key or struct field, an item of a keyed list, a value of a set) and its
renderings:

- `readable(steps)`: the path users read in drift reports. RFC 6901 segments (`~` as `~0`, `/` as `~1`), with
  an item of a keyed list written by its key as kube-apiserver writes it in conflict messages, values in JSON:
  `/spec/template/spec/containers[name="main"]/image`, `/spec/ports[port=80,protocol="TCP"]`; a set value as
  `/metadata/finalizers[="example.com/cleanup"]`. Keys the server defaults (a port's `protocol`) are shown.
- `pointer_parts(steps, side)` / `pointer(steps)`: a real RFC 6901 pointer into the live (or desired) object,
  with list indexes, usable in a JSON patch; `-` (append) for an item the live list lacks.
- RFC 6901 helpers: `escape`, `parse_pointer`, `format_pointer`, `resolve`.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

MISSING = object()


@dataclass(frozen=True)
class Step:
    """One hop from a value to a child.

    kind "field": `name` is the map key or struct field.
    kind "item": an item of a keyed (list-map) list; `key` holds its key fields with server defaults filled in,
        `explicit` the key fields the desired item spells out.
    kind "value": an item of a set (a list of unique scalars such as finalizers); `value` is the item.
    `desired_index` / `live_index`: the item's index on each side (None where that side lacks it).
    """

    kind: str = "field"
    name: str = ""
    key: tuple[tuple[str, Any], ...] = ()
    explicit: tuple[str, ...] = ()
    value: Any = None
    desired_index: int | None = None
    live_index: int | None = None

    @classmethod
    def field(cls, name: str) -> Step:
        return cls("field", name=name)

    def index(self, side: str) -> int | None:
        return self.desired_index if side == "desired" else self.live_index


def _json(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def escape(segment: str) -> str:
    """One RFC 6901 reference token: `~` -> `~0`, `/` -> `~1`."""
    return segment.replace("~", "~0").replace("/", "~1")


def readable(steps: Sequence[Step]) -> str:
    """The path as drift reports show it (see the module docstring); "" for the object itself."""
    out = []
    for step in steps:
        if step.kind == "field":
            out.append("/" + escape(step.name))
        elif step.kind == "item":
            out.append("[" + ",".join(f"{k}={_json(v)}" for k, v in step.key) + "]")
        else:
            out.append(f"[={_json(step.value)}]")
    return "".join(out)


def pointer_parts(steps: Sequence[Step], side: str = "live") -> tuple[str | int, ...]:
    """The path as pointer parts into the `side` object ("live" or "desired"): names and list indexes; "-" for
    an item that side lacks."""
    parts: list[str | int] = []
    for step in steps:
        if step.kind == "field":
            parts.append(step.name)
        else:
            index = step.index(side)
            parts.append("-" if index is None else index)
    return tuple(parts)


def format_pointer(parts: Sequence[str | int]) -> str:
    return "".join("/" + escape(str(part)) for part in parts)


def pointer(steps: Sequence[Step], side: str = "live") -> str:
    """An RFC 6901 pointer into the `side` object."""
    return format_pointer(pointer_parts(steps, side))


def parse_pointer(text: str) -> tuple[str, ...]:
    """The reference tokens of an RFC 6901 pointer; ValueError when it is not one."""
    if text == "":
        return ()
    if not text.startswith("/"):
        raise ValueError(f"{text!r} is not a JSON pointer: it must start with '/' (like /spec/replicas)")
    tokens = text[1:].split("/")
    for token in tokens:
        stripped = token.replace("~0", "").replace("~1", "")
        if "~" in stripped:
            raise ValueError(f"{text!r} is not a JSON pointer: '~' must be escaped as ~0 (and '/' as ~1)")
    return tuple(token.replace("~1", "/").replace("~0", "~") for token in tokens)


def resolve(document: Any, parts: Sequence[str | int]) -> Any:
    """The value at `parts` in `document`, or MISSING."""
    value = document
    for part in parts:
        if isinstance(value, dict):
            if str(part) not in value:
                return MISSING
            value = value[str(part)]
        elif isinstance(value, list):
            index = _list_index(part)
            if index is None or index >= len(value):
                return MISSING
            value = value[index]
        else:
            return MISSING
    return value


def _list_index(part: str | int) -> int | None:
    if isinstance(part, int):
        return part if part >= 0 else None
    return int(part) if part.isdigit() else None


def is_prefix(prefix: Sequence[str | int], parts: Sequence[str | int]) -> bool:
    """Whether `prefix` names `parts` or one of its ancestors (indexes compared as text)."""
    return len(prefix) <= len(parts) and all(str(a) == str(b) for a, b in zip(prefix, parts, strict=False))


def set_at(document: Any, parts: Sequence[str | int], value: Any) -> bool:
    """Set the value at `parts` when its parent exists (a map, or a list holding that index); whether it did."""
    if not parts:
        return False
    parent = resolve(document, parts[:-1])
    last = parts[-1]
    if isinstance(parent, dict):
        parent[str(last)] = value
        return True
    index = _list_index(last)
    if isinstance(parent, list) and index is not None and index < len(parent):
        parent[index] = value
        return True
    return False


def without_paths(document: Any, paths: Iterable[Sequence[str | int]]) -> Any:
    """A deep copy of `document` without the values at `paths` (those present). Deeper paths and higher list
    indexes go first, so removing one list item never shifts another that is still to be removed."""
    out = copy.deepcopy(document)
    unique = {tuple(str(p) for p in parts): parts for parts in paths if parts}
    for parts in sorted(unique.values(), key=_removal_order, reverse=True):
        parent = resolve(out, parts[:-1])
        last = parts[-1]
        index = _list_index(last)
        if isinstance(parent, dict):
            parent.pop(str(last), None)
        elif isinstance(parent, list) and index is not None and index < len(parent):
            del parent[index]
    return out


def _removal_order(parts: Sequence[str | int]) -> tuple:
    return (len(parts), tuple((1, _list_index(p) or 0) if _list_index(p) is not None else (0, 0) for p in parts))
