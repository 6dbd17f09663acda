"""Which pods belong to a workload: its label selector, narrowed by ownership where the pods say who owns them.

A pod in the workload's namespace belongs to it when

- the pod has a controlling ownerReference and that owner is the workload (by uid when both are known,
  else by kind and name) or, for a Deployment, one of its ReplicaSets (`<deployment>-<pod-template-hash>`);
  a pod controlled by something else never belongs, even when its labels match;
- or the pod has no controller and matches the workload's selector (`matchLabels` and `matchExpressions`
  with In, NotIn, Exists and DoesNotExist; a Service's plain `spec.selector` map). A workload without a
  selector then selects nothing, as in Kubernetes.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from agent.health.fields import HealthInputError, describe, labels, mapping, objects, sequence, string


def pods_of(workload: Mapping[str, Any], pods: Iterable[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
    """The pods of `workload` among `pods` (any namespace; the others are skipped), in their given order.

    Raises ValueError naming the workload when its selector is malformed (an unknown operator, a missing
    `values` list).
    """
    try:
        return [pod for pod in pods if _belongs(workload, pod)]
    except HealthInputError as error:
        raise HealthInputError(f"{describe(workload)}: {error}") from None


def _belongs(workload: Mapping[str, Any], pod: Mapping[str, Any]) -> bool:
    if string(pod, "metadata.namespace") != string(workload, "metadata.namespace"):
        return False
    owner = _controller(pod)
    if owner is not None:
        return _owned_by(workload, pod, owner)
    return selector_matches(_selector(workload), labels(pod))


def _controller(pod: Mapping[str, Any]) -> Mapping[str, Any] | None:
    for reference in objects(pod, "metadata.ownerReferences"):
        if reference.get("controller") is True:
            return reference
    return None


def _owned_by(workload: Mapping[str, Any], pod: Mapping[str, Any], owner: Mapping[str, Any]) -> bool:
    kind = workload.get("kind")
    name = string(workload, "metadata.name")
    if kind == "Deployment":
        if owner.get("kind") != "ReplicaSet":
            return False
        template_hash = labels(pod).get("pod-template-hash")
        if template_hash:
            return owner.get("name") == f"{name}-{template_hash}"
        return str(owner.get("name", "")).startswith(f"{name}-")
    uid = string(workload, "metadata.uid")
    if uid and owner.get("uid"):
        return owner.get("uid") == uid
    return owner.get("kind") == kind and owner.get("name") == name


def _selector(workload: Mapping[str, Any]) -> Mapping[str, Any] | None:
    selector = mapping(workload, "spec.selector")
    if workload.get("kind") == "Service":
        return {"matchLabels": selector} if selector else None
    return selector or None


def selector_matches(selector: Mapping[str, Any] | None, pod_labels: Mapping[str, Any]) -> bool:
    """Kubernetes label-selector semantics; None (no selector) matches nothing."""
    if selector is None:
        return False
    for key, value in mapping(selector, "matchLabels").items():
        if pod_labels.get(key) != value:
            return False
    for index, expression in enumerate(objects(selector, "matchExpressions")):
        key = string(expression, "key")
        operator = string(expression, "operator")
        where = f"spec.selector.matchExpressions[{index}]"
        if operator in ("In", "NotIn"):
            values = sequence(expression, "values")
            if not values:
                raise HealthInputError(f"{where}: operator {operator} needs a non-empty values list")
            present = key in pod_labels and pod_labels[key] in values
            if present != (operator == "In"):
                return False
        elif operator == "Exists":
            if key not in pod_labels:
                return False
        elif operator == "DoesNotExist":
            if key in pod_labels:
                return False
        else:
            raise HealthInputError(f"{where}: unknown operator {operator!r} (use In, NotIn, Exists or DoesNotExist)")
    return True
