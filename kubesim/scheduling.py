"""The fit logic of kubesim's scheduler: which node a pending Pod goes to, or kube-scheduler's reason why not.

Pure functions over plain Kubernetes dicts (Node and Pod objects as the API serves them). The filters run in
kube-scheduler 1.32's default order and stop at the first plugin that rejects a node, as the framework does:
NodeUnschedulable, TaintToleration, NodeAffinity (`nodeSelector` and required node affinity), NodePorts,
NodeResourcesFit. When no node fits, `Placement.message` is the FailedScheduling text kube-scheduler writes,
including the DefaultPreemption suffix (priority-aware: lower-priority pods are potential victims).
Among feasible nodes the least allocated one wins (exact requested/allocatable fractions), ties by name.

What this module does not do: evict preemption victims, inter-pod (anti-)affinity, topology spread, volumes.
It owns no state and performs no I/O; the scheduler controller feeds it and binds the result.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from fractions import Fraction

from kubesim.quantity import int_value, milli_value

CPU = "cpu"
MEMORY = "memory"
PODS = "pods"
EPHEMERAL_STORAGE = "ephemeral-storage"

# What kube-scheduler assumes, for scoring only, for a container without a cpu or memory request.
DEFAULT_MILLI_CPU_REQUEST = 100
DEFAULT_MEMORY_REQUEST = 200 * 1024 * 1024

TERMINAL_PHASES = frozenset({"Succeeded", "Failed"})
FILTER_EFFECTS = frozenset({"NoSchedule", "NoExecute"})
UNSCHEDULABLE_TAINT = {"key": "node.kubernetes.io/unschedulable", "effect": "NoSchedule"}

NO_NODES_MESSAGE = "no nodes available to schedule pods"
REASON_UNSCHEDULABLE = "node(s) were unschedulable"
REASON_SELECTOR = "node(s) didn't match Pod's node affinity/selector"
REASON_PORTS = "node(s) didn't have free ports for the requested pod ports"
REASON_TOO_MANY_PODS = "Too many pods"
REASON_NO_VICTIMS = "No preemption victims found for incoming pod"
REASON_PREEMPTION_NOT_HELPFUL = "Preemption is not helpful for scheduling"
PREEMPTION_NEVER = "not eligible due to preemptionPolicy=Never."


@dataclass(frozen=True)
class Placement:
    """Where a pod goes (`node`), or why it cannot go anywhere (`node` is None, `message` says why).

    `reasons` maps every node that was filtered out to its rejection reasons. `preemption_candidates` lists
    the nodes on which evicting lower-priority pods would make room; kube-scheduler would then preempt, and
    its message carries no `preemption:` suffix.
    """

    node: str | None
    message: str
    reasons: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    preemption_candidates: tuple[str, ...] = ()


@dataclass(frozen=True)
class _Status:
    reasons: tuple[str, ...]
    resolvable: bool  # kube-scheduler's Unschedulable; False is UnschedulableAndUnresolvable


def choose_node(pod: dict, nodes: list[dict], pods_by_node: Mapping[str, list[dict]]) -> Placement:
    """Pick the node for `pod` among `nodes`, given the pods already bound to each node (by node name).

    A pod whose `spec.nodeName` is set is already bound and stays there. Raises `ValueError` naming the
    object and field when a request, limit, overhead or allocatable amount is not a valid quantity.
    """
    bound = _spec(pod).get("nodeName")
    if bound:
        return Placement(node=bound, message=f"pod is already bound to node {bound}")
    if not nodes:
        return Placement(node=None, message=NO_NODES_MESSAGE)
    requests = pod_requests(pod)
    statuses: dict[str, _Status] = {}
    feasible: list[dict] = []
    for node in nodes:
        status = _filter(pod, requests, node, _live(pods_by_node.get(_name(node), ())))
        if status is None:
            feasible.append(node)
        else:
            statuses[_name(node)] = status
    if feasible:
        def rank(node: dict) -> tuple[Fraction, str]:
            return -_score(pod, requests, node, pods_by_node.get(_name(node), ())), _name(node)

        best = min(feasible, key=rank)
        return Placement(node=_name(best), message="")
    reasons = {name: status.reasons for name, status in statuses.items()}
    postfilter, candidates = _preemption(pod, requests, nodes, statuses, pods_by_node)
    message = _fit_error(len(nodes), reasons.values())
    if postfilter:
        message += f" {postfilter}"
    return Placement(node=None, message=message, reasons=reasons, preemption_candidates=candidates)


def fit_reasons(pod: dict, node: dict, pods_on_node: Iterable[dict]) -> tuple[str, ...]:
    """Why `pod` does not fit on `node` (kube-scheduler's reasons, e.g. `Insufficient cpu`); () if it fits."""
    status = _filter(pod, pod_requests(pod), node, _live(pods_on_node))
    return () if status is None else status.reasons


def group_by_node(pods: Iterable[dict]) -> dict[str, list[dict]]:
    """The bound pods (`spec.nodeName` set) grouped by node name, the shape `choose_node` expects."""
    grouped: dict[str, list[dict]] = {}
    for pod in pods:
        node = _spec(pod).get("nodeName")
        if node:
            grouped.setdefault(node, []).append(pod)
    return grouped


# --- requests ---------------------------------------------------------------------------------------


def pod_requests(pod: dict) -> dict[str, int]:
    """The pod's effective requests as kube-scheduler computes them: cpu in millicores, the rest in units.

    A container's missing request defaults to its limit (as kube-apiserver defaults it, which is how
    `nvidia.com/gpu` limits become requests); regular containers and sidecars (restartable init containers)
    add up; each ordinary init container counts on top of the sidecars started before it, and the pod
    needs the larger of that peak and the running total; `spec.overhead` is added last.
    """
    return _aggregate(pod, nonzero=False)


def _aggregate(pod: dict, *, nonzero: bool) -> dict[str, int]:
    spec = _spec(pod)
    total: Counter[str] = Counter()
    for container in spec.get("containers") or ():
        total.update(_container_requests(pod, container, nonzero))
    sidecars: Counter[str] = Counter()
    init_peak: dict[str, int] = {}
    for container in spec.get("initContainers") or ():
        requests = _container_requests(pod, container, nonzero)
        if container.get("restartPolicy") == "Always":
            total.update(requests)
            sidecars.update(requests)
            running = dict(sidecars)
        else:
            running = dict(sidecars)
            for name, amount in requests.items():
                running[name] = running.get(name, 0) + amount
        for name, amount in running.items():
            init_peak[name] = max(init_peak.get(name, amount), amount)
    result = dict(total)
    for name, amount in init_peak.items():
        result[name] = max(result.get(name, amount), amount)
    for name, quantity in (spec.get("overhead") or {}).items():
        result[name] = result.get(name, 0) + _amount(name, quantity, f"pod {_pod_name(pod)}: spec.overhead")
    return result


def _container_requests(pod: dict, container: dict, nonzero: bool) -> dict[str, int]:
    resources = container.get("resources") or {}
    declared = dict(resources.get("limits") or {})
    declared.update(resources.get("requests") or {})
    where = f"pod {_pod_name(pod)}: container {container.get('name', '?')}"
    requests = {name: _amount(name, quantity, where) for name, quantity in declared.items()}
    if nonzero:
        requests.setdefault(CPU, DEFAULT_MILLI_CPU_REQUEST)
        requests.setdefault(MEMORY, DEFAULT_MEMORY_REQUEST)
    return requests


def _amount(name: str, quantity: str | int | float, where: str) -> int:
    try:
        return milli_value(quantity) if name == CPU else int_value(quantity)
    except ValueError as err:
        raise ValueError(f"{where}: {name}: {err}") from err


def _allocatable(node: dict) -> dict[str, int]:
    allocatable = (node.get("status") or {}).get("allocatable") or {}
    where = f"node {_name(node)}: status.allocatable"
    return {name: _amount(name, quantity, where) for name, quantity in allocatable.items()}


def _requested(pods: Iterable[dict], *, nonzero: bool = False) -> Counter[str]:
    total: Counter[str] = Counter()
    for pod in pods:
        total.update(_aggregate(pod, nonzero=nonzero))
    return total


# --- filters ----------------------------------------------------------------------------------------


def _filter(pod: dict, requests: dict[str, int], node: dict, pods_on_node: list[dict]) -> _Status | None:
    spec = _spec(pod)
    tolerations = spec.get("tolerations") or ()
    if (node.get("spec") or {}).get("unschedulable") and not _tolerated(tolerations, UNSCHEDULABLE_TAINT):
        return _Status((REASON_UNSCHEDULABLE,), resolvable=False)
    for taint in (node.get("spec") or {}).get("taints") or ():
        if taint.get("effect") in FILTER_EFFECTS and not _tolerated(tolerations, taint):
            reason = f"node(s) had untolerated taint {{{taint.get('key', '')}: {taint.get('value', '')}}}"
            return _Status((reason,), resolvable=False)
    if not _matches_node_affinity(spec, node):
        return _Status((REASON_SELECTOR,), resolvable=False)
    if _port_conflict(pod, pods_on_node):
        return _Status((REASON_PORTS,), resolvable=True)
    insufficient = _insufficient(requests, _allocatable(node), pods_on_node)
    return _Status(insufficient, resolvable=True) if insufficient else None


def _insufficient(requests: dict[str, int], allocatable: dict[str, int],
                  pods_on_node: list[dict]) -> tuple[str, ...]:
    reasons = []
    if len(pods_on_node) + 1 > allocatable.get(PODS, 0):
        reasons.append(REASON_TOO_MANY_PODS)
    used = _requested(pods_on_node)
    standard = [name for name in (CPU, MEMORY, EPHEMERAL_STORAGE) if name in requests]
    for name in standard + sorted(set(requests) - {CPU, MEMORY, EPHEMERAL_STORAGE, PODS}):
        amount = requests[name]
        if amount <= 0:
            continue
        if amount > allocatable.get(name, 0) - used.get(name, 0):
            reasons.append(f"Insufficient {name}")
    return tuple(reasons)


def tolerates(toleration: Mapping, taint: Mapping) -> bool:
    """Whether one toleration tolerates one taint (core/v1 `Toleration.ToleratesTaint`)."""
    if toleration.get("effect") and toleration["effect"] != taint.get("effect"):
        return False
    if toleration.get("key") and toleration["key"] != taint.get("key"):
        return False
    operator = toleration.get("operator") or "Equal"
    if operator == "Exists":
        return True
    return operator == "Equal" and (toleration.get("value") or "") == (taint.get("value") or "")


def _tolerated(tolerations: Iterable[Mapping], taint: Mapping) -> bool:
    return any(tolerates(toleration, taint) for toleration in tolerations)


def _matches_node_affinity(spec: dict, node: dict) -> bool:
    labels = (node.get("metadata") or {}).get("labels") or {}
    if any(labels.get(key) != value for key, value in (spec.get("nodeSelector") or {}).items()):
        return False
    required = (((spec.get("affinity") or {}).get("nodeAffinity") or {})
                .get("requiredDuringSchedulingIgnoredDuringExecution"))
    if required is None:
        return True
    fields = {"metadata.name": _name(node)}
    return any(_term_matches(term, labels, fields) for term in required.get("nodeSelectorTerms") or ())


def _term_matches(term: Mapping, labels: Mapping[str, str], fields: Mapping[str, str]) -> bool:
    expressions = term.get("matchExpressions") or ()
    field_expressions = term.get("matchFields") or ()
    if not expressions and not field_expressions:
        return False  # an empty term selects no node
    return (all(_requirement_matches(r, labels) for r in expressions)
            and all(_requirement_matches(r, fields) for r in field_expressions))


def _requirement_matches(requirement: Mapping, values_by_key: Mapping[str, str]) -> bool:
    key = requirement.get("key", "")
    operator = requirement.get("operator")
    values = requirement.get("values") or []
    present = key in values_by_key
    actual = values_by_key.get(key)
    if operator == "In":
        return present and actual in values
    if operator == "NotIn":
        return not present or actual not in values
    if operator == "Exists":
        return present
    if operator == "DoesNotExist":
        return not present
    if operator in ("Gt", "Lt") and present and len(values) == 1:
        mine, theirs = _as_int(actual), _as_int(values[0])
        if mine is None or theirs is None:
            return False
        return mine > theirs if operator == "Gt" else mine < theirs
    return False  # an unknown operator or a malformed Gt/Lt never matches


def _as_int(text: object) -> int | None:
    if not isinstance(text, str):
        return None
    digits = text[1:] if text[:1] in ("+", "-") else text
    return int(text) if digits.isascii() and digits.isdigit() else None


def _host_ports(pod: dict) -> list[tuple[str, str, int]]:
    ports = []
    for container in _spec(pod).get("containers") or ():
        for port in container.get("ports") or ():
            if port.get("hostPort"):
                ip, protocol = port.get("hostIP") or "0.0.0.0", port.get("protocol") or "TCP"
                ports.append((ip, protocol, port["hostPort"]))
    return ports


def _port_conflict(pod: dict, pods_on_node: list[dict]) -> bool:
    wanted = _host_ports(pod)
    if not wanted:
        return False
    used = [port for other in pods_on_node for port in _host_ports(other)]
    for ip, protocol, number in wanted:
        for used_ip, used_protocol, used_number in used:
            same_port = (protocol, number) == (used_protocol, used_number)
            if same_port and (ip == used_ip or "0.0.0.0" in (ip, used_ip)):
                return True
    return False


# --- preemption and messages --------------------------------------------------------------------------


def _preemption(pod: dict, requests: dict[str, int], nodes: list[dict], statuses: Mapping[str, _Status],
                pods_by_node: Mapping[str, list[dict]]) -> tuple[str, tuple[str, ...]]:
    """DefaultPreemption's dry run: its `preemption: ...` message, and the nodes where it would succeed."""
    if _spec(pod).get("preemptionPolicy") == "Never":
        return f"preemption: {PREEMPTION_NEVER}", ()
    priority = _priority(pod)
    outcome: dict[str, tuple[str, ...]] = {}
    candidates = []
    for node in nodes:
        name = _name(node)
        if not statuses[name].resolvable:
            outcome[name] = (REASON_PREEMPTION_NOT_HELPFUL,)
            continue
        pods = _live(pods_by_node.get(name, ()))
        survivors = [other for other in pods if _priority(other) >= priority]
        if len(survivors) == len(pods):
            outcome[name] = (REASON_NO_VICTIMS,)
            continue
        status = _filter(pod, requests, node, survivors)
        if status is None:
            candidates.append(name)
        else:
            outcome[name] = status.reasons
    if candidates:
        return "", tuple(sorted(candidates))
    return f"preemption: {_fit_error(len(nodes), outcome.values())}", ()


def _fit_error(node_count: int, reasons_per_node: Iterable[tuple[str, ...]]) -> str:
    """kube-scheduler's FitError text: a count per reason (a node counts once for each of its reasons),
    the `<count> <reason>` strings sorted as plain text, as Go's sort.Strings does."""
    counts = Counter(reason for reasons in reasons_per_node for reason in reasons)
    message = f"0/{node_count} nodes are available:"
    if counts:
        message += " " + ", ".join(sorted(f"{count} {reason}" for reason, count in counts.items())) + "."
    return message


# --- scoring ----------------------------------------------------------------------------------------


def _score(pod: dict, requests: dict[str, int], node: dict, pods_on_node: Iterable[dict]) -> Fraction:
    """Mean free fraction after placing the pod (NodeResourcesFit LeastAllocated), over cpu, memory and
    every extended resource the pod asks for. Containers without cpu/memory requests count as 100m/200Mi."""
    live = _live(pods_on_node)
    allocatable = _allocatable(node)
    pod_nonzero = _aggregate(pod, nonzero=True)
    used_nonzero = _requested(live, nonzero=True)
    used = _requested(live)
    resources = [CPU, MEMORY] + sorted(name for name, amount in requests.items()
                                       if amount > 0 and name not in (CPU, MEMORY, PODS, EPHEMERAL_STORAGE))
    total = Fraction(0)
    for name in resources:
        capacity = allocatable.get(name, 0)
        if name in (CPU, MEMORY):
            wanted = used_nonzero.get(name, 0) + pod_nonzero.get(name, 0)
        else:
            wanted = used.get(name, 0) + requests[name]
        if capacity > 0 and wanted <= capacity:
            total += Fraction(capacity - wanted, capacity)
    return total / len(resources)


# --- small accessors --------------------------------------------------------------------------------


def _spec(obj: Mapping) -> dict:
    return obj.get("spec") or {}


def _name(obj: Mapping) -> str:
    return (obj.get("metadata") or {}).get("name", "")


def _pod_name(pod: Mapping) -> str:
    metadata = pod.get("metadata") or {}
    return f"{metadata.get('namespace', 'default')}/{metadata.get('name', '?')}"


def _priority(pod: Mapping) -> int:
    return _spec(pod).get("priority") or 0


def _live(pods: Iterable[dict]) -> list[dict]:
    """Pods that hold their resources: everything but Succeeded and Failed pods."""
    return [pod for pod in pods if (pod.get("status") or {}).get("phase") not in TERMINAL_PHASES]
