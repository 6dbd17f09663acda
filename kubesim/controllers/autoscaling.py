"""The HorizontalPodAutoscaler controller (autoscaling/v2), driven by an annotation instead of metrics.

kubesim has no metrics pipeline, so the "metric" is the HPA's annotation
`kubesim.fleetline.io/desired-replicas` (set by tests, demos and users); without it the recommendation is
the target's current size. From there the
controller behaves like kube's: every 15 simulated seconds (and on every change to the HPA) it reads the
target's `/scale`, stabilises the recommendation (scale-down looks at the highest recommendation of the last
`behavior.scaleDown.stabilizationWindowSeconds`, default 300 s; scale-up at the lowest of
`behavior.scaleUp.stabilizationWindowSeconds`, default 0), limits a scale-up to max(2 x current, 4) when no
`behavior` is set, clamps to [minReplicas, maxReplicas], and writes the new size through the target's
`/scale` subresource. A target at zero replicas (with minReplicas > 0) is left alone, as kube does.

Not modelled: the rate policies of `behavior` (pods/percent per period) and tolerance around the target.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable

from fleetline.jsoncopy import clone
from kubesim.api import MERGE, ClusterAPI, WriteOptions
from kubesim.controllers.base import Controller, Key
from kubesim.controllers.events import record_event
from kubesim.controllers.workloads import HPAS, MANAGER, set_condition
from kubesim.errors import ApiError
from kubesim.resources import ResourceType
from kubesim.store import WatchEvent

Condition = Callable[[str, str, str, str], None]

DESIRED_ANNOTATION = "kubesim.fleetline.io/desired-replicas"
METRIC_NAME = f"annotation {DESIRED_ANNOTATION}"
SYNC_PERIOD = 15.0  # kube-controller-manager --horizontal-pod-autoscaler-sync-period
DEFAULT_DOWNSCALE_WINDOW = 300.0
COMPONENT = "horizontal-pod-autoscaler"


def _window(spec: dict, direction: str, default: float) -> float:
    rules = (spec.get("behavior") or {}).get(direction) or {}
    value = rules.get("stabilizationWindowSeconds")
    return float(default if value is None else value)


class HorizontalPodAutoscalerController(Controller):
    name = "horizontal-pod-autoscaler"
    watches = (HPAS,)

    def __init__(self, api: ClusterAPI) -> None:
        super().__init__(api)
        # hpa uid -> [(simulated time, recommended replicas)] within the stabilization windows
        self._recommendations: dict[str, list[tuple[float, int]]] = {}
        self._next_sync: dict[Key, float] = {}  # when each HPA's periodic sync is due (monotonic seconds)

    def write_options(self) -> WriteOptions:
        return WriteOptions(manager=MANAGER)

    def keys_for(self, event: WatchEvent) -> Iterable[Key]:
        if event.type == "DELETED":
            self._recommendations.pop(event.object["metadata"].get("uid", ""), None)
        return super().keys_for(event)

    def _periodic(self, key: Key) -> float | None:
        """Keep exactly one periodic sync scheduled per HPA (event-driven runs must not start more chains)."""
        period = self.api.clock.scaled(SYNC_PERIOD)
        now = time.monotonic()
        due = self._next_sync.get(key)
        if due is not None and due > now + period / 2:
            return None
        self._next_sync[key] = now + period
        return SYNC_PERIOD

    def _now(self) -> float:
        return self.api.clock.now().timestamp() * self.api.clock.speed

    def reconcile(self, key: Key) -> float | None:
        _, namespace, name = key
        rt = self.api.type("autoscaling", "HorizontalPodAutoscaler")
        hpa = self.api.find(rt, namespace, name)
        if hpa is None:
            self._next_sync.pop(key, None)
            return None
        spec = hpa.get("spec") or {}
        old_status = hpa.get("status") or {}
        conditions = clone(old_status.get("conditions") or [])
        now = self.api.clock.timestamp()

        def condition(kind: str, state: str, reason: str, message: str) -> None:
            set_condition(conditions, {"type": kind, "status": state, "lastTransitionTime": now,
                                       "reason": reason, "message": message})

        ref = spec.get("scaleTargetRef") or {}
        group = ref.get("apiVersion", "").rpartition("/")[0]
        target_rt = self.api.registry.by_kind(group, ref.get("kind", ""))
        try:
            if target_rt is None or not target_rt.has_scale:
                raise ApiError(404, "NotFound",
                               f"no matches for kind \"{ref.get('kind')}\" in group \"{group}\"")
            scale = self.api.get_scale(target_rt, namespace, ref.get("name", ""))
        except ApiError as exc:
            message = f"the HPA controller was unable to get the target's current scale: {exc.message}"
            condition("AbleToScale", "False", "FailedGetScale", message)
            record_event(self.api, hpa, "Warning", "FailedGetScale", exc.message, COMPONENT)
            self._write(rt, hpa, {**old_status,
                                  "currentReplicas": int(old_status.get("currentReplicas") or 0),
                                  "desiredReplicas": int(old_status.get("desiredReplicas") or 0),
                                  "conditions": conditions})
            return self._periodic(key)

        current = int((scale.get("spec") or {}).get("replicas") or 0)
        min_replicas = int(spec.get("minReplicas", 1) if spec.get("minReplicas") is not None else 1)
        max_replicas = int(spec.get("maxReplicas") or max(min_replicas, 1))
        desired, reason = current, ""
        if current == 0 and min_replicas != 0:
            desired = 0
            condition("ScalingActive", "False", "ScalingDisabled",
                      "scaling is disabled since the replica count of the target is zero")
        elif current > max_replicas:
            desired, reason = max_replicas, "Current number of replicas above Spec.MaxReplicas"
        elif current < min_replicas:
            desired, reason = min_replicas, "Current number of replicas below Spec.MinReplicas"
        else:
            recommendation = self._recommendation(hpa, current, condition)
            if recommendation > current:
                reason = f"{METRIC_NAME} above target"
            elif recommendation < current:
                reason = "All metrics below target"
            desired = self._normalize(hpa, current, recommendation, min_replicas, max_replicas, condition)

        status = {"observedGeneration": hpa["metadata"].get("generation", 1), "currentReplicas": current,
                  "desiredReplicas": desired}
        if old_status.get("lastScaleTime"):
            status["lastScaleTime"] = old_status["lastScaleTime"]
        if desired != current:
            try:
                self.api.patch(target_rt, namespace, ref.get("name", ""), MERGE,
                               {"spec": {"replicas": desired}}, self.write_options(), subresource="scale")
            except ApiError as exc:
                condition("AbleToScale", "False", "FailedUpdateScale",
                          f"the HPA controller was unable to update the target scale: {exc.message}")
                record_event(self.api, hpa, "Warning", "FailedRescale",
                             f"New size: {desired}; reason: {reason}; error: {exc.message}", COMPONENT)
            else:
                condition("AbleToScale", "True", "SucceededRescale",
                          f"the HPA controller was able to update the target scale to {desired}")
                record_event(self.api, hpa, "Normal", "SuccessfulRescale",
                             f"New size: {desired}; reason: {reason}", COMPONENT)
                status["lastScaleTime"] = now
        status["conditions"] = conditions
        self._write(rt, hpa, status)
        return self._periodic(key)

    def _recommendation(self, hpa: dict, current: int, condition: Condition) -> int:
        text = (hpa["metadata"].get("annotations") or {}).get(DESIRED_ANNOTATION)
        if text is None:
            condition("ScalingActive", "True", "ValidMetricFound",
                      f"the HPA was able to successfully calculate a replica count from {METRIC_NAME} "
                      "(absent: keeping the current replica count)")
            return current
        try:
            value = int(str(text).strip())
            if value < 0:
                raise ValueError(text)
        except ValueError:
            condition("ScalingActive", "False", "FailedGetExternalMetric",
                      f"the HPA was unable to compute the replica count: {METRIC_NAME} must be a "
                      f"non-negative integer, not {text!r}")
            return current
        condition("ScalingActive", "True", "ValidMetricFound",
                  f"the HPA was able to successfully calculate a replica count from {METRIC_NAME}")
        return value

    def _normalize(self, hpa: dict, current: int, recommendation: int, min_replicas: int, max_replicas: int,
                   condition: Condition) -> int:
        """Stabilise, then clamp (kube's normalizeDesiredReplicas / convertDesiredReplicasWithRules)."""
        spec = hpa.get("spec") or {}
        uid = hpa["metadata"]["uid"]
        now = self._now()
        down_window = _window(spec, "scaleDown", DEFAULT_DOWNSCALE_WINDOW)
        up_window = _window(spec, "scaleUp", 0.0)
        keep = max(down_window, up_window)
        history = [(t, r) for t, r in self._recommendations.get(uid, []) if now - t <= keep]
        history.append((now, recommendation))
        self._recommendations[uid] = history
        stabilized = recommendation
        if recommendation < current:
            stabilized = min(current, max(r for t, r in history if now - t <= down_window))
        elif recommendation > current:
            stabilized = max(current, min(r for t, r in history if now - t <= up_window))
        if stabilized != recommendation and recommendation < current:
            condition("AbleToScale", "True", "ScaleDownStabilized", "recent recommendations were higher than "
                      "current one, applying the highest recent recommendation")
        elif stabilized != recommendation:
            condition("AbleToScale", "True", "ScaleUpStabilized", "recent recommendations were lower than "
                      "current one, applying the lowest recent recommendation")
        else:
            condition("AbleToScale", "True", "ReadyForNewScale", "recommended size matches current size")
        maximum, limit_reason, limit_message = max_replicas, "TooManyReplicas", \
            "the desired replica count is more than the maximum replica count"
        scale_up_limit = max(2 * current, 4)
        if spec.get("behavior") is None and max_replicas > scale_up_limit:
            maximum, limit_reason, limit_message = scale_up_limit, "ScaleUpLimit", \
                "the desired replica count is increasing faster than the maximum scale rate"
        if stabilized < min_replicas:
            condition("ScalingLimited", "True", "TooFewReplicas",
                      "the desired replica count is less than the minimum replica count")
            return min_replicas
        if stabilized > maximum:
            condition("ScalingLimited", "True", limit_reason, limit_message)
            return maximum
        condition("ScalingLimited", "False", "DesiredWithinRange",
                  "the desired count is within the acceptable range")
        return stabilized

    def _write(self, rt: ResourceType, hpa: dict, status: dict) -> None:
        old = hpa.get("status") or {}
        if status == old:
            return
        meta = hpa["metadata"]
        self.api.update(rt, meta.get("namespace") or "", meta["name"], {**hpa, "status": status},
                        self.write_options(), subresource="status")
