"""PersistentVolumeClaim, Service, Ingress, HPA, APIService, CustomResourceDefinition, Workflow."""

from __future__ import annotations

import json

import pytest

from agent.health import Health, HealthStatus, resource_health
from tests.agent.health.objects import T0, cond

P, H, D, U = HealthStatus.PROGRESSING, HealthStatus.HEALTHY, HealthStatus.DEGRADED, HealthStatus.UNKNOWN


def judge(obj: dict) -> Health:
    result = resource_health(obj, now=T0)
    assert result is not None
    return result


def obj(api_version: str, kind: str, *, spec: dict | None = None, status: dict | None = None,
        annotations: dict | None = None) -> dict:
    metadata: dict = {"name": "x", "namespace": "ml"}
    if annotations:
        metadata["annotations"] = annotations
    return {"apiVersion": api_version, "kind": kind, "metadata": metadata, "spec": spec or {}, "status": status or {}}


@pytest.mark.parametrize(("phase", "status"), [("Bound", H), ("Pending", P), ("Lost", D), ("", U), ("Weird", U)])
def test_pvc_by_phase(phase: str, status: HealthStatus) -> None:
    assert judge(obj("v1", "PersistentVolumeClaim", status={"phase": phase})).status == status


def test_service_is_healthy_unless_a_load_balancer_waits_for_an_address() -> None:
    assert judge(obj("v1", "Service", spec={"type": "ClusterIP"})) == Health(H)
    waiting = judge(obj("v1", "Service", spec={"type": "LoadBalancer"}, status={"loadBalancer": {}}))
    assert waiting == Health(P, "waiting for the load balancer to get an address")
    address = {"loadBalancer": {"ingress": [{"ip": "1.2.3.4"}]}}
    ready = obj("v1", "Service", spec={"type": "LoadBalancer"}, status=address)
    assert judge(ready).status == H


@pytest.mark.parametrize("api_version", ["networking.k8s.io/v1", "extensions/v1beta1"])
def test_ingress_needs_an_address(api_version: str) -> None:
    assert judge(obj(api_version, "Ingress")).status == P
    assert judge(obj(api_version, "Ingress", status={"loadBalancer": {"ingress": [{"hostname": "lb"}]}})).status == H


def hpa(*conditions: dict) -> dict:
    return obj("autoscaling/v2", "HorizontalPodAutoscaler", status={"conditions": list(conditions)})


@pytest.mark.parametrize(("kind", "reason"), [
    ("AbleToScale", "FailedGetScale"), ("AbleToScale", "FailedUpdateScale"),
    ("ScalingActive", "FailedGetResourceMetric"), ("ScalingActive", "FailedGetObjectMetric"),
    ("ScalingActive", "FailedGetPodsMetric"), ("ScalingActive", "FailedGetExternalMetric"),
    ("ScalingActive", "FailedComputeMetricsReplicas"), ("ScalingActive", "InvalidSelector"),
])
def test_hpa_degraded_conditions_win_over_healthy_ones(kind: str, reason: str) -> None:
    result = judge(hpa(cond("AbleToScale", "True", "ReadyForNewScale"), cond(kind, "False", reason, "boom")))
    assert result == Health(D, f"{reason}: boom")


def test_hpa_healthy_when_able_to_scale_or_limited_else_waiting() -> None:
    assert judge(hpa(cond("AbleToScale", "True", "SucceededRescale", "ok"))) == Health(H, "ok")
    assert judge(hpa(cond("AbleToScale", "False", "BackoffBoth"), cond("ScalingLimited", "True", "TooManyReplicas",
                                                                       "max"))) == Health(H, "max")
    assert judge(hpa(cond("AbleToScale", "False", "BackoffBoth"))) == Health(P, "Waiting to Autoscale")
    assert judge(hpa()) == Health(P, "Waiting to Autoscale")


def test_hpa_v1_reads_the_conditions_annotation() -> None:
    key = "autoscaling.alpha.kubernetes.io/conditions"
    assert judge(obj("autoscaling/v1", "HorizontalPodAutoscaler")) == Health(P, "Waiting to Autoscale")
    degraded = json.dumps([{"type": "AbleToScale", "status": "False", "reason": "FailedGetScale", "message": "no"}])
    assert judge(obj("autoscaling/v1", "HorizontalPodAutoscaler", annotations={key: degraded})).status == D
    healthy = json.dumps([{"type": "AbleToScale", "status": "True", "reason": "SucceededRescale"}])
    assert judge(obj("autoscaling/v1", "HorizontalPodAutoscaler", annotations={key: healthy})).status == H
    broken = judge(obj("autoscaling/v1", "HorizontalPodAutoscaler", annotations={key: "{not json"}))
    assert broken.status == U
    assert broken.message.startswith("HorizontalPodAutoscaler ml/x: cannot assess health: annotation "
                                     "autoscaling.alpha.kubernetes.io/conditions is not JSON")


def test_apiservice_by_available_condition() -> None:
    def service(*conditions: dict) -> dict:
        return obj("apiregistration.k8s.io/v1", "APIService", status={"conditions": list(conditions)})
    assert judge(service(cond("Available", "True", "Passed", "all checks passed"))) == Health(H, "Passed: all checks "
                                                                                                 "passed")
    assert judge(service(cond("Available", "False", "MissingEndpoints", "no endpoints"))).status == P
    assert judge(service()) == Health(P, "Waiting to be processed")


def crd(*conditions: dict) -> dict:
    return obj("apiextensions.k8s.io/v1", "CustomResourceDefinition", status={"conditions": list(conditions)})


@pytest.mark.parametrize(("conditions", "status", "message"), [
    ([], P, "Status conditions not found"),
    ([cond("Terminating", "True", message="bye"), cond("Established")], P, "CRD is terminating: bye"),
    ([cond("NamesAccepted", "False", message="clash"), cond("Established")], D, "CRD names have not been accepted: "
                                                                                "clash"),
    ([cond("NonStructuralSchema", "True", message="bad"), cond("Established")], D, "Schema violations found: bad"),
    ([cond("Established", "False", "Installing")], P, "CRD is being installed"),
    ([cond("NamesAccepted", "True"), cond("Established", "False", "NotAccepted")], D, "CRD is not established"),
    ([cond("NamesAccepted", "True"), cond("Established", "True")], H, "CRD is healthy"),
])
def test_crd_rules(conditions: list, status: HealthStatus, message: str) -> None:
    assert judge(crd(*conditions)) == Health(status, message)


@pytest.mark.parametrize(("phase", "status"), [("", P), ("Pending", P), ("Running", P), ("Succeeded", H),
                                               ("Failed", D), ("Error", D), ("Odd", U)])
def test_argo_workflow_by_phase(phase: str, status: HealthStatus) -> None:
    assert judge(obj("argoproj.io/v1alpha1", "Workflow", status={"phase": phase})).status == status
