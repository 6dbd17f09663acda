"""Health codes and Argo CD's order (reference §A1.1)."""

from __future__ import annotations

import pytest

from agent.health import ORDER, Health, HealthStatus, is_worse, worst


def test_order_is_argo_cds_from_most_to_least_healthy() -> None:
    assert [status.value for status in ORDER] == ["Healthy", "Suspended", "Progressing", "Missing", "Degraded",
                                                  "Unknown"]


@pytest.mark.parametrize(("better", "worse"), list(zip(ORDER, ORDER[1:], strict=False)))
def test_each_code_is_worse_than_the_one_before(better: HealthStatus, worse: HealthStatus) -> None:
    assert is_worse(better, worse)
    assert not is_worse(worse, better)
    assert not is_worse(worse, worse)


def test_worst_of_missing_and_degraded_is_degraded_and_of_nothing_healthy() -> None:
    assert worst([HealthStatus.MISSING, HealthStatus.DEGRADED]) == HealthStatus.DEGRADED
    assert worst([]) == HealthStatus.HEALTHY
    assert worst([HealthStatus.SUSPENDED, HealthStatus.HEALTHY]) == HealthStatus.SUSPENDED


def test_codes_are_their_wire_strings_and_health_defaults_to_no_message() -> None:
    assert str(HealthStatus.PROGRESSING) == "Progressing"
    assert HealthStatus("Degraded") is HealthStatus.DEGRADED
    assert Health(HealthStatus.HEALTHY).message == ""
