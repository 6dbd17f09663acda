"""Printers for the workload kinds: Pod, Deployment, ReplicaSet, StatefulSet, DaemonSet, Job, CronJob, HPA."""

from __future__ import annotations

from datetime import datetime

from kubesim.printers.base import (
    AGE_COL,
    NAME_COL,
    WIDE_SELECTOR,
    WIDE_TEMPLATE,
    Printer,
    age_of,
    col,
    cond_true,
    format_label_selector,
    format_labels,
    get_path,
    human_duration,
    list_with_more,
    name_of,
    parse_time,
    selector_string,
    since,
    template_cells,
    wide,
)


def _is_restartable_init(container: dict | None) -> bool:
    return bool(container) and container.get("restartPolicy") == "Always"


def _later(current: datetime | None, state: dict | None) -> datetime | None:
    finished = parse_time(get_path(state, "terminated", "finishedAt"))
    if finished is not None and (current is None or current < finished):
        return finished
    return current


def _pod_cells(pod: dict, now: datetime) -> list:
    spec, status = pod.get("spec") or {}, pod.get("status") or {}
    conditions = status.get("conditions") or []
    init_specs = {c.get("name"): c for c in spec.get("initContainers") or []}
    total = len(spec.get("containers") or []) + sum(map(_is_restartable_init, init_specs.values()))
    ready = restarts = sidecar_restarts = 0
    last_restart: datetime | None = None
    last_sidecar_restart: datetime | None = None
    phase = status.get("phase") or ""
    reason = status.get("reason") or phase
    if any(c.get("type") == "PodScheduled" and c.get("reason") == "SchedulingGated" for c in conditions):
        reason = "SchedulingGated"

    initializing = False
    n_init = len(spec.get("initContainers") or [])
    for i, cs in enumerate(status.get("initContainerStatuses") or []):
        restarts += cs.get("restartCount") or 0
        last_restart = _later(last_restart, cs.get("lastState"))
        sidecar = _is_restartable_init(init_specs.get(cs.get("name")))
        if sidecar:
            sidecar_restarts += cs.get("restartCount") or 0
            last_sidecar_restart = _later(last_sidecar_restart, cs.get("lastState"))
        state = cs.get("state") or {}
        terminated, waiting = state.get("terminated"), state.get("waiting")
        if terminated is not None and (terminated.get("exitCode") or 0) == 0:
            continue
        if sidecar and cs.get("started"):
            ready += 1 if cs.get("ready") else 0
            continue
        if terminated is not None:
            if terminated.get("reason"):
                reason = "Init:" + terminated["reason"]
            elif terminated.get("signal"):
                reason = f"Init:Signal:{terminated['signal']}"
            else:
                reason = f"Init:ExitCode:{terminated.get('exitCode') or 0}"
        elif waiting is not None and waiting.get("reason") and waiting["reason"] != "PodInitializing":
            reason = "Init:" + waiting["reason"]
        else:
            reason = f"Init:{i}/{n_init}"
        initializing = True
        break

    if not initializing or cond_true(conditions, "Initialized"):
        restarts, last_restart = sidecar_restarts, last_sidecar_restart
        has_running = False
        for cs in reversed(status.get("containerStatuses") or []):
            restarts += cs.get("restartCount") or 0
            last_restart = _later(last_restart, cs.get("lastState"))
            state = cs.get("state") or {}
            terminated, waiting = state.get("terminated"), state.get("waiting")
            if waiting is not None and waiting.get("reason"):
                reason = waiting["reason"]
            elif terminated is not None and terminated.get("reason"):
                reason = terminated["reason"]
            elif terminated is not None:
                signal = terminated.get("signal") or 0
                reason = f"Signal:{signal}" if signal else f"ExitCode:{terminated.get('exitCode') or 0}"
            elif cs.get("ready") and state.get("running") is not None:
                has_running = True
                ready += 1
        if reason == "Completed" and has_running:
            reason = "Running" if cond_true(conditions, "Ready") else "NotReady"

    if get_path(pod, "metadata", "deletionTimestamp"):
        if status.get("reason") == "NodeLost":
            reason = "Unknown"
        elif phase not in ("Succeeded", "Failed"):
            reason = "Terminating"

    restarts_text = str(restarts)
    if restarts and last_restart is not None:
        restarts_text = f"{restarts} ({human_duration(now - last_restart)} ago)"

    pod_ips = status.get("podIPs") or []
    pod_ip = (pod_ips[0].get("ip") if pod_ips else status.get("podIP")) or "<none>"
    gates = spec.get("readinessGates") or []
    gates_text = "<none>"
    if gates:
        by_type: dict[str, str] = {}
        for cond in conditions:
            by_type.setdefault(cond.get("type"), cond.get("status"))
        true_count = sum(1 for g in gates if by_type.get(g.get("conditionType")) == "True")
        gates_text = f"{true_count}/{len(gates)}"
    return [name_of(pod), f"{ready}/{total}", reason, restarts_text, age_of(pod, now),
            pod_ip, spec.get("nodeName") or "<none>", status.get("nominatedNodeName") or "<none>", gates_text]


def _pod_conditions(pod: dict) -> list:
    phase = get_path(pod, "status", "phase")
    if phase == "Succeeded":
        return [{"type": "Completed", "status": "True", "reason": "Succeeded",
                 "message": "The pod has completed successfully."}]
    if phase == "Failed":
        return [{"type": "Completed", "status": "True", "reason": "Failed", "message": "The pod failed."}]
    return []


def _deployment_cells(obj: dict, now: datetime) -> list:
    status = obj.get("status") or {}
    try:
        selector = selector_string(get_path(obj, "spec", "selector"))
    except ValueError:
        selector = "<invalid>"
    desired = get_path(obj, "spec", "replicas", default=1)
    return [name_of(obj), f"{status.get('readyReplicas') or 0}/{desired}",
            status.get("updatedReplicas") or 0, status.get("availableReplicas") or 0, age_of(obj, now),
            *template_cells(obj, "spec"), selector]


def _replicaset_cells(obj: dict, now: datetime) -> list:
    status = obj.get("status") or {}
    return [name_of(obj), get_path(obj, "spec", "replicas", default=1), status.get("replicas") or 0,
            status.get("readyReplicas") or 0, age_of(obj, now), *template_cells(obj, "spec"),
            format_label_selector(get_path(obj, "spec", "selector"))]


def _statefulset_cells(obj: dict, now: datetime) -> list:
    ready = get_path(obj, "status", "readyReplicas", default=0)
    return [name_of(obj), f"{ready}/{get_path(obj, 'spec', 'replicas', default=1)}", age_of(obj, now),
            *template_cells(obj, "spec")]


def _daemonset_cells(obj: dict, now: datetime) -> list:
    status = obj.get("status") or {}
    counts = [status.get(k) or 0 for k in ("desiredNumberScheduled", "currentNumberScheduled", "numberReady",
                                           "updatedNumberScheduled", "numberAvailable")]
    return [name_of(obj), *counts, format_labels(get_path(obj, "spec", "template", "spec", "nodeSelector")),
            age_of(obj, now), *template_cells(obj, "spec"),
            format_label_selector(get_path(obj, "spec", "selector"))]


def _job_cells(obj: dict, now: datetime) -> list:
    spec, status = obj.get("spec") or {}, obj.get("status") or {}
    succeeded = status.get("succeeded") or 0
    if spec.get("completions") is not None:
        completions = f"{succeeded}/{spec['completions']}"
    elif (spec.get("parallelism") or 0) > 1:
        completions = f"{succeeded}/1 of {spec['parallelism']}"
    else:
        completions = f"{succeeded}/1"
    started, finished = parse_time(status.get("startTime")), parse_time(status.get("completionTime"))
    duration = ""
    if started is not None:
        duration = human_duration((finished or now) - started)
    conditions = status.get("conditions")
    if cond_true(conditions, "Complete"):
        state = "Complete"
    elif cond_true(conditions, "Failed"):
        state = "Failed"
    elif get_path(obj, "metadata", "deletionTimestamp"):
        state = "Terminating"
    elif cond_true(conditions, "Suspended"):
        state = "Suspended"
    elif cond_true(conditions, "FailureTarget"):
        state = "FailureTarget"
    else:
        state = "Running"
    return [name_of(obj), state, completions, duration, age_of(obj, now), *template_cells(obj, "spec"),
            format_label_selector(spec.get("selector"))]


def _cronjob_cells(obj: dict, now: datetime) -> list:
    spec, status = obj.get("spec") or {}, obj.get("status") or {}
    last = status.get("lastScheduleTime")
    return [name_of(obj), spec.get("schedule", ""), spec.get("timeZone") or "<none>",
            "True" if spec.get("suspend") else "False", len(status.get("active") or []),
            since(last, now) if last else "<none>", age_of(obj, now),
            *template_cells(obj, "spec", "jobTemplate", "spec"),
            format_label_selector(get_path(spec, "jobTemplate", "spec", "selector"))]


def _hpa_metrics(specs: list, statuses: list) -> str:
    if not specs:
        return "<none>"
    out = []
    for i, spec in enumerate(specs):
        kind = spec.get("type")
        current_status = statuses[i] if i < len(statuses) else {}
        if kind in ("External", "Object", "Pods"):
            key = kind[0].lower() + kind[1:]
            target = get_path(spec, key, "target") or {}
            current = get_path(current_status, key, "current")
            if kind == "Pods" or target.get("averageValue") is not None:
                value = (current or {}).get("averageValue", "<unknown>")
                suffix = "" if kind == "Pods" else " (avg)"
                out.append(f"{value}/{target.get('averageValue', '<nil>')}{suffix}")
            else:
                value = (current or {}).get("value", "<unknown>")
                out.append(f"{value}/{target.get('value', '<nil>')}")
        elif kind in ("Resource", "ContainerResource"):
            key = "resource" if kind == "Resource" else "containerResource"
            name, target = get_path(spec, key, "name", default=""), get_path(spec, key, "target") or {}
            current = get_path(current_status, key, "current")
            if target.get("averageValue") is not None:
                value = (current or {}).get("averageValue", "<unknown>")
                out.append(f"{name}: {value}/{target['averageValue']}")
            else:
                util = None if current is None else current.get("averageUtilization")
                value = "<unknown>" if util is None else f"{util}%"
                goal = target.get("averageUtilization")
                out.append(f"{name}: {value}/{'<auto>' if goal is None else f'{goal}%'}")
        else:
            out.append("<unknown type>")
    return list_with_more(out, 2, len(out), sep=", ")


def _hpa_cells(hpa: dict, now: datetime) -> list:
    spec, status = hpa.get("spec") or {}, hpa.get("status") or {}
    ref = spec.get("scaleTargetRef") or {}
    return [name_of(hpa), f"{ref.get('kind', '')}/{ref.get('name', '')}",
            _hpa_metrics(spec.get("metrics") or [], status.get("currentMetrics") or []),
            str(spec.get("minReplicas", 1)), spec.get("maxReplicas") or 0, status.get("currentReplicas") or 0,
            age_of(hpa, now)]


PRINTERS: dict[tuple[str, str], Printer] = {
    ("", "Pod"): Printer((
        NAME_COL,
        col("Ready", description="The aggregate readiness state of this pod for accepting traffic."),
        col("Status", description="The aggregate status of the containers in this pod."),
        col("Restarts", description="The number of times the containers in this pod have been restarted "
                                    "and when the last container in this pod has restarted."),
        AGE_COL,
        wide("IP", "podIP address allocated to the pod."),
        wide("Node", "NodeName indicates in which node this pod is scheduled."),
        wide("Nominated Node", "nominatedNodeName is set only when this pod preempts other pods on the "
                               "node."),
        wide("Readiness Gates", "If specified, all readiness gates will be evaluated for pod readiness."),
    ), _pod_cells, _pod_conditions),
    ("apps", "Deployment"): Printer((
        NAME_COL,
        col("Ready", description="Number of the pod with ready state"),
        col("Up-to-date", description="Total number of non-terminated pods targeted by this deployment "
                                      "that have the desired template spec."),
        col("Available", description="Total number of available pods (ready for at least "
                                     "minReadySeconds) targeted by this deployment."),
        AGE_COL, *WIDE_TEMPLATE, WIDE_SELECTOR,
    ), _deployment_cells),
    ("apps", "ReplicaSet"): Printer((
        NAME_COL,
        col("Desired", "integer", "Replicas is the number of desired replicas."),
        col("Current", "integer", "Replicas is the most recently observed number of replicas."),
        col("Ready", "integer", "The number of ready replicas for this replica set."),
        AGE_COL, *WIDE_TEMPLATE, WIDE_SELECTOR,
    ), _replicaset_cells),
    ("apps", "StatefulSet"): Printer((
        NAME_COL, col("Ready", description="Number of the pod with ready state"), AGE_COL, *WIDE_TEMPLATE,
    ), _statefulset_cells),
    ("apps", "DaemonSet"): Printer((
        NAME_COL,
        col("Desired", "integer", "The total number of nodes that should be running the daemon pod."),
        col("Current", "integer", "The number of nodes that are running at least 1 daemon pod and are "
                                  "supposed to run the daemon pod."),
        col("Ready", "integer", "The number of nodes that should be running the daemon pod and have one "
                                "or more of the daemon pod running and ready."),
        col("Up-to-date", "integer", "The total number of nodes that are running updated daemon pod"),
        col("Available", "integer", "The number of nodes that should be running the daemon pod and have "
                                    "one or more of the daemon pod running and available."),
        col("Node Selector", description="NodeSelector is a selector which must be true for the pod to "
                                         "fit on a node."),
        AGE_COL, *WIDE_TEMPLATE, WIDE_SELECTOR,
    ), _daemonset_cells),
    ("batch", "Job"): Printer((
        NAME_COL,
        col("Status", description="Status of the job."),
        col("Completions", description="The number of pods which reached phase Succeeded."),
        col("Duration", description="Time required to complete the job."),
        AGE_COL, *WIDE_TEMPLATE, WIDE_SELECTOR,
    ), _job_cells),
    ("batch", "CronJob"): Printer((
        NAME_COL,
        col("Schedule", description="The schedule in Cron format, see https://en.wikipedia.org/wiki/Cron."),
        col("Timezone", description="The time zone name for the given schedule."),
        col("Suspend", "boolean", "This flag tells the controller to suspend subsequent executions."),
        col("Active", "integer", "A list of pointers to currently running jobs."),
        col("Last Schedule", description="Information when was the last time the job was successfully "
                                         "scheduled."),
        AGE_COL, *WIDE_TEMPLATE, WIDE_SELECTOR,
    ), _cronjob_cells),
    ("autoscaling", "HorizontalPodAutoscaler"): Printer((
        NAME_COL,
        col("Reference", description="reference to scaled resource; horizontal pod autoscaler will learn "
                                     "the current resource consumption and will set the desired number of "
                                     "pods by using its Scale subresource."),
        col("Targets", description="metrics contains the specifications for which to use to calculate the "
                                   "desired replica count."),
        col("MinPods", description="minReplicas is the lower limit for the number of replicas to which "
                                   "the autoscaler can scale down."),
        col("MaxPods", description="maxReplicas is the upper limit for the number of replicas to which "
                                   "the autoscaler can scale up."),
        col("Replicas", description="currentReplicas is current number of replicas of pods managed by "
                                    "this autoscaler, as last seen by the autoscaler."),
        AGE_COL,
    ), _hpa_cells),
}
