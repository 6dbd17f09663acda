"""The Deployment controller: rolls a Deployment's pod template out through ReplicaSets, as kube's does.

Each distinct template gets a ReplicaSet `<deployment>-<pod-template-hash>` whose selector and template carry
the `pod-template-hash` label. RollingUpdate scales the new ReplicaSet up and the old ones down within
`maxSurge` (rounded up) and `maxUnavailable` (rounded down), judging availability from the ReplicaSets'
status; Recreate scales every old ReplicaSet to zero and waits for their pods to be gone first. Revisions
(`deployment.kubernetes.io/revision`) grow by one per new template; going back to an older template reuses
its ReplicaSet with the next revision (the old number goes to `revision-history`). Scaling a Deployment in
the middle of a rollout spreads the change proportionally over its ReplicaSets (the `desired-replicas` and
`max-replicas` annotations record the size each ReplicaSet was last scaled for). Paused Deployments scale
but do not roll out; old ReplicaSets beyond `revisionHistoryLimit` are deleted once they are empty.

Status goes through the status subresource: counts from the ReplicaSets, the `Available` condition, and the
`Progressing` condition whose `lastUpdateTime` moves on every sign of progress; when none is seen for
`progressDeadlineSeconds` of simulated time the rollout is marked `ProgressDeadlineExceeded`.
"""

from __future__ import annotations

import copy
from collections.abc import Iterable

from kubesim.controllers.base import Key, controller_ref, owner_reference
from kubesim.controllers.workloads import (
    DEPLOYMENTS,
    POD_TEMPLATE_HASH,
    PODS,
    REPLICASETS,
    TERMINAL_PHASES,
    WorkloadController,
    creation_key,
    get_condition,
    remove_condition,
    scaled_value,
    set_condition,
    template_hash,
    without_label,
)
from kubesim.errors import ApiError
from kubesim.resources import ResourceType
from kubesim.store import WatchEvent

REVISION = "deployment.kubernetes.io/revision"
REVISION_HISTORY = "deployment.kubernetes.io/revision-history"
DESIRED_REPLICAS = "deployment.kubernetes.io/desired-replicas"
MAX_REPLICAS = "deployment.kubernetes.io/max-replicas"
LAST_APPLIED = "kubectl.kubernetes.io/last-applied-configuration"
_NOT_COPIED = {LAST_APPLIED, REVISION, REVISION_HISTORY, DESIRED_REPLICAS, MAX_REPLICAS,
               "deprecated.deployment.rollback.to"}
MAX_REVISION_HISTORY_CHARS = 2000
NO_DEADLINE = 2**31 - 1  # progressDeadlineSeconds of MaxInt32 means "never"

# Condition reasons (kube's deployment util)
NEW_RS_CREATED = "NewReplicaSetCreated"
FOUND_NEW_RS = "FoundNewReplicaSet"
RS_UPDATED = "ReplicaSetUpdated"
NEW_RS_AVAILABLE = "NewReplicaSetAvailable"
TIMED_OUT = "ProgressDeadlineExceeded"
PAUSED = "DeploymentPaused"
RESUMED = "DeploymentResumed"
FAILED_RS_CREATE = "ReplicaSetCreateError"


def replicas_of(obj: dict) -> int:
    return int((obj.get("spec") or {}).get("replicas", 1) or 0)


def status_count(obj: dict | None, field: str) -> int:
    return int(((obj or {}).get("status") or {}).get(field) or 0)


def revision_of(rs: dict) -> int:
    try:
        return int((rs["metadata"].get("annotations") or {}).get(REVISION, "0"))
    except ValueError:
        return 0


def _annotation_int(rs: dict, name: str) -> int | None:
    try:
        return int((rs["metadata"].get("annotations") or {})[name])
    except (KeyError, ValueError):
        return None


def is_rolling(d: dict) -> bool:
    return ((d.get("spec") or {}).get("strategy") or {}).get("type", "RollingUpdate") == "RollingUpdate"


def fenceposts(d: dict) -> tuple[int, int]:
    """(maxSurge, maxUnavailable) resolved against spec.replicas (both zero would stall: unavailable is 1)."""
    replicas = replicas_of(d)
    rolling = ((d.get("spec") or {}).get("strategy") or {}).get("rollingUpdate") or {}
    surge = scaled_value(rolling.get("maxSurge"), replicas, round_up=True, default="25%")
    unavailable = scaled_value(rolling.get("maxUnavailable"), replicas, round_up=False, default="25%")
    if surge == 0 and unavailable == 0:
        unavailable = 1
    return max(surge, 0), max(unavailable, 0)


def max_surge(d: dict) -> int:
    return fenceposts(d)[0] if is_rolling(d) else 0


def max_unavailable(d: dict) -> int:
    replicas = replicas_of(d)
    if not is_rolling(d) or replicas == 0:
        return 0
    return min(fenceposts(d)[1], replicas)


def progress_deadline(d: dict) -> int | None:
    value = (d.get("spec") or {}).get("progressDeadlineSeconds", 600)
    return None if value is None or value >= NO_DEADLINE else int(value)


def active(rss: Iterable[dict]) -> list[dict]:
    return [rs for rs in rss if replicas_of(rs) > 0]


def spec_total(rss: Iterable[dict]) -> int:
    return sum(replicas_of(rs) for rs in rss)


def status_total(rss: Iterable[dict], field: str) -> int:
    return sum(status_count(rs, field) for rs in rss)


class DeploymentController(WorkloadController):
    name = "deployment-controller"
    component = "deployment-controller"
    watches = (DEPLOYMENTS, REPLICASETS, PODS)
    owner_resource = DEPLOYMENTS
    owner_kind = "Deployment"
    child_resource = REPLICASETS
    child_kind = ("apps", "ReplicaSet")

    def keys_for(self, event: WatchEvent) -> Iterable[Key]:
        if event.resource != PODS:
            return super().keys_for(event)
        # Only Recreate cares about pods: it waits for the old ones to be gone.
        ref = controller_ref(event.object)
        if event.type != "DELETED" or not ref or ref.get("kind") != "ReplicaSet":
            return []
        namespace = event.object["metadata"].get("namespace") or ""
        rs = self.api.store.get(REPLICASETS, namespace, ref.get("name", ""))
        owner = controller_ref(rs) if rs else None
        if owner and owner.get("kind") == "Deployment":
            return [self.owner_key(namespace, owner.get("name", ""))]
        return []

    def reconcile(self, key: Key) -> float | None:
        _, namespace, name = key
        rt = self.api.type("apps", "Deployment")
        d = self.api.find(rt, namespace, name)
        if d is None:
            self._orphan_hints.discard(key)
            return None
        rss = self.claim(d, (d.get("spec") or {}).get("selector"), key)
        return _Sync(self, rt, d, rss).run()


class _Sync:
    """One pass of the deployment controller over one Deployment (kube's syncDeployment)."""

    def __init__(self, ctl: DeploymentController, rt: ResourceType, d: dict, rss: list[dict]) -> None:
        self.ctl, self.api, self.rt, self.d = ctl, ctl.api, rt, d
        self.rs_rt = self.api.type("apps", "ReplicaSet")
        self.rss = {rs["metadata"]["name"]: rs for rs in rss}
        self.stored_status = d.get("status") or {}
        self.status = copy.deepcopy(self.stored_status)  # the working status (conditions change in place)
        self.status.setdefault("conditions", [])
        self.replicas = replicas_of(d)
        self.deadline = progress_deadline(d)
        self.now = self.api.clock.timestamp()

    # -- the top level ---------------------------------------------------------------------------------------
    def run(self) -> float | None:
        spec = self.d.get("spec") or {}
        if self.d["metadata"].get("deletionTimestamp"):
            new, old = self.new_and_old(create=False)
            self.write_status(self.calculate_status(new, old))
            return None
        self.check_paused_conditions()
        if spec.get("paused"):
            return self.sync(cleanup=True)
        if self.is_scaling_event():
            return self.sync(cleanup=False)
        if is_rolling(self.d):
            return self.rollout_rolling()
        return self.rollout_recreate()

    def sync(self, cleanup: bool) -> float | None:
        """Scale without rolling out (paused Deployments and scaling events)."""
        new, old = self.new_and_old(create=False)
        self.scale(new, old)
        new, old = self.refresh(new), [self.refresh(rs) for rs in old]
        if cleanup:
            self.cleanup(old)
        self.write_status(self.calculate_status(new, old))
        return None

    def rollout_rolling(self) -> float | None:
        new, old = self.new_and_old(create=True)
        if new is None:
            return self.finish(new, old)
        if not self.reconcile_new(new, old) and not self.reconcile_old(self.refresh(new), old) and \
                self.complete(self.stored_status):
            self.cleanup(old)
        return self.finish(self.refresh(new), [self.refresh(rs) for rs in old])

    def rollout_recreate(self) -> float | None:
        new, old = self.new_and_old(create=False)
        scaled = False
        for rs in active(old):
            self.scale_rs(rs, 0)
            scaled = True
        if scaled or self.old_pods_running(new, old):
            return self.finish(new, [self.refresh(rs) for rs in old])
        if new is None:
            new, old = self.new_and_old(create=True)
        if new is not None:
            self.scale_rs(new, self.replicas)
            new = self.refresh(new)
        if self.complete(self.stored_status):
            self.cleanup(old)
        return self.finish(new, old)

    def finish(self, new: dict | None, old: list[dict]) -> float | None:
        status = self.sync_rollout_status(new, old)
        self.write_status(status)
        return self.requeue_stuck(status)

    # -- replica sets: finding, creating, scaling ------------------------------------------------------------
    def refresh(self, rs: dict | None) -> dict | None:
        if rs is None:
            return None
        return self.rss.get(rs["metadata"]["name"], rs)

    def template(self) -> dict:
        return without_label((self.d.get("spec") or {}).get("template") or {}, POD_TEMPLATE_HASH)

    def find_new(self) -> dict | None:
        """The oldest ReplicaSet whose template equals the Deployment's (ignoring the hash label); failing
        that, the one labelled with the current hash (so a template the API server normalises differently
        can never make the controller create ReplicaSets forever)."""
        wanted = self.template()
        ordered = sorted(self.rss.values(), key=creation_key)
        for rs in ordered:
            if without_label((rs.get("spec") or {}).get("template") or {}, POD_TEMPLATE_HASH) == wanted:
                return rs
        current = template_hash(wanted, self.status.get("collisionCount"))
        for rs in ordered:
            if (rs["metadata"].get("labels") or {}).get(POD_TEMPLATE_HASH) == current:
                return rs
        return None

    def new_and_old(self, create: bool) -> tuple[dict | None, list[dict]]:
        new = self.find_new()
        new_name = new["metadata"]["name"] if new is not None else None
        old = [rs for rs in self.rss.values() if rs["metadata"]["name"] != new_name]
        max_old = max((revision_of(rs) for rs in old), default=0)
        if new is not None:
            new = self.sync_existing_new(new, max_old + 1)
        elif create:
            new = self.create_new(old, max_old + 1)
        return new, sorted(old, key=creation_key)

    def _copy_annotations(self, rs: dict) -> bool:
        annotations = rs["metadata"].setdefault("annotations", {})
        changed = False
        for key, value in (self.d["metadata"].get("annotations") or {}).items():
            if key not in _NOT_COPIED and annotations.get(key) != value:
                annotations[key] = value
                changed = True
        return changed

    def _set_revision(self, rs: dict, revision: int) -> bool:
        annotations = rs["metadata"].setdefault("annotations", {})
        had = annotations.get(REVISION)
        current = revision_of(rs)
        if current >= revision:
            return False
        annotations[REVISION] = str(revision)
        if had:  # a rollback to this template: keep the numbers it had
            history = [h for h in (annotations.get(REVISION_HISTORY) or "").split(",") if h] + [had]
            while len(",".join(history)) > MAX_REVISION_HISTORY_CHARS and len(history) > 1:
                history.pop(0)
            annotations[REVISION_HISTORY] = ",".join(history)
        return True

    def _set_replica_annotations(self, rs: dict) -> bool:
        annotations = rs["metadata"].setdefault("annotations", {})
        wanted = {DESIRED_REPLICAS: str(self.replicas), MAX_REPLICAS: str(self.replicas + max_surge(self.d))}
        if all(annotations.get(k) == v for k, v in wanted.items()):
            return False
        annotations.update(wanted)
        return True

    def sync_existing_new(self, rs: dict, revision: int) -> dict:
        rs_copy = copy.deepcopy(rs)
        changed = self._copy_annotations(rs_copy)
        changed = self._set_revision(rs_copy, revision) or changed
        min_ready = (self.d.get("spec") or {}).get("minReadySeconds") or 0
        if ((rs_copy.get("spec") or {}).get("minReadySeconds") or 0) != min_ready:
            rs_copy["spec"]["minReadySeconds"] = min_ready
            changed = True
        if changed:
            rs = self.update_rs(rs_copy)
        self.set_deployment_revision(rs)
        if self.deadline is not None and get_condition(self.status, "Progressing") is None:
            self.set_progressing("True", FOUND_NEW_RS, f'Found new replica set "{rs["metadata"]["name"]}"')
        return rs

    def create_new(self, old: list[dict], revision: int) -> dict | None:
        d, meta = self.d, self.d["metadata"]
        template = copy.deepcopy(self.template())
        pod_hash = template_hash(template, self.status.get("collisionCount"))
        template.setdefault("metadata", {}).setdefault("labels", {})[POD_TEMPLATE_HASH] = pod_hash
        selector = copy.deepcopy((d.get("spec") or {}).get("selector") or {})
        selector.setdefault("matchLabels", {})[POD_TEMPLATE_HASH] = pod_hash
        name = f"{meta['name']}-{pod_hash}"
        rs = {"apiVersion": "apps/v1", "kind": "ReplicaSet",
              "metadata": {"name": name, "namespace": meta.get("namespace"),
                           "labels": dict(template["metadata"]["labels"]),
                           "ownerReferences": [owner_reference(d)]},
              "spec": {"replicas": 0, "minReadySeconds": (d.get("spec") or {}).get("minReadySeconds") or 0,
                       "selector": selector, "template": template}}
        rs["spec"]["replicas"] = self.new_rs_replicas(old, rs)
        self._copy_annotations(rs)
        self._set_revision(rs, revision)
        self._set_replica_annotations(rs)
        namespace = meta.get("namespace") or ""
        try:
            created = self.api.create(self.rs_rt, namespace, rs, self.ctl.write_options())
        except ApiError as exc:
            if exc.code == 409 and exc.reason == "AlreadyExists":
                return self._collided(name)
            if exc.code == 403:  # the namespace is terminating: nothing to do
                return None
            message = f'Failed to create new replica set "{name}": {exc.message}'
            if self.deadline is not None:
                self.set_progressing("False", FAILED_RS_CREATE, message)
            self.ctl.event(d, FAILED_RS_CREATE, message, warning=True)
            return None
        self.rss[name] = created
        if replicas_of(created):
            self.ctl.event(d, "ScalingReplicaSet",
                           f"Scaled up replica set {name} from 0 to {replicas_of(created)}")
        self.set_deployment_revision(created)
        if self.deadline is not None:
            self.set_progressing("True", NEW_RS_CREATED, f'Created new replica set "{name}"')
        return created

    def _collided(self, name: str) -> dict | None:
        """A ReplicaSet of that name exists: ours with our template (use it), or a hash collision."""
        existing = self.api.find(self.rs_rt, self.d["metadata"].get("namespace") or "", name)
        ref = controller_ref(existing) if existing else None
        if existing is not None and ref and ref.get("uid") == self.d["metadata"]["uid"] and without_label(
                (existing.get("spec") or {}).get("template") or {}, POD_TEMPLATE_HASH) == self.template():
            self.rss[name] = existing
            return existing
        self.status["collisionCount"] = int(self.status.get("collisionCount") or 0) + 1
        self.write_status(self.status)
        raise ApiError(409, "Conflict", f"replica set {name} collides with an existing one; retrying")

    def new_rs_replicas(self, old: list[dict], new: dict) -> int:
        """How big the new ReplicaSet may be now (kube's NewRSNewReplicas)."""
        if not is_rolling(self.d):
            return self.replicas
        rolling = ((self.d.get("spec") or {}).get("strategy") or {}).get("rollingUpdate") or {}
        surge = scaled_value(rolling.get("maxSurge"), self.replicas, round_up=True, default="25%")
        current = spec_total(old) + replicas_of(new)
        max_total = self.replicas + surge
        if current >= max_total:
            return replicas_of(new)
        return replicas_of(new) + min(max_total - current, self.replicas - replicas_of(new))

    def update_rs(self, rs: dict) -> dict:
        meta = rs["metadata"]
        updated = self.api.update(self.rs_rt, meta.get("namespace") or "", meta["name"], rs,
                                  self.ctl.write_options())
        self.rss[updated["metadata"]["name"]] = updated
        return updated

    def scale_rs(self, rs: dict, size: int) -> bool:
        """Scale one ReplicaSet (and refresh its replica annotations); records ScalingReplicaSet."""
        rs = self.refresh(rs)
        before = replicas_of(rs)
        rs_copy = copy.deepcopy(rs)
        annotations_changed = self._set_replica_annotations(rs_copy)
        if before == size and not annotations_changed:
            return False
        rs_copy.setdefault("spec", {})["replicas"] = size
        updated = self.update_rs(rs_copy)
        if before != size:
            verb = "up" if size > before else "down"
            self.ctl.event(self.d, "ScalingReplicaSet",
                           f"Scaled {verb} replica set {updated['metadata']['name']} from {before} to {size}")
        return True

    def set_deployment_revision(self, rs: dict) -> None:
        revision = (rs["metadata"].get("annotations") or {}).get(REVISION)
        annotations = self.d["metadata"].get("annotations") or {}
        if not revision or annotations.get(REVISION) == revision:
            return
        d = copy.deepcopy(self.d)
        d["metadata"].setdefault("annotations", {})[REVISION] = revision
        self.d = self.api.update(self.rt, d["metadata"].get("namespace") or "", d["metadata"]["name"], d,
                                 self.ctl.write_options())

    # -- rolling update --------------------------------------------------------------------------------------
    def reconcile_new(self, new: dict, old: list[dict]) -> bool:
        if replicas_of(new) == self.replicas:
            return False
        if replicas_of(new) > self.replicas:
            return self.scale_rs(new, self.replicas)
        return self.scale_rs(new, self.new_rs_replicas(old, new))

    def reconcile_old(self, new: dict, old: list[dict]) -> bool:
        old = [self.refresh(rs) for rs in active(old)]
        if spec_total(old) == 0:
            return False
        all_pods = spec_total(old) + replicas_of(new)
        min_available = self.replicas - max_unavailable(self.d)
        new_unavailable = replicas_of(new) - status_count(new, "availableReplicas")
        max_scaled_down = all_pods - min_available - new_unavailable
        if max_scaled_down <= 0:
            return False
        # Unhealthy old replicas go first, or they would block the rollout forever.
        cleaned = 0
        for rs in sorted(old, key=creation_key):
            if cleaned >= max_scaled_down:
                break
            rs = self.refresh(rs)
            unhealthy = replicas_of(rs) - status_count(rs, "availableReplicas")
            if replicas_of(rs) == 0 or unhealthy <= 0:
                continue
            count = min(max_scaled_down - cleaned, unhealthy)
            self.scale_rs(rs, replicas_of(rs) - count)
            cleaned += count
        old = [self.refresh(rs) for rs in old]
        available = status_total(old, "availableReplicas") + status_count(new, "availableReplicas")
        scaled = 0
        if available > min_available:
            budget = available - min_available
            for rs in sorted(old, key=creation_key):
                if scaled >= budget:
                    break
                if replicas_of(rs) == 0:
                    continue
                count = min(replicas_of(rs), budget - scaled)
                self.scale_rs(rs, replicas_of(rs) - count)
                scaled += count
        return cleaned + scaled > 0

    # -- scaling (paused deployments and scaling events) -----------------------------------------------------
    def is_scaling_event(self) -> bool:
        new, old = self.new_and_old(create=False)
        for rs in active(([new] if new else []) + old):
            desired = _annotation_int(rs, DESIRED_REPLICAS)
            if desired is not None and desired != self.replicas:
                return True
        return False

    def scale(self, new: dict | None, old: list[dict]) -> None:
        everything = ([new] if new else []) + old
        live = active(everything)
        if len(live) <= 1:
            target = live[0] if live else (new or (sorted(old, key=creation_key)[-1] if old else None))
            if target is not None and replicas_of(target) != self.replicas:
                self.scale_rs(target, self.replicas)
            return
        if new is not None and self.saturated(new):
            for rs in active(old):
                self.scale_rs(rs, 0)
            return
        if not is_rolling(self.d):
            return
        allowed = self.replicas + max_surge(self.d) if self.replicas > 0 else 0
        to_add = allowed - spec_total(live)
        if to_add > 0:  # bigger first; among equals, newer first when growing, older first when shrinking
            live.sort(key=lambda rs: creation_key(rs), reverse=True)
            live.sort(key=replicas_of, reverse=True)
        elif to_add < 0:
            live.sort(key=creation_key)
            live.sort(key=replicas_of, reverse=True)
        sizes: dict[str, int] = {}
        added = 0
        for rs in live:
            share = self.proportion(rs, to_add, added) if to_add else 0
            sizes[rs["metadata"]["name"]] = replicas_of(rs) + share
            added += share
        for index, rs in enumerate(live):
            name = rs["metadata"]["name"]
            if index == 0 and to_add:
                sizes[name] = max(sizes[name] + to_add - added, 0)
            self.scale_rs(rs, sizes[name])

    def saturated(self, new: dict) -> bool:
        return (replicas_of(new) == self.replicas and _annotation_int(new, DESIRED_REPLICAS) == self.replicas
                and status_count(new, "availableReplicas") == self.replicas)

    def proportion(self, rs: dict, to_add: int, added: int) -> int:
        size = replicas_of(rs)
        if size == 0 or to_add == added:
            return 0
        if self.replicas == 0:
            fraction = -size
        else:
            before = _annotation_int(rs, MAX_REPLICAS) or status_count(self.d, "replicas")
            new_max = self.replicas + max_surge(self.d)
            fraction = (int(size * new_max / before + 0.5) - size) if before else 0
        allowed = to_add - added
        return min(fraction, allowed) if to_add > 0 else max(fraction, allowed)

    # -- recreate --------------------------------------------------------------------------------------------
    def old_pods_running(self, new: dict | None, old: list[dict]) -> bool:
        if status_total(old, "replicas") > 0:
            return True
        for rs in old:
            for resource, pod in self.api.store.dependents(rs["metadata"]["uid"]):
                if resource == PODS and (pod.get("status") or {}).get("phase") not in TERMINAL_PHASES:
                    return True
        return False

    # -- history ---------------------------------------------------------------------------------------------
    def cleanup(self, old: list[dict]) -> None:
        limit = (self.d.get("spec") or {}).get("revisionHistoryLimit", 10)
        if limit is None:
            return
        alive = [self.refresh(rs) for rs in old if not rs["metadata"].get("deletionTimestamp")]
        excess = len(alive) - int(limit)
        for rs in sorted(alive, key=revision_of)[:max(excess, 0)]:
            meta = rs["metadata"]
            if status_count(rs, "replicas") or replicas_of(rs) or \
                    meta.get("generation", 1) > status_count(rs, "observedGeneration"):
                continue
            try:
                self.api.delete(self.rs_rt, meta.get("namespace") or "", meta["name"],
                                propagation="Background")
            except ApiError as exc:
                if exc.code != 404:
                    raise
            self.rss.pop(meta["name"], None)

    # -- status ----------------------------------------------------------------------------------------------
    def complete(self, status: dict) -> bool:
        return (int(status.get("updatedReplicas") or 0) == self.replicas
                and int(status.get("replicas") or 0) == self.replicas
                and int(status.get("availableReplicas") or 0) == self.replicas
                and int(status.get("observedGeneration") or 0) >= self.d["metadata"].get("generation", 1))

    def set_progressing(self, state: str, reason: str, message: str) -> bool:
        return set_condition(self.status["conditions"], self.condition("Progressing", state, reason, message))

    def condition(self, kind: str, state: str, reason: str, message: str) -> dict:
        return {"type": kind, "status": state, "lastUpdateTime": self.now, "lastTransitionTime": self.now,
                "reason": reason, "message": message}

    def check_paused_conditions(self) -> None:
        if self.deadline is None:
            return
        cond = get_condition(self.status, "Progressing")
        if cond is not None and cond.get("reason") == TIMED_OUT:
            return
        paused = bool((self.d.get("spec") or {}).get("paused"))
        shown = cond is not None and cond.get("reason") == PAUSED
        if paused and not shown:
            self.set_progressing("Unknown", PAUSED, "Deployment is paused")
        elif not paused and shown:
            self.set_progressing("Unknown", RESUMED, "Deployment is resumed")

    def calculate_status(self, new: dict | None, old: list[dict]) -> dict:
        everything = ([new] if new else []) + old
        available = status_total(everything, "availableReplicas")
        status = {
            "observedGeneration": self.d["metadata"].get("generation", 1),
            "replicas": status_total(everything, "replicas"),
            "updatedReplicas": status_count(new, "replicas"),
            "readyReplicas": status_total(everything, "readyReplicas"),
            "availableReplicas": available,
            "unavailableReplicas": max(spec_total(everything) - available, 0),
            "collisionCount": self.status.get("collisionCount"),
            "conditions": copy.deepcopy(self.status.get("conditions") or []),
        }
        if available >= self.replicas - max_unavailable(self.d):
            cond = self.condition("Available", "True", "MinimumReplicasAvailable",
                                  "Deployment has minimum availability.")
        else:
            cond = self.condition("Available", "False", "MinimumReplicasUnavailable",
                                  "Deployment does not have minimum availability.")
        set_condition(status["conditions"], cond)
        return status

    def progressed(self, status: dict) -> bool:
        old = self.stored_status

        def count(s: dict, field: str) -> int:
            return int(s.get(field) or 0)
        return (count(status, "updatedReplicas") > count(old, "updatedReplicas")
                or count(status, "readyReplicas") > count(old, "readyReplicas")
                or count(old, "replicas") - count(old, "updatedReplicas") >
                count(status, "replicas") - count(status, "updatedReplicas")
                or count(status, "availableReplicas") > count(old, "availableReplicas"))

    def timed_out(self, status: dict) -> bool:
        cond = get_condition(status, "Progressing")
        if self.deadline is None or cond is None or cond.get("reason") == NEW_RS_AVAILABLE:
            return False
        if cond.get("reason") == TIMED_OUT:
            return True
        return self.api.clock.elapsed_since(cond.get("lastUpdateTime")) > self.deadline

    def sync_rollout_status(self, new: dict | None, old: list[dict]) -> dict:
        status = self.calculate_status(new, old)
        conditions = status["conditions"]
        if self.deadline is None:
            remove_condition(conditions, "Progressing")
        current = get_condition(self.status, "Progressing")
        finished = (status["replicas"] == status["updatedReplicas"] and current is not None
                    and current.get("reason") == NEW_RS_AVAILABLE)
        rs_name = new["metadata"]["name"] if new else None
        subject = f'ReplicaSet "{rs_name}"' if rs_name else f'Deployment "{self.d["metadata"]["name"]}"'
        if self.deadline is not None and not finished:
            if self.complete(status):
                set_condition(conditions, self.condition("Progressing", "True", NEW_RS_AVAILABLE,
                                                         f"{subject} has successfully progressed."))
            elif self.progressed(status):
                cond = self.condition("Progressing", "True", RS_UPDATED, f"{subject} is progressing.")
                previous = get_condition(status, "Progressing")
                if previous is not None and previous.get("status") == "True":
                    cond["lastTransitionTime"] = previous.get("lastTransitionTime") or self.now
                remove_condition(conditions, "Progressing")
                conditions.append(cond)
            elif self.timed_out(status):
                set_condition(conditions, self.condition("Progressing", "False", TIMED_OUT,
                                                         f"{subject} has timed out progressing."))
        failure = self.replica_failure(new, old)
        if failure is not None:
            set_condition(conditions, failure)
        else:
            remove_condition(conditions, "ReplicaFailure")
        return status

    def replica_failure(self, new: dict | None, old: list[dict]) -> dict | None:
        for rs in ([new] if new else []) + old:
            cond = get_condition(rs, "ReplicaFailure")
            if cond is not None and cond.get("status") == "True":
                return {"type": "ReplicaFailure", "status": "True",
                        "lastUpdateTime": cond.get("lastTransitionTime") or self.now,
                        "lastTransitionTime": cond.get("lastTransitionTime") or self.now,
                        "reason": cond.get("reason", ""), "message": cond.get("message", "")}
        return None

    def requeue_stuck(self, status: dict) -> float | None:
        """Simulated seconds until the rollout would time out, to look again then (requeueStuckDeployment)."""
        cond = get_condition(status, "Progressing")
        if self.deadline is None or cond is None or self.complete(status) or cond.get("reason") in (
                TIMED_OUT, NEW_RS_AVAILABLE) or (self.d.get("spec") or {}).get("paused"):
            return None
        remaining = self.deadline - self.api.clock.elapsed_since(cond.get("lastUpdateTime"))
        return max(remaining, 0.0) + 1.0

    def write_status(self, status: dict) -> None:
        status = {k: v for k, v in status.items() if v}  # every DeploymentStatus field is omitempty
        if status == self.stored_status:
            return
        meta = self.d["metadata"]
        self.d = self.api.update(self.rt, meta.get("namespace") or "", meta["name"],
                                 {**self.d, "status": status}, self.ctl.write_options(), subresource="status")
        self.stored_status = status
