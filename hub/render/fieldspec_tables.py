"""kustomize v5.5's default field-spec tables for its built-in metadata transformers, as Python data.

Each table lists, in kustomize's order, the fields a transformer writes: name prefix/suffix, common labels
(labels, selectors and templates), template labels (labels and templates, no selectors: the `labels` field
without includeSelectors), common annotations, namespace, images and replicas. The name-reference table
belongs to `hub.render.namerefs`. Data only.
"""

from __future__ import annotations

from hub.render.fieldspecs import FieldSpec

NAME_PREFIX: tuple[FieldSpec, ...] = (FieldSpec("metadata/name"),)
NAME_SUFFIX: tuple[FieldSpec, ...] = (FieldSpec("metadata/name"),)

_AFFINITY_SELECTORS = (
    "spec/template/spec/affinity/podAffinity/preferredDuringSchedulingIgnoredDuringExecution/podAffinityTerm/"
    "labelSelector/matchLabels",
    "spec/template/spec/affinity/podAffinity/requiredDuringSchedulingIgnoredDuringExecution/labelSelector/"
    "matchLabels",
    "spec/template/spec/affinity/podAntiAffinity/preferredDuringSchedulingIgnoredDuringExecution/podAffinityTerm/"
    "labelSelector/matchLabels",
    "spec/template/spec/affinity/podAntiAffinity/requiredDuringSchedulingIgnoredDuringExecution/labelSelector/"
    "matchLabels",
    "spec/template/spec/topologySpreadConstraints/labelSelector/matchLabels",
)

# Labels on the object itself and on the pod (and PVC) templates it stamps out.
METADATA_LABELS: tuple[FieldSpec, ...] = (
    FieldSpec("metadata/labels", create=True),
    FieldSpec("spec/template/metadata/labels", version="v1", kind="ReplicationController", create=True),
    FieldSpec("spec/template/metadata/labels", kind="Deployment", create=True),
    FieldSpec("spec/template/metadata/labels", kind="ReplicaSet", create=True),
    FieldSpec("spec/template/metadata/labels", kind="DaemonSet", create=True),
    FieldSpec("spec/template/metadata/labels", group="apps", kind="StatefulSet", create=True),
    FieldSpec("spec/volumeClaimTemplates[]/metadata/labels", group="apps", kind="StatefulSet", create=True),
    FieldSpec("spec/template/metadata/labels", group="batch", kind="Job", create=True),
    FieldSpec("spec/jobTemplate/metadata/labels", group="batch", kind="CronJob", create=True),
    FieldSpec("spec/jobTemplate/spec/template/metadata/labels", group="batch", kind="CronJob", create=True),
)

# Selectors only (the part of commonLabels that `labels` adds with includeSelectors).
SELECTOR_LABELS: tuple[FieldSpec, ...] = (
    FieldSpec("spec/selector", version="v1", kind="Service", create=True),
    FieldSpec("spec/selector", version="v1", kind="ReplicationController", create=True),
    FieldSpec("spec/selector/matchLabels", kind="Deployment", create=True),
    *(FieldSpec(path, group="apps", kind="Deployment") for path in _AFFINITY_SELECTORS),
    FieldSpec("spec/selector/matchLabels", kind="ReplicaSet", create=True),
    FieldSpec("spec/selector/matchLabels", kind="DaemonSet", create=True),
    FieldSpec("spec/selector/matchLabels", group="apps", kind="StatefulSet", create=True),
    *(FieldSpec(path, group="apps", kind="StatefulSet") for path in _AFFINITY_SELECTORS),
    FieldSpec("spec/selector/matchLabels", group="batch", kind="Job"),
    FieldSpec("spec/jobTemplate/spec/selector/matchLabels", group="batch", kind="CronJob"),
    FieldSpec("spec/selector/matchLabels", group="policy", kind="PodDisruptionBudget"),
    FieldSpec("spec/podSelector/matchLabels", group="networking.k8s.io", kind="NetworkPolicy"),
    FieldSpec("spec/ingress/from/podSelector/matchLabels", group="networking.k8s.io", kind="NetworkPolicy"),
    FieldSpec("spec/egress/to/podSelector/matchLabels", group="networking.k8s.io", kind="NetworkPolicy"),
)

COMMON_LABELS: tuple[FieldSpec, ...] = SELECTOR_LABELS + METADATA_LABELS
TEMPLATE_LABELS: tuple[FieldSpec, ...] = METADATA_LABELS

COMMON_ANNOTATIONS: tuple[FieldSpec, ...] = (
    FieldSpec("metadata/annotations", create=True),
    FieldSpec("spec/template/metadata/annotations", version="v1", kind="ReplicationController", create=True),
    FieldSpec("spec/template/metadata/annotations", kind="Deployment", create=True),
    FieldSpec("spec/template/metadata/annotations", kind="ReplicaSet", create=True),
    FieldSpec("spec/template/metadata/annotations", kind="DaemonSet", create=True),
    FieldSpec("spec/template/metadata/annotations", kind="StatefulSet", create=True),
    FieldSpec("spec/template/metadata/annotations", group="batch", kind="Job", create=True),
    FieldSpec("spec/jobTemplate/metadata/annotations", group="batch", kind="CronJob", create=True),
    FieldSpec("spec/jobTemplate/spec/template/metadata/annotations", group="batch", kind="CronJob", create=True),
)

# metadata/namespace itself is handled apart (only on namespaced kinds), as kustomize does.
NAMESPACE: tuple[FieldSpec, ...] = (
    FieldSpec("metadata/name", kind="Namespace", create=True),
    FieldSpec("spec/service/namespace", group="apiregistration.k8s.io", kind="APIService", create=True),
    FieldSpec("spec/conversion/webhook/clientConfig/service/namespace", group="apiextensions.k8s.io",
              kind="CustomResourceDefinition"),
)

IMAGES: tuple[FieldSpec, ...] = (
    FieldSpec("spec/containers[]/image", create=True),
    FieldSpec("spec/initContainers[]/image", create=True),
    FieldSpec("spec/template/spec/containers[]/image", create=True),
    FieldSpec("spec/template/spec/initContainers[]/image", create=True),
)

REPLICAS: tuple[FieldSpec, ...] = (
    FieldSpec("spec/replicas", kind="Deployment", create=True),
    FieldSpec("spec/replicas", kind="ReplicationController", create=True),
    FieldSpec("spec/replicas", kind="ReplicaSet", create=True),
    FieldSpec("spec/replicas", kind="StatefulSet", create=True),
)
