"""kustomize v5.5's default nameReference table, as Python data (api/internal/konfig/builtinpluginconsts).

Each entry names a referral kind (group, version, kind; empty matches anything) and the fields of other
objects (the referrers) that hold its name. The order is kustomize's after it sorts its configuration
(kinds in its preferred order, then by group/version/kind); duplicates kustomize lists twice appear once.
kustomize's own quirks are kept: IngressClass is declared with the group `networking.k8s.io/v1`, which no
object has, so `ingressClassName` is never rewritten. Data only; `hub.render.namerefs` applies it.
"""

from __future__ import annotations

from dataclasses import dataclass

from hub.render.fieldspecs import FieldSpec


@dataclass(frozen=True)
class Gvk:
    """A referral selector: empty parts match anything."""

    group: str
    version: str
    kind: str


def _fs(path: str, kind: str, group: str = "", version: str = "") -> FieldSpec:
    return FieldSpec(path, group=group, version=version, kind=kind)


NAME_REFERENCES: tuple[tuple[Gvk, tuple[FieldSpec, ...]], ...] = (
    (Gvk("storage.k8s.io", "v1", "StorageClass"), (
        _fs("spec/storageClassName", "PersistentVolume"),
        _fs("spec/storageClassName", "PersistentVolumeClaim"),
        _fs("spec/volumeClaimTemplates/spec/storageClassName", "StatefulSet"),
    )),
    (Gvk("", "v1", "ServiceAccount"), (
        _fs("subjects", "RoleBinding", "rbac.authorization.k8s.io"),
        _fs("subjects", "ClusterRoleBinding", "rbac.authorization.k8s.io"),
        _fs("spec/template/spec/serviceAccountName", "Deployment"),
        _fs("spec/template/spec/serviceAccountName", "StatefulSet"),
        _fs("spec/jobTemplate/spec/template/spec/serviceAccountName", "CronJob"),
        _fs("spec/template/spec/serviceAccountName", "DaemonSet"),
        _fs("spec/template/spec/serviceAccountName", "Job"),
        _fs("spec/serviceAccountName", "Pod"),
        _fs("spec/template/spec/serviceAccountName", "ReplicationController"),
    )),
    (Gvk("rbac.authorization.k8s.io", "", "Role"), (
        _fs("roleRef/name", "RoleBinding", "rbac.authorization.k8s.io"),
    )),
    (Gvk("rbac.authorization.k8s.io", "", "ClusterRole"), (
        _fs("roleRef/name", "RoleBinding", "rbac.authorization.k8s.io"),
        _fs("roleRef/name", "ClusterRoleBinding", "rbac.authorization.k8s.io"),
    )),
    (Gvk("", "v1", "ConfigMap"), (
        _fs("rules/resourceNames", "Role"),
        _fs("rules/resourceNames", "ClusterRole"),
        _fs("spec/template/spec/volumes/configMap/name", "Deployment"),
        _fs("spec/template/spec/containers/env/valueFrom/configMapKeyRef/name", "Deployment"),
        _fs("spec/template/spec/initContainers/env/valueFrom/configMapKeyRef/name", "Deployment"),
        _fs("spec/template/spec/containers/envFrom/configMapRef/name", "Deployment"),
        _fs("spec/template/spec/initContainers/envFrom/configMapRef/name", "Deployment"),
        _fs("spec/template/spec/volumes/projected/sources/configMap/name", "Deployment"),
        _fs("spec/template/spec/volumes/configMap/name", "StatefulSet"),
        _fs("spec/template/spec/containers/env/valueFrom/configMapKeyRef/name", "StatefulSet"),
        _fs("spec/template/spec/initContainers/env/valueFrom/configMapKeyRef/name", "StatefulSet"),
        _fs("spec/template/spec/containers/envFrom/configMapRef/name", "StatefulSet"),
        _fs("spec/template/spec/initContainers/envFrom/configMapRef/name", "StatefulSet"),
        _fs("spec/template/spec/volumes/projected/sources/configMap/name", "StatefulSet"),
        _fs("spec/jobTemplate/spec/template/spec/volumes/configMap/name", "CronJob"),
        _fs("spec/jobTemplate/spec/template/spec/volumes/projected/sources/configMap/name", "CronJob"),
        _fs("spec/jobTemplate/spec/template/spec/containers/env/valueFrom/configMapKeyRef/name", "CronJob"),
        _fs("spec/jobTemplate/spec/template/spec/initContainers/env/valueFrom/configMapKeyRef/name", "CronJob"),
        _fs("spec/jobTemplate/spec/template/spec/containers/envFrom/configMapRef/name", "CronJob"),
        _fs("spec/jobTemplate/spec/template/spec/initContainers/envFrom/configMapRef/name", "CronJob"),
        _fs("spec/volumes/configMap/name", "Pod", "", "v1"),
        _fs("spec/containers/env/valueFrom/configMapKeyRef/name", "Pod", "", "v1"),
        _fs("spec/initContainers/env/valueFrom/configMapKeyRef/name", "Pod", "", "v1"),
        _fs("spec/containers/envFrom/configMapRef/name", "Pod", "", "v1"),
        _fs("spec/initContainers/envFrom/configMapRef/name", "Pod", "", "v1"),
        _fs("spec/volumes/projected/sources/configMap/name", "Pod", "", "v1"),
        _fs("spec/template/spec/volumes/configMap/name", "DaemonSet"),
        _fs("spec/template/spec/containers/env/valueFrom/configMapKeyRef/name", "DaemonSet"),
        _fs("spec/template/spec/initContainers/env/valueFrom/configMapKeyRef/name", "DaemonSet"),
        _fs("spec/template/spec/containers/envFrom/configMapRef/name", "DaemonSet"),
        _fs("spec/template/spec/initContainers/envFrom/configMapRef/name", "DaemonSet"),
        _fs("spec/template/spec/volumes/projected/sources/configMap/name", "DaemonSet"),
        _fs("metadata/annotations/nginx.ingress.kubernetes.io\\/fastcgi-params-configmap", "Ingress"),
        _fs("spec/template/spec/volumes/configMap/name", "Job"),
        _fs("spec/template/spec/containers/env/valueFrom/configMapKeyRef/name", "Job"),
        _fs("spec/template/spec/initContainers/env/valueFrom/configMapKeyRef/name", "Job"),
        _fs("spec/template/spec/containers/envFrom/configMapRef/name", "Job"),
        _fs("spec/template/spec/initContainers/envFrom/configMapRef/name", "Job"),
        _fs("spec/template/spec/volumes/projected/sources/configMap/name", "Job"),
        _fs("spec/configSource/configMap", "Node"),
        _fs("template/spec/volumes/configMap/name", "PodTemplate"),
        _fs("template/spec/containers/env/valueFrom/configMapKeyRef/name", "PodTemplate"),
        _fs("template/spec/initContainers/env/valueFrom/configMapKeyRef/name", "PodTemplate"),
        _fs("template/spec/containers/envFrom/configMapRef/name", "PodTemplate"),
        _fs("template/spec/initContainers/envFrom/configMapRef/name", "PodTemplate"),
        _fs("template/spec/volumes/projected/sources/configMap/name", "PodTemplate"),
        _fs("spec/template/spec/volumes/configMap/name", "ReplicaSet"),
        _fs("spec/template/spec/containers/env/valueFrom/configMapKeyRef/name", "ReplicaSet"),
        _fs("spec/template/spec/initContainers/env/valueFrom/configMapKeyRef/name", "ReplicaSet"),
        _fs("spec/template/spec/containers/envFrom/configMapRef/name", "ReplicaSet"),
        _fs("spec/template/spec/initContainers/envFrom/configMapRef/name", "ReplicaSet"),
        _fs("spec/template/spec/volumes/projected/sources/configMap/name", "ReplicaSet"),
    )),
    (Gvk("", "v1", "Secret"), (
        _fs("parameters/secretName", "StorageClass"),
        _fs("parameters/adminSecretName", "StorageClass"),
        _fs("parameters/userSecretName", "StorageClass"),
        _fs("parameters/secretRef", "StorageClass"),
        _fs("imagePullSecrets/name", "ServiceAccount"),
        _fs("rules/resourceNames", "Role"),
        _fs("rules/resourceNames", "ClusterRole"),
        _fs("spec/template/spec/containers/env/valueFrom/secretKeyRef/name", "Service", "serving.knative.dev", "v1"),
        _fs("spec/azureFile/secretName", "PersistentVolume"),
        _fs("spec/template/spec/volumes/secret/secretName", "Deployment"),
        _fs("spec/template/spec/containers/env/valueFrom/secretKeyRef/name", "Deployment"),
        _fs("spec/template/spec/initContainers/env/valueFrom/secretKeyRef/name", "Deployment"),
        _fs("spec/template/spec/containers/envFrom/secretRef/name", "Deployment"),
        _fs("spec/template/spec/initContainers/envFrom/secretRef/name", "Deployment"),
        _fs("spec/template/spec/imagePullSecrets/name", "Deployment"),
        _fs("spec/template/spec/volumes/projected/sources/secret/name", "Deployment"),
        _fs("spec/template/spec/volumes/secret/secretName", "StatefulSet"),
        _fs("spec/template/spec/containers/env/valueFrom/secretKeyRef/name", "StatefulSet"),
        _fs("spec/template/spec/initContainers/env/valueFrom/secretKeyRef/name", "StatefulSet"),
        _fs("spec/template/spec/containers/envFrom/secretRef/name", "StatefulSet"),
        _fs("spec/template/spec/initContainers/envFrom/secretRef/name", "StatefulSet"),
        _fs("spec/template/spec/imagePullSecrets/name", "StatefulSet"),
        _fs("spec/template/spec/volumes/projected/sources/secret/name", "StatefulSet"),
        _fs("spec/jobTemplate/spec/template/spec/volumes/secret/secretName", "CronJob"),
        _fs("spec/jobTemplate/spec/template/spec/volumes/projected/sources/secret/name", "CronJob"),
        _fs("spec/jobTemplate/spec/template/spec/containers/env/valueFrom/secretKeyRef/name", "CronJob"),
        _fs("spec/jobTemplate/spec/template/spec/initContainers/env/valueFrom/secretKeyRef/name", "CronJob"),
        _fs("spec/jobTemplate/spec/template/spec/containers/envFrom/secretRef/name", "CronJob"),
        _fs("spec/jobTemplate/spec/template/spec/initContainers/envFrom/secretRef/name", "CronJob"),
        _fs("spec/jobTemplate/spec/template/spec/imagePullSecrets/name", "CronJob"),
        _fs("spec/volumes/secret/secretName", "Pod", "", "v1"),
        _fs("spec/containers/env/valueFrom/secretKeyRef/name", "Pod", "", "v1"),
        _fs("spec/initContainers/env/valueFrom/secretKeyRef/name", "Pod", "", "v1"),
        _fs("spec/containers/envFrom/secretRef/name", "Pod", "", "v1"),
        _fs("spec/initContainers/envFrom/secretRef/name", "Pod", "", "v1"),
        _fs("spec/imagePullSecrets/name", "Pod", "", "v1"),
        _fs("spec/volumes/projected/sources/secret/name", "Pod", "", "v1"),
        _fs("spec/template/spec/volumes/secret/secretName", "DaemonSet"),
        _fs("spec/template/spec/containers/env/valueFrom/secretKeyRef/name", "DaemonSet"),
        _fs("spec/template/spec/initContainers/env/valueFrom/secretKeyRef/name", "DaemonSet"),
        _fs("spec/template/spec/containers/envFrom/secretRef/name", "DaemonSet"),
        _fs("spec/template/spec/initContainers/envFrom/secretRef/name", "DaemonSet"),
        _fs("spec/template/spec/imagePullSecrets/name", "DaemonSet"),
        _fs("spec/template/spec/volumes/projected/sources/secret/name", "DaemonSet"),
        _fs("spec/tls/secretName", "Ingress"),
        _fs("metadata/annotations/ingress.kubernetes.io\\/auth-secret", "Ingress"),
        _fs("metadata/annotations/nginx.ingress.kubernetes.io\\/auth-secret", "Ingress"),
        _fs("metadata/annotations/nginx.ingress.kubernetes.io\\/auth-tls-secret", "Ingress"),
        _fs("spec/template/spec/volumes/secret/secretName", "Job"),
        _fs("spec/template/spec/containers/env/valueFrom/secretKeyRef/name", "Job"),
        _fs("spec/template/spec/initContainers/env/valueFrom/secretKeyRef/name", "Job"),
        _fs("spec/template/spec/containers/envFrom/secretRef/name", "Job"),
        _fs("spec/template/spec/initContainers/envFrom/secretRef/name", "Job"),
        _fs("spec/template/spec/imagePullSecrets/name", "Job"),
        _fs("spec/template/spec/volumes/projected/sources/secret/name", "Job"),
        _fs("template/spec/volumes/secret/secretName", "PodTemplate"),
        _fs("template/spec/containers/env/valueFrom/secretKeyRef/name", "PodTemplate"),
        _fs("template/spec/initContainers/env/valueFrom/secretKeyRef/name", "PodTemplate"),
        _fs("template/spec/containers/envFrom/secretRef/name", "PodTemplate"),
        _fs("template/spec/initContainers/envFrom/secretRef/name", "PodTemplate"),
        _fs("template/spec/imagePullSecrets/name", "PodTemplate"),
        _fs("template/spec/volumes/projected/sources/secret/name", "PodTemplate"),
        _fs("spec/template/spec/volumes/secret/secretName", "ReplicaSet"),
        _fs("spec/template/spec/containers/env/valueFrom/secretKeyRef/name", "ReplicaSet"),
        _fs("spec/template/spec/initContainers/env/valueFrom/secretKeyRef/name", "ReplicaSet"),
        _fs("spec/template/spec/containers/envFrom/secretRef/name", "ReplicaSet"),
        _fs("spec/template/spec/initContainers/envFrom/secretRef/name", "ReplicaSet"),
        _fs("spec/template/spec/imagePullSecrets/name", "ReplicaSet"),
        _fs("spec/template/spec/volumes/projected/sources/secret/name", "ReplicaSet"),
    )),
    (Gvk("", "v1", "Service"), (
        _fs("spec/serviceName", "StatefulSet", "apps"),
        _fs("spec/service/name", "APIService", "apiregistration.k8s.io"),
        _fs("spec/rules/http/paths/backend/serviceName", "Ingress"),
        _fs("spec/backend/serviceName", "Ingress"),
        _fs("spec/rules/http/paths/backend/service/name", "Ingress"),
        _fs("spec/defaultBackend/service/name", "Ingress"),
        _fs("webhooks/clientConfig/service", "MutatingWebhookConfiguration", "admissionregistration.k8s.io"),
        _fs("webhooks/clientConfig/service", "ValidatingWebhookConfiguration", "admissionregistration.k8s.io"),
    )),
    (Gvk("scheduling.k8s.io", "v1", "PriorityClass"), (
        _fs("spec/template/spec/priorityClassName", "Deployment"),
        _fs("spec/template/spec/priorityClassName", "StatefulSet"),
        _fs("spec/jobTemplate/spec/template/spec/priorityClassName", "CronJob"),
        _fs("spec/template/spec/priorityClassName", "DaemonSet"),
        _fs("spec/template/spec/priorityClassName", "Job"),
        _fs("spec/priorityClassName", "Pod"),
        _fs("spec/template/spec/priorityClassName", "ReplicationController"),
    )),
    (Gvk("", "v1", "PersistentVolume"), (
        _fs("rules/resourceNames", "ClusterRole"),
        _fs("spec/volumeName", "PersistentVolumeClaim"),
    )),
    (Gvk("", "v1", "PersistentVolumeClaim"), (
        _fs("spec/template/spec/volumes/persistentVolumeClaim/claimName", "Deployment"),
        _fs("spec/template/spec/volumes/persistentVolumeClaim/claimName", "StatefulSet"),
        _fs("spec/jobTemplate/spec/template/spec/volumes/persistentVolumeClaim/claimName", "CronJob"),
        _fs("spec/template/spec/volumes/persistentVolumeClaim/claimName", "DaemonSet"),
        _fs("spec/template/spec/volumes/persistentVolumeClaim/claimName", "Job"),
        _fs("spec/volumes/persistentVolumeClaim/claimName", "Pod"),
        _fs("spec/template/spec/volumes/persistentVolumeClaim/claimName", "ReplicationController"),
    )),
    (Gvk("", "", "Deployment"), (
        _fs("spec/scaleTargetRef/name", "HorizontalPodAutoscaler"),
    )),
    (Gvk("", "", "StatefulSet"), (
        _fs("spec/scaleTargetRef/name", "HorizontalPodAutoscaler"),
    )),
    (Gvk("admissionregistration.k8s.io", "", "ValidatingAdmissionPolicy"), (
        _fs("spec/policyName", "ValidatingAdmissionPolicyBinding", "admissionregistration.k8s.io"),
    )),
    (Gvk("networking.k8s.io/v1", "v1", "IngressClass"), (
        _fs("spec/ingressClassName", "Ingress"),
    )),
    (Gvk("", "", "ReplicaSet"), (
        _fs("spec/scaleTargetRef/name", "HorizontalPodAutoscaler"),
    )),
    (Gvk("", "", "ReplicationController"), (
        _fs("spec/scaleTargetRef/name", "HorizontalPodAutoscaler"),
    )),
)
