"""List and map semantics of Kubernetes' built-in kinds, shared by the patch engines and server-side apply.

Kubernetes merges lists in three ways, and which one depends on the Go struct tags of `k8s.io/api`:
strategic merge patch reads `patchMergeKey`/`patchStrategy`, server-side apply reads `listType`/
`listMapKeys`/`mapType`/`structType`. This module holds those tags for the fields that have them (the
table of `shared/reference/k8s-api-sim.md` §9.4, from k8s.io/api 1.32.4) as a small type tree that a
walker follows alongside an object:

    node = schema_for("apps", "Deployment")
    node = child(node, "spec"); node = child(node, "template") ...

Anything not described is *deduced* the way kube-apiserver treats schemaless data
(`x-kubernetes-preserve-unknown-fields`): a dict is a granular map, a list is atomic.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Scalar:
    """A leaf value (string, number, bool), or an atomic struct/map/list owned as one value."""


@dataclass(frozen=True)
class Struct:
    """An object with named fields; fields not listed are deduced. `atomic` structs are SSA leaves."""

    fields: dict[str, str] = field(default_factory=dict)  # field name -> type name in TYPES
    atomic: bool = False
    retain_keys: bool = False  # patchStrategy retainKeys (SMP drops keys the patch does not list)


@dataclass(frozen=True)
class MapOf:
    """A map with arbitrary string keys (labels, annotations, data); `atomic` maps are owned whole by SSA."""

    value: str = "Deduced"
    atomic: bool = False


@dataclass(frozen=True)
class ListOf:
    """A list, with its strategic-merge and server-side-apply semantics.

    smp_key: the patchMergeKey (items merged by it); None with smp_merge_primitives=False means the
             list is replaced whole by a strategic merge patch.
    smp_merge_primitives: a list of scalars with patchStrategy merge (finalizers): union, not replace.
    ssa: "map" (items keyed by ssa_keys), "set" (scalars), or "atomic".
    key_defaults: values a missing key field takes for identity (ports' protocol defaults to TCP).
    """

    item: str = "Deduced"
    smp_key: str | None = None
    smp_merge_primitives: bool = False
    ssa: str = "atomic"
    ssa_keys: tuple[str, ...] = ()
    key_defaults: tuple[tuple[str, object], ...] = ()


@dataclass(frozen=True)
class Deduced:
    """No schema: dicts are granular maps, lists are atomic."""


Node = Scalar | Struct | MapOf | ListOf | Deduced

DEDUCED = Deduced()
SCALAR = Scalar()


def _conditions() -> ListOf:
    return ListOf(item="Deduced", smp_key="type", ssa="map", ssa_keys=("type",))


def _keyed(item: str, key: str, *ssa_keys: str, defaults: tuple = ()) -> ListOf:
    return ListOf(item=item, smp_key=key, ssa="map", ssa_keys=ssa_keys or (key,), key_defaults=defaults)


_PROTOCOL_TCP = (("protocol", "TCP"),)

TYPES: dict[str, Node] = {
    "Deduced": DEDUCED,
    "Scalar": SCALAR,
    "StringMap": MapOf("Scalar"),
    "AtomicMap": MapOf("Scalar", atomic=True),
    "AtomicList": ListOf("Scalar"),
    "AtomicStruct": Struct(atomic=True),
    "ObjectMeta": Struct({
        "labels": "StringMap",
        "annotations": "StringMap",
        "finalizers": "Finalizers",
        "ownerReferences": "OwnerReferences",
        "managedFields": "AtomicList",
    }),
    "Finalizers": ListOf("Scalar", smp_merge_primitives=True, ssa="set"),
    "OwnerReferences": _keyed("Deduced", "uid"),
    "LabelSelector": Struct(atomic=True),
    "Conditions": _conditions(),
    "PodTemplateSpec": Struct({"metadata": "ObjectMeta", "spec": "PodSpec"}),
    "PodSpec": Struct({
        "containers": "Containers",
        "initContainers": "Containers",
        "ephemeralContainers": "Containers",
        "volumes": "Volumes",
        "imagePullSecrets": "NameKeyed",
        "hostAliases": "HostAliases",
        "topologySpreadConstraints": "TopologySpreadConstraints",
        "schedulingGates": "NameKeyed",
        "resourceClaims": "NameKeyed",
        "tolerations": "AtomicList",
        "nodeSelector": "NodeSelector",
        "readinessGates": "AtomicList",
    }),
    "NodeSelector": MapOf("Scalar", atomic=True),
    "Containers": _keyed("Container", "name"),
    "NameKeyed": _keyed("Deduced", "name"),
    "HostAliases": _keyed("Deduced", "ip"),
    "TopologySpreadConstraints": _keyed("Deduced", "topologyKey", "topologyKey", "whenUnsatisfiable"),
    "Volumes": _keyed("Volume", "name"),
    "Volume": Struct(retain_keys=True),
    "Container": Struct({
        "env": "NameKeyed",
        "ports": "ContainerPorts",
        "volumeMounts": "VolumeMounts",
        "volumeDevices": "VolumeDevices",
        "resources": "ResourceRequirements",
        "command": "AtomicList",
        "args": "AtomicList",
        "envFrom": "AtomicList",
    }),
    "ContainerPorts": _keyed("Deduced", "containerPort", "containerPort", "protocol", defaults=_PROTOCOL_TCP),
    "VolumeMounts": _keyed("Deduced", "mountPath"),
    "VolumeDevices": _keyed("Deduced", "devicePath"),
    "ResourceRequirements": Struct({"claims": "ResourceClaims"}),
    "ResourceClaims": ListOf("Deduced", ssa="map", ssa_keys=("name",)),
    # workloads
    "DeploymentSpec": Struct({"selector": "LabelSelector", "template": "PodTemplateSpec",
                              "strategy": "RetainKeysStruct"}),
    "RetainKeysStruct": Struct(retain_keys=True),
    "ReplicaSetSpec": Struct({"selector": "LabelSelector", "template": "PodTemplateSpec"}),
    "StatefulSetSpec": Struct({"selector": "LabelSelector", "template": "PodTemplateSpec",
                               "volumeClaimTemplates": "AtomicList", "updateStrategy": "RetainKeysStruct"}),
    "DaemonSetSpec": Struct({"selector": "LabelSelector", "template": "PodTemplateSpec",
                             "updateStrategy": "RetainKeysStruct"}),
    "JobSpec": Struct({"selector": "LabelSelector", "template": "PodTemplateSpec"}),
    "JobTemplateSpec": Struct({"metadata": "ObjectMeta", "spec": "JobSpec"}),
    "CronJobSpec": Struct({"jobTemplate": "JobTemplateSpec"}),
    "WorkloadStatus": Struct({"conditions": "Conditions"}),
    "PodStatus": Struct({"conditions": "Conditions", "podIPs": "IPKeyed", "hostIPs": "IPKeyed",
                         "containerStatuses": "AtomicList", "initContainerStatuses": "AtomicList"}),
    "IPKeyed": _keyed("Deduced", "ip"),
    "NodeStatus": Struct({"conditions": "Conditions", "addresses": "NodeAddresses"}),
    "NodeAddresses": _keyed("Deduced", "type"),
    "ServiceSpec": Struct({"ports": "ServicePorts", "selector": "AtomicMap"}),
    "ServicePorts": _keyed("Deduced", "port", "port", "protocol", defaults=_PROTOCOL_TCP),
    "PDBSpec": Struct({"selector": "LabelSelector"}),
    "NetworkPolicySpec": Struct({"podSelector": "LabelSelector"}),
    "NamespaceSpec": Struct({"finalizers": "AtomicList"}),
}


def _kind(spec: str | None = None, status: str | None = "WorkloadStatus", **extra: str) -> Struct:
    fields = {"metadata": "ObjectMeta", **extra}
    if spec:
        fields["spec"] = spec
    if status:
        fields["status"] = status
    return Struct(fields)


KIND_SCHEMAS: dict[tuple[str, str], Struct] = {
    ("", "Pod"): _kind("PodSpec", "PodStatus"),
    ("", "PodTemplate"): _kind(status=None, template="PodTemplateSpec"),
    ("", "Node"): _kind(None, "NodeStatus"),
    ("", "Namespace"): _kind("NamespaceSpec"),
    ("", "Service"): _kind("ServiceSpec"),
    ("", "ServiceAccount"): _kind(status=None, secrets="NameKeyed", imagePullSecrets="NameKeyed"),
    ("", "PersistentVolumeClaim"): _kind(None),
    ("apps", "Deployment"): _kind("DeploymentSpec"),
    ("apps", "ReplicaSet"): _kind("ReplicaSetSpec"),
    ("apps", "StatefulSet"): _kind("StatefulSetSpec"),
    ("apps", "DaemonSet"): _kind("DaemonSetSpec"),
    ("batch", "Job"): _kind("JobSpec"),
    ("batch", "CronJob"): _kind("CronJobSpec"),
    ("policy", "PodDisruptionBudget"): _kind("PDBSpec"),
    ("networking.k8s.io", "NetworkPolicy"): _kind("NetworkPolicySpec"),
}

DEFAULT_KIND = Struct({"metadata": "ObjectMeta"})


def resolve(name: str) -> Node:
    return TYPES[name]


def schema_for(group: str, kind: str) -> Node:
    """The root node for a kind; unknown kinds (custom resources) get metadata semantics, the rest deduced."""
    return KIND_SCHEMAS.get((group, kind), DEFAULT_KIND)


def child(node: Node, key: str) -> Node:
    """The node of field or map entry `key` under a struct or map node."""
    if isinstance(node, Struct):
        if node.atomic:
            return SCALAR
        name = node.fields.get(key)
        return resolve(name) if name else DEDUCED
    if isinstance(node, MapOf):
        return SCALAR if node.atomic else resolve(node.value)
    return DEDUCED


def item(node: Node) -> Node:
    """The node of a list's items."""
    if isinstance(node, ListOf):
        return resolve(node.item)
    return DEDUCED


def list_key(node: Node, element: dict) -> tuple | None:
    """The SSA identity of a list-map item: a tuple of (key, value) pairs, defaults filled in."""
    if not isinstance(node, ListOf) or node.ssa != "map" or not isinstance(element, dict):
        return None
    defaults = dict(node.key_defaults)
    return tuple((k, element.get(k, defaults.get(k))) for k in node.ssa_keys)
