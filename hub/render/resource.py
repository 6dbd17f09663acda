"""One object on its way through a kustomize build, with the bookkeeping kustomize keeps beside it.

`Resource.obj` is the manifest as plain JSON values; everything else is build state that is never printed:
where the object came from (for errors and duplicate reports), the ids it had before a prefix, suffix,
namespace or hash renamed it (kustomize's `config.kubernetes.io/previous*` build annotations, which the
name-reference fixer needs), and, for generated ConfigMaps and Secrets, the merge behavior and whether the
name still needs its content-hash suffix.
"""

from __future__ import annotations

from dataclasses import dataclass, field

# Kinds Kubernetes serves cluster-scoped (what the hub assumes when filling in a destination namespace).
CLUSTER_SCOPED_KINDS = frozenset({
    "APIService", "CSIDriver", "CSINode", "CertificateSigningRequest", "ClusterRole", "ClusterRoleBinding",
    "ComponentStatus", "CustomResourceDefinition", "FlowSchema", "IngressClass", "MutatingWebhookConfiguration",
    "Namespace", "Node", "PersistentVolume", "PodSecurityPolicy", "PriorityClass", "PriorityLevelConfiguration",
    "RuntimeClass", "SelfSubjectAccessReview", "SelfSubjectRulesReview", "StorageClass",
    "SubjectAccessReview", "TokenReview", "ValidatingAdmissionPolicy", "ValidatingAdmissionPolicyBinding",
    "ValidatingWebhookConfiguration", "VolumeAttachment",
})


# kustomize v5.5's built-in table of cluster-scoped types (kyaml/openapi precomputedIsNamespaceScoped).
KUSTOMIZE_CLUSTER_SCOPED: frozenset[tuple[str, str]] = frozenset({
    ("admissionregistration.k8s.io/v1", "MutatingWebhookConfiguration"),
    ("admissionregistration.k8s.io/v1", "ValidatingWebhookConfiguration"),
    ("admissionregistration.k8s.io/v1beta1", "MutatingWebhookConfiguration"),
    ("admissionregistration.k8s.io/v1beta1", "ValidatingWebhookConfiguration"),
    ("apiextensions.k8s.io/v1", "CustomResourceDefinition"),
    ("apiextensions.k8s.io/v1beta1", "CustomResourceDefinition"),
    ("apiregistration.k8s.io/v1", "APIService"),
    ("apiregistration.k8s.io/v1beta1", "APIService"),
    ("certificates.k8s.io/v1", "CertificateSigningRequest"),
    ("certificates.k8s.io/v1beta1", "CertificateSigningRequest"),
    ("flowcontrol.apiserver.k8s.io/v1beta1", "FlowSchema"),
    ("flowcontrol.apiserver.k8s.io/v1beta1", "PriorityLevelConfiguration"),
    ("networking.k8s.io/v1", "IngressClass"),
    ("networking.k8s.io/v1beta1", "IngressClass"),
    ("node.k8s.io/v1", "RuntimeClass"),
    ("node.k8s.io/v1beta1", "RuntimeClass"),
    ("policy/v1beta1", "PodSecurityPolicy"),
    ("rbac.authorization.k8s.io/v1", "ClusterRole"),
    ("rbac.authorization.k8s.io/v1", "ClusterRoleBinding"),
    ("rbac.authorization.k8s.io/v1beta1", "ClusterRole"),
    ("rbac.authorization.k8s.io/v1beta1", "ClusterRoleBinding"),
    ("scheduling.k8s.io/v1", "PriorityClass"),
    ("scheduling.k8s.io/v1beta1", "PriorityClass"),
    ("storage.k8s.io/v1", "CSIDriver"),
    ("storage.k8s.io/v1", "CSINode"),
    ("storage.k8s.io/v1", "StorageClass"),
    ("storage.k8s.io/v1", "VolumeAttachment"),
    ("storage.k8s.io/v1beta1", "CSIDriver"),
    ("storage.k8s.io/v1beta1", "CSINode"),
    ("storage.k8s.io/v1beta1", "StorageClass"),
    ("storage.k8s.io/v1beta1", "VolumeAttachment"),
    ("v1", "ComponentStatus"),
    ("v1", "Namespace"),
    ("v1", "Node"),
    ("v1", "NodeProxyOptions"),
    ("v1", "PersistentVolume"),
})



def is_cluster_scoped(api_version: str, kind: str) -> bool:
    """Whether kustomize v5.5 treats objects of this apiVersion and kind as cluster-scoped (its own table,
    which is keyed by apiVersion too and differs from Kubernetes for a few newer kinds)."""
    return (api_version, kind) in KUSTOMIZE_CLUSTER_SCOPED


@dataclass(frozen=True)
class ResId:
    """kustomize's resource id: group, version, kind, name and namespace ("" for cluster-scoped kinds)."""

    group: str
    version: str
    kind: str
    name: str
    namespace: str = ""

    def gvk(self) -> str:
        """`group/version/kind` as kustomize prints it in ids (`~G` for the core group)."""
        return f"{self.group or '~G'}_{self.version or '~V'}_{self.kind}"

    def same_object(self, other: ResId) -> bool:
        """kustomize's ResId.Equals: same group, version, kind, name, and namespace ("" == "default")."""
        return (self.group, self.version, self.kind, self.name) == (other.group, other.version, other.kind,
                                                                    other.name) and \
            _effective_namespace(self) == _effective_namespace(other)

    def __str__(self) -> str:
        where = f"[{self.namespace}]" if self.namespace else ""
        return f"{self.kind}/{self.name}{where} ({self.group or 'core'}/{self.version})"


def _effective_namespace(rid: ResId) -> str:
    if rid.kind in CLUSTER_SCOPED_KINDS:
        return ""
    return rid.namespace or "default"


def split_api_version(api_version: str) -> tuple[str, str]:
    """`apps/v1` -> ("apps", "v1"); `v1` -> ("", "v1")."""
    group, _, version = api_version.rpartition("/")
    return group, version


@dataclass
class Resource:
    """An object in a build: the manifest, its origin and kustomize's build-time bookkeeping."""

    obj: dict
    origin: str  # repository-relative file that declared or generated it
    previous_ids: list[ResId] = field(default_factory=list)  # oldest first; excludes the current id
    behavior: str = ""  # generated ConfigMap/Secret: "create", "merge" or "replace"; "" when not generated
    needs_hash: bool = False  # a generated object whose name gets kustomize's content-hash suffix
    prefixes: list[str] = field(default_factory=list)  # name prefixes applied, outermost last
    suffixes: list[str] = field(default_factory=list)  # name suffixes applied, outermost last
    # Label and annotation values that are one YAML node in kustomize: [value, [path, ...]] (see share_scalar)
    shared_scalars: list[list] = field(default_factory=list)

    # -- reading ---------------------------------------------------------------------------------------

    @property
    def api_version(self) -> str:
        value = self.obj.get("apiVersion")
        return value if isinstance(value, str) else ""

    @property
    def kind(self) -> str:
        value = self.obj.get("kind")
        return value if isinstance(value, str) else ""

    @property
    def metadata(self) -> dict:
        meta = self.obj.get("metadata")
        if not isinstance(meta, dict):
            meta = self.obj["metadata"] = {}
        return meta

    @property
    def name(self) -> str:
        value = self.metadata.get("name")
        return value if isinstance(value, str) else ""

    @property
    def namespace(self) -> str:
        value = self.metadata.get("namespace")
        return value if isinstance(value, str) else ""

    def cur_id(self) -> ResId:
        obj = self.obj
        api_version, kind, meta = obj.get("apiVersion"), obj.get("kind"), obj.get("metadata")
        group, _, version = api_version.rpartition("/") if isinstance(api_version, str) else ("", "", "")
        name = namespace = ""
        if isinstance(meta, dict):
            name, namespace = meta.get("name", ""), meta.get("namespace", "")
        return ResId(group, version, kind if isinstance(kind, str) else "", name if isinstance(name, str) else "",
                     namespace if isinstance(namespace, str) else "")

    def orig_id(self) -> ResId:
        """The id the object had when it was first read or generated."""
        return self.previous_ids[0] if self.previous_ids else self.cur_id()

    def all_ids(self) -> list[ResId]:
        """Every id the object has had, oldest first, ending with the current one."""
        return [*self.previous_ids, self.cur_id()]

    def labels(self) -> dict:
        value = self.metadata.get("labels")
        return value if isinstance(value, dict) else {}

    def annotations(self) -> dict:
        value = self.metadata.get("annotations")
        return value if isinstance(value, dict) else {}

    # -- changing identity -----------------------------------------------------------------------------

    def rename(self, name: str | None = None, namespace: str | None = None, *, always_record: bool = False) -> None:
        """Change the name and/or namespace, remembering the id it had (for name references). kustomize's
        namespace transformer records the id even when nothing changes (`always_record`), which lets a
        binding subject without a namespace match a ServiceAccount already in the target namespace."""
        before = self.cur_id()
        if name is not None:
            self.metadata["name"] = name
        if namespace is not None:
            self.metadata["namespace"] = namespace
        if always_record or self.cur_id() != before:
            self.previous_ids.append(before)

    # -- shared scalars --------------------------------------------------------------------------------

    def share_scalar(self, value: str, paths: list[tuple]) -> None:
        """Record that the fields at `paths` (tuples of map keys and list indices) hold one YAML node.

        kustomize's label and annotation transformers (kyaml's SetEntry) insert the same node at every field
        they create in one object for one key, so `commonLabels` puts one node in the labels, the selector and
        the template. A later in-place write to any of those fields (a label or annotation transformer, a
        strategic merge patch, a replacement) changes all of them: a base's commonLabels `team: a` patched to
        `team: b` in an overlay's metadata.labels comes out `b` in the selector too. `sync_shared_scalars`
        applies such writes to the other fields; a JSON 6902 patch (a JSON round trip) ends the sharing."""
        if len(paths) > 1:
            self.shared_scalars.append([value, list(paths)])

    def sync_shared_scalars(self) -> None:
        """After a transformer: a shared field whose value changed passes the new value to the others; fields
        that were removed, or no longer hold a string, leave their group."""
        groups = []
        for value, paths in self.shared_scalars:
            present = [(path, _get_path(self.obj, path)) for path in paths]
            present = [(path, current) for path, current in present if isinstance(current, str)]
            if len(present) < 2:
                continue
            changed = [current for _, current in present if current != value]
            if changed:
                value = changed[-1]
                for path, _ in present:
                    _set_path(self.obj, path, value)
            groups.append([value, [path for path, _ in present]])
        self.shared_scalars = groups

    def copy(self) -> Resource:
        from fleetline.jsoncopy import clone

        return Resource(obj=clone(self.obj), origin=self.origin, previous_ids=list(self.previous_ids),
                        behavior=self.behavior, needs_hash=self.needs_hash, prefixes=list(self.prefixes),
                        suffixes=list(self.suffixes),
                        shared_scalars=[[value, list(paths)] for value, paths in self.shared_scalars])

    def __repr__(self) -> str:
        return f"Resource({self.cur_id()} from {self.origin})"


_MISSING = object()


def _get_path(node: object, path: tuple) -> object:
    for step in path:
        if isinstance(node, dict) and isinstance(step, str):
            node = node.get(step, _MISSING)
        elif isinstance(node, list) and isinstance(step, int) and step < len(node):
            node = node[step]
        else:
            return _MISSING
    return node


def _set_path(node: object, path: tuple, value: object) -> None:
    parent = _get_path(node, path[:-1])
    if isinstance(parent, dict | list):
        parent[path[-1]] = value  # type: ignore[index]
