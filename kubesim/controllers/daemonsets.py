"""The DaemonSet controller: one pod of the template on every Node that should run it.

A node should run the daemon when its labels match the template's `nodeSelector` and required node affinity
and every NoSchedule/NoExecute taint is tolerated; like kube's controller, the pods also tolerate the
node-condition and `unschedulable` taints, so cordoned nodes keep their daemons. An untolerated NoSchedule
taint only stops new daemons (a running one stays, counted as misscheduled); pods on nodes whose labels no
longer fit, that gained an untolerated NoExecute taint, or that are gone are deleted, as are extra pods on
one node (the oldest stays).

Placement: kube 1.32 pins a daemon pod with a required node affinity on `metadata.name` and lets the
scheduler bind it; kubesim sets that same affinity *and* `spec.nodeName` directly, so the pod is bound at
creation and does not depend on the scheduler understanding `matchFields`.

RollingUpdate (default maxUnavailable 1, maxSurge 0) deletes out-of-date pods while at most `maxUnavailable`
nodes lack an available daemon; with `maxSurge` the new pod starts beside the old one, which goes once the
new one is available. OnDelete leaves replacement to the user. Pods carry `controller-revision-hash` (the
template hash) and `pod-template-generation`.
"""

from __future__ import annotations

from collections.abc import Iterable

from kubesim.controllers.base import Key
from kubesim.controllers.workloads import (
    CONTROLLER_REVISION_HASH,
    DAEMONSETS,
    NODES,
    PODS,
    TERMINAL_PHASES,
    WorkloadController,
    availability_requeue,
    creation_key,
    pod_available,
    pod_from_template,
    pod_ready,
    pod_terminating,
    scaled_value,
    template_hash,
)
from kubesim.errors import ApiError
from kubesim.resources import ResourceType
from kubesim.scheduling import tolerates
from kubesim.selectors import Requirement
from kubesim.store import WatchEvent

TEMPLATE_GENERATION = "pod-template-generation"

# What the daemonset controller adds to every daemon pod (kube's util.AddOrUpdateDaemonPodTolerations).
DAEMON_TOLERATIONS = (
    {"key": "node.kubernetes.io/not-ready", "operator": "Exists", "effect": "NoExecute"},
    {"key": "node.kubernetes.io/unreachable", "operator": "Exists", "effect": "NoExecute"},
    {"key": "node.kubernetes.io/disk-pressure", "operator": "Exists", "effect": "NoSchedule"},
    {"key": "node.kubernetes.io/memory-pressure", "operator": "Exists", "effect": "NoSchedule"},
    {"key": "node.kubernetes.io/pid-pressure", "operator": "Exists", "effect": "NoSchedule"},
    {"key": "node.kubernetes.io/unschedulable", "operator": "Exists", "effect": "NoSchedule"},
)
HOST_NETWORK_TOLERATION = {"key": "node.kubernetes.io/network-unavailable", "operator": "Exists",
                           "effect": "NoSchedule"}
_OPS = {"In": "in", "NotIn": "notin", "Exists": "exists", "DoesNotExist": "!"}


def daemon_tolerations(pod_spec: dict) -> list[dict]:
    tolerations = [dict(t) for t in pod_spec.get("tolerations") or []]
    extra = list(DAEMON_TOLERATIONS) + ([HOST_NETWORK_TOLERATION] if pod_spec.get("hostNetwork") else [])
    for tol in extra:
        if not any(t.get("key") == tol["key"] and t.get("effect") == tol["effect"] for t in tolerations):
            tolerations.append(dict(tol))
    return tolerations


def _requirement_holds(expr: dict, values: dict) -> bool:
    op = expr.get("operator", "")
    if op in ("Gt", "Lt"):
        try:
            mine, theirs = int(values[expr.get("key", "")]), int((expr.get("values") or [""])[0])
        except (KeyError, ValueError):
            return False
        return mine > theirs if op == "Gt" else mine < theirs
    if op not in _OPS:
        return False
    return Requirement(expr.get("key", ""), _OPS[op], tuple(expr.get("values") or ())).matches(values)


def placement(pod_spec: dict, node: dict) -> tuple[bool, bool]:
    """(should run, may keep running) for a daemon pod with this spec on this node (kube's
    NodeShouldRunDaemonPod): the selector and required affinity decide both; an untolerated NoSchedule taint
    stops new pods only, an untolerated NoExecute taint evicts as well."""
    meta = node["metadata"]
    labels = meta.get("labels") or {}
    if any(labels.get(k) != v for k, v in (pod_spec.get("nodeSelector") or {}).items()):
        return False, False
    required = (((pod_spec.get("affinity") or {}).get("nodeAffinity") or {})
                .get("requiredDuringSchedulingIgnoredDuringExecution"))
    if required is not None:
        fields = {"metadata.name": meta["name"]}
        terms = required.get("nodeSelectorTerms") or []
        if not any((term.get("matchExpressions") or term.get("matchFields"))
                   and all(_requirement_holds(e, labels) for e in term.get("matchExpressions") or [])
                   and all(_requirement_holds(e, fields) for e in term.get("matchFields") or [])
                   for term in terms):
            return False, False
    tolerations = daemon_tolerations(pod_spec)
    run = keep = True
    for taint in (node.get("spec") or {}).get("taints") or []:
        if any(tolerates(t, taint) for t in tolerations):
            continue
        if taint.get("effect") == "NoExecute":
            return False, False
        if taint.get("effect") == "NoSchedule":
            run = False
    return run, keep


def node_of(pod: dict) -> str:
    spec = pod.get("spec") or {}
    if spec.get("nodeName"):
        return spec["nodeName"]
    required = (((spec.get("affinity") or {}).get("nodeAffinity") or {})
                .get("requiredDuringSchedulingIgnoredDuringExecution") or {})
    for term in required.get("nodeSelectorTerms") or []:
        for expr in term.get("matchFields") or []:
            if expr.get("key") == "metadata.name" and expr.get("operator") == "In" and expr.get("values"):
                return expr["values"][0]
    return ""


def pin_to_node(pod_spec: dict, node_name: str) -> None:
    """kube's ReplaceDaemonSetPodNodeNameNodeAffinity, plus spec.nodeName (see the module docstring)."""
    affinity = pod_spec.setdefault("affinity", {})
    node_affinity = affinity.setdefault("nodeAffinity", {})
    node_affinity["requiredDuringSchedulingIgnoredDuringExecution"] = {"nodeSelectorTerms": [{"matchFields": [
        {"key": "metadata.name", "operator": "In", "values": [node_name]}]}]}
    pod_spec["nodeName"] = node_name


class DaemonSetController(WorkloadController):
    name = "daemonset-controller"
    component = "daemonset-controller"
    watches = (DAEMONSETS, PODS, NODES)
    owner_resource = DAEMONSETS
    owner_kind = "DaemonSet"
    child_resource = PODS

    def keys_for(self, event: WatchEvent) -> Iterable[Key]:
        if event.resource == NODES:
            return [self.owner_key(ds["metadata"].get("namespace") or "", ds["metadata"]["name"])
                    for ds in self.api.store.list(DAEMONSETS)]
        return super().keys_for(event)

    def reconcile(self, key: Key) -> float | None:
        _, namespace, name = key
        loaded = self.load_owner(key)
        if loaded is None:
            return None
        rt, ds = loaded
        spec = ds.get("spec") or {}
        template = spec.get("template") or {}
        current = template_hash(template, (ds.get("status") or {}).get("collisionCount"))
        nodes = {n["metadata"]["name"]: n for n in self.api.store.list(NODES)}
        pod_spec = template.get("spec") or {}
        places = {node_name: placement(pod_spec, node) for node_name, node in nodes.items()}
        wanted = {node_name for node_name, (run, _) in places.items() if run}
        kept = {node_name for node_name, (_, keep) in places.items() if keep}
        if not ds["metadata"].get("deletionTimestamp"):
            self._manage(ds, self._by_node(ds, key), wanted, kept, current)
        by_node = self._by_node(ds, key)
        self._write_status(rt, ds, by_node, wanted, current)
        min_ready = int(spec.get("minReadySeconds") or 0)
        return availability_requeue([p for pods in by_node.values() for p in pods], min_ready, self.api.clock)

    def _by_node(self, ds: dict, key: Key) -> dict[str, list[dict]]:
        by_node: dict[str, list[dict]] = {}
        for pod in sorted(self.claim(ds, (ds.get("spec") or {}).get("selector"), key), key=creation_key):
            by_node.setdefault(node_of(pod), []).append(pod)
        return by_node

    def _manage(self, ds: dict, by_node: dict[str, list[dict]], wanted: set[str], kept: set[str],
                current: str) -> None:
        spec = ds.get("spec") or {}
        min_ready = int(spec.get("minReadySeconds") or 0)
        for node_name, pods in by_node.items():
            live = [p for p in pods if not pod_terminating(p)]
            if node_name not in kept:
                for pod in live:
                    self._delete(ds, pod)
                continue
            failed = [p for p in live if (p.get("status") or {}).get("phase") in TERMINAL_PHASES]
            for pod in failed:
                self.event(ds, "FailedDaemonPod",
                           f"Found failed daemon pod {ds['metadata'].get('namespace')}/"
                           f"{pod['metadata']['name']} on node {node_name}, will try to kill it",
                           warning=True)
                self._delete(ds, pod)
            live = [p for p in live if p not in failed]
            surplus = live[1:] if len(live) > 1 and not self._surging(spec) else []
            if len(live) > 1 and self._surging(spec):  # keep at most one of each revision while surging
                newest = [p for p in live if _revision(p) == current]
                older = [p for p in live if _revision(p) != current]
                surplus = newest[1:] + older[1:]
            for pod in surplus:
                self._delete(ds, pod)
            by_node[node_name] = [p for p in live if p not in surplus]
        for node_name in sorted(wanted):
            if not [p for p in by_node.get(node_name, []) if not pod_terminating(p)]:
                self._create(ds, node_name, current)
        if (spec.get("updateStrategy") or {}).get("type", "RollingUpdate") == "RollingUpdate":
            self._rolling_update(ds, by_node, wanted, current, min_ready)

    @staticmethod
    def _surging(spec: dict) -> bool:
        rolling = (spec.get("updateStrategy") or {}).get("rollingUpdate") or {}
        return scaled_value(rolling.get("maxSurge"), 1, round_up=True) > 0

    def _rolling_update(self, ds: dict, by_node: dict[str, list[dict]], wanted: set[str], current: str,
                        min_ready: int) -> None:
        rolling = ((ds.get("spec") or {}).get("updateStrategy") or {}).get("rollingUpdate") or {}
        desired = len(wanted)
        surge = scaled_value(rolling.get("maxSurge"), desired, round_up=True, default=0)
        unavailable_budget = scaled_value(rolling.get("maxUnavailable"), desired, round_up=True, default=1)
        if surge == 0 and unavailable_budget == 0:
            unavailable_budget = 1
        clock = self.api.clock

        def available(pod: dict) -> bool:
            return not pod_terminating(pod) and pod_available(pod, min_ready, clock)

        if surge > 0:
            # A node is surging while it runs an out-of-date pod beside a new one that is not yet available.
            surging = 0
            plans = []
            for node_name in sorted(wanted):
                pods = [p for p in by_node.get(node_name, []) if not pod_terminating(p)]
                new = [p for p in pods if _revision(p) == current]
                old = [p for p in pods if _revision(p) != current]
                if old and new and not available(new[0]):
                    surging += 1
                plans.append((node_name, new, old))
            for node_name, new, old in plans:
                if not old:
                    continue
                if new and available(new[0]):
                    for pod in old:
                        self._delete(ds, pod)
                elif not new and (surging < surge or not any(available(p) for p in old)):
                    self._create(ds, node_name, current)
                    surging += 1
            return
        unavailable_nodes = sum(1 for node_name in wanted
                                if not any(available(p) for p in by_node.get(node_name, [])))
        old_pods = [(node_name, p) for node_name in sorted(wanted) for p in by_node.get(node_name, [])
                    if not pod_terminating(p) and _revision(p) != current]
        # Out-of-date pods that are not available cost nothing to replace; then spend the budget.
        for _node, pod in old_pods:
            if not available(pod):
                self._delete(ds, pod)
        for _node, pod in old_pods:
            if available(pod) and unavailable_nodes < unavailable_budget:
                self._delete(ds, pod)
                unavailable_nodes += 1

    def _create(self, ds: dict, node_name: str, current: str) -> None:
        meta = ds["metadata"]
        template = (ds.get("spec") or {}).get("template") or {}
        pod = pod_from_template(template, ds, labels={CONTROLLER_REVISION_HASH: current,
                                                      TEMPLATE_GENERATION: str(meta.get("generation", 1))})
        pod["metadata"]["generateName"] = f"{meta['name']}-"
        pod["spec"]["tolerations"] = daemon_tolerations(pod["spec"])
        pin_to_node(pod["spec"], node_name)
        try:
            created = self.api.create(self.api.type("", "Pod"), meta.get("namespace") or "", pod,
                                      self.write_options())
        except ApiError as exc:
            if exc.code in (404, 409):
                raise
            self.event(ds, "FailedCreate", f"Error creating: {exc.message}", warning=True)
            return
        self.event(ds, "SuccessfulCreate", f"Created pod: {created['metadata']['name']}")

    def _delete(self, ds: dict, pod: dict) -> None:
        meta = pod["metadata"]
        try:
            self.api.delete(self.api.type("", "Pod"), meta.get("namespace") or "", meta["name"])
        except ApiError as exc:
            if exc.code != 404:
                raise
            return
        self.event(ds, "SuccessfulDelete", f"Deleted pod: {meta['name']}")

    def _write_status(self, rt: ResourceType, ds: dict, by_node: dict[str, list[dict]], wanted: set[str],
                      current: str) -> None:
        min_ready = int((ds.get("spec") or {}).get("minReadySeconds") or 0)
        clock = self.api.clock
        scheduled = ready = available = updated = misscheduled = 0
        for node_name, pods in by_node.items():
            live = [p for p in pods if not pod_terminating(p)]
            if not live:
                continue
            if node_name not in wanted:
                misscheduled += 1
                continue
            scheduled += 1
            pod = live[0]
            if pod_ready(pod):
                ready += 1
                if pod_available(pod, min_ready, clock):
                    available += 1
            if any(_revision(p) == current for p in live):
                updated += 1
        old = ds.get("status") or {}
        status = {"currentNumberScheduled": scheduled, "numberMisscheduled": misscheduled,
                  "desiredNumberScheduled": len(wanted), "numberReady": ready,
                  "observedGeneration": ds["metadata"].get("generation", 1),
                  "updatedNumberScheduled": updated, "numberAvailable": available,
                  "numberUnavailable": max(len(wanted) - available, 0)}
        optional = ("observedGeneration", "updatedNumberScheduled", "numberAvailable", "numberUnavailable")
        status = {k: v for k, v in status.items() if v or k not in optional}
        for extra in ("collisionCount", "conditions"):
            if old.get(extra) is not None:
                status[extra] = old[extra]
        if status != old:
            meta = ds["metadata"]
            self.api.update(rt, meta.get("namespace") or "", meta["name"], {**ds, "status": status},
                            self.write_options(), subresource="status")


def _revision(pod: dict) -> str:
    return (pod["metadata"].get("labels") or {}).get(CONTROLLER_REVISION_HASH, "")
