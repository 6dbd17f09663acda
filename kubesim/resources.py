"""The resource types a simulated cluster serves: the built-in kinds, and custom resources from CRDs.

A `ResourceType` is everything the API server needs to route, discover, print and store one kind;
a `Registry` is one cluster's set of them (built-ins are shared, CRD types are per cluster).
"""

from __future__ import annotations

from dataclasses import dataclass, field

VERBS = ("create", "delete", "deletecollection", "get", "list", "patch", "update", "watch")


@dataclass(frozen=True)
class ResourceType:
    group: str
    version: str
    kind: str
    plural: str
    namespaced: bool
    short_names: tuple[str, ...] = ()
    categories: tuple[str, ...] = ()
    has_status: bool = False  # a /status subresource: main writes ignore .status
    has_scale: bool = False  # a /scale subresource
    generation: bool = True  # metadata.generation tracked (absent on ConfigMap, Pod, Service, ...)
    builtin: bool = True  # strategic merge patch allowed; custom resources get 415
    # custom resources only
    scale_spec_path: str = ".spec.replicas"
    scale_status_path: str = ".status.replicas"
    scale_selector_path: str = ""
    printer_columns: tuple[dict, ...] = ()
    crd_name: str = ""
    extra: dict = field(default_factory=dict, compare=False, hash=False)

    @property
    def api_version(self) -> str:
        return f"{self.group}/{self.version}" if self.group else self.version

    @property
    def singular(self) -> str:
        return self.kind.lower()

    @property
    def list_kind(self) -> str:
        return f"{self.kind}List"

    @property
    def qualified(self) -> str:
        """`plural` for the core group, `plural.group` otherwise (as in kube-apiserver's messages)."""
        return f"{self.plural}.{self.group}" if self.group else self.plural

    @property
    def kind_qualified(self) -> str:
        """`Kind` for the core group, `Kind.group` otherwise (as in 422 Invalid messages)."""
        return f"{self.kind}.{self.group}" if self.group else self.kind

    @property
    def base_path(self) -> str:
        return f"/apis/{self.group}/{self.version}" if self.group else "/api/v1"


def _t(group: str, version: str, kind: str, plural: str, namespaced: bool = True, **kw) -> ResourceType:
    return ResourceType(group, version, kind, plural, namespaced, **kw)


ALL = ("all",)

BUILTIN_TYPES: tuple[ResourceType, ...] = (
    _t("", "v1", "Namespace", "namespaces", False, short_names=("ns",), has_status=True, generation=False),
    _t("", "v1", "Node", "nodes", False, short_names=("no",), has_status=True, generation=False),
    _t("", "v1", "Pod", "pods", short_names=("po",), categories=ALL, has_status=True, generation=False),
    _t("", "v1", "Service", "services", short_names=("svc",), categories=ALL, has_status=True,
       generation=False),
    _t("", "v1", "Endpoints", "endpoints", short_names=("ep",), generation=False),
    _t("", "v1", "ConfigMap", "configmaps", short_names=("cm",), generation=False),
    _t("", "v1", "Secret", "secrets", generation=False),
    _t("", "v1", "ServiceAccount", "serviceaccounts", short_names=("sa",), generation=False),
    _t("", "v1", "PersistentVolumeClaim", "persistentvolumeclaims", short_names=("pvc",), has_status=True,
       generation=False),
    _t("", "v1", "Event", "events", short_names=("ev",), generation=False),
    _t("apps", "v1", "Deployment", "deployments", short_names=("deploy",), categories=ALL, has_status=True,
       has_scale=True),
    _t("apps", "v1", "ReplicaSet", "replicasets", short_names=("rs",), categories=ALL, has_status=True,
       has_scale=True),
    _t("apps", "v1", "StatefulSet", "statefulsets", short_names=("sts",), categories=ALL, has_status=True,
       has_scale=True),
    _t("apps", "v1", "DaemonSet", "daemonsets", short_names=("ds",), categories=ALL, has_status=True),
    _t("batch", "v1", "Job", "jobs", categories=ALL, has_status=True),
    _t("batch", "v1", "CronJob", "cronjobs", short_names=("cj",), categories=ALL, has_status=True),
    _t("autoscaling", "v2", "HorizontalPodAutoscaler", "horizontalpodautoscalers", short_names=("hpa",),
       categories=ALL, has_status=True),
    _t("networking.k8s.io", "v1", "Ingress", "ingresses", short_names=("ing",), has_status=True),
    _t("networking.k8s.io", "v1", "NetworkPolicy", "networkpolicies", short_names=("netpol",)),
    _t("rbac.authorization.k8s.io", "v1", "Role", "roles", generation=False),
    _t("rbac.authorization.k8s.io", "v1", "ClusterRole", "clusterroles", False, generation=False),
    _t("rbac.authorization.k8s.io", "v1", "RoleBinding", "rolebindings", generation=False),
    _t("rbac.authorization.k8s.io", "v1", "ClusterRoleBinding", "clusterrolebindings", False,
       generation=False),
    _t("policy", "v1", "PodDisruptionBudget", "poddisruptionbudgets", short_names=("pdb",), has_status=True),
    _t("apiextensions.k8s.io", "v1", "CustomResourceDefinition", "customresourcedefinitions", False,
       short_names=("crd", "crds"), has_status=True),
)

_BUILTIN_STORAGE = frozenset((rt.group, rt.plural) for rt in BUILTIN_TYPES)

# Group order in discovery (kube-apiserver lists core first, then these, then CRD groups).
GROUP_ORDER = ("", "apps", "batch", "autoscaling", "networking.k8s.io", "rbac.authorization.k8s.io", "policy",
               "apiextensions.k8s.io")


class Registry:
    """One cluster's served types: lookups by (group, version, plural) and by (group, kind)."""

    def __init__(self) -> None:
        self._by_path: dict[tuple[str, str, str], ResourceType] = {}
        self._by_kind: dict[tuple[str, str], ResourceType] = {}
        self._custom: dict[str, list[ResourceType]] = {}  # CRD name -> its served versions
        for rt in BUILTIN_TYPES:
            self._add(rt)

    def _add(self, rt: ResourceType) -> None:
        self._by_path[(rt.group, rt.version, rt.plural)] = rt
        self._by_kind.setdefault((rt.group, rt.kind), rt)

    def lookup(self, group: str, version: str, plural: str) -> ResourceType | None:
        return self._by_path.get((group, version, plural))

    def by_kind(self, group: str, kind: str, version: str | None = None) -> ResourceType | None:
        if version is None:
            return self._by_kind.get((group, kind))
        for rt in self._by_path.values():
            if rt.group == group and rt.kind == kind and rt.version == version:
                return rt
        return None

    def by_api_version(self, api_version: str, kind: str) -> ResourceType | None:
        group, _, version = api_version.rpartition("/")
        return self.by_kind(group, kind, version)

    def all(self) -> list[ResourceType]:
        return list(self._by_path.values())

    def group_versions(self) -> dict[str, list[str]]:
        """group -> versions served, in discovery order (core group under "")."""
        out: dict[str, list[str]] = {}
        rank = {g: i for i, g in enumerate(GROUP_ORDER)}
        for rt in sorted(self._by_path.values(), key=lambda r: (rank.get(r.group, len(rank)), r.group)):
            versions = out.setdefault(rt.group, [])
            if rt.version not in versions:
                versions.append(rt.version)
        return out

    def set_custom(self, crd_name: str, types: list[ResourceType]) -> None:
        """Serve (or re-serve) the versions of one CRD; an empty list stops serving it. A CRD never replaces a
        built-in resource (kube-apiserver serves its own first), so types that share a built-in's storage
        (group and plural) are not served."""
        for old in self._custom.pop(crd_name, []):
            self._by_path.pop((old.group, old.version, old.plural), None)
            if self._by_kind.get((old.group, old.kind)) == old:
                del self._by_kind[(old.group, old.kind)]
        types = [rt for rt in types if (rt.group, rt.plural) not in _BUILTIN_STORAGE]
        if types:
            self._custom[crd_name] = types
            for rt in types:
                self._add(rt)

    def custom_types(self, crd_name: str) -> list[ResourceType]:
        return list(self._custom.get(crd_name, []))
