"""Pods: admission (phase Pending, QoS class) and what the scheduler and the kubelet share.

The scheduler lives in `scheduler.py`, the kubelet in `kubelet.py`.

The scheduler binds each Pod without `spec.nodeName` to the node `kubesim.scheduling.choose_node` picks,
or keeps it Pending with kube-scheduler's `PodScheduled=False/Unschedulable` condition and a
`FailedScheduling` event (written again only when the message changes). Unschedulable pods are retried when
a Node changes, a bound pod goes away or finishes.

The kubelet plays a script for every bound pod, in simulated seconds since it admitted the pod (so
`--speed` compresses it): the sandbox and pod IP after 0.2 s, image pull until 1 s, then the containers run.
What a container does is decided by its image, so that users can rehearse failures:

* a tag ending in `-crash` (`model:v2-crash`): runs 1 s, exits 1, and restarts with Kubernetes' back-off
  (immediately, then 10 s, 20 s, 40 s ... capped at 300 s) in `CrashLoopBackOff`; never Ready;
* an image reference containing `does-not-exist`: `ErrImagePull`, then `ImagePullBackOff`, retried with the
  same back-off; never Ready;
* anything else runs; with `restartPolicy: Never` or `OnFailure` it runs to completion (exit 0) after 2 s,
  or after the pod's `kubesim.fleetline.io/run-seconds` annotation.

A running container is Ready once its readiness probe's `initialDelaySeconds` have passed (at once
without a probe). Init containers each take 1.5 s and always succeed. The kubelet keeps its script clocks in
memory, as a kubelet does; a restarted controller manager replays scripts from the start.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable

from kubesim.quantity import parse_quantity
from kubesim.resources import ResourceType

PODS = ("", "pods")
NODES = ("", "nodes")
TERMINAL = ("Succeeded", "Failed")
RUN_SECONDS_ANNOTATION = "kubesim.fleetline.io/run-seconds"

# The kubelet's script, in simulated seconds.
SANDBOX_SECONDS = 0.2  # pod IP assigned, PodReadyToStartContainers
PULL_SECONDS = 1.0  # image pull and container creation
INIT_SECONDS = 1.5  # each init container, pull included
RUN_SECONDS = 2.0  # a run-to-completion container
CRASH_SECONDS = 1.0  # how long a `-crash` image runs before it exits 1
EXIT_SHOWN_SECONDS = 0.5  # how long a terminated state shows before the restart or back-off
ERR_IMAGE_PULL_SECONDS = 1.0  # ErrImagePull shows this long before ImagePullBackOff
BACKOFF_START, BACKOFF_CAP = 10.0, 300.0


# ---------------------------------------------------------------------------------------------- helpers


def condition(conditions: Iterable[dict] | None, kind: str) -> dict | None:
    return next((c for c in conditions or () if c.get("type") == kind), None)


def set_condition(conditions: list[dict], new: dict, now: str) -> list[dict]:
    """`conditions` with `new` in place of its type; lastTransitionTime kept while the status stays."""
    old = condition(conditions, new["type"])
    merged = {"type": new["type"], "status": new["status"], "lastProbeTime": None,
              "lastTransitionTime": old["lastTransitionTime"] if old and old.get("status") == new["status"]
              and old.get("lastTransitionTime") else now}
    for key in ("reason", "message"):
        if new.get(key):
            merged[key] = new[key]
    if old is None:
        return [*conditions, merged]
    return [merged if c.get("type") == new["type"] else c for c in conditions]


def pod_ready(pod: dict) -> bool:
    ready = condition((pod.get("status") or {}).get("conditions"), "Ready")
    return bool(ready and ready.get("status") == "True")


def backoff(attempt: int) -> float:
    """Kubernetes' container and image back-off: 10 s doubling per attempt, capped at 5 minutes."""
    return min(BACKOFF_START * 2 ** attempt, BACKOFF_CAP)


def go_duration(seconds: float) -> str:
    """A whole number of seconds as Go's time.Duration prints it: 10s, 1m20s, 5m0s."""
    whole = int(seconds)
    minutes, secs = divmod(whole, 60)
    return f"{minutes}m{secs}s" if minutes else f"{secs}s"


def image_tag(image: str) -> str:
    last = image.split("@", 1)[0].rsplit("/", 1)[-1]
    return last.rsplit(":", 1)[1] if ":" in last else ""


def crashes(image: str) -> bool:
    return image_tag(image).endswith("-crash")


def pull_fails(image: str) -> bool:
    return "does-not-exist" in image


def normalized_image(image: str) -> str:
    """What containerd reports: `nginx:1.25` -> `docker.io/library/nginx:1.25`."""
    name = image if (":" in image.rsplit("/", 1)[-1] or "@" in image) else f"{image}:latest"
    first = name.split("/", 1)[0]
    if "/" not in name:
        return f"docker.io/library/{name}"
    if "." not in first and ":" not in first and first != "localhost":
        return f"docker.io/{name}"
    return name


def _digest(*parts: str) -> str:
    return hashlib.sha256("/".join(parts).encode()).hexdigest()


def qos_class(spec: dict) -> str:
    """The pod's QoS class, as kube-apiserver computes it (cpu and memory only)."""
    containers = [*(spec.get("containers") or ()), *(spec.get("initContainers") or ())]
    any_set, guaranteed = False, True
    for container in containers:
        resources = container.get("resources") or {}
        limits, requests = resources.get("limits") or {}, resources.get("requests") or {}
        for name in ("cpu", "memory"):
            limit, request = limits.get(name), requests.get(name, limits.get(name))
            if limit is not None or request is not None:
                any_set = True
            try:
                same = limit is not None and parse_quantity(request) == parse_quantity(limit)
            except ValueError:
                same = False
            guaranteed = guaranteed and same
    if not any_set:
        return "BestEffort"
    return "Guaranteed" if guaranteed else "Burstable"


class PodAdmission:
    """kube-apiserver's Pod create strategy: status starts as `{phase: Pending, qosClass}`."""

    def __call__(self, rt: ResourceType, obj: dict, old: dict | None) -> None:
        if rt.group or rt.kind != "Pod" or old is not None:
            return
        obj["status"] = {"phase": "Pending", "qosClass": qos_class(obj.get("spec") or {})}
