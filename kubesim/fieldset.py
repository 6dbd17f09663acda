"""Field sets: the FieldsV1 ownership sets of server-side apply, and how an object splits into fields.

Owns the set type behind `metadata.managedFields[].fieldsV1` (`FieldSet`), its JSON encoding
(`encode_fields_v1`/`decode_fields_v1`), the kube-apiserver rendering of a path in conflict messages
(`.spec.template.spec.containers[name="nginx"].image`), and the walk that splits an object into fields with
the list/map semantics of `fleetline.schema` (`split`, `fields_of`). It knows nothing of managers,
conflicts or merging: that is `kubesim.managed_fields`.

A path is a tuple of elements spelled as in FieldsV1: `f:<field or map key>`, `k:<compact JSON of a
list-map item's key fields>`, `v:<JSON of a set item>`, `i:<index>`.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from fleetline.schema import SCALAR, ListOf, MapOf, Node, Scalar, Struct, child, item, list_key

Path = tuple[str, ...]

# Never tracked (kube-apiserver strips these exact paths, plus deletion bookkeeping the server writes).
UNTRACKED: frozenset[Path] = frozenset(
    {("f:apiVersion",), ("f:kind",), ("f:metadata",)}
    | {("f:metadata", "f:" + name) for name in (
        "name", "namespace", "uid", "resourceVersion", "generation", "creationTimestamp", "managedFields",
        "selfLink", "deletionTimestamp", "deletionGracePeriodSeconds")}
)


class FieldPathError(ValueError):
    """An applied object SSA cannot split into fields (a list-map item missing its key, duplicate keys)."""


@dataclass(frozen=True)
class FieldSet:
    """A set of owned paths. A path is owned as a leaf, or as a node (`".": {}`) when it also has children."""

    paths: frozenset[Path] = frozenset()

    def __contains__(self, path: object) -> bool:
        return path in self.paths

    def __iter__(self) -> Iterator[Path]:
        return iter(self.paths)

    def __len__(self) -> int:
        return len(self.paths)

    def __bool__(self) -> bool:
        return bool(self.paths)

    def __or__(self, other: FieldSet | Iterable[Path]) -> FieldSet:
        return FieldSet(self.paths | _paths(other))

    def __and__(self, other: FieldSet | Iterable[Path]) -> FieldSet:
        return FieldSet(self.paths & _paths(other))

    def __sub__(self, other: FieldSet | Iterable[Path]) -> FieldSet:
        return FieldSet(self.paths - _paths(other))

    def prefixes(self) -> frozenset[Path]:
        """Every path of the set and every ancestor of one (the root excluded)."""
        return frozenset(p[:n] for p in self.paths for n in range(1, len(p) + 1))

    def sorted(self) -> list[Path]:
        """Paths in FieldsV1 order (fields, then keys, then values, then indexes; depth first)."""
        return sorted(self.paths, key=lambda p: tuple(_element_order(e) for e in p))

    def strings(self) -> list[str]:
        """The paths rendered as kube-apiserver prints them, in order."""
        return [path_string(p) for p in self.sorted()]


def _paths(other: FieldSet | Iterable[Path]) -> frozenset[Path]:
    return other.paths if isinstance(other, FieldSet) else frozenset(other)


def _json(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


_RANK = {"f": 0, "k": 1, "v": 2, "i": 3}


def _element_order(element: str) -> tuple[int, int, str]:
    kind, text = element[0], element[2:]
    if kind == "i":
        return (_RANK[kind], int(text), "")
    return (_RANK.get(kind, 4), 0, text)


# -- FieldsV1 JSON -------------------------------------------------------------------------------------


def encode_fields_v1(fs: FieldSet) -> dict:
    """The FieldsV1 JSON object of a set: leaves `{}`, `".": {}` on owned nodes that have children."""
    tree: dict[str, dict] = {}
    for path in fs.paths:
        node = tree
        for element in path:
            node = node.setdefault(element, {})

    def emit(node: dict[str, dict], prefix: Path) -> dict:
        out: dict[str, dict] = {}
        if node and prefix and prefix in fs.paths:
            out["."] = {}
        for element in sorted(node, key=_element_order):
            out[element] = emit(node[element], prefix + (element,))
        return out

    return emit(tree, ())


def decode_fields_v1(d: dict) -> FieldSet:
    """The set a FieldsV1 JSON object describes. Raises ValueError for a malformed one."""
    if not isinstance(d, dict):
        raise ValueError("fieldsV1 must be a JSON object")
    out: set[Path] = set()

    def walk(node: dict, prefix: Path) -> None:
        for element, sub in node.items():
            if not isinstance(sub, dict):
                raise ValueError(f"fieldsV1: the value of {element!r} must be an object")
            if element == ".":
                if prefix:
                    out.add(prefix)
                continue
            path = prefix + (_canonical_element(element),)
            if sub:
                walk(sub, path)
            else:
                out.add(path)

    walk(d, ())
    return FieldSet(frozenset(out))


def _canonical_element(element: str) -> str:
    kind, sep, text = element.partition(":")
    if not sep or kind not in _RANK:
        raise ValueError(f"fieldsV1: unknown path element {element!r}")
    if kind == "f":
        return element
    if kind == "i":
        if not text.lstrip("-").isdigit():
            raise ValueError(f"fieldsV1: bad index element {element!r}")
        return f"i:{int(text)}"
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ValueError(f"fieldsV1: bad JSON in path element {element!r}") from exc
    if kind == "k" and not isinstance(value, dict):
        raise ValueError(f"fieldsV1: key element {element!r} must hold a JSON object")
    return f"{kind}:{_json(value)}"


def path_string(path: Path) -> str:
    """A path as kube-apiserver prints it in conflicts: `.spec.containers[name="nginx"].image`, list-map
    keys as `[containerPort=80,protocol="TCP"]`, set items as `[="value"]`, list indexes as `[0]`."""
    parts = []
    for element in path:
        kind, text = element[0], element[2:]
        if kind == "f":
            parts.append("." + text)
        elif kind == "k":
            keys = json.loads(text)
            parts.append("[" + ",".join(f"{k}={_json(v)}" for k, v in keys.items()) + "]")
        elif kind == "v":
            parts.append(f"[={text}]")
        else:
            parts.append(f"[{text}]")
    return "".join(parts)


# -- splitting objects into fields ----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Child:
    """One granular child of a value: a struct field, a map entry, a list-map item or a set item."""

    element: str
    value: Any
    node: Node
    member: bool  # apply owns the child node itself, not only its leaves (map keys and list items)


def split(value: Any, node: Node, *, strict: bool = False, path: Path = ()) -> list[Child] | None:
    """The granular children of `value`, or None for a leaf (a scalar, or an atomic struct, map or list).

    A list-map with an item lacking its key or with duplicate keys is a leaf (kept whole) unless `strict`,
    which raises FieldPathError instead (for applied objects)."""
    if isinstance(value, dict):
        if isinstance(node, Scalar | ListOf) or (isinstance(node, Struct | MapOf) and node.atomic):
            return None
        by_key = not isinstance(node, Struct)
        return [Child("f:" + k, v, child(node, k), by_key) for k, v in value.items()]
    if isinstance(value, list) and isinstance(node, ListOf):
        if node.ssa == "map":
            return _items(value, node, strict, path)
        if node.ssa == "set":
            return _values(value, strict, path)
    return None


def _items(value: list, node: ListOf, strict: bool, path: Path) -> list[Child] | None:
    out: list[Child] = []
    seen: set[str] = set()
    item_node = item(node)
    for index, element in enumerate(value):
        key = list_key(node, element)
        missing = [k for k, v in key if v is None] if key is not None else list(node.ssa_keys)
        if missing:
            if strict:
                what = (f'omits key field "{missing[0]}" (and doesn\'t have default value)'
                        if isinstance(element, dict) else "is not an object")
                raise FieldPathError(f"{path_string(path) or '.'}: element {index}: associative list with "
                                     f"keys has an element that {what}")
            return None
        e = "k:" + _json(dict(key))
        if e in seen:
            if strict:
                raise FieldPathError(f"{path_string(path) or '.'}: duplicate entries for key "
                                     f"{path_string((e,))}")
            return None
        seen.add(e)
        out.append(Child(e, element, item_node, True))
    return out


def _values(value: list, strict: bool, path: Path) -> list[Child] | None:
    for index, v in enumerate(value):
        if not isinstance(v, str | int | float | bool):
            if strict:
                raise FieldPathError(f"{path_string(path) or '.'}: element {index}: a set holds only scalars")
            return None
    return [Child("v:" + _json(v), v, SCALAR, True) for v in value]


def fields_of(obj: dict, node: Node, *, strict: bool = False) -> FieldSet:
    """The fields an (applied) object sets, as server-side apply records them: every leaf, every list item
    and map entry (with `"."` when it has children), empty maps; never the UNTRACKED metadata."""
    out: set[Path] = set()
    _collect(obj, node, (), out, strict)
    return FieldSet(frozenset(out) - UNTRACKED)


def _collect(value: Any, node: Node, path: Path, out: set[Path], strict: bool) -> None:
    children = split(value, node, strict=strict, path=path)
    if children is None:
        if path:
            out.add(path)
        return
    for c in children:
        sub = path + (c.element,)
        _collect(c.value, c.node, sub, out, strict)
        if c.member or c.value == {}:
            out.add(sub)


def subtree(value: Any, node: Node, path: Path) -> Iterator[tuple[Path, Any, Node, bool]]:
    """Every node under and including `path`: (path, value, schema node, is a leaf)."""
    children = split(value, node)
    yield path, value, node, children is None
    for c in children or ():
        yield from subtree(c.value, c.node, path + (c.element,))
