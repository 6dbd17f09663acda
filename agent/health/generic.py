"""kstatus's generic rule (kubernetes-sigs/cli-utils `pkg/kstatus`, reference §B2) for custom resources that
have no rule of their own, where Argo CD gives them no health at all.

In order: `status.observedGeneration` present and different from `metadata.generation` is Progressing
(kstatus InProgress); a `Reconciling=True` condition Progressing; a `Stalled=True` condition Degraded
(kstatus Failed); a `Ready` condition True is Healthy, False or Unknown Progressing (kstatus never calls
`Ready=False` failed); no known condition at all is Healthy (kstatus Current). Deletion is handled before
this rule, as for every kind (Progressing, "Pending deletion").
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from agent.health.fields import conditions, optional_integer, reason_message
from agent.health.status import Health, HealthStatus


def generic_health(obj: Mapping[str, Any]) -> Health:
    kind = obj.get("kind") or "resource"
    generation = optional_integer(obj, "metadata.generation")
    observed = optional_integer(obj, "status.observedGeneration")
    if generation is not None and observed is not None and observed != generation:
        return Health(HealthStatus.PROGRESSING,
                      f"{kind} generation is {generation}, but latest observed generation is {observed}")
    entries = conditions(obj)
    for entry in entries:
        if entry.get("type") == "Reconciling" and entry.get("status") == "True":
            return Health(HealthStatus.PROGRESSING, reason_message(entry) or "Reconciling")
        if entry.get("type") == "Stalled" and entry.get("status") == "True":
            return Health(HealthStatus.DEGRADED, reason_message(entry) or "Stalled")
    for entry in entries:
        if entry.get("type") == "Ready":
            if entry.get("status") == "True":
                return Health(HealthStatus.HEALTHY, reason_message(entry))
            return Health(HealthStatus.PROGRESSING, reason_message(entry) or "not Ready")
    return Health(HealthStatus.HEALTHY, "Resource is current")

