"""Argo CD's rules for the simple kinds (reference §A1.3): PersistentVolumeClaim, Service, Ingress,
HorizontalPodAutoscaler, APIService, plus the two custom kinds Argo CD ships a rule for,
CustomResourceDefinition (its bundled Lua) and argoproj.io Workflow.

The checks are Argo CD's; the messages are ours where Argo CD gives none.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from agent.health.fields import HealthInputError, annotation, conditions, reason_message, sequence, string
from agent.health.status import Health, HealthStatus


def pvc_health(pvc: Mapping[str, Any]) -> Health:
    phase = string(pvc, "status.phase")
    if phase == "Bound":
        return Health(HealthStatus.HEALTHY, "bound")
    if phase == "Pending":
        return Health(HealthStatus.PROGRESSING, "waiting for the claim to be bound")
    if phase == "Lost":
        return Health(HealthStatus.DEGRADED, "the claim lost its volume")
    return Health(HealthStatus.UNKNOWN, f"claim phase is {phase or 'not set'}")


def service_health(service: Mapping[str, Any]) -> Health:
    """Healthy, except a LoadBalancer Service without an address yet (Progressing). Never Degraded."""
    if string(service, "spec.type") == "LoadBalancer" and not sequence(service, "status.loadBalancer.ingress"):
        return Health(HealthStatus.PROGRESSING, "waiting for the load balancer to get an address")
    return Health(HealthStatus.HEALTHY)


def ingress_health(ingress: Mapping[str, Any]) -> Health:
    if sequence(ingress, "status.loadBalancer.ingress"):
        return Health(HealthStatus.HEALTHY)
    return Health(HealthStatus.PROGRESSING, "waiting for the ingress controller to publish an address")


HPA_DEGRADED = {
    ("AbleToScale", "FailedGetScale"),
    ("AbleToScale", "FailedUpdateScale"),
    ("ScalingActive", "FailedGetResourceMetric"),
    ("ScalingActive", "FailedGetObjectMetric"),
    ("ScalingActive", "FailedGetPodsMetric"),
    ("ScalingActive", "FailedGetExternalMetric"),
    ("ScalingActive", "FailedComputeMetricsReplicas"),
    ("ScalingActive", "InvalidSelector"),
}
HPA_V1_CONDITIONS = "autoscaling.alpha.kubernetes.io/conditions"
WAITING_TO_AUTOSCALE = Health(HealthStatus.PROGRESSING, "Waiting to Autoscale")


def hpa_health(hpa: Mapping[str, Any]) -> Health:
    """autoscaling/v2 (and v2beta1/v2beta2) read `status.conditions`; v1 reads its conditions annotation.

    Any degraded (type, reason) pair is Degraded; else any AbleToScale=True or ScalingLimited=True is Healthy;
    else Progressing.
    """
    if hpa.get("apiVersion") == "autoscaling/v1":
        raw = annotation(hpa, HPA_V1_CONDITIONS)
        if not raw:
            return WAITING_TO_AUTOSCALE
        try:
            entries = json.loads(raw)
        except ValueError:
            raise HealthInputError(f"annotation {HPA_V1_CONDITIONS} is not JSON: {raw[:80]!r}") from None
        if not isinstance(entries, list) or not all(isinstance(entry, dict) for entry in entries):
            raise HealthInputError(f"annotation {HPA_V1_CONDITIONS} is not a JSON list of conditions")
    else:
        entries = conditions(hpa)
    if not entries:
        return WAITING_TO_AUTOSCALE
    for entry in entries:
        if (entry.get("type"), entry.get("reason")) in HPA_DEGRADED:
            return Health(HealthStatus.DEGRADED, reason_message(entry))
    for entry in entries:
        if entry.get("type") in ("AbleToScale", "ScalingLimited") and entry.get("status") == "True":
            return Health(HealthStatus.HEALTHY, str(entry.get("message") or ""))
    return WAITING_TO_AUTOSCALE


def apiservice_health(apiservice: Mapping[str, Any]) -> Health:
    for entry in conditions(apiservice):
        if entry.get("type") == "Available":
            status = HealthStatus.HEALTHY if entry.get("status") == "True" else HealthStatus.PROGRESSING
            return Health(status, f"{entry.get('reason') or ''}: {entry.get('message') or ''}")
    return Health(HealthStatus.PROGRESSING, "Waiting to be processed")


def crd_health(crd: Mapping[str, Any]) -> Health:
    """Argo CD's bundled CustomResourceDefinition Lua."""
    if (crd.get("metadata") or {}).get("deletionTimestamp"):
        return Health(HealthStatus.PROGRESSING, "CRD is terminating")
    entries = conditions(crd)
    if not entries:
        return Health(HealthStatus.PROGRESSING, "Status conditions not found")
    established = False
    for entry in entries:
        kind, status, message = entry.get("type"), entry.get("status"), entry.get("message") or ""
        if kind == "Terminating" and status == "True":
            return Health(HealthStatus.PROGRESSING, f"CRD is terminating: {message}")
        if kind == "NamesAccepted" and status == "False":
            return Health(HealthStatus.DEGRADED, f"CRD names have not been accepted: {message}")
        if kind == "NonStructuralSchema" and status == "True":
            return Health(HealthStatus.DEGRADED, f"Schema violations found: {message}")
        if kind == "Established":
            if status == "True":
                established = True
            elif entry.get("reason") == "Installing":
                return Health(HealthStatus.PROGRESSING, "CRD is being installed")
    if not established:
        return Health(HealthStatus.DEGRADED, "CRD is not established")
    return Health(HealthStatus.HEALTHY, "CRD is healthy")


def workflow_health(workflow: Mapping[str, Any]) -> Health:
    """argoproj.io Workflow: by `status.phase`."""
    phase = string(workflow, "status.phase")
    message = string(workflow, "status.message")
    if phase in ("", "Pending", "Running"):
        return Health(HealthStatus.PROGRESSING, message)
    if phase == "Succeeded":
        return Health(HealthStatus.HEALTHY, message)
    if phase in ("Failed", "Error"):
        return Health(HealthStatus.DEGRADED, message)
    return Health(HealthStatus.UNKNOWN, message or f"workflow phase is {phase}")

