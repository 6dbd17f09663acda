"""Object lifecycle controllers: the garbage collector (ownerReferences, propagation policies) and the
namespace controller (a terminating namespace's content is deleted, then the namespace itself)."""

from __future__ import annotations

from collections.abc import Iterable

from fleetline.jsoncopy import clone
from kubesim.api import ClusterAPI, WriteOptions
from kubesim.controllers.base import Controller, Key, key_of, owner_uids
from kubesim.resources import ResourceType
from kubesim.store import WatchEvent

NAMESPACES = ("", "namespaces")
SERVICE_ACCOUNTS = ("", "serviceaccounts")
CONFIG_MAPS = ("", "configmaps")
DEFAULT_SERVICE_ACCOUNT = "default"
ROOT_CA_CONFIG_MAP = "kube-root-ca.crt"
ROOT_CA_DESCRIPTION = ("Contains a CA bundle that can be used to verify the kube-apiserver when using internal "
                       "endpoints such as the internal service IP or kubernetes.default.svc. No other usage is "
                       "guaranteed across distributions of Kubernetes clusters.")


class GarbageCollector(Controller):
    """Deletes dependents of deleted owners (Background), deletes them first (Foreground, finalizer
    `foregroundDeletion`) or strips their ownerReferences (Orphan, finalizer `orphan`)."""

    name = "garbage-collector"
    watches_all = True  # any object can own any other

    def keys_for(self, event: WatchEvent) -> Iterable[Key]:
        keys = []
        meta = event.object["metadata"]
        if event.type == "DELETED" or meta.get("deletionTimestamp"):
            keys.append(("owner", meta.get("uid", ""), ""))
            keys.append(key_of(event))
        if event.type != "DELETED" and meta.get("ownerReferences"):
            keys.append(key_of(event))
        return keys

    def initial_keys(self) -> Iterable[Key]:
        return []

    def _types(self) -> dict[tuple[str, str], ResourceType]:
        return {(rt.group, rt.plural): rt for rt in self.api.registry.all()}

    def _any_alive(self, uids: list[str]) -> bool:
        return any(self.api.store.exists_uid(uid) for uid in uids)

    def _dependents(self, uid: str) -> list[tuple[ResourceType, dict]]:
        types = self._types()
        return [(types[resource], obj) for resource, obj in self.api.store.dependents(uid) if resource in types]

    def reconcile(self, key: Key) -> float | None:
        if key[0] == "owner":
            return self._collect_dependents_of(key[1])
        resource, namespace, name = key
        rt = self._types().get(resource)
        obj = self.api.store.get(resource, namespace, name) if rt else None
        if obj is None or rt is None:
            return None
        finalizers = obj["metadata"].get("finalizers") or []
        if obj["metadata"].get("deletionTimestamp") and ("foregroundDeletion" in finalizers or
                                                         "orphan" in finalizers):
            return self._finish_owner(rt, obj)
        refs = obj["metadata"].get("ownerReferences") or []
        if refs and not self._any_alive(owner_uids(obj)):
            self.api.delete(rt, namespace, name, propagation="Background")
        return None

    def _collect_dependents_of(self, uid: str) -> float | None:
        if self.api.store.exists_uid(uid):
            return None
        for rt, dep in self._dependents(uid):
            remaining = [u for u in owner_uids(dep) if u != uid]
            if not self._any_alive(remaining):
                self.api.delete(rt, dep["metadata"].get("namespace", ""), dep["metadata"]["name"],
                                propagation="Background")
        return None

    def _finish_owner(self, rt: ResourceType, owner: dict) -> float | None:
        meta = owner["metadata"]
        uid = meta["uid"]
        dependents = self._dependents(uid)
        if "orphan" in meta.get("finalizers", []):
            for dep_rt, dep in dependents:
                new = clone(dep)
                remaining = [r for r in dep["metadata"].get("ownerReferences", []) if r.get("uid") != uid]
                if remaining:
                    new["metadata"]["ownerReferences"] = remaining
                else:  # an empty list is omitted, as Go's omitempty does
                    new["metadata"].pop("ownerReferences", None)
                self.api.update(dep_rt, dep["metadata"].get("namespace", ""), dep["metadata"]["name"], new,
                                self.write_options())
            return self._drop_finalizer(rt, owner, "orphan")
        blocking = [d for d in dependents if any(r.get("uid") == uid and r.get("blockOwnerDeletion")
                                                 for r in d[1]["metadata"].get("ownerReferences", []))]
        for dep_rt, dep in dependents:
            if not dep["metadata"].get("deletionTimestamp"):
                self.api.delete(dep_rt, dep["metadata"].get("namespace", ""), dep["metadata"]["name"],
                                propagation="Foreground")
        if blocking:
            return 0.5  # wait for blocking dependents to go
        return self._drop_finalizer(rt, owner, "foregroundDeletion")

    def _drop_finalizer(self, rt: ResourceType, obj: dict, finalizer: str) -> None:
        new = clone(obj)
        remaining = [f for f in obj["metadata"].get("finalizers", []) if f != finalizer]
        if remaining:
            new["metadata"]["finalizers"] = remaining
        else:
            new["metadata"].pop("finalizers", None)
        self.api.update(rt, obj["metadata"].get("namespace", ""), obj["metadata"]["name"], new, self.write_options())
        return None


class NamespaceController(Controller):
    """Namespaces: a live one gets what kube-controller-manager gives every namespace (the `default`
    ServiceAccount, the `kube-root-ca.crt` ConfigMap); a deleted one has everything in it deleted, then goes."""

    name = "namespace-controller"
    watches = (NAMESPACES, SERVICE_ACCOUNTS, CONFIG_MAPS)

    def keys_for(self, event: WatchEvent) -> Iterable[Key]:
        meta = event.object["metadata"]
        if event.resource == NAMESPACES:
            return [key_of(event)]
        if event.type == "DELETED" and meta.get("name") in (DEFAULT_SERVICE_ACCOUNT, ROOT_CA_CONFIG_MAP):
            return [(NAMESPACES, "", meta.get("namespace", ""))]
        return []

    def initial_keys(self) -> Iterable[Key]:
        return [key_of(ns, NAMESPACES) for ns in self.api.store.list(NAMESPACES)]

    def reconcile(self, key: Key) -> float | None:
        ns = self.api.store.get(NAMESPACES, "", key[2])
        if ns is None:
            return None
        name = ns["metadata"]["name"]
        if not ns["metadata"].get("deletionTimestamp"):
            self._ensure_defaults(name)
            return None
        for rt in {(r.group, r.plural): r for r in self.api.registry.all() if r.namespaced}.values():
            for obj in self.api.store.list((rt.group, rt.plural), name):
                if not obj["metadata"].get("deletionTimestamp"):
                    self.api.delete(rt, name, obj["metadata"]["name"], propagation="Background")
        if self.api.namespace_is_empty(name):
            self.api.finalize_namespace(name)
            return None
        return 0.5

    def _ensure_defaults(self, namespace: str) -> None:
        if self.api.store.get(SERVICE_ACCOUNTS, namespace, DEFAULT_SERVICE_ACCOUNT) is None:
            self.api.create(self.api.type("", "ServiceAccount"), namespace,
                            {"metadata": {"name": DEFAULT_SERVICE_ACCOUNT}}, self.write_options())
        if self.api.root_ca_pem and self.api.store.get(CONFIG_MAPS, namespace, ROOT_CA_CONFIG_MAP) is None:
            self.api.create(self.api.type("", "ConfigMap"), namespace, {
                "metadata": {"name": ROOT_CA_CONFIG_MAP,
                             "annotations": {"kubernetes.io/description": ROOT_CA_DESCRIPTION}},
                "data": {"ca.crt": self.api.root_ca_pem}}, self.write_options())

    def write_options(self) -> WriteOptions:
        return WriteOptions(manager="kube-controller-manager")


NODES = ("", "nodes")
_NODE_CONDITIONS = (
    ("MemoryPressure", "False", "KubeletHasSufficientMemory", "kubelet has sufficient memory available"),
    ("DiskPressure", "False", "KubeletHasNoDiskPressure", "kubelet has no disk pressure"),
    ("PIDPressure", "False", "KubeletHasSufficientPID", "kubelet has sufficient PID available"),
    ("Ready", "True", "KubeletReady", "kubelet is posting ready status"),
)


class NodeStatusController(Controller):
    """The node half of a kubelet: every Node reports Ready with nodeInfo and an InternalIP, as a healthy
    kubelet would after registering (Nodes added with kubectl join the cluster this way)."""

    name = "kubelet"
    watches = (NODES,)

    def __init__(self, api: ClusterAPI) -> None:
        super().__init__(api)
        self._next_ip = 10

    def reconcile(self, key: Key) -> float | None:
        node = self.api.store.get(NODES, "", key[2])
        if node is None or node["metadata"].get("deletionTimestamp"):
            return None
        status = node.get("status") or {}
        if any(c.get("type") == "Ready" for c in status.get("conditions") or []) and status.get("nodeInfo"):
            return None
        self._next_ip += 1
        new = clone(node)
        new["status"] = healthy_node_status(node, self.api.clock.timestamp(), f"172.18.1.{self._next_ip % 250 + 2}")
        self.api.update(self.api.type("", "Node"), "", node["metadata"]["name"], new, self.write_options(),
                        subresource="status")
        return None


def healthy_node_status(node: dict, now: str, internal_ip: str) -> dict:
    """The status a registered, healthy kubelet reports: Ready, no pressure, nodeInfo, addresses."""
    st = clone(node.get("status") or {})
    meta = node["metadata"]
    st.setdefault("capacity", {"cpu": "4", "memory": "16Gi", "pods": "110"})
    st.setdefault("allocatable", dict(st["capacity"]))
    st["conditions"] = [{"type": t, "status": s, "reason": r, "message": m, "lastHeartbeatTime": now,
                         "lastTransitionTime": now} for t, s, r, m in _NODE_CONDITIONS]
    if not st.get("addresses"):
        st["addresses"] = [{"type": "InternalIP", "address": internal_ip},
                           {"type": "Hostname", "address": meta["name"]}]
    identity = meta.get("uid") or meta["name"]
    st["nodeInfo"] = {"kubeletVersion": "v1.32.4-sim", "kubeProxyVersion": "",
                      "containerRuntimeVersion": "containerd://1.7.0-sim", "kernelVersion": "6.1.0",
                      "osImage": "kubesim", "operatingSystem": "linux", "architecture": "amd64",
                      "machineID": identity, "systemUUID": identity, "bootID": identity}
    st.setdefault("daemonEndpoints", {"kubeletEndpoint": {"Port": 10250}})
    return st
