"""kstatus's generic rule for custom resources without a rule of their own."""

from __future__ import annotations

import pytest

from agent.health import Health, HealthStatus, resource_health
from tests.agent.health.objects import T0, cond

P, H, D = HealthStatus.PROGRESSING, HealthStatus.HEALTHY, HealthStatus.DEGRADED


def model(*, generation: int | None = 2, observed: int | None = 2, conditions: list | None = None,
          status: bool = True) -> dict:
    metadata: dict = {"name": "llama", "namespace": "ml"}
    if generation is not None:
        metadata["generation"] = generation
    obj: dict = {"apiVersion": "serving.example.com/v1", "kind": "InferenceModel", "metadata": metadata}
    if status:
        obj["status"] = {"conditions": conditions or []}
        if observed is not None:
            obj["status"]["observedGeneration"] = observed
    return obj


@pytest.mark.parametrize(("obj", "expected"), [
    (model(observed=1, conditions=[cond("Ready")]),
     Health(P, "InferenceModel generation is 2, but latest observed generation is 1")),
    (model(observed=None, conditions=[cond("Ready")]), Health(H, "")),  # no observedGeneration: check skipped
    (model(generation=None, observed=7, conditions=[cond("Ready")]), Health(H, "")),
    (model(conditions=[cond("Reconciling", "True", "Progressing", "rolling out"), cond("Ready")]),
     Health(P, "Progressing: rolling out")),
    (model(conditions=[cond("Stalled", "True", "ImagePull", "cannot pull weights"), cond("Ready")]),
     Health(D, "ImagePull: cannot pull weights")),
    (model(conditions=[cond("Stalled", "False"), cond("Reconciling", "False"), cond("Ready", "True", "Ready",
                                                                                  "serving")]),
     Health(H, "Ready: serving")),
    (model(conditions=[cond("Ready", "False", "Loading", "weights 40%")]), Health(P, "Loading: weights 40%")),
    (model(conditions=[cond("Ready", "Unknown")]), Health(P, "not Ready")),
    (model(conditions=[cond("Available", "False")]), Health(H, "Resource is current")),
    (model(status=False), Health(H, "Resource is current")),
])
def test_kstatus_generic_rule(obj: dict, expected: Health) -> None:
    assert resource_health(obj, now=T0) == expected


def test_reconciling_and_stalled_are_read_in_condition_order() -> None:
    stalled_first = model(conditions=[cond("Stalled", "True", message="x"), cond("Reconciling", "True", message="y")])
    assert resource_health(stalled_first, now=T0) == Health(D, "x")
