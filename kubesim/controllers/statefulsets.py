"""The StatefulSet controller: pods named `<set>-<ordinal>`, their claims, ordered scaling and updates.

Pods are created for ordinals `start .. start+replicas-1` (`spec.ordinals.start`, default 0). With the
default `OrderedReady` policy each pod waits for its predecessors to be Running and Ready (and available for
`minReadySeconds`), and scale-down removes one pod at a time from the highest ordinal; `Parallel` does both
at once. Every pod carries `statefulset.kubernetes.io/pod-name`, `apps.kubernetes.io/pod-index` and
`controller-revision-hash` (`<set>-<template hash>`); each `volumeClaimTemplates` entry becomes a claim
`<template>-<set>-<ordinal>`, created before its pod and mounted by it. RollingUpdate replaces pods whose
revision differs from the update revision one at a time, highest ordinal first, down to `partition`;
OnDelete leaves that to the user.

Simplifications: revisions are not stored as ControllerRevision objects (kubesim does not serve that kind);
the templates of the revisions seen are remembered in memory, which is enough to recreate a pod below the
partition at its current revision while the cluster runs. `maxUnavailable` (alpha) is not honoured.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from fleetline.jsoncopy import clone
from kubesim.api import ClusterAPI
from kubesim.controllers.base import Key
from kubesim.controllers.workloads import (
    CONTROLLER_REVISION_HASH,
    PODS,
    PVCS,
    STATEFULSETS,
    TERMINAL_PHASES,
    WorkloadController,
    availability_requeue,
    pod_available,
    pod_from_template,
    pod_running_ready,
    pod_terminating,
    template_hash,
)
from kubesim.errors import ApiError
from kubesim.resources import ResourceType
from kubesim.store import WatchEvent

POD_NAME_LABEL = "statefulset.kubernetes.io/pod-name"
POD_INDEX_LABEL = "apps.kubernetes.io/pod-index"


def ordinal_of(set_name: str, pod: dict) -> int | None:
    match = re.fullmatch(rf"{re.escape(set_name)}-(\d+)", pod["metadata"]["name"])
    return int(match.group(1)) if match else None


def revision_of(pod: dict) -> str:
    return (pod["metadata"].get("labels") or {}).get(CONTROLLER_REVISION_HASH, "")


class StatefulSetController(WorkloadController):
    name = "statefulset-controller"
    component = "statefulset-controller"
    watches = (STATEFULSETS, PODS)
    owner_resource = STATEFULSETS
    owner_kind = "StatefulSet"
    child_resource = PODS

    def __init__(self, api: ClusterAPI) -> None:
        super().__init__(api)
        self._templates: dict[str, dict[str, dict]] = {}  # set uid -> revision name -> pod template

    def keys_for(self, event: WatchEvent) -> Iterable[Key]:
        if event.resource == STATEFULSETS and event.type == "DELETED":
            self._templates.pop(event.object["metadata"].get("uid", ""), None)
        return super().keys_for(event)

    def reconcile(self, key: Key) -> float | None:
        _, namespace, name = key
        loaded = self.load_owner(key)
        if loaded is None:
            return None
        rt, sts = loaded
        spec = sts.get("spec") or {}
        status = sts.get("status") or {}
        template = spec.get("template") or {}
        update_revision = f"{name}-{template_hash(template, status.get('collisionCount'))}"
        known = self._templates.setdefault(sts["metadata"]["uid"], {})
        known[update_revision] = template
        current_revision = status.get("currentRevision") or update_revision

        def claimed() -> dict[int, dict]:
            pods = self.claim(sts, spec.get("selector"), key,
                              accept=lambda p: ordinal_of(name, p) is not None)
            return {ordinal_of(name, p) or 0: p for p in pods}

        if not sts["metadata"].get("deletionTimestamp"):
            self._update(sts, claimed(), current_revision, update_revision)
        pods = claimed()
        self._write_status(rt, sts, pods, current_revision, update_revision)
        return availability_requeue([p for p in pods.values() if pod_running_ready(p)],
                                    int(spec.get("minReadySeconds") or 0), self.api.clock)

    # -- the update step (kube's updateStatefulSet, one pass) ------------------------------------------------
    def _update(self, sts: dict, pods: dict[int, dict], current_revision: str, update_revision: str) -> None:
        spec = sts.get("spec") or {}
        replicas = int(spec.get("replicas", 1))
        start = int((spec.get("ordinals") or {}).get("start") or 0)
        monotonic = spec.get("podManagementPolicy", "OrderedReady") != "Parallel"
        min_ready = int(spec.get("minReadySeconds") or 0)
        strategy = spec.get("updateStrategy") or {}
        rolling = strategy.get("type", "RollingUpdate") == "RollingUpdate"
        partition = int((strategy.get("rollingUpdate") or {}).get("partition") or 0) if rolling else 0
        wanted = range(start, start + replicas)

        def healthy(pod: dict) -> bool:
            return pod_running_ready(pod) and not pod_terminating(pod) and \
                pod_available(pod, min_ready, self.api.clock)

        for ordinal in wanted:
            pod = pods.get(ordinal)
            if pod is not None and (pod.get("status") or {}).get("phase") in TERMINAL_PHASES:
                if not pod_terminating(pod):
                    self._delete_pod(sts, pod)
                if monotonic:
                    return
                continue
            if pod is None:
                below_partition = rolling and ordinal - start < partition
                revision = current_revision if below_partition and current_revision in self._known(sts) \
                    else update_revision
                self._create_pod(sts, ordinal, revision)
                if monotonic:
                    return
                continue
            if monotonic and (pod_terminating(pod) or not healthy(pod)):
                return

        condemned = sorted((o for o in pods if o not in wanted), reverse=True)
        ordered = [pods[o] for o in wanted if o in pods] + [pods[o] for o in sorted(condemned)]
        first_unhealthy = next((p for p in ordered if not healthy(p)), None)
        for ordinal in condemned:
            pod = pods[ordinal]
            if pod_terminating(pod):
                if monotonic:
                    return
                continue
            if monotonic and not healthy(pod) and pod is not first_unhealthy:
                return
            self._release_claims_on_scale_down(sts, ordinal, pod)
            self._delete_pod(sts, pod)
            if monotonic:
                return

        if not rolling:
            return
        for ordinal in reversed(wanted):
            if ordinal - start < partition:
                break
            pod = pods.get(ordinal)
            if pod is None:
                return
            if revision_of(pod) != update_revision and not pod_terminating(pod):
                self._delete_pod(sts, pod)
                return
            if not healthy(pod):
                return

    def _known(self, sts: dict) -> dict[str, dict]:
        return self._templates.get(sts["metadata"]["uid"], {})

    def _create_pod(self, sts: dict, ordinal: int, revision: str) -> None:
        meta, spec = sts["metadata"], sts.get("spec") or {}
        name, namespace = f"{meta['name']}-{ordinal}", meta.get("namespace") or ""
        template = self._known(sts).get(revision) or spec.get("template") or {}
        pod = pod_from_template(template, sts, labels={POD_NAME_LABEL: name, POD_INDEX_LABEL: str(ordinal),
                                                       CONTROLLER_REVISION_HASH: revision})
        pod["metadata"]["name"] = name
        pod_spec = pod["spec"]
        pod_spec["hostname"] = name
        if spec.get("serviceName"):
            pod_spec["subdomain"] = spec["serviceName"]
        claims = spec.get("volumeClaimTemplates") or []
        if claims:
            mounted = {c["metadata"]["name"] for c in claims if (c.get("metadata") or {}).get("name")}
            volumes = [v for v in pod_spec.get("volumes") or [] if v.get("name") not in mounted]
            for claim_name in sorted(mounted):
                volumes.append({"name": claim_name, "persistentVolumeClaim": {
                    "claimName": f"{claim_name}-{meta['name']}-{ordinal}"}})
            pod_spec["volumes"] = volumes
            if not self._create_claims(sts, ordinal, name):
                return
        self.api.create(self.api.type("", "Pod"), namespace, pod, self.write_options())
        self.event(sts, "SuccessfulCreate", f"create Pod {name} in StatefulSet {meta['name']} successful")

    def _create_claims(self, sts: dict, ordinal: int, pod_name: str) -> bool:
        """Create the pod's missing claims; False while one of them is still being deleted."""
        meta, spec = sts["metadata"], sts.get("spec") or {}
        namespace = meta.get("namespace") or ""
        pvc_rt = self.api.type("", "PersistentVolumeClaim")
        selector_labels = (spec.get("selector") or {}).get("matchLabels") or {}
        for claim in spec.get("volumeClaimTemplates") or []:
            claim_meta = claim.get("metadata") or {}
            claim_name = f"{claim_meta.get('name')}-{meta['name']}-{ordinal}"
            existing = self.api.store.get(PVCS, namespace, claim_name)
            if existing is not None:
                if existing["metadata"].get("deletionTimestamp"):
                    return False
                self._set_claim_owners(sts, existing, None)
                continue
            body = {"apiVersion": "v1", "kind": "PersistentVolumeClaim",
                    "metadata": {"name": claim_name, "labels": {**(claim_meta.get("labels") or {}),
                                                                **selector_labels}},
                    "spec": clone(claim.get("spec") or {})}
            if claim_meta.get("annotations"):
                body["metadata"]["annotations"] = dict(claim_meta["annotations"])
            refs = self._claim_owners(sts, [], None)
            if refs:
                body["metadata"]["ownerReferences"] = refs
            try:
                self.api.create(pvc_rt, namespace, body, self.write_options())
            except ApiError as exc:
                if exc.code != 409:
                    self.event(sts, "FailedCreate", f"create Claim {claim_name} for Pod {pod_name} in "
                               f"StatefulSet {meta['name']} failed error: {exc.message}", warning=True)
                    raise
                continue
            self.event(sts, "SuccessfulCreate",
                       f"create Claim {claim_name} Pod {pod_name} in StatefulSet {meta['name']} success")
        return True

    @staticmethod
    def _claim_owners(sts: dict, refs: list[dict], condemned: dict | None) -> list[dict]:
        """The ownerReferences a claim should carry under `persistentVolumeClaimRetentionPolicy`: the set's
        when `whenDeleted: Delete`; for the claim of a pod being scaled away with `whenScaled: Delete`, that
        pod's instead (so the garbage collector deletes the claim after the pod). As kube's
        updateClaimOwnerRefForSetAndPod, with plain (non-controller) references."""
        meta = sts["metadata"]
        policy = (sts.get("spec") or {}).get("persistentVolumeClaimRetentionPolicy") or {}
        dropped = {meta["uid"]} | ({condemned["metadata"]["uid"]} if condemned is not None else set())
        out = [r for r in refs if r.get("uid") not in dropped]
        if condemned is not None and policy.get("whenScaled") == "Delete":
            pod_meta = condemned["metadata"]
            out.append({"apiVersion": "v1", "kind": "Pod", "name": pod_meta["name"], "uid": pod_meta["uid"]})
        elif policy.get("whenDeleted") == "Delete":
            out.append({"apiVersion": "apps/v1", "kind": "StatefulSet", "name": meta["name"], "uid": meta["uid"]})
        return out

    def _set_claim_owners(self, sts: dict, claim: dict, condemned: dict | None) -> None:
        refs = claim["metadata"].get("ownerReferences") or []
        wanted = self._claim_owners(sts, refs, condemned)
        if wanted == refs:
            return
        new = clone(claim)
        new["metadata"]["ownerReferences"] = wanted
        self.api.update(self.api.type("", "PersistentVolumeClaim"), claim["metadata"].get("namespace") or "",
                        claim["metadata"]["name"], new, self.write_options())

    def _release_claims_on_scale_down(self, sts: dict, ordinal: int, pod: dict) -> None:
        meta = sts["metadata"]
        for claim in (sts.get("spec") or {}).get("volumeClaimTemplates") or []:
            claim_name = f"{(claim.get('metadata') or {}).get('name')}-{meta['name']}-{ordinal}"
            existing = self.api.store.get(PVCS, meta.get("namespace") or "", claim_name)
            if existing is not None and not existing["metadata"].get("deletionTimestamp"):
                self._set_claim_owners(sts, existing, pod)

    def _delete_pod(self, sts: dict, pod: dict) -> None:
        meta = pod["metadata"]
        try:
            self.api.delete(self.api.type("", "Pod"), meta.get("namespace") or "", meta["name"])
        except ApiError as exc:
            if exc.code != 404:
                raise
            return
        self.event(sts, "SuccessfulDelete",
                   f"delete Pod {meta['name']} in StatefulSet {sts['metadata']['name']} successful")

    # -- status ----------------------------------------------------------------------------------------------
    def _write_status(self, rt: ResourceType, sts: dict, pods: dict[int, dict], current_revision: str,
                      update_revision: str) -> None:
        spec = sts.get("spec") or {}
        old = sts.get("status") or {}
        min_ready = int(spec.get("minReadySeconds") or 0)
        live = list(pods.values())
        replicas = len(live)
        ready = sum(1 for p in live if pod_running_ready(p))
        available = sum(1 for p in live
                        if pod_running_ready(p) and pod_available(p, min_ready, self.api.clock))
        current = sum(1 for p in live if not pod_terminating(p) and revision_of(p) == current_revision)
        updated = sum(1 for p in live if not pod_terminating(p) and revision_of(p) == update_revision)
        rolling = (spec.get("updateStrategy") or {}).get("type", "RollingUpdate") == "RollingUpdate"
        if rolling and updated == replicas and ready == replicas:
            current_revision, current = update_revision, updated
        status = {"observedGeneration": sts["metadata"].get("generation", 1), "replicas": replicas,
                  "readyReplicas": ready, "currentReplicas": current, "updatedReplicas": updated,
                  "currentRevision": current_revision, "updateRevision": update_revision,
                  "collisionCount": int(old.get("collisionCount") or 0), "availableReplicas": available}
        status = {k: v for k, v in status.items()
                  if v or k in ("replicas", "availableReplicas", "collisionCount")}
        if old.get("conditions"):
            status["conditions"] = old["conditions"]
        if status != old:
            meta = sts["metadata"]
            self.api.update(rt, meta.get("namespace") or "", meta["name"], {**sts, "status": status},
                            self.write_options(), subresource="status")
