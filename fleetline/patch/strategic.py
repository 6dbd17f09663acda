"""Kubernetes strategic merge patch (`application/strategic-merge-patch+json`) for built-in kinds.

Owns `apply_strategic_merge_patch` and `create_two_way_strategic_merge_patch`. Both walk the object and
its `fleetline.schema` node together (`child` for map entries, `item` for list items); the schema says
which lists merge item by item on a merge key (`ListOf.smp_key`), which lists of scalars take a union
(`ListOf.smp_merge_primitives`, e.g. finalizers) and which maps honour `$retainKeys`. Everything else
follows JSON merge patch: maps merge recursively, `null` deletes, other lists are replaced whole.

Directives understood (apimachinery `strategicpatch`), none of which ever reaches the result:

- in a map: `"$patch": "replace"` (the rest of the map is its new value), `"$patch": "delete"` (the
  map goes away), `"$retainKeys": [...]` (after merging, drop keys not listed),
  `"$setElementOrder/<list>": [...]` (final order of that list), `"$deleteFromPrimitiveList/<list>":
  [...]` (remove those scalars from that list);
- as a list item: `{"<key>": v, "$patch": "delete"}` (remove the item with that key from a keyed
  list), `{"$patch": "replace"}` (the list becomes the patch's other items).

Ordering, simplified from apimachinery: items named by `$setElementOrder` come first in its order, the
rest keep their relative order after them. Without it, matched items stay in place and new ones append.
Inputs are never mutated; the result shares no structure with them.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from fleetline.jsoncopy import clone
from fleetline.patch.merge import PatchError, json_equal
from fleetline.schema import ListOf, Node, Struct, child, item

PATCH = "$patch"
RETAIN_KEYS = "$retainKeys"
SET_ORDER = "$setElementOrder/"
DELETE_PRIMITIVES = "$deleteFromPrimitiveList/"

_MISSING: Any = object()


class _Deleted:
    """Marker returned by a map merge whose patch said `"$patch": "delete"`."""


_DELETED = _Deleted()


def apply_strategic_merge_patch(original: dict, patch: dict, node: Node) -> dict:
    """Apply a strategic merge `patch` to `original`, whose schema root is `node` (`schema_for(...)`).

    Returns a new object; raises `PatchError` for unknown directives or patches of the wrong shape.
    """
    if not isinstance(original, dict):
        raise PatchError(f"a strategic merge patch applies to an object, got {_kind(original)}")
    if not isinstance(patch, dict):
        raise PatchError(f"a strategic merge patch must be an object, got {_kind(patch)}")
    result = _merge_map(clone(original), patch, node, "")
    return {} if result is _DELETED else result


# ---------------------------------------------------------------------------------------------- apply


def _merge_map(owned: dict, patch: dict, node: Node, path: str) -> dict | _Deleted:
    """Merge `patch` into `owned` (a private copy, changed in place) and return it, or `_DELETED`."""
    if PATCH in patch:
        directive = patch[PATCH]
        if directive == "replace":
            return _merge_map({}, {k: v for k, v in patch.items() if k != PATCH}, node, path)
        if directive == "delete":
            return _DELETED
        raise PatchError(f"{_where(path)}: unknown {PATCH} value {directive!r} in a map "
                         "(expected 'replace' or 'delete')")
    orders = _list_directives(patch, SET_ORDER, path)
    deletes = _list_directives(patch, DELETE_PRIMITIVES, path)
    for key, value in patch.items():
        if _is_directive(key) or key in orders or key in deletes:
            continue
        _merge_field(owned, key, value, child(node, key), _at(path, key))
    for field in [*orders, *(f for f in deletes if f not in orders)]:
        _merge_list_field(owned, field, patch.get(field, _MISSING), child(node, field), _at(path, field),
                          order=orders.get(field), deletes=deletes.get(field))
    if RETAIN_KEYS in patch:
        keep = patch[RETAIN_KEYS]
        if not isinstance(keep, list) or not all(isinstance(k, str) for k in keep):
            raise PatchError(f"{_where(path)}: {RETAIN_KEYS} must be a list of field names, got {keep!r}")
        for key in [k for k in owned if k not in keep]:
            del owned[key]
    return owned


def _is_directive(key: str) -> bool:
    return key in (PATCH, RETAIN_KEYS) or key.startswith(SET_ORDER) or key.startswith(DELETE_PRIMITIVES)


def _list_directives(patch: dict, prefix: str, path: str) -> dict[str, list]:
    """The `<prefix><field>: [...]` directives of a map patch, by field name, validated."""
    found: dict[str, list] = {}
    for key, value in patch.items():
        if not key.startswith(prefix):
            continue
        field = key[len(prefix):]
        if not field:
            raise PatchError(f"{_where(path)}: directive {key!r} names no field")
        if not isinstance(value, list):
            raise PatchError(f"{_where(path)}: {key} must be a list, got {_kind(value)}")
        found[field] = value
    return found


def _merge_field(owned: dict, key: str, value: Any, node: Node, path: str) -> None:
    if value is None:
        owned.pop(key, None)
        return
    current = owned.get(key, _MISSING)
    if isinstance(current, dict) and isinstance(value, dict):
        merged = _merge_map(current, value, node, path)
    elif isinstance(current, list) and isinstance(value, list):
        merged = _merge_list(current, value, node, path)
    else:
        merged = _fresh(value, node, path)
    if merged is _DELETED:
        owned.pop(key, None)
    else:
        owned[key] = merged


def _merge_list_field(owned: dict, field: str, value: Any, node: Node, path: str,
                      order: list | None, deletes: list | None) -> None:
    """A list field that comes with `$setElementOrder` and/or `$deleteFromPrimitiveList` directives."""
    if value is None:
        owned.pop(field, None)
        return
    if value is not _MISSING and not isinstance(value, list):
        raise PatchError(f"{path}: the patch orders or deletes list items here but gives {_kind(value)}, "
                         "not a list")
    current = owned.get(field, _MISSING)
    if not isinstance(current, list):
        if value is _MISSING:
            return  # nothing to order or delete from
        current = []
    owned[field] = _merge_list(current, None if value is _MISSING else value, node, path,
                               order=order, deletes=deletes)


def _fresh(value: Any, node: Node, path: str) -> Any:
    """A patch value placed where nothing merges with it: a new copy with its directives applied."""
    if isinstance(value, dict):
        return _merge_map({}, value, node, path)
    if isinstance(value, list):
        return _merge_list([], value, node, path)
    return value


def _merge_list(owned: list, patch: list | None, node: Node, path: str,
                order: list | None = None, deletes: list | None = None) -> list:
    """Merge a patch list (None: only directives) into `owned` by the list's strategy."""
    if isinstance(node, ListOf) and node.smp_key:
        return _merge_keyed(owned, patch, node, node.smp_key, path, order, deletes)
    result = owned
    if deletes:
        drop = {_ident(v) for v in deletes}
        result = [x for x in result if _ident(x) not in drop]
    if patch is not None:
        replace, _, items = _split_special_items(patch, None, path)
        if isinstance(node, ListOf) and node.smp_merge_primitives and not replace:
            result = _union(result, items, path)
        else:  # no merge strategy (or `$patch: replace`): the patch's items are the list
            result = [_fresh(x, item(node), f"{path}[{i}]") for i, x in enumerate(items)]
    if order is not None:
        result = _ordered(result, [_ident(v) for v in order], _ident)
    return result


def _union(owned: list, items: list, path: str) -> list:
    """A merge-strategy list of scalars (finalizers): the original order, then values it lacks."""
    result = list(owned)
    seen = {_ident(x) for x in result}
    for i, value in enumerate(items):
        if isinstance(value, dict | list):
            raise PatchError(f"{path}[{i}]: this list holds scalars, got {_kind(value)}")
        if _ident(value) not in seen:
            seen.add(_ident(value))
            result.append(value)
    return result


def _merge_keyed(owned: list, patch: list | None, node: ListOf, key: str, path: str,
                 order: list | None, deletes: list | None) -> list:
    """Merge a list of objects item by item on `key` (containers by name, ports by containerPort...)."""
    if deletes:
        raise PatchError(f"{path}: {DELETE_PRIMITIVES}{path.rsplit('.', 1)[-1]} applies to lists of scalars; "
                         f"this list holds objects merged by {key!r}")
    result = owned
    item_node = item(node)
    if patch is not None:
        replace, delete_ids, items = _split_special_items(patch, key, path)
        if replace:  # taken as given, like any list that is replaced whole
            result = [_fresh(x, item_node, f"{path}[{i}]") for i, x in enumerate(items)]
        else:
            for i, element in enumerate(items):
                if not isinstance(element, dict):
                    raise PatchError(f"{path}[{i}]: items of this list are objects merged by {key!r}, "
                                     f"got {_kind(element)}")
                if key not in element:
                    raise PatchError(f"{path}[{i}]: item has no merge key {key!r} "
                                     f"(its fields: {_fields(element)})")
            result = [x for x in owned if _key_ident(x, key) not in delete_ids]
            _merge_items_by_key(result, items, item_node, key, path)
    if order is not None:
        for i, entry in enumerate(order):
            if not isinstance(entry, dict) or key not in entry:
                raise PatchError(f"{path}: {SET_ORDER}… item {i} must be an object with the merge key "
                                 f"{key!r}, got {_short(entry)}")
        result = _ordered(result, [_ident(e[key]) for e in order], lambda x: _key_ident(x, key))
    return result


def _merge_items_by_key(result: list, items: list, item_node: Node, key: str, path: str) -> None:
    """Merge patch `items` into `result` in place: into the item with the same key, else appended."""
    index: dict[str, int] = {}
    for i, existing in enumerate(result):
        ident = _key_ident(existing, key)
        if ident is not None:
            index.setdefault(ident, i)
    for element in items:
        ident = _ident(element[key])
        item_path = f"{path}[{key}={_short(element[key])}]"
        position = index.get(ident)
        if position is None:
            index[ident] = len(result)
            result.append(_fresh(element, item_node, item_path))
        else:
            # never `_DELETED`: items carrying `$patch` were split off before merging
            result[position] = _merge_map(result[position], element, item_node, item_path)


def _split_special_items(patch: list, key: str | None, path: str) -> tuple[bool, set[str], list]:
    """Separate `$patch` items from a patch list: (replace the list?, merge-key idents to delete, items)."""
    replace = False
    delete_ids: set[str] = set()
    items = []
    for i, element in enumerate(patch):
        if not isinstance(element, dict) or PATCH not in element:
            items.append(element)
            continue
        directive = element[PATCH]
        if directive == "replace":
            if len(element) > 1:
                raise PatchError(f"{path}[{i}]: a {{\"{PATCH}\": \"replace\"}} list item stands alone "
                                 f"(it replaces the whole list), it also has {_fields(element)}")
            replace = True
        elif directive == "delete":
            if key is None:
                raise PatchError(f"{path}[{i}]: {PATCH}: delete needs a list merged by key, and this list "
                                 "has no merge key (it is replaced whole)")
            if key not in element:
                raise PatchError(f"{path}[{i}]: {PATCH}: delete item has no merge key {key!r} "
                                 f"(its fields: {_fields(element)})")
            delete_ids.add(_ident(element[key]))
        else:
            raise PatchError(f"{path}[{i}]: unknown {PATCH} value {directive!r} in a list item "
                             "(expected 'replace' or 'delete')")
    return replace, delete_ids, items


def _ordered(items: list, names: list[str], ident: Callable[[Any], str | None]) -> list:
    """Items named in `names` first, in that order; the others after them, in their relative order."""
    position: dict[str, int] = {}
    for i, name in enumerate(names):
        position.setdefault(name, i)
    named = [x for x in items if ident(x) in position]
    named.sort(key=lambda x: position[ident(x)])
    return named + [x for x in items if ident(x) not in position]


# ----------------------------------------------------------------------------------------------- diff


def create_two_way_strategic_merge_patch(original: dict, modified: dict, node: Node) -> dict:
    """A strategic merge patch that turns `original` into `modified` (schema root `node`).

    Keyed lists send changed and new items, `{"<key>": v, "$patch": "delete"}` for removed ones and
    `$setElementOrder/<list>`; merge lists of scalars send new values, `$deleteFromPrimitiveList/<list>`
    and `$setElementOrder/<list>`; other lists are sent whole; removed map keys become `null`; maps with
    `retainKeys` get `$retainKeys`. Keyed lists whose items lack the key or repeat it are sent with a
    `{"$patch": "replace"}` item. Like any merge patch it cannot set a value to `null`.
    """
    if not isinstance(original, dict) or not isinstance(modified, dict):
        raise PatchError(f"a strategic merge patch is created between objects, got {_kind(original)} "
                         f"and {_kind(modified)}")
    return _diff_map(original, modified, node)


def _diff_map(original: dict, modified: dict, node: Node) -> dict:
    patch: dict = {key: None for key in original if key not in modified}
    for key, new in modified.items():
        sub_node = child(node, key)
        old = original.get(key, _MISSING)
        if isinstance(old, dict) and isinstance(new, dict):
            sub = _diff_map(old, new, sub_node)
            if sub:
                patch[key] = sub
        elif isinstance(old, list) and isinstance(new, list):
            patch.update(_diff_list(key, old, new, sub_node))
        elif old is _MISSING or not json_equal(old, new):
            patch[key] = _replacement(new, sub_node)
    if patch and isinstance(node, Struct) and node.retain_keys:
        patch[RETAIN_KEYS] = sorted(modified)
    return patch


def _diff_list(key: str, old: list, new: list, node: Node) -> dict:
    """The patch entries (the list and its directives) that turn list `old` into `new`."""
    if json_equal(old, new):
        return {}
    if not isinstance(node, ListOf) or not (node.smp_key or node.smp_merge_primitives):
        return {key: _replacement(new, node)}
    if not (_mergeable(old, node) and _mergeable(new, node)):
        item_node = item(node)
        return {key: [{PATCH: "replace"}, *(_replacement(x, item_node) for x in new)]}
    if node.smp_merge_primitives and not node.smp_key:
        old_ids = {_ident(v) for v in old}
        new_ids = {_ident(v) for v in new}
        entries: dict = {SET_ORDER + key: clone(new)}
        added = [clone(v) for v in new if _ident(v) not in old_ids]
        removed = [clone(v) for v in old if _ident(v) not in new_ids]
        if added:
            entries[key] = added
        if removed:
            entries[DELETE_PRIMITIVES + key] = removed
        return entries
    merge_key = node.smp_key
    item_node = item(node)
    old_by_key = {_ident(x[merge_key]): x for x in old}
    new_ids = {_ident(x[merge_key]) for x in new}
    items = []
    for element in new:
        before = old_by_key.get(_ident(element[merge_key]))
        if before is None:
            items.append(_replacement(element, item_node))
            continue
        changes = _diff_map(before, element, item_node)
        if changes:
            items.append({merge_key: clone(element[merge_key]), **changes})
    for element in old:
        if _ident(element[merge_key]) not in new_ids:
            items.append({merge_key: clone(element[merge_key]), PATCH: "delete"})
    entries = {SET_ORDER + key: [{merge_key: clone(x[merge_key])} for x in new]}
    if items:
        entries[key] = items
    return entries


def _replacement(value: Any, node: Node) -> Any:
    """`value` as a patch value that rebuilds it exactly where nothing merges with it."""
    if isinstance(value, dict):
        return {k: _replacement(v, child(node, k)) for k, v in value.items()}
    if isinstance(value, list):
        item_node = item(node)
        items = [_replacement(x, item_node) for x in value]
        merges = isinstance(node, ListOf) and (node.smp_key or node.smp_merge_primitives)
        if merges and not _mergeable(value, node):
            return [{PATCH: "replace"}, *items]
        return items
    return value


def _mergeable(values: list, node: ListOf) -> bool:
    """Whether merging this list by its strategy keeps it intact: unique keys, or unique scalars."""
    if node.smp_key:
        idents = [_key_ident(x, node.smp_key) for x in values]
        if any(i is None for i in idents) or any(PATCH in x for x in values):
            return False
    else:
        if any(isinstance(x, dict | list) for x in values):
            return False
        idents = [_ident(x) for x in values]
    return len(set(idents)) == len(idents)


# -------------------------------------------------------------------------------------------- helpers


def _ident(value: Any) -> str:
    """A hashable identity for a JSON value (merge-key values, scalars of primitive lists)."""
    return json.dumps(value, sort_keys=True, default=str)


def _key_ident(element: Any, key: str) -> str | None:
    if isinstance(element, dict) and key in element:
        return _ident(element[key])
    return None


def _at(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


def _where(path: str) -> str:
    return path or "(the object)"


def _kind(value: Any) -> str:
    return {dict: "an object", list: "a list", type(None): "null"}.get(type(value), type(value).__name__)


def _fields(element: dict) -> str:
    """The field names of a patch item, for errors (values stay out: they may be sensitive)."""
    return ", ".join(sorted(k for k in element if k != PATCH)) or "none"


def _short(value: Any, limit: int = 80) -> str:
    text = json.dumps(value, sort_keys=True, default=str)
    return text if len(text) <= limit else text[: limit - 1] + "…"
