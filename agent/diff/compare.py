"""The walk over the fields Git declares: every declared leaf of the desired object beside its live value.

Owns which fields are compared and how lists line up. Only what the desired object declares is visited, so a
field the server defaults or another controller adds is never compared. Never visited: `apiVersion`, `kind`,
`status`, the object's name and namespace (its identity), server-populated metadata (`uid`,
`resourceVersion`, `managedFields`, ...) and kubectl's last-applied annotation. A desired `null`, `{}` or
`[]` declares nothing (kube-apiserver drops explicit nulls; server-side apply of an empty map or keyed list
owns no entry in it), except for an atomic list, which is owned whole.

Lists follow the list semantics of the built-in kinds in `fleetline.schema` (the API server's
strategic-merge and server-side-apply keys):

- keyed lists (containers, initContainers and volumes by name, container ports by containerPort+protocol,
  env by name, volumeMounts by mountPath, imagePullSecrets by name, Service ports by port+protocol, ...):
  a desired item is matched with the live item of the same key wherever it sits, so order never matters.
  A live item no desired item names (a sidecar a mutating webhook injected) is not a declared field and so
  is **not drift**: server-side apply leaves it to its own manager, and re-applying would not remove it.
  A desired item the live list lacks is one leaf (the whole item).
- sets (finalizers): each desired value must be present; extra live values are not drift.
- atomic lists (everything else: command, args, tolerations, a HorizontalPodAutoscaler's metrics, lists of
  custom resources): one leaf for the whole list, equal when both have the same length and each desired item
  equals the live item at the same index (inside an item, keys only the live side has are defaults).
- atomic maps (nodeSelector, a Service's selector): one leaf, equal when the non-empty keys are the same.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from agent.diff.normalize import (
    IDENTITY_METADATA,
    SERVER_ANNOTATIONS,
    SERVER_METADATA,
    is_zero,
    scalars_equal,
    values_equal,
)
from agent.diff.paths import MISSING, Step
from fleetline.schema import ListOf, MapOf, Node, Scalar, Struct, child, item, list_key, schema_for

_TOP_LEVEL_SKIPPED = frozenset({"apiVersion", "kind", "status"})


@dataclass(frozen=True)
class Leaf:
    """One declared field: its path, desired value, live value (MISSING when live lacks it), and whether the two
    are equal once normalised. `mode` says how it was compared: "scalar", "whole" (an atomic list or struct,
    or a keyed item the live list lacks) or "map" (an atomic map); `field` and `parent` are its key and its
    map's key, which decide quantity and int-or-string normalisation."""

    steps: tuple[Step, ...]
    desired: Any
    live: Any
    equal: bool
    mode: str = "scalar"
    field: str = ""
    parent: str = ""

    def recheck(self, desired: Any, live: Any) -> bool:
        """Whether other values for this leaf (the same values with ignored parts removed) would be equal."""
        if self.mode == "map":
            return _atomic_maps_equal(desired, live, self.field)
        if live is MISSING:
            if self.steps and self.steps[-1].kind in ("item", "value"):
                return False  # removing parts of a missing list item does not make it present
            live = None
        return values_equal(desired, live, self.field, self.parent)


def group_of(obj: dict) -> str:
    """The API group of an object from its apiVersion (`apps/v1` -> `apps`, `v1` -> core `""`)."""
    api_version = str(obj.get("apiVersion") or "")
    return api_version.split("/", 1)[0] if "/" in api_version else ""


def declared_leaves(desired: dict, live: dict | None) -> Iterator[Leaf]:
    """Every field `desired` declares, with the live value beside it (`live` None: every live value MISSING)."""
    node = schema_for(group_of(desired), str(desired.get("kind") or ""))
    yield from _walk(desired, MISSING if live is None else live, node, (), "", "")


def _skipped(steps: tuple[Step, ...], key: str) -> bool:
    names = tuple(step.name for step in steps)
    if not names:
        return key in _TOP_LEVEL_SKIPPED
    if names == ("metadata",):
        return key in SERVER_METADATA or key in IDENTITY_METADATA
    return names == ("metadata", "annotations") and key in SERVER_ANNOTATIONS


def _walk(d: Any, live: Any, node: Node, steps: tuple[Step, ...], field: str, parent: str) -> Iterator[Leaf]:
    if d is None:
        return
    if isinstance(d, dict):
        yield from _walk_dict(d, live, node, steps, field)
    elif isinstance(d, list):
        yield from _walk_list(d, live, node, steps, field, parent)
    else:
        equal = is_zero(d) if live is MISSING or live is None else scalars_equal(d, live, field, parent)
        yield Leaf(steps, d, live, equal, "scalar", field, parent)


def _walk_dict(d: dict, live: Any, node: Node, steps: tuple[Step, ...], field: str) -> Iterator[Leaf]:
    if isinstance(node, MapOf) and node.atomic:
        yield Leaf(steps, d, live, _atomic_maps_equal(d, live, field), "map", field)
        return
    if isinstance(node, Scalar) or (isinstance(node, Struct) and node.atomic):
        yield Leaf(steps, d, live, values_equal(d, None if live is MISSING else live, field), "whole", field)
        return
    if live is not MISSING and live is not None and not isinstance(live, dict):
        yield Leaf(steps, d, live, False, "whole", field)  # a map where the server holds something else
        return
    for key, value in d.items():
        if _skipped(steps, key):
            continue
        live_value = live.get(key, MISSING) if isinstance(live, dict) else MISSING
        yield from _walk(value, live_value, child(node, key), steps + (Step.field(key),), key, field)


def _atomic_maps_equal(d: dict, live: Any, field: str) -> bool:
    live_map = live if isinstance(live, dict) else {}
    if live is not MISSING and live is not None and not isinstance(live, dict):
        return False
    wanted = {k for k, v in d.items() if not is_zero(v)}
    present = {k for k, v in live_map.items() if not is_zero(v)}
    return wanted == present and all(values_equal(d[k], live_map[k], k, field) for k in wanted)


def _walk_list(d: list, live: Any, node: Node, steps: tuple[Step, ...], field: str, parent: str) -> Iterator[Leaf]:
    live_list = live if isinstance(live, list) else None
    if live is not MISSING and live is not None and live_list is None:
        yield Leaf(steps, d, live, False, "whole", field, parent)  # a list where the server holds something else
        return
    if isinstance(node, ListOf) and node.ssa in ("map", "set") and not d:
        return  # an empty keyed list or set owns no item
    if isinstance(node, ListOf) and node.ssa == "map" and _keys(d, node) is not None:
        yield from _walk_keyed(d, live_list or [], node, steps, field)
    elif isinstance(node, ListOf) and node.ssa == "set" and _all_scalars(d):
        yield from _walk_set(d, live_list or [], steps, field, parent)
    else:
        yield Leaf(steps, d, live, values_equal(d, live_list, field, parent), "whole", field, parent)


def _keys(items: list, node: ListOf) -> list[tuple[tuple[str, Any], ...]] | None:
    """The key of each item (server defaults filled in), or None when some item has no complete key or two
    share one (the list is then compared whole)."""
    keys = []
    for element in items:
        key = list_key(node, element)
        if key is None or any(value is None for _, value in key):
            return None
        keys.append(key)
    return keys if len(set(keys)) == len(keys) else None


def _walk_keyed(d: list, live: list, node: ListOf, steps: tuple[Step, ...], field: str) -> Iterator[Leaf]:
    live_index: dict[tuple, int] = {}
    for index, element in enumerate(live):
        key = list_key(node, element)
        if key is not None:
            live_index.setdefault(key, index)
    item_node = item(node)
    for index, (element, key) in enumerate(zip(d, _keys(d, node) or [], strict=True)):
        explicit = tuple(name for name, _ in key if name in element)
        found = live_index.get(key)
        step = Step("item", key=key, explicit=explicit, desired_index=index, live_index=found)
        if found is None:
            yield Leaf(steps + (step,), element, MISSING, False, "whole", field)
        else:
            yield from _walk(element, live[found], item_node, steps + (step,), field, field)


def _all_scalars(values: list) -> bool:
    return all(isinstance(v, str | int | float | bool) for v in values)


def _walk_set(d: list, live: list, steps: tuple[Step, ...], field: str, parent: str) -> Iterator[Leaf]:
    for index, value in enumerate(d):
        found = next((i for i, v in enumerate(live) if scalars_equal(value, v, field, parent)), None)
        step = Step("value", value=value, desired_index=index, live_index=found)
        yield Leaf(steps + (step,), value, MISSING if found is None else live[found], found is not None, "scalar",
                   field, parent)
