"""Printers for services, networking, config, storage, nodes, namespaces, events, policy and RBAC bindings."""

from __future__ import annotations

import ipaddress
from datetime import datetime

from kubesim.printers.base import (
    AGE_COL,
    NAME_COL,
    NAME_DOC,
    Printer,
    age_of,
    col,
    format_label_selector,
    format_labels,
    get_path,
    list_with_more,
    name_of,
    since,
    wide,
)


def _lb_ingress(status: dict | None) -> str:
    ingress = get_path(status, "loadBalancer", "ingress", default=[])
    found = {i.get("ip") or i.get("hostname") for i in ingress}
    return ",".join(sorted(x for x in found if x))


def _service_external_ip(svc: dict) -> str:
    spec = svc.get("spec") or {}
    svc_type, external = spec.get("type") or "ClusterIP", spec.get("externalIPs") or []
    if svc_type in ("ClusterIP", "NodePort"):
        return ",".join(external) if external else "<none>"
    if svc_type == "LoadBalancer":
        lb = _lb_ingress(svc.get("status"))
        if external:
            return ",".join([*(lb.split(",") if lb else []), *external])
        return lb or "<pending>"
    if svc_type == "ExternalName":
        return spec.get("externalName", "")
    return "<unknown>"


def service_ports(ports: list | None) -> str:
    """makePortString: `80/TCP`, `80:30080/TCP`, comma separated; `<none>` when there are none."""
    pieces = []
    for port in ports or []:
        protocol = port.get("protocol") or "TCP"
        node_port = port.get("nodePort") or 0
        pieces.append(f"{port.get('port')}:{node_port}/{protocol}" if node_port > 0
                      else f"{port.get('port')}/{protocol}")
    return ",".join(pieces) or "<none>"


def _service_cells(svc: dict, now: datetime) -> list:
    spec = svc.get("spec") or {}
    cluster_ips = spec.get("clusterIPs") or ([spec["clusterIP"]] if spec.get("clusterIP") else [])
    return [name_of(svc), spec.get("type") or "ClusterIP", cluster_ips[0] if cluster_ips else "<none>",
            _service_external_ip(svc), service_ports(spec.get("ports")), age_of(svc, now),
            format_labels(spec.get("selector"))]


def _node_cells(node: dict, now: datetime) -> list:
    status = node.get("status") or {}
    ready = {c.get("type"): c.get("status") for c in status.get("conditions") or []}.get("Ready")
    states = ["Unknown" if ready is None else ("Ready" if ready == "True" else "NotReady")]
    if get_path(node, "spec", "unschedulable"):
        states.append("SchedulingDisabled")
    roles = set()
    for key, value in (get_path(node, "metadata", "labels") or {}).items():
        if key.startswith("node-role.kubernetes.io/") and key[len("node-role.kubernetes.io/"):]:
            roles.add(key[len("node-role.kubernetes.io/"):])
        elif key == "kubernetes.io/role" and value:
            roles.add(value)
    info = status.get("nodeInfo") or {}

    def address(kind: str) -> str:
        found = (a.get("address") for a in status.get("addresses") or [] if a.get("type") == kind)
        return next(found, "<none>")

    return [name_of(node), ",".join(states), ",".join(sorted(roles)) or "<none>", age_of(node, now),
            info.get("kubeletVersion", ""), address("InternalIP"), address("ExternalIP"),
            info.get("osImage") or "<unknown>", info.get("kernelVersion") or "<unknown>",
            info.get("containerRuntimeVersion") or "<unknown>"]


def _namespace_cells(ns: dict, now: datetime) -> list:
    terminating = bool(get_path(ns, "metadata", "deletionTimestamp"))
    phase = get_path(ns, "status", "phase") or ("Terminating" if terminating else "Active")
    return [name_of(ns), phase, age_of(ns, now)]


def _configmap_cells(cm: dict, now: datetime) -> list:
    return [name_of(cm), len(cm.get("data") or {}) + len(cm.get("binaryData") or {}), age_of(cm, now)]


def _secret_cells(secret: dict, now: datetime) -> list:
    data = secret.get("data") or {}
    return [name_of(secret), secret.get("type") or "Opaque", len(data), age_of(secret, now)]


def _event_cells(ev: dict, now: datetime) -> list:
    first = since(ev["firstTimestamp"], now) if ev.get("firstTimestamp") else since(ev.get("eventTime"), now)
    last = since(ev["lastTimestamp"], now) if ev.get("lastTimestamp") else first
    count = ev.get("count") or 0
    if ev.get("series"):
        last = since(ev["series"].get("lastObservedTime"), now)
        count = ev["series"].get("count") or 0
    elif count == 0:
        count = 1
    involved = ev.get("involvedObject") or {}
    kind = (involved.get("kind") or "").lower()
    target = f"{kind}/{involved['name']}" if involved.get("name") else kind
    component = get_path(ev, "source", "component") or ev.get("reportingComponent") or ""
    host = get_path(ev, "source", "host") or ev.get("reportingInstance") or ""
    source = f"{component}, {host}" if host else component
    return [last, ev.get("type", ""), ev.get("reason", ""), target, involved.get("fieldPath", ""), source,
            (ev.get("message") or "").strip(), first, count, name_of(ev)]


def access_modes(modes: list | None) -> str:
    """helper.GetAccessModesAsString: RWO, ROX, RWX, RWOP in that order."""
    present = set(modes or [])
    pairs = (("ReadWriteOnce", "RWO"), ("ReadOnlyMany", "ROX"), ("ReadWriteMany", "RWX"),
             ("ReadWriteOncePod", "RWOP"))
    return ",".join(short for mode, short in pairs if mode in present)


def _pvc_cells(pvc: dict, now: datetime) -> list:
    spec, status = pvc.get("spec") or {}, pvc.get("status") or {}
    phase = "Terminating" if get_path(pvc, "metadata", "deletionTimestamp") else status.get("phase", "")
    capacity = modes = ""
    if spec.get("volumeName"):
        modes = access_modes(status.get("accessModes"))
        capacity = get_path(status, "capacity", "storage", default="0")
    storage_class = (get_path(pvc, "metadata", "annotations", "volume.beta.kubernetes.io/storage-class")
                     or spec.get("storageClassName") or "")
    return [name_of(pvc), phase, spec.get("volumeName", ""), capacity, modes, storage_class,
            spec.get("volumeAttributesClassName") or "<unset>", age_of(pvc, now),
            spec.get("volumeMode") or "<unset>"]


def _endpoints_text(ep: dict) -> str:
    subsets = ep.get("subsets") or []
    if not subsets:
        return "<none>"
    shown: list[str] = []
    count = 0
    for subset in subsets:
        addresses = [a.get("ip", "") for a in subset.get("addresses") or []]
        ports = subset.get("ports") or []
        for port in ports or [None]:
            count += len(addresses)
            for ip in addresses:
                if len(shown) < 3:
                    if port is None:
                        shown.append(ip)
                    else:
                        host = f"[{ip}]" if _is_ipv6(ip) else ip
                        shown.append(f"{host}:{port.get('port')}")
    return list_with_more(shown, 3, count) if count > 3 else ",".join(shown)


def _is_ipv6(text: str) -> bool:
    try:
        return ipaddress.ip_address(text).version == 6
    except ValueError:
        return ":" in text


def _ingress_hosts(rules: list) -> str:
    hosts: list[str] = []
    more = False
    for rule in rules:
        if len(hosts) == 3:
            more = True
        if not more and rule.get("host"):
            hosts.append(rule["host"])
    if not hosts:
        return "*"
    return f"{','.join(hosts)} + {len(rules) - 3} more..." if more else ",".join(hosts)


def _ingress_cells(ing: dict, now: datetime) -> list:
    spec = ing.get("spec") or {}
    return [name_of(ing), spec.get("ingressClassName") or "<none>", _ingress_hosts(spec.get("rules") or []),
            _lb_ingress(ing.get("status")), "80, 443" if spec.get("tls") else "80", age_of(ing, now)]


def _binding_cells(obj: dict, now: datetime) -> list:
    ref = obj.get("roleRef") or {}
    users, groups, sas = [], [], []
    for subject in obj.get("subjects") or []:
        kind, name = subject.get("kind"), subject.get("name", "")
        if kind == "ServiceAccount":
            sas.append(f"{subject.get('namespace', '')}/{name}")
        elif kind == "User":
            users.append(name)
        elif kind == "Group":
            groups.append(name)
    return [name_of(obj), f"{ref.get('kind', '')}/{ref.get('name', '')}", age_of(obj, now),
            ", ".join(users), ", ".join(groups), ", ".join(sas)]


def _pdb_cells(pdb: dict, now: datetime) -> list:
    spec = pdb.get("spec") or {}
    low, high = spec.get("minAvailable"), spec.get("maxUnavailable")
    return [name_of(pdb), "N/A" if low is None else str(low), "N/A" if high is None else str(high),
            get_path(pdb, "status", "disruptionsAllowed", default=0), age_of(pdb, now)]


PRINTERS: dict[tuple[str, str], Printer] = {
    ("", "Service"): Printer((
        NAME_COL,
        col("Type", description="type determines how the Service is exposed."),
        col("Cluster-IP", description="clusterIP is the IP address of the service."),
        col("External-IP", description="externalIPs is a list of IP addresses for which nodes in the "
                                       "cluster will also accept traffic for this service."),
        col("Port(s)", description="The list of ports that are exposed by this service."),
        AGE_COL,
        wide("Selector", "Route service traffic to pods with label keys and values matching this selector."),
    ), _service_cells),
    ("", "Node"): Printer((
        NAME_COL,
        col("Status", description="The status of the node"),
        col("Roles", description="The roles of the node"),
        AGE_COL,
        col("Version", description="Kubelet Version reported by the node."),
        wide("Internal-IP", "List of addresses reachable to the node."),
        wide("External-IP", "List of addresses reachable to the node."),
        wide("OS-Image", "OS Image reported by the node from /etc/os-release."),
        wide("Kernel-Version", "Kernel Version reported by the node from 'uname -r'."),
        wide("Container-Runtime", "ContainerRuntime Version reported by the node through runtime remote "
                                  "API."),
    ), _node_cells),
    ("", "Namespace"): Printer((
        NAME_COL, col("Status", description="The status of the namespace"), AGE_COL,
    ), _namespace_cells),
    ("", "ConfigMap"): Printer((
        NAME_COL, col("Data", description="Data contains the configuration data."), AGE_COL,
    ), _configmap_cells),
    ("", "Secret"): Printer((
        NAME_COL,
        col("Type", description="Used to facilitate programmatic handling of secret data."),
        col("Data", description="Data contains the secret data."),
        AGE_COL,
    ), _secret_cells),
    ("", "Event"): Printer((
        col("Last Seen", description="The time at which the most recent occurrence of this event was "
                                     "recorded."),
        col("Type", description="Type of this event (Normal, Warning), new types could be added in the "
                                "future"),
        col("Reason", description="This should be a short, machine understandable string that gives the "
                                  "reason for the transition into the object's current status."),
        col("Object", description="The object that this event is about."),
        wide("Subobject", "If referring to a piece of an object instead of an entire object, this string "
                           "should contain a valid JSON/Go field access statement."),
        wide("Source", "The component reporting this event."),
        col("Message", description="A human-readable description of the status of this operation."),
        wide("First Seen", "The time at which the event was first recorded."),
        wide("Count", "The number of times this event has occurred."),
        col("Name", description=NAME_DOC, priority=1, format_="name"),
    ), _event_cells),
    ("", "PersistentVolumeClaim"): Printer((
        NAME_COL,
        col("Status", description="phase represents the current phase of PersistentVolumeClaim."),
        col("Volume", description="volumeName is the binding reference to the PersistentVolume backing "
                                  "this claim."),
        col("Capacity", description="capacity represents the actual resources of the underlying volume."),
        col("Access Modes", description="accessModes contains the actual access modes the volume backing "
                                        "the PVC has."),
        col("StorageClass", description="StorageClass of the pvc"),
        col("VolumeAttributesClass", description="VolumeAttributesClass of the pvc"),
        AGE_COL,
        wide("VolumeMode", "volumeMode defines what type of volume is required by the claim."),
    ), _pvc_cells),
    ("", "Endpoints"): Printer((
        NAME_COL, col("Endpoints", description="The set of all endpoints is the union of all subsets."),
        AGE_COL,
    ), lambda ep, now: [name_of(ep), _endpoints_text(ep), age_of(ep, now)]),
    ("", "ServiceAccount"): Printer((
        NAME_COL,
        col("Secrets", description="Secrets is a list of the secrets in the same namespace that pods "
                                   "running using this ServiceAccount are allowed to use."),
        AGE_COL,
    ), lambda sa, now: [name_of(sa), len(sa.get("secrets") or []), age_of(sa, now)]),
    ("networking.k8s.io", "Ingress"): Printer((
        NAME_COL,
        col("Class", description="The name of the IngressClass resource that should be used for "
                                 "additional configuration"),
        col("Hosts", description="Hosts that incoming requests are matched against before the ingress rule"),
        col("Address", description="Address is a list containing ingress points for the load-balancer"),
        col("Ports", description="Ports of TLS configurations that open"),
        AGE_COL,
    ), _ingress_cells),
    ("networking.k8s.io", "NetworkPolicy"): Printer((
        NAME_COL,
        col("Pod-Selector", description="Selects the pods to which this NetworkPolicy object applies."),
        AGE_COL,
    ), lambda np, now: [name_of(np), format_label_selector(get_path(np, "spec", "podSelector") or {}),
                        age_of(np, now)]),
    ("policy", "PodDisruptionBudget"): Printer((
        NAME_COL,
        col("Min Available", description="The minimum number of pods that must be available."),
        col("Max Unavailable", description="The maximum number of pods that may be unavailable."),
        col("Allowed Disruptions", "integer", "Calculated number of pods that may be disrupted at this "
                                              "time."),
        AGE_COL,
    ), _pdb_cells),
}

for _kind, _what in (("RoleBinding", "roleBinding"), ("ClusterRoleBinding", "clusterRoleBinding")):
    PRINTERS[("rbac.authorization.k8s.io", _kind)] = Printer((
        NAME_COL,
        col("Role", description="RoleRef can reference a Role in the current namespace or a ClusterRole in "
                                "the global namespace."),
        AGE_COL,
        wide("Users", f"Users in the {_what}"),
        wide("Groups", f"Groups in the {_what}"),
        wide("ServiceAccounts", f"ServiceAccounts in the {_what}"),
    ), _binding_cells)
