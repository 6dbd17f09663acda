"""Names of things in a cluster: `ObjectRef` (one object, or a collection when the name is empty) and
`ResourceKind` (what discovery says about a kind: its plural, whether it is namespaced).

Pure data; nothing here talks to a cluster.
"""

from __future__ import annotations

from dataclasses import dataclass

from agent.cluster.errors import InvalidObject


def split_api_version(api_version: str) -> tuple[str, str]:
    """("apps", "v1") for "apps/v1"; ("", "v1") for the core group's "v1"."""
    group, _, version = api_version.rpartition("/")
    return group, version


@dataclass(frozen=True)
class ResourceKind:
    """One kind as the API server serves it."""

    group: str
    version: str
    kind: str
    plural: str
    namespaced: bool

    @property
    def api_version(self) -> str:
        return f"{self.group}/{self.version}" if self.group else self.version

    def collection_path(self, namespace: str = "") -> str:
        """The URL path of the collection; all namespaces when `namespace` is empty."""
        base = f"/apis/{self.group}/{self.version}" if self.group else f"/api/{self.version}"
        if self.namespaced and namespace:
            return f"{base}/namespaces/{_segment(namespace)}/{self.plural}"
        return f"{base}/{self.plural}"

    def object_path(self, namespace: str, name: str) -> str:
        return f"{self.collection_path(namespace)}/{_segment(name)}"


def _segment(text: str) -> str:
    """A path segment; Kubernetes names never need escaping, but a bad one must not change the URL's shape."""
    if not text or "/" in text or text in (".", ".."):
        raise InvalidObject(f"{text!r} is not a valid object or namespace name")
    return text


@dataclass(frozen=True)
class ObjectRef:
    """Which object: apiVersion, kind, namespace ("" when cluster-scoped or not given) and name.

    A ref with an empty name stands for a collection (what a list or a watch reads), for error messages.
    """

    api_version: str
    kind: str
    namespace: str
    name: str

    @classmethod
    def of(cls, obj: dict, *, generate_name: bool = False) -> ObjectRef:
        """The ref of a manifest or a live object; InvalidObject says which required field is missing.
        With `generate_name`, `metadata.generateName` may stand in for the name (for messages: "migrate-*")."""
        if not isinstance(obj, dict):
            raise InvalidObject(f"expected a Kubernetes object (a mapping), got {type(obj).__name__}")
        api_version, kind = obj.get("apiVersion"), obj.get("kind")
        meta = obj.get("metadata")
        meta = meta if isinstance(meta, dict) else {}
        name, namespace = meta.get("name"), meta.get("namespace") or ""
        if generate_name and not name and isinstance(meta.get("generateName"), str) and meta["generateName"]:
            name = meta["generateName"] + "*"
        label = f"{kind or '<no kind>'} {name or '<no name>'}"
        if not isinstance(kind, str) or not kind:
            raise InvalidObject(f"{label}: the object has no kind: set `kind` (e.g. Deployment)")
        if not isinstance(api_version, str) or not api_version:
            raise InvalidObject(f"{label}: the object has no apiVersion: set `apiVersion` (e.g. apps/v1)")
        if not isinstance(name, str) or not name:
            raise InvalidObject(f"{label}: the object has no name: set `metadata.name`")
        if not isinstance(namespace, str):
            raise InvalidObject(f"{label}: metadata.namespace must be a string")
        return cls(api_version, kind, namespace, name)

    def __str__(self) -> str:
        if not self.name:
            return f"{self.kind} in namespace {self.namespace}" if self.namespace else f"{self.kind} (all)"
        return f"{self.kind} {self.namespace}/{self.name}" if self.namespace else f"{self.kind} {self.name}"
