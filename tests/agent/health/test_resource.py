"""resource_health: what comes before every rule, which kinds have health, bad input."""

from __future__ import annotations

import time

import pytest

from agent.health import Health, HealthStatus, has_health, ignores_health, resource_health
from tests.agent.health.objects import T0, T0_ISO, deployment, gpu_pending_pod


def test_kinds_without_a_rule_in_built_in_groups_have_no_health() -> None:
    for api_version, kind in [("v1", "ConfigMap"), ("v1", "Secret"), ("v1", "Namespace"), ("v1", "ServiceAccount"),
                              ("policy/v1", "PodDisruptionBudget"), ("rbac.authorization.k8s.io/v1", "Role"),
                              ("networking.k8s.io/v1", "NetworkPolicy"), ("extensions/v1beta1", "Deployment")]:
        obj = {"apiVersion": api_version, "kind": kind, "metadata": {"name": "x", "namespace": "ml"}}
        assert resource_health(obj) is None, kind
        assert not has_health(obj)


def test_custom_resources_get_the_generic_rule() -> None:
    obj = {"apiVersion": "gateway.networking.k8s.io/v1", "kind": "Gateway", "metadata": {"name": "x"}}
    assert resource_health(obj) == Health(HealthStatus.HEALTHY, "Resource is current")
    assert has_health(obj)


@pytest.mark.parametrize("key", ["argocd.argoproj.io/ignore-healthcheck", "fleetline.io/ignore-healthcheck"])
def test_opted_out_objects_have_no_health(key: str) -> None:
    obj = deployment(available=0)
    obj["metadata"]["annotations"] = {key: "true"}
    assert ignores_health(obj)
    assert resource_health(obj) is None
    obj["metadata"]["annotations"] = {key: "false"}
    assert resource_health(obj) is not None


def test_object_being_deleted_is_pending_deletion_unless_a_hook_finalizer_holds_it() -> None:
    obj = deployment()
    obj["metadata"]["deletionTimestamp"] = T0_ISO
    assert resource_health(obj) == Health(HealthStatus.PROGRESSING, "Pending deletion")
    obj["metadata"]["finalizers"] = ["argocd.argoproj.io/hook-finalizer"]
    assert resource_health(obj) == Health(HealthStatus.HEALTHY, "3/3 replicas available")
    config = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c", "deletionTimestamp": T0_ISO}}
    assert resource_health(config) == Health(HealthStatus.PROGRESSING, "Pending deletion")


def test_a_field_of_the_wrong_type_is_unknown_naming_object_and_field() -> None:
    obj = deployment()
    obj["status"]["availableReplicas"] = "three"
    assert resource_health(obj) == Health(
        HealthStatus.UNKNOWN, "Deployment ml/inference: cannot assess health: status.availableReplicas is 'three', "
                              "expected an integer")
    broken_time = gpu_pending_pod()
    broken_time["status"]["conditions"][0]["lastTransitionTime"] = "yesterday"
    result = resource_health(broken_time, now=T0)
    assert result is not None and result.status == HealthStatus.UNKNOWN
    assert "Pod ml/inference-gpu1" in result.message and "'yesterday', expected an RFC 3339 time" in result.message


def test_bad_arguments_are_clear_errors() -> None:
    with pytest.raises(ValueError, match="expected a Kubernetes object .* got list"):
        resource_health([])  # type: ignore[arg-type]
    with pytest.raises(ValueError, match=r"Deployment ml/web has no apiVersion; pass the object as the API returns"):
        resource_health({"kind": "Deployment", "metadata": {"name": "web", "namespace": "ml"}})
    with pytest.raises(ValueError, match=r"pods\[1\] is str, expected a Pod object"):
        resource_health(deployment(), pods=[{"kind": "Pod"}, "inference-7d9f"])  # type: ignore[list-item]
    with pytest.raises(ValueError, match="gpu_grace_seconds is -1"):
        resource_health(deployment(), gpu_grace_seconds=-1)


def test_now_defaults_to_the_clock() -> None:
    waited_long = gpu_pending_pod(waited=time.time() - T0 + 3600)  # an hour before the real now
    result = resource_health(waited_long)
    assert result is not None and result.status == HealthStatus.DEGRADED
