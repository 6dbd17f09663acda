"""The disruption controller: PodDisruptionBudget status (how many pods may be disrupted right now).

Like kube-controller-manager's, it counts the pods the budget selects (expected), the Ready ones
(current healthy), works out the desired healthy count from `minAvailable` or `maxUnavailable` (integers or
percentages of the expected pods, rounded up), and sets `disruptionsAllowed` and the `DisruptionAllowed`
condition. Expected pods are the selected, non-terminal pods (kube reads the owning controllers' scale).
"""

from __future__ import annotations

import math
from collections.abc import Iterable

from fleetline.jsoncopy import clone
from kubesim.api import WriteOptions
from kubesim.controllers.base import Controller, Key, key_of
from kubesim.controllers.pods import PODS, TERMINAL, pod_ready, set_condition
from kubesim.selectors import selector_object_matches
from kubesim.store import WatchEvent

PDBS = ("policy", "poddisruptionbudgets")


def _count(value: object, expected: int) -> int:
    """An IntOrString budget: an int, or a percentage of `expected` rounded up."""
    if isinstance(value, str) and value.endswith("%"):
        try:
            return math.ceil(int(value[:-1]) * expected / 100)
        except ValueError:
            return 0
    return value if isinstance(value, int) and not isinstance(value, bool) else 0


def budget_status(pdb: dict, pods: list[dict], now: str) -> dict:
    spec = pdb.get("spec") or {}
    selected = [p for p in pods if (p.get("status") or {}).get("phase") not in TERMINAL
                and not p["metadata"].get("deletionTimestamp")
                and selector_object_matches(spec.get("selector"), p["metadata"].get("labels"))]
    expected = len(selected)
    healthy = sum(1 for p in selected if pod_ready(p))
    if spec.get("maxUnavailable") is not None:
        desired = max(0, expected - _count(spec["maxUnavailable"], expected))
    else:
        desired = _count(spec.get("minAvailable", 1), expected)
    allowed = max(0, healthy - desired) if expected else 0
    status = clone(pdb.get("status") or {})
    status.update({"observedGeneration": pdb["metadata"].get("generation", 1), "expectedPods": expected,
                   "currentHealthy": healthy, "desiredHealthy": desired, "disruptionsAllowed": allowed})
    condition = {"type": "DisruptionAllowed", "status": "True" if allowed else "False",
                 "reason": "SufficientPods" if allowed else "InsufficientPods",
                 "message": f"{allowed} disruption(s) allowed: {healthy} healthy of {desired} desired",
                 "observedGeneration": pdb["metadata"].get("generation", 1)}
    status["conditions"] = set_condition(status.get("conditions") or [], condition, now)
    return status


class DisruptionController(Controller):
    name = "disruption-controller"
    watches = (PDBS, PODS)

    def write_options(self) -> WriteOptions:
        return WriteOptions(manager="kube-controller-manager")  # as on a real cluster

    def keys_for(self, event: WatchEvent) -> Iterable[Key]:
        if event.resource == PDBS:
            return [key_of(event)]
        namespace = event.object["metadata"].get("namespace") or ""
        return [key_of(pdb, PDBS) for pdb in self.api.store.list(PDBS, namespace)]

    def reconcile(self, key: Key) -> float | None:
        _, namespace, name = key
        rt = self.api.type("policy", "PodDisruptionBudget")
        pdb = self.api.find(rt, namespace, name)
        if pdb is None:
            return None
        status = budget_status(pdb, self.api.store.list(PODS, namespace), self.api.clock.timestamp())
        if status != pdb.get("status"):
            self.api.update(rt, namespace, name, {**pdb, "status": status}, self.write_options(),
                            subresource="status")
        return None
