"""Services, Endpoints, PersistentVolumeClaims and the optional sidecar injector.

Admission, synchronous as in kube-apiserver: a Service gets its `clusterIP` from 10.96.0.0/12 (none when
headless or ExternalName) and NodePort/LoadBalancer Services their `nodePort`s from 30000-32767; values
already allocated are kept across updates that leave them out. The sidecar injector (only when the
cluster runs it) adds a `mesh-proxy` container to every pod template in namespaces labelled
`sidecar-injection: enabled`, the way a service mesh's webhook does, so that users can rehearse the
"Git says one container, the cluster has two" loop.

Controllers: LoadBalancer Services get an ingress IP from 172.18.255.0/24 a simulated second later; the
Endpoints of every Service with a selector list its pods' IPs (ready ones under `addresses`, the others
under `notReadyAddresses`); a PVC is bound to a volume `pvc-<uid>` of the requested size a second later.
"""

from __future__ import annotations

import ipaddress
import random
from collections.abc import Iterable

from fleetline.jsoncopy import clone
from kubesim import errors
from kubesim.api import ClusterAPI
from kubesim.controllers.base import Controller, Key, key_of
from kubesim.controllers.batch import Stopwatch
from kubesim.controllers.events import record_event
from kubesim.controllers.pods import PODS, TERMINAL, pod_ready
from kubesim.defaults import pod_spec as default_pod_spec
from kubesim.resources import ResourceType
from kubesim.selectors import selector_object_matches
from kubesim.store import WatchEvent
from kubesim.validation import invalid

SERVICES = ("", "services")
ENDPOINTS = ("", "endpoints")
PVCS = ("", "persistentvolumeclaims")
NAMESPACES = ("", "namespaces")

SERVICE_CIDR = ipaddress.ip_network("10.96.0.0/12")
RESERVED_IPS = {"10.96.0.1", "10.96.0.10"}  # the `kubernetes` and kube-dns Services
NODE_PORTS = range(30000, 32768)
LOAD_BALANCER_PREFIX = "172.18.255."
LOAD_BALANCER_SECONDS = 1.0
BIND_SECONDS = 1.0

INJECTION_LABEL, INJECTION_ENABLED = "sidecar-injection", "enabled"
INJECTED_ANNOTATION = "sidecar.fleetline.io/injected"
SIDECAR_NAME, SIDECAR_IMAGE, SIDECAR_PORT = "mesh-proxy", "kubesim/mesh-proxy:1.0", 15001
TEMPLATE_PATHS: dict[tuple[str, str], tuple[str, ...]] = {
    ("", "Pod"): (),
    ("apps", "Deployment"): ("spec", "template"),
    ("apps", "ReplicaSet"): ("spec", "template"),
    ("apps", "StatefulSet"): ("spec", "template"),
    ("apps", "DaemonSet"): ("spec", "template"),
    ("batch", "Job"): ("spec", "template"),
    ("batch", "CronJob"): ("spec", "jobTemplate", "spec", "template"),
}


# ---------------------------------------------------------------------------------------------- admission


def _service_ips(api: ClusterAPI, skip: tuple[str, str]) -> tuple[set[str], set[int]]:
    """Cluster IPs and node ports held by every Service but `skip` (namespace, name)."""
    ips, ports = set(), set()
    for svc in api.store.list(SERVICES):
        meta = svc["metadata"]
        if (meta.get("namespace"), meta["name"]) == skip:
            continue
        spec = svc.get("spec") or {}
        ips.update(ip for ip in spec.get("clusterIPs") or [spec.get("clusterIP")] if ip and ip != "None")
        ports.update(p["nodePort"] for p in spec.get("ports") or ()
                     if isinstance(p, dict) and p.get("nodePort"))
    return ips, ports


class ServiceAdmission:
    """kube-apiserver's Service registry: allocate cluster IPs and node ports at write time."""

    def __init__(self, api: ClusterAPI, seed: int | None = None) -> None:
        self.api = api
        self.random = random.Random(seed)

    def __call__(self, rt: ResourceType, obj: dict, old: dict | None) -> None:
        if rt.group or rt.kind != "Service" or not isinstance(obj.get("spec"), dict):
            return
        spec, meta = obj["spec"], obj.get("metadata") or {}
        old_spec = (old or {}).get("spec") or {}
        name = meta.get("name", "")
        if old is None:
            obj["status"] = {"loadBalancer": {}}
        kind = spec.get("type") or "ClusterIP"
        if kind == "ExternalName":
            for key in ("clusterIP", "clusterIPs"):
                spec.pop(key, None)
            return
        if not spec.get("clusterIP") and old_spec.get("clusterIP"):
            spec["clusterIP"] = old_spec["clusterIP"]
            spec.setdefault("clusterIPs", old_spec.get("clusterIPs") or [old_spec["clusterIP"]])
        used_ips, used_ports = _service_ips(self.api, (meta.get("namespace"), name))
        wanted = spec.get("clusterIP")
        if wanted == "None":
            spec["clusterIPs"] = ["None"]
        elif not wanted:
            spec["clusterIP"] = self._free_ip(used_ips | RESERVED_IPS)  # reserved ones only when asked for
            spec["clusterIPs"] = [spec["clusterIP"]]
        elif wanted != old_spec.get("clusterIP"):
            self._check_ip(rt, name, wanted, used_ips)
            spec["clusterIPs"] = [wanted]
        ports = [p for p in spec.get("ports") or () if isinstance(p, dict)]
        if kind == "ClusterIP":
            for port in ports:
                port.pop("nodePort", None)  # dropped on a change of type, as kube-apiserver does
            return
        if kind == "LoadBalancer" and spec.get("allocateLoadBalancerNodePorts") is False:
            return
        old_ports = [p for p in old_spec.get("ports") or () if isinstance(p, dict)]
        for index, port in enumerate(ports):
            if port.get("nodePort"):
                if port["nodePort"] in used_ports:
                    raise errors.invalid(rt, name, [invalid(f"spec.ports[{index}].nodePort", port["nodePort"],
                                                            "provided port is already allocated")])
                continue
            previous = next((p.get("nodePort") for p in old_ports if p.get("nodePort") and (
                p.get("port"), p.get("protocol")) == (port.get("port"), port.get("protocol"))), None)
            port["nodePort"] = previous or self._free_port(used_ports)
            used_ports.add(port["nodePort"])

    def _free_ip(self, used: set[str]) -> str:
        first, size = int(SERVICE_CIDR.network_address), SERVICE_CIDR.num_addresses
        while True:
            ip = str(ipaddress.ip_address(first + self.random.randrange(1, size - 1)))
            if ip not in used:
                return ip

    def _check_ip(self, rt: ResourceType, name: str, wanted: str, used: set[str]) -> None:
        try:
            inside = ipaddress.ip_address(wanted) in SERVICE_CIDR
        except ValueError:
            inside = False
        detail = ("provided IP is already allocated" if inside and wanted in used else
                  f"provided IP is not in the valid range. The range of valid IPs is {SERVICE_CIDR}")
        if not inside or wanted in used:
            raise errors.invalid(rt, name, [invalid("spec.clusterIPs", [wanted],
                                                    f"failed to allocate IP {wanted}: {detail}")])

    def _free_port(self, used: set[int]) -> int:
        free = [port for port in NODE_PORTS if port not in used]
        if not free:
            raise errors.ApiError(500, "InternalError", "range is full: no node ports left in 30000-32767")
        return self.random.choice(free)


def _walk(obj: dict | None, path: tuple[str, ...]) -> dict | None:
    for part in path:
        if not isinstance(obj, dict):
            return None
        obj = obj.get(part)
    return obj if isinstance(obj, dict) else None


class SidecarInjector:
    """A mesh's mutating webhook: `mesh-proxy` joins every pod template in opted-in namespaces."""

    def __init__(self, api: ClusterAPI) -> None:
        self.api = api

    def __call__(self, rt: ResourceType, obj: dict, old: dict | None) -> None:
        path = TEMPLATE_PATHS.get((rt.group, rt.kind))
        if path is None or (rt.kind == "Pod" and old is not None):
            return
        template = _walk(obj, path)
        if template is None or (old is not None and template == _walk(old, path)):
            return  # nothing to inject into, or the template did not change (a status write, a label edit)
        namespace = self.api.store.get(NAMESPACES, "", (obj.get("metadata") or {}).get("namespace") or "")
        labels = ((namespace or {}).get("metadata") or {}).get("labels") or {}
        spec = template.get("spec")
        if labels.get(INJECTION_LABEL) != INJECTION_ENABLED or not isinstance(spec, dict):
            return
        containers = spec.get("containers")
        if not isinstance(containers, list):
            return
        if not any(isinstance(c, dict) and c.get("name") == SIDECAR_NAME for c in containers):
            ports = [{"containerPort": SIDECAR_PORT, "protocol": "TCP"}]
            containers.append({"name": SIDECAR_NAME, "image": SIDECAR_IMAGE, "ports": ports, "resources": {}})
            default_pod_spec(spec)  # kube-apiserver defaults again after mutating webhooks
        meta = template.setdefault("metadata", {})
        if isinstance(meta, dict):
            meta["annotations"] = {**(meta.get("annotations") or {}), INJECTED_ANNOTATION: "true"}


# ---------------------------------------------------------------------------------------------- Services


class LoadBalancerController(Controller):
    """The cloud's service controller: LoadBalancer Services get an ingress IP (MetalLB on kind style)."""

    name = "service-controller"
    watches = (SERVICES,)

    def __init__(self, api: ClusterAPI) -> None:
        super().__init__(api)
        self.clock = Stopwatch(api)
        self._ensuring: set[str] = set()

    def reconcile(self, key: Key) -> float | None:
        _, namespace, name = key
        svc = self.api.store.get(SERVICES, namespace, name)
        if svc is None or svc["metadata"].get("deletionTimestamp"):
            return None
        spec, status = svc.get("spec") or {}, clone(svc.get("status") or {})
        ingress = (status.get("loadBalancer") or {}).get("ingress")
        if spec.get("type") != "LoadBalancer":
            if ingress:
                status["loadBalancer"] = {}
                self._write(svc, status)
            return None
        if ingress:
            return None
        uid = svc["metadata"]["uid"]
        if uid not in self._ensuring:
            self._ensuring.add(uid)
            record_event(self.api, svc, "Normal", "EnsuringLoadBalancer", "Ensuring load balancer", self.name)
        waited = self.clock.elapsed(uid, "ensure")
        if waited < LOAD_BALANCER_SECONDS:
            return max(LOAD_BALANCER_SECONDS - waited, 0.01)
        ip = spec.get("loadBalancerIP") or self._free_ip()
        status["loadBalancer"] = {"ingress": [{"ip": ip, "ipMode": "VIP"}]}
        self._write(svc, status)
        record_event(self.api, svc, "Normal", "EnsuredLoadBalancer", "Ensured load balancer", self.name)
        self.clock.forget(uid)
        self._ensuring.discard(uid)
        return None

    def _free_ip(self) -> str:
        used = {i.get("ip") for svc in self.api.store.list(SERVICES)
                for i in ((svc.get("status") or {}).get("loadBalancer") or {}).get("ingress") or ()}
        for host in range(1, 255):
            if f"{LOAD_BALANCER_PREFIX}{host}" not in used:
                return f"{LOAD_BALANCER_PREFIX}{host}"
        raise errors.ApiError(500, "InternalError", "no load balancer IPs left in 172.18.255.0/24")

    def _write(self, svc: dict, status: dict) -> None:
        meta = svc["metadata"]
        self.api.update(self.api.type("", "Service"), meta["namespace"], meta["name"],
                        {**svc, "status": status}, self.write_options(), subresource="status")


def _selects(svc: dict, pod: dict | None) -> bool:
    selector = (svc.get("spec") or {}).get("selector")
    if not selector or pod is None:
        return False
    return selector_object_matches({"matchLabels": selector}, pod["metadata"].get("labels"))


def _target_port(port: dict, pod: dict) -> int | None:
    target = port.get("targetPort", port.get("port"))
    if isinstance(target, int):
        return target
    if isinstance(target, str) and target.isdigit():
        return int(target)
    for container in (pod.get("spec") or {}).get("containers") or ():
        for declared in container.get("ports") or ():
            same_protocol = declared.get("protocol", "TCP") == port.get("protocol", "TCP")
            if declared.get("name") == target and same_protocol:
                return declared.get("containerPort")
    return None


class EndpointsController(Controller):
    """Keeps the Endpoints of each Service with a selector equal to its pods' addresses and ports."""

    name = "endpoint-controller"
    watches = (SERVICES, PODS)

    def initial_keys(self) -> Iterable[Key]:
        return [key_of(obj, SERVICES) for obj in self.api.store.list(SERVICES)]  # not the other watched kinds

    def keys_for(self, event: WatchEvent) -> Iterable[Key]:
        if event.resource == SERVICES:
            return [key_of(event)]
        namespace = event.object["metadata"].get("namespace") or ""
        return [key_of(svc, SERVICES) for svc in self.api.store.list(SERVICES, namespace)
                if _selects(svc, event.object) or _selects(svc, event.old)]

    def reconcile(self, key: Key) -> float | None:
        _, namespace, name = key
        svc = self.api.store.get(SERVICES, namespace, name)
        rt = self.api.type("", "Endpoints")
        existing = self.api.store.get(ENDPOINTS, namespace, name)
        if svc is None:
            if existing is not None:
                self.api.delete(rt, namespace, name)
            return None
        spec = svc.get("spec") or {}
        if not spec.get("selector"):
            return None  # user-managed Endpoints
        labels = dict(svc["metadata"].get("labels") or {})
        if spec.get("clusterIP") == "None":
            labels["service.kubernetes.io/headless"] = ""
        body: dict = {"apiVersion": "v1", "kind": "Endpoints",
                      "metadata": {"name": name, "namespace": namespace}}
        if labels:
            body["metadata"]["labels"] = labels
        subsets = self._subsets(svc, [p for p in self.api.store.list(PODS, namespace) if _selects(svc, p)])
        if subsets:
            body["subsets"] = subsets
        if existing is None:
            self.api.create(rt, namespace, body, self.write_options())
        elif existing.get("subsets") != body.get("subsets") or existing["metadata"].get("labels") != labels:
            updated = {**existing, "metadata": {**existing["metadata"], "labels": labels}}
            updated.pop("subsets", None)
            if subsets:
                updated["subsets"] = subsets
            self.api.update(rt, namespace, name, updated, self.write_options())
        return None

    def _subsets(self, svc: dict, pods: list[dict]) -> list[dict]:
        spec = svc.get("spec") or {}
        publish_all = bool(spec.get("publishNotReadyAddresses"))
        groups: dict[tuple, dict[str, list[dict]]] = {}
        for pod in pods:
            status = pod.get("status") or {}
            if not status.get("podIP") or status.get("phase") in TERMINAL:
                continue
            if pod["metadata"].get("deletionTimestamp") and not publish_all:
                continue
            meta, pod_spec = pod["metadata"], pod.get("spec") or {}
            address = {"ip": status["podIP"]}
            if pod_spec.get("hostname") and pod_spec.get("subdomain") == svc["metadata"]["name"]:
                address["hostname"] = pod_spec["hostname"]
            if pod_spec.get("nodeName"):
                address["nodeName"] = pod_spec["nodeName"]
            address["targetRef"] = {"kind": "Pod", "name": meta["name"], "namespace": meta["namespace"],
                                    "uid": meta["uid"]}
            ports = []
            for port in spec.get("ports") or ():
                number = _target_port(port, pod)
                if number is None:
                    continue
                entry = {"name": port["name"]} if port.get("name") else {}
                entry.update({"port": number, "protocol": port.get("protocol", "TCP")})
                if port.get("appProtocol"):
                    entry["appProtocol"] = port["appProtocol"]
                ports.append(entry)
            group = groups.setdefault(tuple(sorted(tuple(sorted(p.items())) for p in ports)),
                                      {"addresses": [], "notReadyAddresses": [], "ports": ports})
            group["addresses" if publish_all or pod_ready(pod) else "notReadyAddresses"].append(address)
        subsets = []
        for _, group in sorted(groups.items()):
            subset = {}
            for field in ("addresses", "notReadyAddresses"):
                if group[field]:
                    subset[field] = sorted(group[field], key=lambda a: (ipaddress.ip_address(a["ip"]),
                                                                         a["targetRef"]["uid"]))
            if group["ports"]:
                subset["ports"] = sorted(group["ports"], key=lambda p: (p.get("name", ""), p["port"]))
            subsets.append(subset)
        return subsets


# ---------------------------------------------------------------------------------------------- volumes


class VolumeBinder(Controller):
    """A dynamic provisioner and the PV binder in one: every pending claim gets a volume of its size."""

    name = "persistentvolume-binder"
    watches = (PVCS,)

    def __init__(self, api: ClusterAPI) -> None:
        super().__init__(api)
        self.clock = Stopwatch(api)

    def reconcile(self, key: Key) -> float | None:
        _, namespace, name = key
        pvc = self.api.store.get(PVCS, namespace, name)
        if pvc is None or pvc["metadata"].get("deletionTimestamp"):
            return None
        meta, spec = pvc["metadata"], pvc.get("spec") or {}
        if (pvc.get("status") or {}).get("phase") == "Bound":
            return None
        waited = self.clock.elapsed(meta["uid"], "bind")
        if waited < BIND_SECONDS:
            return BIND_SECONDS - waited
        rt = self.api.type("", "PersistentVolumeClaim")
        volume = spec.get("volumeName") or f"pvc-{meta['uid']}"
        if not spec.get("volumeName"):
            annotations = {**(meta.get("annotations") or {}), "pv.kubernetes.io/bind-completed": "yes",
                           "pv.kubernetes.io/bound-by-controller": "yes"}
            bound = {**pvc, "metadata": {**meta, "annotations": annotations},
                     "spec": {**spec, "volumeName": volume}}
            pvc = self.api.update(rt, namespace, name, bound, self.write_options())
            record_event(self.api, pvc, "Normal", "ProvisioningSucceeded",
                         f"Successfully provisioned volume {volume}", self.name)
        requested = ((spec.get("resources") or {}).get("requests") or {}).get("storage")
        status = {**(pvc.get("status") or {}), "phase": "Bound",
                  "accessModes": list(spec.get("accessModes") or ["ReadWriteOnce"])}
        if requested is not None:
            status["capacity"] = {"storage": requested}
        self.api.update(rt, namespace, name, {**pvc, "status": status}, self.write_options(),
                        subresource="status")
        self.clock.forget(meta["uid"])
        return None


def install_admission(api: ClusterAPI, sidecar_injection: bool) -> None:
    """Register the admission plug-ins of this package's controllers once (the injector first, as webhooks
    run before the registry allocates)."""
    from kubesim.controllers.batch import CronJobAdmission, JobAdmission
    from kubesim.controllers.pods import PodAdmission

    plugins = [SidecarInjector(api)] if sidecar_injection else []
    plugins += [PodAdmission(), JobAdmission(), CronJobAdmission(), ServiceAdmission(api)]
    for plugin in plugins:
        if not any(type(existing) is type(plugin) for existing in api.mutators):
            api.mutators.append(plugin)
