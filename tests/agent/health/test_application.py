"""application_health: Argo CD's aggregation (reference §A1.5)."""

from __future__ import annotations

import itertools

import pytest

from agent.health import ORDER, Health, HealthStatus, application_health

H, S, P, M, D, U = (Health(status) for status in ORDER)


def test_no_resources_is_healthy() -> None:
    assert application_health([]) == Health(HealthStatus.HEALTHY)


@pytest.mark.parametrize(("a", "b"), list(itertools.combinations([H, S, P, D, U], 2)))
def test_worst_wins_in_argo_cds_order(a: Health, b: Health) -> None:
    assert application_health([a, b]).status == b.status
    assert application_health([b, a]).status == b.status


def test_resources_without_health_are_skipped() -> None:
    assert application_health([None, H, None]).status == HealthStatus.HEALTHY
    assert application_health([None, None]).status == HealthStatus.HEALTHY


def test_missing_does_not_count_unless_every_resource_is_missing() -> None:
    assert application_health([M, H]).status == HealthStatus.HEALTHY
    assert application_health([M, P]).status == HealthStatus.PROGRESSING
    assert application_health([M, D]).status == HealthStatus.DEGRADED  # Argo CD's documented example
    assert application_health([M, None]).status == HealthStatus.HEALTHY  # something is live
    assert application_health([M, M]) == Health(HealthStatus.MISSING, "all 2 resources are missing")


def test_named_resources_are_cited_up_to_three_then_counted() -> None:
    healths = {
        "Deployment ml/inference": Health(HealthStatus.DEGRADED, "0/3 replicas available; pod inference-7d9f "
                                                                 "CrashLoopBackOff (restarts: 4)"),
        "Service ml/inference": Health(HealthStatus.PROGRESSING, "waiting for the load balancer to get an address"),
        "Job ml/migrate": Health(HealthStatus.DEGRADED, "BackoffLimitExceeded: Job has reached the specified "
                                                        "backoff limit"),
        "ConfigMap ml/settings": None,
    }
    result = application_health(healths)
    assert result == Health(HealthStatus.DEGRADED,
                            "Deployment ml/inference: 0/3 replicas available; pod inference-7d9f CrashLoopBackOff "
                            "(restarts: 4) | Job ml/migrate: BackoffLimitExceeded: Job has reached the specified "
                            "backoff limit")
    many = {f"Job ml/j{i}": Health(HealthStatus.DEGRADED, "failed") for i in range(5)}
    assert application_health(many).message == "Job ml/j0: failed | Job ml/j1: failed | Job ml/j2: failed | and 2 more"


def test_unnamed_healths_give_their_messages_and_missing_lists_names() -> None:
    assert application_health([Health(HealthStatus.PROGRESSING, "a"), Health(HealthStatus.PROGRESSING, "b")]
                              ).message == "a | b"
    missing = application_health({"Deployment ml/a": M, "Service ml/b": M})
    assert missing == Health(HealthStatus.MISSING, "all 2 resources are missing: Deployment ml/a, Service ml/b")


def test_something_else_than_a_health_is_an_error_naming_the_resource() -> None:
    with pytest.raises(ValueError, match="got str for Deployment ml/a, expected a Health or None"):
        application_health({"Deployment ml/a": "Healthy"})  # type: ignore[dict-item]
