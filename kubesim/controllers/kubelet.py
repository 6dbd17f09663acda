"""The simulated kubelet: plays a script for every bound pod, in simulated seconds (see `kubesim.controllers.pods`
for what each image does), and writes the pod status a kubelet would."""

from __future__ import annotations

import itertools
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta

from fleetline.jsoncopy import clone
from kubesim.api import ClusterAPI, WriteOptions
from kubesim.clock import rfc3339
from kubesim.controllers.base import Controller, Key
from kubesim.controllers.events import record_event
from kubesim.controllers.pods import (
    CRASH_SECONDS,
    ERR_IMAGE_PULL_SECONDS,
    EXIT_SHOWN_SECONDS,
    INIT_SECONDS,
    NODES,
    PODS,
    PULL_SECONDS,
    RUN_SECONDS,
    RUN_SECONDS_ANNOTATION,
    SANDBOX_SECONDS,
    TERMINAL,
    _digest,
    backoff,
    condition,
    crashes,
    go_duration,
    normalized_image,
    pull_fails,
    qos_class,
    set_condition,
)
from kubesim.store import WatchEvent

Event = tuple[str, str, str]  # (type, reason, message)



@dataclass(frozen=True)
class Segment:
    """One stretch of a container's life, from `start` (simulated seconds since the pod was admitted)."""

    start: float
    kind: str  # waiting, running, exited
    reason: str = ""
    message: str = ""
    restarts: int = 0
    started: float = 0.0  # when the current (or exited) run began
    exit_code: int = 0
    ready: bool = False
    last: Segment | None = None  # the previous run's exit, for lastState
    events: tuple[Event, ...] = ()


@dataclass(frozen=True)
class Plan:
    """What the kubelet's script makes of one container."""

    name: str
    image: str
    offset: float = 0.0  # when its image pull starts (after the init containers)
    run_seconds: float | None = None  # None: runs until deleted
    exit_code: int = 0
    restart_on_exit: bool = False
    ready_after: float | None = 0.0  # seconds after start; None: never Ready
    pull_fails: bool = False
    init: bool = False


def _plans(pod: dict) -> tuple[list[Plan], list[Plan]]:
    """(init container plans, container plans) for `pod`."""
    spec = pod.get("spec") or {}
    policy = spec.get("restartPolicy") or "Always"
    annotations = pod["metadata"].get("annotations") or {}
    try:
        run_for = float(annotations.get(RUN_SECONDS_ANNOTATION) or RUN_SECONDS)
    except ValueError:
        run_for = RUN_SECONDS
    inits, offset = [], 0.0
    for container in spec.get("initContainers") or ():
        sidecar = container.get("restartPolicy") == "Always"
        inits.append(Plan(container.get("name", ""), container.get("image", ""), offset,
                          None if sidecar else INIT_SECONDS - PULL_SECONDS, init=True))
        offset += INIT_SECONDS
    plans = []
    for container in spec.get("containers") or ():
        image = container.get("image", "")
        probe = container.get("readinessProbe")
        delay = float((probe or {}).get("initialDelaySeconds") or 0)
        if crashes(image):
            plan = Plan(container.get("name", ""), image, offset, CRASH_SECONDS, 1, policy != "Never", None)
        elif policy in ("Never", "OnFailure"):
            plan = Plan(container.get("name", ""), image, offset, run_for, 0, False, delay)
        else:
            plan = Plan(container.get("name", ""), image, offset, None, 0, False, delay)
        plans.append(replace(plan, pull_fails=pull_fails(image)))
    return inits, plans


def script(plan: Plan, pod_name: str) -> Iterator[Segment]:
    """The segments of one container's life, in time order (endless for crash loops and failing pulls)."""
    image = plan.image
    if plan.offset > 0:
        yield Segment(0.0, "waiting", "PodInitializing")
    t = plan.offset
    pulling = ("Normal", "Pulling", f'Pulling image "{image}"')
    yield Segment(t, "waiting", "ContainerCreating", events=(pulling,))
    if plan.pull_fails:
        attempt, full = 0, normalized_image(image)
        pull_error = (f'failed to pull and unpack image "{full}": failed to resolve reference "{full}": '
                      f'{full}: not found')
        back_off = f'Back-off pulling image "{image}"'
        while True:
            t += PULL_SECONDS
            yield Segment(t, "waiting", "ErrImagePull", pull_error, events=(
                ("Warning", "Failed", f'Failed to pull image "{image}": {pull_error}'),
                ("Warning", "Failed", "Error: ErrImagePull")))
            t += ERR_IMAGE_PULL_SECONDS
            yield Segment(t, "waiting", "ImagePullBackOff", back_off, events=(
                ("Normal", "BackOff", back_off), ("Warning", "Failed", "Error: ImagePullBackOff")))
            t += backoff(attempt)
            attempt += 1
            yield Segment(t, "waiting", "ImagePullBackOff", back_off, events=(pulling,))
    t += PULL_SECONDS
    restarts, last = 0, None
    while True:
        pulled = (f'Successfully pulled image "{image}" in {int(PULL_SECONDS * 1000)}ms '
                  f'({int(PULL_SECONDS * 1000)}ms including waiting)') if restarts == 0 else \
            f'Container image "{image}" already present on machine'
        events = (("Normal", "Pulled", pulled), ("Normal", "Created", f"Created container {plan.name}"),
                  ("Normal", "Started", f"Started container {plan.name}"))
        running = Segment(t, "running", restarts=restarts, started=t, last=last, events=events,
                          ready=plan.init and plan.run_seconds is None)
        yield running
        ends = None if plan.run_seconds is None else t + plan.run_seconds
        becomes_ready = plan.ready_after is not None and not plan.init
        if becomes_ready and (plan.run_seconds is None or plan.ready_after < plan.run_seconds):
            yield replace(running, start=t + plan.ready_after, ready=True, events=())
        if ends is None:
            return
        exited = Segment(ends, "exited", "Completed" if plan.exit_code == 0 else "Error", restarts=restarts,
                         started=t, exit_code=plan.exit_code, last=last, ready=plan.init)
        yield exited
        if not plan.restart_on_exit:
            return
        wait = 0.0 if restarts == 0 else backoff(restarts - 1)
        if wait > 0:
            message = f"back-off {go_duration(wait)} restarting failed container={plan.name} pod={pod_name}"
            event = ("Warning", "BackOff",
                     f"Back-off restarting failed container {plan.name} in pod {pod_name}")
            yield Segment(ends + EXIT_SHOWN_SECONDS, "waiting", "CrashLoopBackOff", message,
                          restarts=restarts, last=exited, events=(event,))
        t = ends + max(wait, EXIT_SHOWN_SECONDS)
        restarts, last = restarts + 1, exited


def position(plan: Plan, pod_name: str, t: float) -> tuple[int, Segment, float | None]:
    """(index of the current segment, the segment, start of the next one or None) at time `t`."""
    index, current, upcoming = -1, None, None
    for segment in script(plan, pod_name):
        if segment.start > t:
            upcoming = segment.start
            break
        index, current = index + 1, segment
    assert current is not None  # every script starts at or before 0
    return index, current, upcoming


def segments_between(plan: Plan, pod_name: str, after: int, until: int) -> list[Segment]:
    """The segments with index in (after, until]."""
    out = []
    for index, segment in enumerate(script(plan, pod_name)):
        if index > until:
            break
        if index > after:
            out.append(segment)
    return out


# ---------------------------------------------------------------------------------------------- kubelet


@dataclass
class PodRun:
    """The kubelet's memory of one admitted pod."""

    uid: str
    began: float  # time.monotonic() at admission
    began_wall: datetime
    host_ip: str
    pod_ip: str
    seen: dict[str, int] = field(default_factory=dict)  # container -> index of the last segment announced


class Kubelet(Controller):
    """Every node's kubelet at once: plays each bound pod's script and reports it in the pod's status."""

    name = "kubelet"
    watches = (PODS, NODES)

    def __init__(self, api: ClusterAPI) -> None:
        super().__init__(api)
        self._runs: dict[tuple[str, str], PodRun] = {}
        self._node_ips: dict[str, str] = {}
        self._node_subnets: dict[str, int] = {}
        self._used_ips = {(pod.get("status") or {}).get("podIP") for pod in api.store.list(PODS)}

    def keys_for(self, event: WatchEvent) -> Iterable[Key]:
        if event.resource == NODES:
            addresses = ((event.object.get("status") or {}).get("addresses"),
                         ((event.old or {}).get("status") or {}).get("addresses"))
            if event.type == "DELETED" or (event.type == "MODIFIED" and addresses[0] == addresses[1]):
                return []
            node = event.object["metadata"]["name"]
            return [(PODS, p["metadata"]["namespace"], p["metadata"]["name"])
                    for p in self.api.store.list(PODS) if (p.get("spec") or {}).get("nodeName") == node]
        if event.type == "DELETED" or (event.object.get("spec") or {}).get("nodeName"):
            meta = event.object["metadata"]
            return [(PODS, meta.get("namespace") or "", meta["name"])]
        return []

    def initial_keys(self) -> Iterable[Key]:
        for pod in self.api.store.list(PODS):
            if (pod.get("spec") or {}).get("nodeName"):
                yield PODS, pod["metadata"]["namespace"], pod["metadata"]["name"]

    def write_options(self) -> WriteOptions:
        return WriteOptions(manager="kubelet")

    # -- addresses
    def _host_ip(self, node_name: str) -> str:
        node = self.api.store.get(NODES, "", node_name) or {}
        for address in (node.get("status") or {}).get("addresses") or ():
            if address.get("type") == "InternalIP" and address.get("address"):
                return address["address"]
        if node_name not in self._node_ips:
            self._node_ips[node_name] = f"172.18.254.{len(self._node_ips) % 250 + 2}"  # none reported yet
        return self._node_ips[node_name]

    def _allocate_pod_ip(self, node_name: str) -> str:
        """A free address in the node's /24 of 10.244.0.0/16 (the node IPAM controller's podCIDRs)."""
        subnet = self._node_subnets.setdefault(node_name, len(self._node_subnets) + 1)
        own = (f"10.244.{subnet % 256}.{host}" for host in range(2, 255))
        spill = (f"10.244.{a}.{b}" for a in range(256) for b in range(2, 255))  # when the node's /24 is full
        ip = next(ip for ip in itertools.chain(own, spill) if ip not in self._used_ips)
        self._used_ips.add(ip)
        return ip

    # -- reconcile
    def reconcile(self, key: Key) -> float | None:
        _, namespace, name = key
        pod = self.api.store.get(PODS, namespace, name)
        run = self._runs.get((namespace, name))
        if run is not None and (pod is None or pod["metadata"].get("uid") != run.uid):
            self._forget(namespace, name)
            run = None
        if pod is None:
            return None
        node_name = (pod.get("spec") or {}).get("nodeName")
        status = pod.get("status") or {}
        if not node_name or self.api.store.get(NODES, "", node_name) is None:
            return None  # unscheduled, or bound to a node that does not exist (no kubelet there)
        if run is None:
            if status.get("phase") in TERMINAL:
                return None
            run = self._admit(pod, node_name)
        if pod["metadata"].get("deletionTimestamp"):
            self._write(pod, self._terminated_status(pod))
            return None
        elapsed = (time.monotonic() - run.began) * self.api.clock.speed
        new_status, upcoming = self._status_at(pod, run, elapsed)
        self._write(pod, new_status)
        return None if upcoming is None else max(upcoming - elapsed, 0.01)

    def _admit(self, pod: dict, node_name: str) -> PodRun:
        meta = pod["metadata"]
        host_ip = self._host_ip(node_name)
        pod_ip = host_ip if (pod.get("spec") or {}).get("hostNetwork") else self._allocate_pod_ip(node_name)
        run = PodRun(meta["uid"], time.monotonic(), self.api.clock.now(), host_ip, pod_ip)
        self._runs[(meta["namespace"], meta["name"])] = run
        return run

    def _forget(self, namespace: str, name: str) -> None:
        run = self._runs.pop((namespace, name), None)
        if run is not None and run.pod_ip != run.host_ip:
            self._used_ips.discard(run.pod_ip)

    def _write(self, pod: dict, status: dict) -> None:
        if status != pod.get("status"):
            meta = pod["metadata"]
            self.api.update(self.api.type("", "Pod"), meta["namespace"], meta["name"],
                            {**pod, "status": status}, self.write_options(), subresource="status")

    def _wall(self, run: PodRun, t: float) -> str:
        return rfc3339(run.began_wall + timedelta(seconds=t / self.api.clock.speed))

    def _status_at(self, pod: dict, run: PodRun, t: float) -> tuple[dict, float | None]:
        """The pod's status at simulated time `t` of its script, and when it next changes."""
        meta = pod["metadata"]
        pod_label = f"{meta['name']}_{meta['namespace']}({meta['uid']})"
        inits, plans = _plans(pod)
        upcoming: list[float] = []
        statuses: dict[bool, list[dict]] = {True: [], False: []}
        segments: dict[bool, list[Segment]] = {True: [], False: []}
        for plan in [*inits, *plans]:
            index, segment, following = position(plan, pod_label, t)
            if following is not None:
                upcoming.append(following)
            self._announce(pod, plan, pod_label, run, index)
            segments[plan.init].append(segment)
            statuses[plan.init].append(self._container_status(plan, segment, run))
        phase = _phase(segments[False], (pod.get("spec") or {}).get("restartPolicy") or "Always")
        if (pod.get("status") or {}).get("phase") in TERMINAL:
            phase = pod["status"]["phase"]
            upcoming = []
        if t < SANDBOX_SECONDS:
            upcoming.append(SANDBOX_SECONDS)
        status = clone(pod.get("status") or {})
        status["phase"] = phase
        status["conditions"] = self._conditions(status, inits, plans, segments, t, phase)
        host_ip = self._host_ip(pod["spec"]["nodeName"])  # the node may report its address after admission
        pod_ip = host_ip if run.pod_ip == run.host_ip else run.pod_ip
        status["hostIP"], status["hostIPs"] = host_ip, [{"ip": host_ip}]
        if t >= SANDBOX_SECONDS:
            status["podIP"], status["podIPs"] = pod_ip, [{"ip": pod_ip}]
        status["startTime"] = status.get("startTime") or rfc3339(run.began_wall)
        if inits:
            status["initContainerStatuses"] = statuses[True]
        status["containerStatuses"] = statuses[False]
        status.setdefault("qosClass", qos_class(pod.get("spec") or {}))
        return status, min(upcoming) if upcoming else None

    def _announce(self, pod: dict, plan: Plan, pod_label: str, run: PodRun, index: int) -> None:
        """Record the events of the segments this container entered since the last look."""
        seen = run.seen.get(plan.name, -1)
        if index <= seen:
            return
        run.seen[plan.name] = index
        for segment in segments_between(plan, pod_label, max(seen, index - 6), index):
            for event_type, reason, message in segment.events:
                record_event(self.api, pod, event_type, reason, message, "kubelet")

    def _container_status(self, plan: Plan, segment: Segment, run: PodRun) -> dict:
        image = normalized_image(plan.image)
        created = segment.kind != "waiting" or segment.last is not None
        status: dict = {"image": image, "imageID": "", "lastState": {}, "name": plan.name,
                        "ready": segment.ready, "restartCount": segment.restarts,
                        "started": segment.kind == "running", "state": {}}
        if created:
            status["imageID"] = f"{image.rsplit(':', 1)[0]}@sha256:{_digest(image)}"
            status["containerID"] = f"containerd://{_digest(run.uid, plan.name, str(segment.restarts))}"
        if segment.kind == "waiting":
            status["state"] = {"waiting": {"reason": segment.reason, **(
                {"message": segment.message} if segment.message else {})}}
        elif segment.kind == "running":
            status["state"] = {"running": {"startedAt": self._wall(run, segment.started)}}
        else:
            status["state"] = {"terminated": self._terminated(plan, segment, run)}
        if segment.last is not None:
            status["lastState"] = {"terminated": self._terminated(plan, segment.last, run)}
        return dict(sorted(status.items()))

    def _terminated(self, plan: Plan, segment: Segment, run: PodRun) -> dict:
        return {"containerID": f"containerd://{_digest(run.uid, plan.name, str(segment.restarts))}",
                "exitCode": segment.exit_code, "finishedAt": self._wall(run, segment.start),
                "reason": segment.reason, "startedAt": self._wall(run, segment.started)}

    def _conditions(self, status: dict, inits: list[Plan], plans: list[Plan],
                    segments: dict[bool, list[Segment]], t: float, phase: str) -> list[dict]:
        now = self.api.clock.timestamp()
        conditions = [c for c in status.get("conditions") or () if c.get("type") == "PodScheduled"]
        if not conditions:  # the scheduler's own write may have lost a race with ours
            conditions = set_condition([], {"type": "PodScheduled", "status": "True"}, now)
        old = status.get("conditions") or []
        done = phase in TERMINAL
        uninitialized = [p.name for p, s in zip(inits, segments[True], strict=True) if not s.ready]
        unready = [p.name for p, s in zip(plans, segments[False], strict=True) if not s.ready]
        wanted = [{"type": "PodReadyToStartContainers", "status": str(t >= SANDBOX_SECONDS and not done)}]
        if uninitialized and not done:
            wanted.append({"type": "Initialized", "status": "False", "reason": "ContainersNotInitialized",
                           "message": f"containers with incomplete status: [{' '.join(uninitialized)}]"})
        else:
            wanted.append({"type": "Initialized", "status": "True"})
        for kind in ("Ready", "ContainersReady"):
            if phase == "Succeeded" or (done and not unready):
                wanted.append({"type": kind, "status": "False", "reason": "PodCompleted"})
            elif unready:
                wanted.append({"type": kind, "status": "False", "reason": "ContainersNotReady",
                               "message": f"containers with unready status: [{' '.join(unready)}]"})
            else:
                wanted.append({"type": kind, "status": "True"})
        merged = list(old)
        for new in wanted:
            merged = set_condition(merged, new, now)
        by_type = {c["type"]: c for c in merged}
        order = ("PodReadyToStartContainers", "Initialized", "Ready", "ContainersReady")
        return [by_type[kind] for kind in order] + conditions

    def _terminated_status(self, pod: dict) -> dict:
        """A pod being deleted (held by finalizers): its containers have stopped and it is not Ready."""
        status = clone(pod.get("status") or {})
        now = self.api.clock.timestamp()
        for container in status.get("containerStatuses") or ():
            running = (container.get("state") or {}).get("running")
            if running is not None:
                container["state"] = {"terminated": {"exitCode": 0, "reason": "Completed", "finishedAt": now,
                                                     "startedAt": running.get("startedAt")}}
                container["ready"] = container["started"] = False
        conditions = status.get("conditions") or []
        for kind in ("Ready", "ContainersReady"):
            if condition(conditions, kind) is not None:
                conditions = set_condition(conditions, {"type": kind, "status": "False"}, now)
        status["conditions"] = conditions
        return status


def _phase(segments: list[Segment], policy: str) -> str:
    """kubelet's getPhase over the app containers' current segments."""
    waiting = running = stopped = succeeded = 0
    for segment in segments:
        if segment.kind == "running":
            running += 1
        elif segment.kind == "exited":
            stopped += 1
            succeeded += segment.exit_code == 0
        elif segment.last is not None:
            stopped += 1  # waiting to restart after an exit
        else:
            waiting += 1
    if waiting or not segments:
        return "Pending"
    if running:
        return "Running"
    if policy == "Always":
        return "Running"
    if policy == "OnFailure":
        return "Succeeded" if succeeded == stopped else "Running"
    return "Succeeded" if succeeded == stopped else "Failed"
