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

Status and conditions (`Available`, `Progressing` with its progress deadline) are computed and written by
`deployment_status.StatusSync`, which the per-pass `_Sync` here extends with the rollout itself.
"""

from __future__ import annotations

from collections.abc import Iterable

from fleetline.jsoncopy import clone
from kubesim.api import ClusterAPI
from kubesim.controllers.base import Key, controller_ref, owner_reference
from kubesim.controllers.deployment_status import (
    FAILED_RS_CREATE,
    FOUND_NEW_RS,
    NEW_RS_CREATED,
    Marks,
    StatusSync,
    is_rolling,
    max_surge,
    max_unavailable,
    replicas_of,
    spec_total,
    status_count,
    status_total,
)
from kubesim.controllers.workloads import (
    DEPLOYMENTS,
    POD_TEMPLATE_HASH,
    PODS,
    REPLICASETS,
    TERMINAL_PHASES,
    WorkloadController,
    comparable_template,
    creation_key,
    scaled_value,
    status_condition,
    template_hash,
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


def active(rss: Iterable[dict]) -> list[dict]:
    return [rs for rs in rss if replicas_of(rs) > 0]


class DeploymentController(WorkloadController):
    name = "deployment-controller"
    component = "deployment-controller"
    watches = (DEPLOYMENTS, REPLICASETS, PODS)
    owner_resource = DEPLOYMENTS
    owner_kind = "Deployment"
    child_resource = REPLICASETS
    child_kind = ("apps", "ReplicaSet")

    def _keys_for(self, event: WatchEvent) -> Iterable[Key]:
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

    def __init__(self, api: ClusterAPI) -> None:
        super().__init__(api)
        self.progress_marks: Marks = {}  # see StatusSync.since_progress

    def keys_for(self, event: WatchEvent) -> Iterable[Key]:
        if event.resource == DEPLOYMENTS and event.type == "DELETED":
            self.progress_marks.pop(event.object["metadata"].get("uid", ""), None)
        return self._keys_for(event)

    def reconcile(self, key: Key) -> float | None:
        _, namespace, name = key
        loaded = self.load_owner(key)
        if loaded is None:
            return None
        rt, d = loaded
        rss = self.claim(d, (d.get("spec") or {}).get("selector"), key)
        return _Sync(self, rt, d, rss).run()


class _Sync(StatusSync):
    """One pass of the deployment controller over one Deployment (kube's syncDeployment)."""

    def __init__(self, ctl: DeploymentController, rt: ResourceType, d: dict, rss: list[dict]) -> None:
        super().__init__(ctl, rt, d, ctl.progress_marks)
        self.rs_rt = self.api.type("apps", "ReplicaSet")
        self.rss = {rs["metadata"]["name"]: rs for rs in rss}

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
        """The Deployment's pod template as compared with its ReplicaSets' (see `comparable_template`)."""
        return comparable_template((self.d.get("spec") or {}).get("template") or {}, POD_TEMPLATE_HASH)

    def find_new(self) -> dict | None:
        """The oldest ReplicaSet whose template equals the Deployment's (ignoring the hash label); failing
        that, the one labelled with the current hash (so a template the API server normalises differently
        can never make the controller create ReplicaSets forever)."""
        wanted = self.template()
        ordered = sorted(self.rss.values(), key=creation_key)
        for rs in ordered:
            if comparable_template((rs.get("spec") or {}).get("template") or {}, POD_TEMPLATE_HASH) == wanted:
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
        rs_copy = clone(rs)
        changed = self._copy_annotations(rs_copy)
        changed = self._set_revision(rs_copy, revision) or changed
        min_ready = (self.d.get("spec") or {}).get("minReadySeconds") or 0
        if ((rs_copy.get("spec") or {}).get("minReadySeconds") or 0) != min_ready:
            rs_copy["spec"]["minReadySeconds"] = min_ready
            changed = True
        if changed:
            rs = self.update_rs(rs_copy)
        self.set_deployment_revision(rs)
        if self.deadline is not None and status_condition(self.status, "Progressing") is None:
            self.set_progressing("True", FOUND_NEW_RS, f'Found new replica set "{rs["metadata"]["name"]}"')
        return rs

    def create_new(self, old: list[dict], revision: int) -> dict | None:
        d, meta = self.d, self.d["metadata"]
        pod_hash = template_hash(self.template(), self.status.get("collisionCount"))
        template = clone((d.get("spec") or {}).get("template") or {})
        template["metadata"] = {**(template.get("metadata") or {})}
        template["metadata"]["labels"] = {**(template["metadata"].get("labels") or {}), POD_TEMPLATE_HASH: pod_hash}
        selector = clone((d.get("spec") or {}).get("selector") or {})
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
        if existing is not None and ref and ref.get("uid") == self.d["metadata"]["uid"] and comparable_template(
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
        rs_copy = clone(rs)
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
        d = clone(self.d)
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
