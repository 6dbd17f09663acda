"""What the workload controllers share: pod predicates, template hashes, conditions, ownership and claiming.

The controllers themselves live beside this module: `replicasets.py` (ReplicaSet -> Pods), `deployments.py`
and `deployment_status.py` (Deployment -> ReplicaSets), `statefulsets.py`, `daemonsets.py` and
`autoscaling.py` (the HPA). Like
kube-controller-manager, they all write as the field manager `kube-controller-manager` and record events
under their own component names (`deployment-controller`, `replicaset-controller`, ...).
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Iterable

from fleetline.jsoncopy import clone
from kubesim.api import ClusterAPI, WriteOptions
from kubesim.clock import Clock, parse_time
from kubesim.controllers.base import Controller, Key, controller_ref, owner_reference
from kubesim.controllers.events import record_event
from kubesim.resources import ResourceType
from kubesim.selectors import selector_object_matches
from kubesim.store import ResourceKey, WatchEvent

MANAGER = "kube-controller-manager"  # what a real cluster's managedFields show for every built-in controller

PODS: ResourceKey = ("", "pods")
NODES: ResourceKey = ("", "nodes")
PVCS: ResourceKey = ("", "persistentvolumeclaims")
DEPLOYMENTS: ResourceKey = ("apps", "deployments")
REPLICASETS: ResourceKey = ("apps", "replicasets")
STATEFULSETS: ResourceKey = ("apps", "statefulsets")
DAEMONSETS: ResourceKey = ("apps", "daemonsets")
HPAS: ResourceKey = ("autoscaling", "horizontalpodautoscalers")

POD_TEMPLATE_HASH = "pod-template-hash"
CONTROLLER_REVISION_HASH = "controller-revision-hash"

_SAFE_ALPHABET = "bcdfghjklmnpqrstvwxz2456789"  # apimachinery's rand.SafeEncodeString alphabet (no vowels)
TERMINAL_PHASES = ("Succeeded", "Failed")


# -- hashing -------------------------------------------------------------------------------------------------
def _fnv32a(data: bytes) -> int:
    value = 0x811C9DC5
    for byte in data:
        value = ((value ^ byte) * 0x01000193) & 0xFFFFFFFF
    return value


def template_hash(template: dict, collision_count: int | None = None) -> str:
    """A stable short hash of a pod template shaped like kube's (FNV-32a, decimal, safe-encoded: 5d59d67564).

    The value is ours, not byte-identical to kube's (which hashes Go's struct dump); what matters is that it
    is stable: the same template (and collision count) gives the same hash, in every process.
    """
    text = json.dumps(comparable_template(template), sort_keys=True, separators=(",", ":"))
    if collision_count:
        text += f"#{collision_count}"
    return "".join(_SAFE_ALPHABET[ord(ch) % len(_SAFE_ALPHABET)] for ch in str(_fnv32a(text.encode())))


def _pruned(value: object) -> object:
    """`value` without nulls and empty objects or lists, at any depth."""
    if isinstance(value, dict):
        out = {k: _pruned(v) for k, v in value.items()}
        return {k: v for k, v in out.items() if v is not None and v != {} and v != []}
    if isinstance(value, list):
        return [_pruned(v) for v in value]
    return value


def comparable_template(template: dict, ignore_label: str | None = None) -> dict:
    """A pod template as kube's semantic comparison sees it: minus one label (the hash label), and without
    the nulls and empty values a Go client writes for unset fields (`creationTimestamp: null`,
    `resources: {}`), so that a template copied back by `kubectl rollout undo` equals the original."""
    out = _pruned(template)
    assert isinstance(out, dict)
    labels = (out.get("metadata") or {}).get("labels")
    if ignore_label and labels and ignore_label in labels:
        out["metadata"]["labels"] = {k: v for k, v in labels.items() if k != ignore_label}
        if not out["metadata"]["labels"]:
            del out["metadata"]["labels"]
        if not out["metadata"]:
            del out["metadata"]
    return out


# -- pods ----------------------------------------------------------------------------------------------------
def status_condition(status: dict | None, kind: str) -> dict | None:
    """One condition of a `status` dict."""
    for cond in (status or {}).get("conditions") or []:
        if cond.get("type") == kind:
            return cond
    return None


def get_condition(obj: dict, kind: str) -> dict | None:
    """One condition of an object's status."""
    return status_condition(obj.get("status"), kind)


def pod_ready(pod: dict) -> bool:
    cond = get_condition(pod, "Ready")
    return bool(cond) and cond.get("status") == "True"


def pod_running_ready(pod: dict) -> bool:
    return (pod.get("status") or {}).get("phase") == "Running" and pod_ready(pod)


def pod_terminating(pod: dict) -> bool:
    return bool(pod["metadata"].get("deletionTimestamp"))


def pod_active(pod: dict) -> bool:
    """Counted by a controller: not being deleted and not finished (kube's FilterActivePods)."""
    return not pod_terminating(pod) and (pod.get("status") or {}).get("phase") not in TERMINAL_PHASES


def ready_for(pod: dict, clock: Clock) -> float | None:
    """Simulated seconds the pod has been Ready (None when it is not Ready)."""
    if not pod_ready(pod):
        return None
    return clock.elapsed_since((get_condition(pod, "Ready") or {}).get("lastTransitionTime"))


def pod_available(pod: dict, min_ready_seconds: int, clock: Clock) -> bool:
    since = ready_for(pod, clock)
    return since is not None and (min_ready_seconds <= 0 or since >= min_ready_seconds)


def availability_requeue(pods: Iterable[dict], min_ready_seconds: int, clock: Clock) -> float | None:
    """Simulated seconds until the next Ready-but-not-yet-available pod becomes available (None if none)."""
    if min_ready_seconds <= 0:
        return None
    waits = [min_ready_seconds - since for pod in pods
             if (since := ready_for(pod, clock)) is not None and since < min_ready_seconds]
    return max(min(waits), 0.1) if waits else None


def pod_from_template(template: dict, owner: dict, *, labels: dict | None = None) -> dict:
    """A Pod (without a name) from a pod template, controlled by `owner` (kube's GetPodFromTemplate)."""
    meta = template.get("metadata") or {}
    pod_meta: dict = {"labels": {**(meta.get("labels") or {}), **(labels or {})},
                      "ownerReferences": [owner_reference(owner)]}
    if meta.get("annotations"):
        pod_meta["annotations"] = dict(meta["annotations"])
    if meta.get("finalizers"):
        pod_meta["finalizers"] = list(meta["finalizers"])
    return {"apiVersion": "v1", "kind": "Pod", "metadata": pod_meta,
            "spec": clone(template.get("spec") or {})}


def creation_key(obj: dict) -> tuple[str, str]:
    """Sorts oldest first (timestamps are RFC 3339 in UTC, so text order is time order); ties by name."""
    return obj["metadata"].get("creationTimestamp") or "", obj["metadata"]["name"]


def timestamp_seconds(text: str | None) -> float:
    moment = parse_time(text)
    return moment.timestamp() if moment else 0.0


# -- int-or-percent ------------------------------------------------------------------------------------------
def scaled_value(value: object, total: int, round_up: bool, default: int | str = 0) -> int:
    """intstr.GetScaledValueFromIntOrPercent: `3` or `"25%"` of `total`, rounded up or down."""
    if value is None:
        value = default
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, int):
        return value
    text = str(value).strip()
    if text.endswith("%"):
        try:
            percent = int(text[:-1])
        except ValueError:
            return 0
        exact = percent * total / 100
        return math.ceil(exact) if round_up else math.floor(exact)
    try:
        return int(text)
    except ValueError:
        return 0


# -- conditions ----------------------------------------------------------------------------------------------
def set_condition(conditions: list[dict], new: dict) -> bool:
    """Set one condition in place like kube's SetDeploymentCondition: a condition with the same status and
    reason is left alone; otherwise the old one is dropped and the new one appended, keeping the old
    lastTransitionTime when the status did not change."""
    for cond in conditions:
        if cond.get("type") != new["type"]:
            continue
        if cond.get("status") == new["status"] and cond.get("reason") == new.get("reason"):
            return False
        if cond.get("status") == new["status"] and cond.get("lastTransitionTime"):
            new = {**new, "lastTransitionTime": cond["lastTransitionTime"]}
    remove_condition(conditions, new["type"])
    conditions.append(new)
    return True


def remove_condition(conditions: list[dict], kind: str) -> bool:
    kept = [c for c in conditions if c.get("type") != kind]
    changed = len(kept) != len(conditions)
    conditions[:] = kept
    return changed


# -- the base class ------------------------------------------------------------------------------------------
class WorkloadController(Controller):
    """A controller that owns children (Pods or ReplicaSets) through controller ownerReferences.

    Subclasses set `owner_resource`, `owner_kind`, `child_resource` and `component` (the events' source).
    Children are found through the store's owner index; orphans whose labels match an owner's selector are
    adopted, and owned children whose labels stopped matching are released, like kube's ControllerRefManager.
    Scanning for orphans costs a namespace listing, so it only happens when an orphan might exist.
    """

    owner_resource: ResourceKey = ("", "")
    owner_kind = ""
    child_resource: ResourceKey = PODS
    child_kind = ("", "Pod")  # (group, kind) of the children
    component = ""

    def __init__(self, api: ClusterAPI) -> None:
        super().__init__(api)
        self._orphan_hints: set[Key] = set()

    def write_options(self) -> WriteOptions:
        return WriteOptions(manager=MANAGER)

    def event(self, obj: dict, reason: str, message: str, warning: bool = False) -> None:
        record_event(self.api, obj, "Warning" if warning else "Normal", reason, message, self.component)

    def owner_key(self, namespace: str, name: str) -> Key:
        return self.owner_resource, namespace, name

    def load_owner(self, key: Key) -> tuple[ResourceType, dict] | None:
        """The owner `key` names and its type; None, with its orphan hint forgotten, once it is gone."""
        rt = self.api.type(self.owner_resource[0], self.owner_kind)
        owner = self.api.find(rt, key[1], key[2])
        if owner is None:
            self._orphan_hints.discard(key)
            return None
        return rt, owner

    def initial_keys(self) -> Iterable[Key]:
        keys = list(super().initial_keys())
        self._orphan_hints.update(keys)
        return keys

    def keys_for(self, event: WatchEvent) -> Iterable[Key]:
        obj = event.object
        namespace = obj["metadata"].get("namespace") or ""
        if event.resource == self.owner_resource:
            key = self.owner_key(namespace, obj["metadata"]["name"])
            if event.type == "ADDED":
                self._orphan_hints.add(key)
            return [key]
        if event.resource != self.child_resource:
            return []
        keys: list[Key] = []
        for state in (obj, event.old):
            ref = controller_ref(state) if state else None
            if ref and ref.get("kind") == self.owner_kind:
                keys.append(self.owner_key(namespace, ref.get("name", "")))
        orphan = controller_ref(obj) is None and not obj["metadata"].get("deletionTimestamp")
        if event.type != "DELETED" and orphan:
            for owner in self.api.store.list(self.owner_resource, namespace):
                if selector_object_matches_strict(owner.get("spec", {}).get("selector"),
                                                  obj["metadata"].get("labels")):
                    key = self.owner_key(namespace, owner["metadata"]["name"])
                    self._orphan_hints.add(key)
                    keys.append(key)
        return keys

    def claim(self, owner: dict, selector: dict | None, key: Key,
              accept: Callable[[dict], bool] = lambda obj: True) -> list[dict]:
        """The children `owner` controls, after adopting matching orphans and releasing non-matching ones."""
        meta = owner["metadata"]
        uid, namespace = meta["uid"], meta.get("namespace") or ""
        deleting = bool(meta.get("deletionTimestamp"))
        child_rt = self.api.type(*self.child_kind)
        children: list[dict] = []
        for resource, child in self.api.store.dependents(uid):
            ref = controller_ref(child)
            if resource != self.child_resource or not ref or ref.get("uid") != uid or not accept(child):
                continue
            if deleting or child["metadata"].get("deletionTimestamp") or \
                    selector_object_matches_strict(selector, child["metadata"].get("labels")):
                children.append(child)
            else:
                self._set_owner(child_rt, child, None, uid)
        if key in self._orphan_hints:
            self._orphan_hints.discard(key)
            if not deleting:
                for child in self.api.store.list(self.child_resource, namespace):
                    if controller_ref(child) is None and not child["metadata"].get("deletionTimestamp") and \
                            accept(child) and selector_object_matches_strict(selector,
                                                                             child["metadata"].get("labels")):
                        children.append(self._set_owner(child_rt, child, owner, uid))
        return children

    def _set_owner(self, rt: ResourceType, child: dict, owner: dict | None, uid: str) -> dict:
        new = clone(child)
        refs = [r for r in new["metadata"].get("ownerReferences") or [] if r.get("uid") != uid]
        if owner is not None:
            refs.append(owner_reference(owner))
        new["metadata"]["ownerReferences"] = refs
        return self.api.update(rt, child["metadata"].get("namespace") or "", child["metadata"]["name"], new,
                               self.write_options())


def selector_object_matches_strict(selector: dict | None, labels: dict | None) -> bool:
    """Like `selector_object_matches`, except that an empty or missing selector selects nothing (as for
    controllers: an empty selector must never let a workload adopt every pod of its namespace)."""
    if not selector or not (selector.get("matchLabels") or selector.get("matchExpressions")):
        return False
    return selector_object_matches(selector, labels)
