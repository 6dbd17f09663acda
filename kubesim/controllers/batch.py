"""Jobs and CronJobs: admission (generated selectors, schedule validation) and their controllers.

The Job controller runs pods from the template until `completions` succeed (or, without completions, until
one succeeds and the rest finish), replaces failed pods after kube's back-off (10 s doubling, capped at
6 minutes), and fails the Job with `BackoffLimitExceeded` once more than `backoffLimit` pods failed (for
`restartPolicy: OnFailure`, once the container restarts reach it) or with `DeadlineExceeded` after
`activeDeadlineSeconds`. Finished Jobs are deleted `ttlSecondsAfterFinished` later.

CronJobs run on a simulated clock: it starts at the wall-clock time the controller starts and runs `speed`
times faster, so at `--speed 120` a `* * * * *` schedule fires every half second. The schedule slot names
the Job (`<cronjob>-<slot in minutes since the epoch>`) and fills its
`batch.kubernetes.io/cronjob-scheduled-timestamp` annotation, both in simulated time, so they match the
cron expression. Status timestamps stay on the wall clock, like every other timestamp kubesim writes (so
`kubectl get cronjobs` shows sensible ages): `lastScheduleTime` is the wall-clock moment the slot came up,
`lastSuccessfulTime` the Job's completionTime. At speed 1 both clocks agree.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from datetime import datetime, timedelta

from fleetline.jsoncopy import clone
from kubesim import errors
from kubesim.api import ClusterAPI, WriteOptions
from kubesim.clock import parse_time, rfc3339
from kubesim.controllers.base import Controller, Key, controller_ref, key_of, owner_reference
from kubesim.controllers.events import record_event
from kubesim.controllers.pods import PODS, TERMINAL, condition, pod_ready, set_condition
from kubesim.cron import load_time_zone, parse_schedule
from kubesim.resources import ResourceType
from kubesim.store import WatchEvent
from kubesim.validation import invalid

JOBS = ("batch", "jobs")
CRONJOBS = ("batch", "cronjobs")
CONTROLLER_UID = "batch.kubernetes.io/controller-uid"
JOB_NAME = "batch.kubernetes.io/job-name"
COMPLETION_INDEX = "batch.kubernetes.io/job-completion-index"
SCHEDULED_TIMESTAMP = "batch.kubernetes.io/cronjob-scheduled-timestamp"
POD_BACKOFF_START, POD_BACKOFF_CAP = 10.0, 360.0


def job_finished(job: dict) -> str | None:
    """`Complete` or `Failed` when the Job has that condition True, else None."""
    for kind in ("Complete", "Failed"):
        found = condition((job.get("status") or {}).get("conditions"), kind)
        if found and found.get("status") == "True":
            return kind
    return None


def _owned(api: ClusterAPI, owner: dict, resource: tuple[str, str]) -> list[dict]:
    uid = owner["metadata"]["uid"]
    return [obj for res, obj in api.store.dependents(uid)
            if res == resource and (controller_ref(obj) or {}).get("uid") == uid]


def _owner_key(event: WatchEvent, kind: str, resource: tuple[str, str]) -> list[Key]:
    ref = controller_ref(event.object)
    if ref and ref.get("kind") == kind and str(ref.get("apiVersion", "")).startswith("batch/"):
        return [(resource, event.object["metadata"].get("namespace") or "", ref["name"])]
    return []


class Stopwatch:
    """Simulated seconds since something was first seen, kept in memory; falls back to a timestamp."""

    def __init__(self, api: ClusterAPI) -> None:
        self.api = api
        self._started: dict[tuple[str, str], float] = {}

    def elapsed(self, uid: str, what: str, since: str | None = None) -> float:
        key = (uid, what)
        if key not in self._started:
            already = self.api.clock.elapsed_since(since) if since else 0.0
            self._started[key] = time.monotonic() - self.api.clock.scaled(max(already, 0.0))
        return (time.monotonic() - self._started[key]) * self.api.clock.speed

    def forget(self, uid: str) -> None:
        for key in [k for k in self._started if k[0] == uid]:
            del self._started[key]


# ---------------------------------------------------------------------------------------------- admission


def _selector_labels(uid: str, name: str) -> dict[str, str]:
    return {CONTROLLER_UID: uid, JOB_NAME: name, "controller-uid": uid, "job-name": name}


class JobAdmission:
    """kube-apiserver's Job strategy: without `manualSelector`, the selector and template labels are generated
    from the Job's uid (and kept when an update leaves them out)."""

    def __call__(self, rt: ResourceType, obj: dict, old: dict | None) -> None:
        if rt.group != "batch" or rt.kind != "Job":
            return
        spec, meta = obj.get("spec"), obj.get("metadata") or {}
        if not isinstance(spec, dict) or spec.get("manualSelector") or \
                not isinstance(spec.get("template"), dict):
            return
        uid, name = meta.get("uid", ""), meta.get("name", "")
        template_meta = spec["template"].setdefault("metadata", {})
        if not isinstance(template_meta, dict):
            return
        template_meta["labels"] = {**(template_meta.get("labels") or {}), **_selector_labels(uid, name)}
        if spec.get("selector") is None and old is not None:
            spec["selector"] = clone((old.get("spec") or {}).get("selector"))
        if spec.get("selector") is None:
            spec["selector"] = {"matchLabels": {CONTROLLER_UID: uid}}
        elif not isinstance(spec["selector"], dict) or \
                (spec["selector"].get("matchLabels") or {}).get(CONTROLLER_UID) != uid:
            raise errors.invalid(rt, name, [invalid("spec.selector", spec["selector"],
                                                    "`selector` not auto-generated")])


class CronJobAdmission:
    """Refuses a CronJob whose schedule or time zone cannot be parsed (422 on the offending field)."""

    def __call__(self, rt: ResourceType, obj: dict, old: dict | None) -> None:
        if rt.group != "batch" or rt.kind != "CronJob" or not isinstance(obj.get("spec"), dict):
            return
        spec, causes = obj["spec"], []
        schedule = spec.get("schedule")
        if isinstance(schedule, str) and schedule:
            try:
                parse_schedule(schedule)
            except ValueError as exc:
                causes.append(invalid("spec.schedule", schedule, str(exc)))
        zone = spec.get("timeZone")
        if zone is not None:
            try:
                load_time_zone(zone)
            except ValueError as exc:
                causes.append(invalid("spec.timeZone", zone, str(exc)))
        if causes:
            raise errors.invalid(rt, (obj.get("metadata") or {}).get("name", ""), causes)


# ---------------------------------------------------------------------------------------------- Jobs


class JobController(Controller):
    name = "job-controller"
    watches = (JOBS, PODS)

    def __init__(self, api: ClusterAPI) -> None:
        super().__init__(api)
        self.clock = Stopwatch(api)
        self._failures: dict[str, int] = {}  # job uid -> failures seen when its back-off last started

    def initial_keys(self) -> Iterable[Key]:
        return [key_of(obj, JOBS) for obj in self.api.store.list(JOBS)]  # not the other watched kinds

    def keys_for(self, event: WatchEvent) -> Iterable[Key]:
        if event.resource == JOBS:
            if event.type == "DELETED":
                self._forget(event.object["metadata"]["uid"])
            return [key_of(event)]
        return _owner_key(event, "Job", JOBS)

    def _forget(self, uid: str) -> None:
        self.clock.forget(uid)
        self.clock.forget(uid + "/backoff")
        self._failures.pop(uid, None)

    def reconcile(self, key: Key) -> float | None:
        _, namespace, name = key
        job = self.api.store.get(JOBS, namespace, name)
        if job is None or job["metadata"].get("deletionTimestamp"):
            return None
        spec, status = job.get("spec") or {}, clone(job.get("status") or {})
        pods = _owned(self.api, job, PODS)
        finished = job_finished(job)
        if finished:
            self._delete_pods([p for p in pods if _active(p)])
            return self._expire(job)
        if spec.get("suspend"):
            return self._suspend(job, status, pods)
        now = self.api.clock.timestamp()
        if condition(status.get("conditions"), "Suspended"):
            resumed = {"type": "Suspended", "status": "False", "reason": "JobResumed",
                       "message": "Job resumed"}
            status["conditions"] = set_condition(status["conditions"], resumed, now)
        status.setdefault("startTime", now)
        active = [p for p in pods if _active(p)]
        indexed = spec.get("completionMode") == "Indexed"
        succeeded_pods = [p for p in pods if (p.get("status") or {}).get("phase") == "Succeeded"]
        done_indexes = sorted({_index(p) for p in succeeded_pods} - {None}) if indexed else []
        succeeded = max(int(status.get("succeeded") or 0),
                        len(done_indexes) if indexed else len(succeeded_pods))
        failed = max(int(status.get("failed") or 0),
                     sum((p.get("status") or {}).get("phase") == "Failed" for p in pods))
        failure = self._failure(job, spec, active, failed)
        completions, parallelism = spec.get("completions"), int(spec.get("parallelism", 1) or 0)
        complete = (succeeded >= completions) if completions is not None else (succeeded > 0 and not active)
        again: float | None = None
        if failure:
            self._delete_pods(active)
            active = []
            reason, message = failure
            for kind in ("FailureTarget", "Failed"):
                status["conditions"] = set_condition(status.get("conditions") or [], {
                    "type": kind, "status": "True", "reason": reason, "message": message}, now)
            record_event(self.api, job, "Warning", reason, message, self.name)
        elif complete:
            self._delete_pods(active)  # without completions, `complete` already means none is active
            active = []
            for kind in ("SuccessCriteriaMet", "Complete"):
                status["conditions"] = set_condition(status.get("conditions") or [], {
                    "type": kind, "status": "True", "reason": "CompletionsReached",
                    "message": "Reached expected number of succeeded pods"}, now)
            status["completionTime"] = now
            record_event(self.api, job, "Normal", "Completed", "Job completed", self.name)
        else:
            if completions is None:
                wanted = 0 if succeeded else parallelism
            else:
                wanted = min(parallelism, completions - succeeded)
            again = self._scale(job, active, wanted, failed, indexed, done_indexes)
            active = [p for p in _owned(self.api, job, PODS) if _active(p)]
            again = self._deadline_requeue(job, again)
        for field in ("active", "succeeded", "failed"):
            status.pop(field, None)
        status.update(self._counts(pods, active, succeeded, failed))
        if indexed:
            status["completedIndexes"] = _ranges(done_indexes)
        if status != job.get("status"):
            self.api.update(self.api.type("batch", "Job"), namespace, name, {**job, "status": status},
                            self.write_options(), subresource="status")
        return self._expire(job) if (failure or complete) else again

    def _failure(self, job: dict, spec: dict, active: list[dict], failed: int) -> tuple[str, str] | None:
        limit = int(spec.get("backoffLimit", 6) or 0)
        if failed > limit:
            return "BackoffLimitExceeded", "Job has reached the specified backoff limit"
        if ((spec.get("template") or {}).get("spec") or {}).get("restartPolicy") == "OnFailure":
            restarts = sum(int(c.get("restartCount") or 0) for p in active
                           for c in (p.get("status") or {}).get("containerStatuses") or ())
            if (restarts > 0 if limit == 0 else restarts >= limit):
                return "BackoffLimitExceeded", "Job has reached the specified backoff limit"
        deadline = spec.get("activeDeadlineSeconds")
        if deadline is not None and self._age(job) >= deadline:
            return "DeadlineExceeded", "Job was active longer than specified deadline"
        return None

    def _age(self, job: dict) -> float:
        return self.clock.elapsed(job["metadata"]["uid"], "start", (job.get("status") or {}).get("startTime"))

    def _deadline_requeue(self, job: dict, again: float | None) -> float | None:
        deadline = (job.get("spec") or {}).get("activeDeadlineSeconds")
        if deadline is None:
            return again
        remaining = max(deadline - self._age(job), 0.01)
        return remaining if again is None else min(again, remaining)

    def _scale(self, job: dict, active: list[dict], wanted: int, failed: int, indexed: bool,
               done_indexes: list[int]) -> float | None:
        """Create or delete pods toward `wanted` active ones; the simulated seconds to wait for a back-off."""
        if len(active) > wanted:
            surplus = sorted(active, key=lambda p: (pod_ready(p), p["metadata"]["name"]))
            self._delete_pods(surplus[:len(active) - wanted])
            return None
        if len(active) == wanted:
            return None
        uid = job["metadata"]["uid"]
        if failed:
            if self._failures.get(uid) != failed:
                self._failures[uid] = failed
                self.clock.forget(uid + "/backoff")
            wait = min(POD_BACKOFF_START * 2 ** (failed - 1), POD_BACKOFF_CAP)
            waited = self.clock.elapsed(uid + "/backoff", "failure")
            if waited < wait:
                return wait - waited
        taken = {_index(p) for p in active} | set(done_indexes)
        free = [i for i in range(int((job.get("spec") or {}).get("completions") or 0)) if i not in taken]
        for n in range(wanted - len(active)):
            self._create_pod(job, free[n] if indexed and n < len(free) else None)
        return None

    def _create_pod(self, job: dict, index: int | None) -> None:
        meta, template = job["metadata"], (job.get("spec") or {}).get("template") or {}
        template_meta = template.get("metadata") or {}
        labels = dict(template_meta.get("labels") or {})
        annotations = dict(template_meta.get("annotations") or {})
        prefix = f"{meta['name']}-"
        if index is not None:
            labels[COMPLETION_INDEX] = annotations[COMPLETION_INDEX] = str(index)
            prefix = f"{meta['name']}-{index}-"
        pod = {"apiVersion": "v1", "kind": "Pod",
               "metadata": {"generateName": prefix, "labels": labels, "annotations": annotations,
                            "ownerReferences": [owner_reference(job)]},
               "spec": clone(template.get("spec") or {})}
        if not annotations:
            del pod["metadata"]["annotations"]
        created = self.api.create(self.api.type("", "Pod"), meta["namespace"], pod, self.write_options())
        record_event(self.api, job, "Normal", "SuccessfulCreate",
                     f"Created pod: {created['metadata']['name']}", self.name)

    def _delete_pods(self, pods: list[dict]) -> None:
        rt = self.api.type("", "Pod")
        for pod in pods:
            if not pod["metadata"].get("deletionTimestamp"):
                self.api.delete(rt, pod["metadata"]["namespace"], pod["metadata"]["name"])

    def _counts(self, pods: list[dict], active: list[dict], succeeded: int, failed: int) -> dict:
        counts: dict = {}
        for field, value in (("active", len(active)), ("succeeded", succeeded), ("failed", failed)):
            if value:
                counts[field] = value
        counts["ready"] = sum(pod_ready(p) for p in active)
        counts["terminating"] = sum(bool(p["metadata"].get("deletionTimestamp")) and
                                    (p.get("status") or {}).get("phase") not in TERMINAL for p in pods)
        counts["uncountedTerminatedPods"] = {}
        return counts

    def _suspend(self, job: dict, status: dict, pods: list[dict]) -> float | None:
        self._delete_pods([p for p in pods if _active(p)])
        now = self.api.clock.timestamp()
        status["conditions"] = set_condition(status.get("conditions") or [], {
            "type": "Suspended", "status": "True", "reason": "JobSuspended", "message": "Job suspended"}, now)
        status.pop("startTime", None)
        status.pop("active", None)
        status["ready"] = 0
        if status != job.get("status"):
            meta = job["metadata"]
            self.api.update(self.api.type("batch", "Job"), meta["namespace"], meta["name"],
                            {**job, "status": status}, self.write_options(), subresource="status")
        return None

    def _expire(self, job: dict) -> float | None:
        """ttlSecondsAfterFinished: delete the finished Job (and its pods) once the time is up."""
        ttl = (job.get("spec") or {}).get("ttlSecondsAfterFinished")
        if ttl is None:
            return None
        status = job.get("status") or {}
        failed = condition(status.get("conditions"), "Failed") or {}
        since = status.get("completionTime") or failed.get("lastTransitionTime")
        waited = self.clock.elapsed(job["metadata"]["uid"], "finished", since)
        if waited < ttl:
            return ttl - waited
        meta = job["metadata"]
        self.api.delete(self.api.type("batch", "Job"), meta["namespace"], meta["name"],
                        propagation="Foreground")
        return None


def _active(pod: dict) -> bool:
    phase = (pod.get("status") or {}).get("phase")
    return phase not in TERMINAL and not pod["metadata"].get("deletionTimestamp")


def _index(pod: dict) -> int | None:
    value = (pod["metadata"].get("annotations") or {}).get(COMPLETION_INDEX)
    return int(value) if value is not None and value.isdigit() else None


def _ranges(indexes: list[int]) -> str:
    """Sorted indexes as kube writes completedIndexes: `0-2,5`."""
    parts: list[str] = []
    for index in indexes:
        if parts and index == int(parts[-1].rsplit("-", 1)[-1]) + 1:
            parts[-1] = f"{parts[-1].split('-')[0]}-{index}"
        else:
            parts.append(str(index))
    return ",".join(parts)


# ---------------------------------------------------------------------------------------------- CronJobs


def _job_ref(job: dict) -> dict:
    meta = job["metadata"]
    return {"apiVersion": "batch/v1", "kind": "Job", "name": meta["name"], "namespace": meta["namespace"],
            "resourceVersion": meta.get("resourceVersion"), "uid": meta["uid"]}


def _local_rfc3339(moment: datetime, zone: str | None) -> str:
    """Go's time.RFC3339 of `moment` in the CronJob's zone: `2024-05-01T09:00:00+02:00`, or `...Z` in UTC."""
    local = moment.astimezone(load_time_zone(zone))
    offset = local.utcoffset() or timedelta(0)
    if not offset:
        return local.strftime("%Y-%m-%dT%H:%M:%SZ")
    text = local.strftime("%Y-%m-%dT%H:%M:%S%z")
    return f"{text[:-2]}:{text[-2:]}"


class CronJobController(Controller):
    name = "cronjob-controller"
    watches = (CRONJOBS, JOBS)
    max_missed = 10_000  # schedule steps walked to find the most recent missed time

    def __init__(self, api: ClusterAPI) -> None:
        super().__init__(api)
        self._origin = time.monotonic()
        self._origin_wall = api.clock.now()
        self._first_seen: dict[str, datetime] = {}  # uid -> simulated time the CronJob was first seen
        self._last: dict[str, datetime] = {}  # uid -> the simulated slot of its last run

    def sim_now(self) -> datetime:
        return self._origin_wall + timedelta(seconds=(time.monotonic() - self._origin) * self.api.clock.speed)

    def _to_sim(self, wall: datetime) -> datetime:
        if wall <= self._origin_wall:
            return wall
        return self._origin_wall + (wall - self._origin_wall) * self.api.clock.speed

    def _to_wall(self, sim: datetime) -> datetime:
        if sim <= self._origin_wall:
            return sim
        return self._origin_wall + (sim - self._origin_wall) / self.api.clock.speed

    def initial_keys(self) -> Iterable[Key]:
        return [key_of(obj, CRONJOBS) for obj in self.api.store.list(CRONJOBS)]  # not the other watched kinds

    def keys_for(self, event: WatchEvent) -> Iterable[Key]:
        if event.resource == CRONJOBS:
            if event.type == "DELETED":
                self._first_seen.pop(event.object["metadata"]["uid"], None)
                self._last.pop(event.object["metadata"]["uid"], None)
            return [key_of(event)]
        return _owner_key(event, "CronJob", CRONJOBS)

    def reconcile(self, key: Key) -> float | None:
        _, namespace, name = key
        cronjob = self.api.store.get(CRONJOBS, namespace, name)
        if cronjob is None or cronjob["metadata"].get("deletionTimestamp"):
            return None
        meta, spec = cronjob["metadata"], cronjob.get("spec") or {}
        if meta["uid"] not in self._first_seen:
            # Seen just after its creation (the usual case): now; else its creation time in simulated time.
            created = parse_time(meta.get("creationTimestamp"))
            fresh = created is None or (self.api.clock.now() - created).total_seconds() < 2
            self._first_seen[meta["uid"]] = self.sim_now() if fresh else self._to_sim(created)
        first_seen = self._first_seen[meta["uid"]]
        status = clone(cronjob.get("status") or {})
        jobs = _owned(self.api, cronjob, JOBS)
        active = self._sync_active(cronjob, status, jobs)
        self._clean_history(cronjob, jobs)
        try:
            schedule = parse_schedule(spec.get("schedule") or "")
            zone = spec.get("timeZone")
            now = self.sim_now()
            recorded = parse_time(status.get("lastScheduleTime"))
            last = self._last.get(meta["uid"]) or (self._to_sim(recorded) if recorded else first_seen)
            due = schedule.next_after(last, zone)
            upcoming = schedule.next_after(now, zone)
        except ValueError as exc:
            record_event(self.api, cronjob, "Warning", "InvalidSchedule", str(exc), self.name)
            self._write(cronjob, status)
            return None
        if due <= now and not spec.get("suspend"):
            scheduled = due
            for _ in range(self.max_missed):
                following = schedule.next_after(scheduled, zone)
                if following > now:
                    break
                scheduled = following
            self._run(cronjob, spec, status, active, scheduled, now)
        self._write(cronjob, status)
        return max((upcoming - self.sim_now()).total_seconds(), 0.0) + 0.001

    def _run(self, cronjob: dict, spec: dict, status: dict, active: list[dict], scheduled: datetime,
             now: datetime) -> None:
        deadline = spec.get("startingDeadlineSeconds")
        if deadline is not None and (now - scheduled).total_seconds() > deadline:
            record_event(self.api, cronjob, "Warning", "MissSchedule",
                         f"Missed scheduled time to start a job: {rfc3339(scheduled)}", self.name)
            return
        policy = spec.get("concurrencyPolicy") or "Allow"
        if active and policy == "Forbid":
            return  # tried again when the active Job finishes (a Job event wakes us)
        if active and policy == "Replace":
            for job in active:
                self.api.delete(self.api.type("batch", "Job"), job["metadata"]["namespace"],
                                job["metadata"]["name"], propagation="Background")
                record_event(self.api, cronjob, "Normal", "SuccessfulDelete",
                             f"Deleted job {job['metadata']['name']}", self.name)
            status["active"] = []
        job = self._create_job(cronjob, spec, scheduled)
        if job is not None:
            refs = [r for r in status.get("active") or [] if r.get("uid") != job["metadata"]["uid"]]
            status["active"] = [*refs, _job_ref(job)]
        self._last[cronjob["metadata"]["uid"]] = scheduled
        status["lastScheduleTime"] = rfc3339(self._to_wall(scheduled))

    def _create_job(self, cronjob: dict, spec: dict, scheduled: datetime) -> dict | None:
        meta = cronjob["metadata"]
        template = spec.get("jobTemplate") or {}
        template_meta = template.get("metadata") or {}
        name = f"{meta['name']}-{int(scheduled.timestamp()) // 60}"
        annotations = {**(template_meta.get("annotations") or {}),
                       SCHEDULED_TIMESTAMP: _local_rfc3339(scheduled, spec.get("timeZone"))}
        body = {"apiVersion": "batch/v1", "kind": "Job",
                "metadata": {"name": name, "labels": dict(template_meta.get("labels") or {}),
                             "annotations": annotations, "ownerReferences": [owner_reference(cronjob)]},
                "spec": clone(template.get("spec") or {})}
        rt = self.api.type("batch", "Job")
        try:
            job = self.api.create(rt, meta["namespace"], body, self.write_options())
        except errors.ApiError as exc:
            if exc.code != 409:
                record_event(self.api, cronjob, "Warning", "FailedCreate",
                             f"Error creating job: {exc.message}", self.name)
                raise
            existing = self.api.find(rt, meta["namespace"], name)
            owned = existing is not None and (controller_ref(existing) or {}).get("uid") == meta["uid"]
            return existing if owned and not job_finished(existing) else None
        record_event(self.api, cronjob, "Normal", "SuccessfulCreate", f"Created job {name}", self.name)
        return job

    def _sync_active(self, cronjob: dict, status: dict, jobs: list[dict]) -> list[dict]:
        """Drop finished and vanished Jobs from status.active (with events); returns the active Jobs."""
        by_uid = {job["metadata"]["uid"]: job for job in jobs}
        refs = []
        for ref in status.get("active") or []:
            job = by_uid.get(ref.get("uid"))
            if job is None:
                record_event(self.api, cronjob, "Normal", "MissingJob",
                             f"Active job went missing: {ref.get('name')}", self.name)
                continue
            finished = job_finished(job)
            if finished:
                message = f"Saw completed job: {job['metadata']['name']}, condition: {finished}"
                record_event(self.api, cronjob, "Normal", "SawCompletedJob", message, self.name)
                completed = (job.get("status") or {}).get("completionTime")
                newest = status.get("lastSuccessfulTime") or ""
                if finished == "Complete" and completed and completed > newest:
                    status["lastSuccessfulTime"] = completed
                continue
            refs.append(ref)
        listed = {ref.get("uid") for ref in refs}
        active = [job for job in jobs
                  if not job_finished(job) and not job["metadata"].get("deletionTimestamp")]
        refs += [_job_ref(job) for job in active if job["metadata"]["uid"] not in listed]
        if refs:
            status["active"] = refs
        else:
            status.pop("active", None)
        return active

    def _clean_history(self, cronjob: dict, jobs: list[dict]) -> None:
        spec = cronjob.get("spec") or {}
        for outcome, limit in (("Complete", spec.get("successfulJobsHistoryLimit", 3)),
                               ("Failed", spec.get("failedJobsHistoryLimit", 1))):
            if limit is None:
                continue
            done = [job for job in jobs if job_finished(job) == outcome and not job["metadata"].get(
                "deletionTimestamp")]
            done.sort(key=lambda j: ((j.get("status") or {}).get("startTime") or j["metadata"].get(
                "creationTimestamp") or "", j["metadata"]["name"]))
            for job in done[:max(len(done) - int(limit), 0)]:
                self.api.delete(self.api.type("batch", "Job"), job["metadata"]["namespace"],
                                job["metadata"]["name"], propagation="Background")
                record_event(self.api, cronjob, "Normal", "SuccessfulDelete",
                             f"Deleted job {job['metadata']['name']}", self.name)

    def _write(self, cronjob: dict, status: dict) -> None:
        if status != (cronjob.get("status") or {}):
            meta = cronjob["metadata"]
            self.api.update(self.api.type("batch", "CronJob"), meta["namespace"], meta["name"],
                            {**cronjob, "status": status}, WriteOptions(manager=self.name),
                            subresource="status")
