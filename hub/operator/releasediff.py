"""The diff of a waiting release: what a newer revision would change on a cluster, field by field, with values.

A release waits when the pipeline holds a newer bundle of an application for a cluster that the cluster does not
run yet: behind a manual gate (pushed, waiting for approvals), behind a sync window, or behind an earlier step
of its rollout. `waiting_release(pipeline, cluster, application)` finds it and the bundle the cluster runs now
(the one pushed before it: the rollout's previous bundle when the new one is already pushed and waits for a
sync request, else what is pushed); `bundle_changes(base, target)` compares the two rendered bundles the hub
already holds, object by object (matched by group, kind, namespace and name; added and removed objects too).

The field-level comparison is the shared core's two-way strategic merge patch
(`fleetline.patch.create_two_way_strategic_merge_patch`, which lines lists up by their merge keys), read back
as one change per field: `{object, path, from, to}`, with paths written as drift reports write them
(`/spec/template/spec/containers[name="server"]/image`; "" for a whole object added or removed). The agent's
declared-field diff (`agent.diff`) compares Git with a live object and cannot be imported by the hub; this
module compares two revisions of Git. Secret values are replaced by the store's redaction rule
(`hub.store.redact`: `<redacted>`), so a changed Secret key shows that it changed, never its value.
"""

from __future__ import annotations

import asyncio
import json
from collections import OrderedDict
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from fleetline.identity import group_of
from fleetline.patch.strategic import DELETE_PRIMITIVES, PATCH, create_two_way_strategic_merge_patch
from fleetline.schema import ListOf, Node, child, item, list_key, schema_for
from fleetline.wire import fleet_pb2
from hub.pipeline import Pipeline
from hub.pipeline.service import same_content
from hub.plan.impact import Pair
from hub.store.redact import redact

_MISSING: Any = object()
CACHE_SIZE = 256  # (base, target) content-hash pairs whose changes are kept

ObjectKey = tuple[str, str, str, str]  # group, kind, namespace, name


@dataclass(frozen=True)
class FieldChange:
    """One field a release changes on one object (`before`/`after` None where that side lacks it)."""

    object: str
    path: str
    before: Any
    after: Any

    def to_dict(self) -> dict:
        return {"object": self.object, "path": self.path, "from": self.before, "to": self.after}


@dataclass(frozen=True)
class WaitingRelease:
    """A newer bundle of an application that a cluster does not run yet, and why it waits."""

    cluster: str
    application: str
    environment: str
    base: fleet_pb2.ApplicationBundle | None  # what the cluster runs now (None: nothing yet)
    target: fleet_pb2.ApplicationBundle
    waiting_on: str  # "approval", "sync window" or "rollout"
    reason: str


def waiting_release(pipeline: Pipeline, cluster: str, application: str) -> WaitingRelease | None:
    """The release of `application` waiting for `cluster`, or None when the cluster has what the pipeline wants."""
    pair = Pair(cluster, application)
    pushed = pipeline.pushed.get(pair)
    rollout = next((r for r in pipeline.rollouts.values() if r.application == application
                    and cluster in r.candidate), None)
    held = pipeline.held.get(pair, "")
    if pushed is not None and pushed.manual and (cluster, application, pushed.revision) not in pipeline.requested:
        # on the agent already, waiting for its sync request: the cluster runs what was pushed before it
        if rollout is None or not same_content(rollout.candidate[cluster], pushed):
            return None  # no record of what came before (a rollout that could not be restored)
        return WaitingRelease(cluster, application, rollout.environment, rollout.previous.get(cluster), pushed,
                              "sync window" if held else "approval", held or "waiting for approval")
    if rollout is None or same_content(rollout.candidate[cluster], pushed):
        return None
    decision = rollout.decision
    if held:
        return WaitingRelease(cluster, application, rollout.environment, pushed, rollout.candidate[cluster],
                              "sync window", held)
    why = (decision.halted_reason or decision.waiting_on) if decision is not None else ""
    phase = decision.phase if decision is not None else ""
    return WaitingRelease(cluster, application, rollout.environment, pushed, rollout.candidate[cluster], "rollout",
                          f"rollout {phase}: {why}".strip(": ") if phase else why)




class ReleaseDiffs:
    """`pending(cluster, application)`: the waiting release's diff as the API shows it, cached by the content
    hashes of the two bundles (a release to many clusters renders the same bundles for most of them)."""

    def __init__(self, pipeline: Pipeline, capacity: int = CACHE_SIZE) -> None:
        self.pipeline = pipeline
        self.capacity = capacity
        self._cache: OrderedDict[tuple[str, str], list[dict]] = OrderedDict()

    def waiting(self, cluster: str, application: str) -> WaitingRelease | None:
        return waiting_release(self.pipeline, cluster, application)

    async def pending(self, cluster: str, application: str) -> dict | None:
        """{revision, from_revision, waiting_on, reason, fields: [{object, path, from, to}]}, or None."""
        release = self.waiting(cluster, application)
        if release is None:
            return None
        return {"revision": release.target.revision,
                "from_revision": release.base.revision if release.base is not None else "",
                "waiting_on": release.waiting_on, "reason": release.reason,
                "fields": await self.changes(release.base, release.target)}

    async def changes(self, base: fleet_pb2.ApplicationBundle | None,
                      target: fleet_pb2.ApplicationBundle) -> list[dict]:
        """The field changes from `base` to `target`, computed in a thread (a large bundle takes a while: the
        hub's sessions must not wait for it) and cached."""
        key = (base.content_hash if base is not None else "", target.content_hash)
        if key not in self._cache:
            computed = await asyncio.to_thread(lambda: [change.to_dict() for change in bundle_changes(base, target)])
            self._cache[key] = computed
            while len(self._cache) > self.capacity:
                self._cache.popitem(last=False)
        self._cache.move_to_end(key)
        return self._cache[key]


# ---- bundles and objects ---------------------------------------------------------------------------------------

def bundle_changes(base: fleet_pb2.ApplicationBundle | None,
                   target: fleet_pb2.ApplicationBundle) -> list[FieldChange]:
    """Every field that differs between the objects of `base` (None: none) and `target`, Secret values redacted:
    changed objects field by field in `target`'s order, then added objects, then removed ones (path "")."""
    before = _objects(base) if base is not None else {}
    after = _objects(target)
    changes: list[FieldChange] = []
    for key, obj in after.items():
        if key in before:
            changes.extend(object_changes(before[key], obj))
    changes.extend(FieldChange(describe(key), "", None, _safe(obj, ())) for key, obj in after.items()
                   if key not in before)
    changes.extend(FieldChange(describe(key), "", _safe(obj, ()), None) for key, obj in before.items()
                   if key not in after)
    return changes


def object_changes(before: dict, after: dict) -> list[FieldChange]:
    """The fields of one object (same identity) that differ between two revisions, Secret values redacted."""
    key = identity(after)
    node = schema_for(key[0], key[1])
    patch = create_two_way_strategic_merge_patch(before, after, node)
    name = describe(key)
    return [FieldChange(name, _readable(steps), _safe(old, steps, after), _safe(new, steps, after))
            for steps, old, new in _flatten(patch, before, after, node, ())]


def identity(obj: dict) -> ObjectKey:
    metadata = obj.get("metadata") if isinstance(obj.get("metadata"), dict) else {}
    return (group_of(str(obj.get("apiVersion") or "")), str(obj.get("kind") or ""),
            str(metadata.get("namespace") or ""), str(metadata.get("name") or ""))


def describe(key: ObjectKey) -> str:
    """`Kind namespace/name` (`Kind name` when cluster-scoped), as drift reports name objects."""
    _, kind, namespace, name = key
    return f"{kind} {namespace}/{name}" if namespace else f"{kind} {name}"


def _objects(bundle: fleet_pb2.ApplicationBundle) -> dict[ObjectKey, dict]:
    objects: dict[ObjectKey, dict] = {}
    for text in bundle.manifests_json:
        obj = json.loads(text)
        if isinstance(obj, dict):
            objects[identity(obj)] = obj
    return objects


# ---- reading the patch back as fields ------------------------------------------------------------------------

Step = tuple[str, Any]  # ("field", name) or ("item", ((key, value), ...))
Found = tuple[tuple[Step, ...], Any, Any]  # path, before, after


def _flatten(patch: dict, before: Any, after: Any, node: Node, steps: tuple[Step, ...]) -> Iterator[Found]:
    """The changed fields a map's patch describes (`before`/`after`: the map on each side)."""
    done: set[str] = set()
    for key, value in patch.items():
        if key.startswith(DELETE_PRIMITIVES):
            key = key[len(DELETE_PRIMITIVES):]  # a set lost values: reported with the list, below
        elif key.startswith("$"):
            continue  # $setElementOrder (an order change is no change for keyed lists and sets), $retainKeys
        if key in done:
            continue
        done.add(key)
        old, new = _get(before, key), _get(after, key)
        here = (*steps, ("field", key))
        sub = child(node, key)
        if isinstance(old, dict) and isinstance(new, dict) and isinstance(value, dict):
            yield from _flatten(value, old, new, sub, here)
        elif _keyed(sub, old, new, value):
            yield from _flatten_keyed(value, old, new, sub, here)
        else:
            yield here, old, new


def _keyed(node: Node, old: Any, new: Any, value: Any) -> bool:
    """Whether the patch merges this list item by item (else it replaces it whole)."""
    if not (isinstance(node, ListOf) and node.smp_key and isinstance(old, list) and isinstance(new, list)):
        return False
    return isinstance(value, list) and not any(isinstance(x, dict) and x.get(PATCH) == "replace" for x in value)


def _flatten_keyed(items: list, old: list, new: list, node: ListOf, steps: tuple[Step, ...]) -> Iterator[Found]:
    """The changed items of a list merged by key: an item added or removed whole, a changed one field by field."""
    merge_key = str(node.smp_key)
    before = {_ident(x.get(merge_key)): x for x in old if isinstance(x, dict)}
    after = {_ident(x.get(merge_key)): x for x in new if isinstance(x, dict)}
    for patch_item in items:
        if not isinstance(patch_item, dict):
            continue
        wanted = _ident(patch_item.get(merge_key))
        was, now = before.get(wanted, _MISSING), after.get(wanted, _MISSING)
        element = now if now is not _MISSING else was
        here = (*steps, ("item", list_key(node, element) or ((merge_key, patch_item.get(merge_key)),)))
        if patch_item.get(PATCH) == "delete" or was is _MISSING or now is _MISSING:
            yield here, was, now
        else:
            changes = {k: v for k, v in patch_item.items() if k != merge_key}
            yield from _flatten(changes, was, now, item(node), here)


def _get(value: Any, key: str) -> Any:
    return value.get(key, _MISSING) if isinstance(value, dict) else _MISSING


def _ident(value: Any) -> str:
    return json.dumps(value, sort_keys=True, default=str)


def _readable(steps: tuple[Step, ...]) -> str:
    """`/a/b[name="x"]/c`: RFC 6901 segments, keyed items by their key as kube-apiserver writes them."""
    out = []
    for kind, value in steps:
        if kind == "field":
            out.append("/" + str(value).replace("~", "~0").replace("/", "~1"))
        else:
            out.append("[" + ",".join(f"{k}={json.dumps(v, separators=(',', ':'))}" for k, v in value) + "]")
    return "".join(out)


# ---- Secret values -------------------------------------------------------------------------------------------

def _safe(value: Any, steps: tuple[Step, ...], obj: dict | None = None) -> Any:
    """`value` (the field at `steps` of `obj`, or a whole object) with Secret values redacted by the store's
    rule: the value is put back where it sits in a bare Secret, redacted there, and read out again."""
    value = None if value is _MISSING else value
    if not steps:
        return redact(value) if isinstance(value, dict) else value
    if obj is None or (obj.get("kind"), obj.get("apiVersion")) != ("Secret", "v1") or value is None:
        return value
    names = [name for kind, name in steps if kind == "field"]
    if len(names) != len(steps):
        return value  # inside a list (owner references, finalizers): no secret value lives there
    fragment: Any = value
    for name in reversed(names):
        fragment = {name: fragment}
    fragment = redact({"apiVersion": "v1", "kind": "Secret", **fragment})
    for name in names:
        fragment = fragment[name]
    return fragment
