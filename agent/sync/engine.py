"""Runs one sync operation of one application against the cluster: the executing half of `agent.sync`.

`SyncEngine.run(spec)` plans the sync (`plan_sync`), then works through the plan's steps in order, one
(phase, wave) at a time, as gitops-engine does (reference §A3.2):

- in each step, prunes first, then hooks (a hook with BeforeHookCreation, the default, is deleted and waited
  for until gone, then created, so it runs again on every sync), then the other objects: server-side apply
  with field manager `fleetline`, forcing conflicts; `Replace=true` uses PUT (create when missing) and, with
  `Force=true` or when the API server refuses an immutable field, deletes and re-creates;
  `ApplyOutOfSyncOnly=true` skips objects whose declared fields already match; `RespectIgnoreDifferences=true`
  applies the object without its ignored fields (`agent.diff.without_ignored`), so an HPA keeps its replicas;
- before the next step (and before the sync ends) it waits, with a timeout, until every hook of this step
  finished (a Job or Pod: completed) and every object it pruned is gone (finalizers, a foreground delete), and,
  when the plan has more than one step, until every object it applied is healthy; the message names what it
  waits for ("waiting for Deployment ml/web (Progressing: 1/3 replicas available)"). A Degraded object, a
  failed hook or an apply error fails the step and stops the sync;
- prunes only happen when `spec.prune` allows them (automated prune, or a SyncRequest with prune), never to
  nothing unless `allow_empty`; objects come from `spec.live`, which the caller fills with objects whose
  tracking id names this application only; an object with `Prune=false` is kept and reported PruneSkipped;
- on failure the SyncFail hooks run; afterwards hooks are deleted by their HookSucceeded/HookFailed policies.

Every resource gets a `ResourceResult` (Argo CD's result codes: Synced, SyncFailed, Pruned, PruneSkipped)
and the operation a `SyncResult` (phase Succeeded or Failed, with a message). Retrying a failed sync with the
application's backoff is the caller's decision (`agent.reconcile`); this module runs one attempt.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field

from agent.cluster import ClusterAccess, ClusterError, InvalidObject, ObjectRef, UnknownKind
from agent.diff import IgnoreRule, diff_object, without_ignored
from agent.health import Health, HealthStatus
from agent.sync.annotations import SyncPlanError
from agent.sync.hooks import SYNC, runs_to_completion
from agent.sync.options import app_options, merged, options_of
from agent.sync.order import APPLY, CREATE_NAMESPACE, HOOK, PRUNE, SyncTask, wave_of
from agent.sync.plan import SyncPlan, SyncStep, plan_sync
from fleetline.identity import group_of

log = logging.getLogger(__name__)

# Argo CD's resource result codes.
SYNCED, SYNC_FAILED, PRUNED, PRUNE_SKIPPED = "Synced", "SyncFailed", "Pruned", "PruneSkipped"
# Operation phases.
SUCCEEDED, FAILED = "Succeeded", "Failed"
_PROPAGATION = {"foreground": "Foreground", "background": "Background", "orphan": "Orphan"}

HealthReader = Callable[[dict], Awaitable[Health | None]]


@dataclass
class ResourceResult:
    """What the sync did to one object."""

    group: str
    version: str
    kind: str
    namespace: str
    name: str
    phase: str
    wave: int
    action: str  # apply, prune, hook, create-namespace
    status: str  # Synced, SyncFailed, Pruned, PruneSkipped
    message: str = ""
    hook_phase: str = ""  # for hooks: Running, Succeeded, Failed

    def __str__(self) -> str:
        where = f"{self.namespace}/" if self.namespace else ""
        return f"{self.kind} {where}{self.name}"

    def to_dict(self) -> dict:
        return {k: v for k, v in self.__dict__.items() if v not in ("", None)}


@dataclass
class SyncResult:
    """One sync operation's outcome."""

    application: str
    revision: str
    phase: str  # Succeeded or Failed
    message: str
    resources: list[ResourceResult] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    started_at: float = 0.0
    finished_at: float = 0.0
    written: list[dict] = field(default_factory=list, repr=False)  # objects as the API server returned them

    @property
    def succeeded(self) -> bool:
        return self.phase == SUCCEEDED

    def to_dict(self) -> dict:
        return {"application": self.application, "revision": self.revision, "phase": self.phase,
                "message": self.message, "warnings": self.warnings,
                "duration_ms": round((self.finished_at - self.started_at) * 1000),
                "resources": [r.to_dict() for r in self.resources]}


@dataclass
class SyncSpec:
    """What to sync: one application's desired objects and its live objects (tracking id ours)."""

    application: str
    namespace: str
    revision: str
    desired: list[dict]
    live: list[dict]
    sync_options: Sequence[str] = ()
    rules: Sequence[IgnoreRule] = ()
    prune: bool = False
    allow_empty: bool = False


class _StepFailed(Exception):
    pass


def _key(obj: dict) -> tuple[str, str, str, str]:
    meta = obj.get("metadata") or {}
    return (group_of(str(obj.get("apiVersion", ""))), str(obj.get("kind", "")), meta.get("namespace") or "",
            str(meta.get("name", "")))


def _ref(obj: dict) -> ObjectRef:
    return ObjectRef.of(obj)


class SyncEngine:
    """Runs sync operations (one at a time per application is the caller's rule) against one cluster."""

    def __init__(self, access: ClusterAccess, health: HealthReader, *, wave_timeout: float = 300.0,
                 poll_interval: float = 0.2, live_view: Callable[[dict], dict | None] | None = None) -> None:
        self.access = access
        self.health = health
        # The caller's watch-fed view of live objects: waiting for a wave reads it instead of GETting every
        # object on every pass (an object it does not hold is read with a GET).
        self.live_view = live_view
        self.wave_timeout = wave_timeout
        self.poll_interval = poll_interval
        self._changed = asyncio.Event()
        self._written: list[dict] = []
        self._written_by_key: dict[tuple[str, str, str, str], dict] = {}

    def _wrote(self, obj: dict) -> None:
        self._written.append(obj)
        self._written_by_key[_key(obj)] = obj

    def notify(self) -> None:
        """Something in the cluster changed: re-check what a wave waits for now rather than at the next poll."""
        self._changed.set()

    async def run(self, spec: SyncSpec) -> SyncResult:
        result = SyncResult(spec.application, spec.revision, SUCCEEDED, "", started_at=time.time())
        self._written = result.written
        self._written_by_key = {}
        desired_keys = {_key(obj) for obj in spec.desired}
        prune = [obj for obj in spec.live if _key(obj) not in desired_keys]
        try:
            plan = plan_sync(spec.desired, prune, list(spec.sync_options), namespace=spec.namespace)
        except SyncPlanError as exc:
            return self._finish(result, FAILED, f"the desired state cannot be synced: {exc}")
        result.warnings = list(plan.warnings)
        result.resources += [self._kept_result(obj, spec) for obj in plan.kept]
        live = {_key(obj): obj for obj in spec.live}
        empty = not spec.desired
        refuse_prune = ""
        if not spec.prune:
            refuse_prune = "ignored (requires pruning)"
        elif empty and prune and not spec.allow_empty:
            refuse_prune = ("not pruned: the desired state is empty and pruning would delete every object of "
                            "the application (set syncPolicy.automated.allowEmpty to allow it)")
        ran_hooks: list[tuple[SyncTask, ResourceResult]] = []
        try:
            for step in plan.steps:
                await self._run_step(step, spec, live, refuse_prune, result, ran_hooks)
                await self._wait_step(step, result, health=plan.multi_step)
        except _StepFailed as exc:
            await self._run_sync_fail(plan, result, ran_hooks)
            await self._delete_finished_hooks(ran_hooks)
            return self._finish(result, FAILED, str(exc))
        await self._delete_finished_hooks(ran_hooks)
        synced = sum(1 for r in result.resources if r.status in (SYNCED, PRUNED))
        message = f"successfully synced {synced} resource{'s' if synced != 1 else ''}"
        if refuse_prune and prune and spec.prune:
            message += f"; {refuse_prune}"
        return self._finish(result, SUCCEEDED, message)

    def _finish(self, result: SyncResult, phase: str, message: str) -> SyncResult:
        result.phase, result.message, result.finished_at = phase, message, time.time()
        self._written, self._written_by_key = [], {}  # the caller takes them from the result
        return result

    # ---- one step ------------------------------------------------------------------------------------------

    async def _run_step(self, step: SyncStep, spec: SyncSpec, live: dict, refuse_prune: str, result: SyncResult,
                        ran_hooks: list[tuple[SyncTask, ResourceResult]]) -> None:
        failures: list[str] = []
        ordered = ([t for t in step.tasks if t.action == PRUNE] + [t for t in step.tasks if t.action == HOOK]
                   + [t for t in step.tasks if t.action in (APPLY, CREATE_NAMESPACE)])
        for task in ordered:
            outcome = self._result(task)
            result.resources.append(outcome)
            try:
                if task.action == PRUNE:
                    await self._prune(task, refuse_prune, outcome)
                elif task.action == HOOK:
                    await self._start_hook(task, outcome)
                    ran_hooks.append((task, outcome))
                elif task.action == CREATE_NAMESPACE:
                    await self._create_namespace(task, outcome)
                else:
                    await self._apply(task, spec, live.get(_key(task.obj)), outcome)
            except (ClusterError, InvalidObject, UnknownKind) as exc:
                outcome.status, outcome.message = SYNC_FAILED, str(exc)
                text = str(exc)  # a ClusterError already starts with the object's name
                failures.append(text if text.startswith(f"{outcome}: ") else f"{outcome}: {text}")
                log.warning("event=sync_task_failed app=%s task=%s action=%s error=%r", spec.application,
                            outcome, task.action, str(exc))
        if failures:
            raise _StepFailed(f"{step} failed: " + "; ".join(failures))

    def _result(self, task: SyncTask) -> ResourceResult:
        obj = task.obj
        api_version = str(obj.get("apiVersion", ""))
        meta = obj.get("metadata") or {}
        return ResourceResult(group=group_of(api_version), version=api_version.rpartition("/")[2],
                              kind=str(obj.get("kind", "")), namespace=meta.get("namespace") or "",
                              name=str(meta.get("name", "")), phase=task.phase, wave=task.wave, action=task.action,
                              status=SYNCED)

    def _kept_result(self, obj: dict, spec: SyncSpec) -> ResourceResult:
        """A live object left out of the prune by Prune=false (or confirm): PruneSkipped, as Argo CD reports it."""
        options = merged(app_options(spec.sync_options)[0], options_of(obj)[0])  # plan_sync validated both
        how = "Prune=false" if options.prune == "false" else "Prune=confirm: confirmation is not supported"
        outcome = self._result(SyncTask(obj, SYNC, wave_of(obj), PRUNE, options))
        outcome.status, outcome.message = PRUNE_SKIPPED, f"not pruned ({how})"
        return outcome

    async def _apply(self, task: SyncTask, spec: SyncSpec, live: dict | None, outcome: ResourceResult) -> None:
        desired = task.obj
        options = task.options
        rules = [rule for rule in spec.rules if rule.matches(desired)]
        if options.apply_out_of_sync_only and live is not None and diff_object(desired, live, rules=rules).in_sync:
            outcome.message = "unchanged (ApplyOutOfSyncOnly)"
            return
        body = without_ignored(desired, live, rules) if options.respect_ignore_differences and rules else desired
        if options.replace:
            outcome.message = await self._replace(body, live, force=options.force)
            return
        try:
            self._wrote(await self.access.apply(body))
        except UnknownKind:
            # a CRD an earlier wave installed can be Established before discovery has caught up: ask once more
            await self.access.kinds.refresh()
            self._wrote(await self.access.apply(body))
        outcome.message = "configured" if live is not None else "created"

    async def _replace(self, obj: dict, live: dict | None, *, force: bool) -> str:
        if live is None:
            self._wrote(await self.access.create(obj))
            return "created"
        if force:
            await self._recreate(obj)
            return "deleted and re-created (Force=true)"
        try:
            self._wrote(await self.access.replace(obj))
            return "replaced"
        except ClusterError as exc:
            if exc.status != 422 or "immutable" not in exc.message:
                raise
        await self._recreate(obj)
        return "deleted and re-created (an immutable field changed)"

    async def _recreate(self, obj: dict) -> None:
        ref = _ref(obj)
        await self.access.delete(ref, propagation="Foreground")
        await self._wait_gone(ref)
        self._wrote(await self.access.create(obj))

    async def _wait_gone(self, ref: ObjectRef) -> None:
        deadline = time.monotonic() + self.wave_timeout
        while await self.access.get(ref) is not None:
            if time.monotonic() > deadline:
                raise ClusterError(0, "Timeout", f"still exists {self.wave_timeout:g}s after its deletion", ref)
            await self._pause()

    async def _prune(self, task: SyncTask, refuse: str, outcome: ResourceResult) -> None:
        if refuse:
            outcome.status, outcome.message = PRUNE_SKIPPED, refuse
            return
        propagation = _PROPAGATION.get(task.options.prune_propagation_policy, "Foreground")
        gone = not await self.access.delete(_ref(task.obj), propagation=propagation)
        outcome.status, outcome.message = PRUNED, "already gone" if gone else "pruned"

    async def _create_namespace(self, task: SyncTask, outcome: ResourceResult) -> None:
        if await self.access.get(_ref(task.obj)) is not None:
            outcome.message = "namespace exists"
            return
        await self.access.apply(task.obj)
        outcome.message = "namespace created (CreateNamespace=true)"

    async def _start_hook(self, task: SyncTask, outcome: ResourceResult) -> None:
        ref = _ref(task.obj)
        if task.hook is not None and task.hook.delete_before_creation and await self.access.get(ref) is not None:
            await self.access.delete(ref, propagation="Foreground")
            await self._wait_gone(ref)
        if await self.access.get(ref) is None:
            await self.access.create(task.obj)
        else:
            await self.access.apply(task.obj)
        outcome.hook_phase = "Running" if runs_to_completion(task.obj) else "Succeeded"
        outcome.message = f"{task.phase} hook started" if runs_to_completion(task.obj) else f"{task.phase} hook applied"

    # ---- waiting for a step -----------------------------------------------------------------------------

    async def _wait_step(self, step: SyncStep, result: SyncResult, *, health: bool) -> None:
        """Until every hook this step started finished and every object it pruned is gone, and, with `health`
        (a multi-step plan), every object it applied is healthy: gitops-engine waits for running hooks and pending
        deletions whatever the plan, for health only in a multi-step sync."""
        waiting = [(task, outcome) for task, outcome in zip(step.tasks, self._outcomes(step, result), strict=True)
                   if (task.action == HOOK and outcome.status == SYNCED) or (task.action == PRUNE and outcome.status
                   == PRUNED) or (health and task.action == APPLY and outcome.status == SYNCED)]
        deadline = time.monotonic() + self.wave_timeout
        while True:
            pending: list[str] = []
            still: list[tuple[SyncTask, ResourceResult]] = []
            for task, outcome in waiting:
                state = await self._progress(task, outcome)
                if state is None:
                    continue
                still.append((task, outcome))
                if state.status == HealthStatus.DEGRADED:
                    outcome.status = SYNC_FAILED
                    outcome.message = state.message or "Degraded"
                    raise _StepFailed(f"{step} failed: {outcome} is {state.status.value}"
                                      + (f": {state.message}" if state.message else ""))
                pending.append(f"{outcome} ({state.status.value}" + (f": {state.message})" if state.message else ")"))
            waiting = still  # what is done stays done
            if not pending:
                return
            if time.monotonic() > deadline:
                raise _StepFailed(f"{step} timed out after {self.wave_timeout:g}s waiting for {', '.join(pending)}")
            await self._pause()

    def _outcomes(self, step: SyncStep, result: SyncResult) -> list[ResourceResult]:
        """The results of the step's tasks, in the step's task order (they were run prunes-hooks-applies)."""
        mine = result.resources[-len(step.tasks):]
        by_task = {(r.group, r.kind, r.namespace, r.name, r.action): r for r in mine}
        return [by_task[(_key(t.obj)[0], _key(t.obj)[1], _key(t.obj)[2], _key(t.obj)[3], t.action)]
                for t in step.tasks]

    async def _progress(self, task: SyncTask, outcome: ResourceResult) -> Health | None:
        """None when the task is done; otherwise its health (Degraded: it failed)."""
        if task.action == PRUNE:
            return await self._deletion(task)
        live = self.live_view(task.obj) if self.live_view is not None else None
        written = self._written_by_key.get(_key(task.obj))
        if live is not None and written is not None and _version(live) < _version(written):
            live = None  # the view has not caught up with our own write yet: read the object itself
        if live is None:
            live = await self.access.get(_ref(task.obj))
        if task.action == HOOK and runs_to_completion(task.obj):
            if live is None:
                return Health(HealthStatus.MISSING, "the hook is gone")
            finished = hook_finished(live)
            if finished is None:
                return Health(HealthStatus.PROGRESSING, "running")
            outcome.hook_phase = "Succeeded" if finished else "Failed"
            outcome.message = f"{task.phase} hook {outcome.hook_phase.lower()}"
            return None if finished else Health(HealthStatus.DEGRADED, f"{task.phase} hook failed")
        if live is None:
            return Health(HealthStatus.MISSING, "not found")
        health = await self.health(live)
        if health is None or health.status in (HealthStatus.HEALTHY, HealthStatus.SUSPENDED):
            return None
        return health

    async def _deletion(self, task: SyncTask) -> Health | None:
        """None once a pruned object is gone (or another object of that name replaced it); Progressing while its
        deletion is pending (finalizers, a foreground delete waiting for its dependents). Read from the API server:
        a watch-fed view may still hold an object that is gone."""
        live = await self.access.get(_ref(task.obj))
        pruned_uid = (task.obj.get("metadata") or {}).get("uid")
        if live is None or (pruned_uid and live["metadata"].get("uid") != pruned_uid):
            return None
        finalizers = live["metadata"].get("finalizers") or []
        return Health(HealthStatus.PROGRESSING, "deletion pending" + (f" (finalizers: {', '.join(finalizers)})"
                                                                        if finalizers else ""))

    async def _pause(self) -> None:
        self._changed.clear()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._changed.wait(), self.poll_interval)

    # ---- failure and hook clean-up ---------------------------------------------------------------------------

    async def _run_sync_fail(self, plan: SyncPlan, result: SyncResult,
                             ran_hooks: list[tuple[SyncTask, ResourceResult]]) -> None:
        started: list[tuple[SyncTask, ResourceResult]] = []
        for task in plan.sync_fail_hooks:
            outcome = self._result(task)
            result.resources.append(outcome)
            try:
                await self._start_hook(task, outcome)
                started.append((task, outcome))
            except (ClusterError, InvalidObject, UnknownKind) as exc:
                outcome.status, outcome.message = SYNC_FAILED, str(exc)
        deadline = time.monotonic() + self.wave_timeout
        for task, outcome in started:
            while time.monotonic() < deadline:
                try:
                    state = await self._progress(task, outcome)
                except ClusterError:
                    break
                if state is None or state.status == HealthStatus.DEGRADED:
                    break
                await self._pause()
        ran_hooks += started

    async def _delete_finished_hooks(self, ran_hooks: list[tuple[SyncTask, ResourceResult]]) -> None:
        for task, outcome in ran_hooks:
            hook = task.hook
            if hook is None:
                continue
            succeeded, failed = outcome.hook_phase == "Succeeded", outcome.hook_phase == "Failed"
            if (succeeded and hook.delete_on_success) or (failed and hook.delete_on_failure):
                try:
                    await self.access.delete(_ref(task.obj), propagation="Background")
                except ClusterError as exc:
                    log.warning("event=hook_delete_failed hook=%s error=%r", outcome, str(exc))


def _version(obj: dict) -> int:
    """An object's resourceVersion as a number (etcd-backed servers issue numbers); 0 when it is not one."""
    text = str((obj.get("metadata") or {}).get("resourceVersion", ""))
    return int(text) if text.isdigit() else 0


def hook_finished(live: dict) -> bool | None:
    """True when a Job or Pod hook succeeded, False when it failed, None while it runs."""
    status = live.get("status") or {}
    if live.get("kind") == "Pod":
        phase = status.get("phase")
        return True if phase == "Succeeded" else False if phase == "Failed" else None
    for condition in status.get("conditions") or []:
        if condition.get("status") != "True":
            continue
        if condition.get("type") in ("Complete", "SuccessCriteriaMet"):
            return True
        if condition.get("type") in ("Failed", "FailureTarget"):
            return False
    return None
