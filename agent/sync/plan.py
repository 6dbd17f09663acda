"""Planning one sync of one application (§A3): which tasks run, in which steps, in which order. Pure: no I/O.

`plan_sync` turns the desired objects, the live objects to prune and the application's sync options into a
`SyncPlan`, as gitops-engine's `getSyncTasks` does:

- every desired object is applied in the Sync phase of its wave; a hook runs once in each of its phases;
  objects that are Skip hooks, PreDelete/PostDelete hooks or Helm test hooks are left out (with a warning,
  except Skip);
- with `CreateNamespace=true` and a destination namespace that no desired object creates, a Namespace is
  created in the PreSync phase, wave 0 (create if missing; never updated, never pruned);
- each live object to prune is a prune task in the Sync phase. Prune waves are mirrored (the highest wave of
  the pruned objects is pruned first), and `PruneLast=true` (application or object) moves a prune after the
  last Sync wave. Objects with `Prune=false` or `Prune=confirm` (Fleetline has no prune confirmation) are kept:
  listed in `kept`, with a warning; they still count when the prune waves are computed, as in Argo CD.
  Live hooks are never pruned (their delete policy cleans them up);
- tasks are ordered by `order.sort_tasks`; one step is one (phase, wave). SyncFail hooks are set apart: they
  run together, only when the sync fails.

How a runner executes a step (Argo CD's `runTasks`): prunes first, then BeforeHookCreation deletes of hooks that
exist, then applies in order, one kind after another. Before the next step it waits until every task of the
step is healthy or failed, but only when the plan is `multi_step`; hooks are always waited for.

Every problem in the input is collected and raised together as one SyncPlanError, each line naming the object.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TypeVar

from agent.sync.annotations import SyncPlanError, describe, shadowed
from agent.sync.hooks import (
    POST_DELETE,
    PRE_DELETE,
    PRE_SYNC,
    SKIP,
    SYNC,
    SYNC_FAIL,
    Hook,
    hook_of,
)
from agent.sync.options import SyncOptions, app_options, merged, options_of
from agent.sync.order import APPLY, CREATE_NAMESPACE, HOOK, PRUNE, SyncTask, sort_tasks, wave_of
from fleetline.identity import group_of

T = TypeVar("T")


@dataclass
class SyncStep:
    """The tasks of one (phase, wave), in order."""

    phase: str
    wave: int
    tasks: list[SyncTask]

    @property
    def prunes(self) -> list[SyncTask]:
        return [t for t in self.tasks if t.action == PRUNE]

    @property
    def applies(self) -> list[SyncTask]:
        """Everything that is not a prune (applies, hooks, the namespace), in order."""
        return [t for t in self.tasks if t.action != PRUNE]

    def __str__(self) -> str:
        return f"{self.phase} wave {self.wave}"


@dataclass
class SyncPlan:
    """One sync: its steps in order, the SyncFail hooks, the objects deliberately not pruned, and warnings."""

    steps: list[SyncStep]
    sync_fail_hooks: list[SyncTask] = field(default_factory=list)  # run together, only when the sync fails
    kept: list[dict] = field(default_factory=list)   # live objects not in the desired state, not pruned
    warnings: list[str] = field(default_factory=list)

    @property
    def tasks(self) -> list[SyncTask]:
        """Every task of every step, in execution order (SyncFail hooks excluded)."""
        return [task for step in self.steps for task in step.tasks]

    @property
    def multi_step(self) -> bool:
        """Argo CD's `multiStep`: more than one (phase, wave) among all tasks, SyncFail hooks included. A sync
        that is not multi-step does not wait for health (hooks excepted)."""
        waves = {(t.phase, t.wave) for t in self.tasks + self.sync_fail_hooks}
        return len(waves) > 1


def plan_sync(desired: Sequence[dict], prune: Sequence[dict], app_sync_options: Sequence[str], *,
              namespace: str = "") -> SyncPlan:
    """Plan a sync. `desired`: the application's desired objects. `prune`: live objects of this application
    (their tracking id names it) that left the desired state; the caller decides whether pruning is allowed at
    all. `app_sync_options`: the SyncPolicy's `sync_options`. `namespace`: the destination namespace (for
    `CreateNamespace=true`). Raises SyncPlanError listing every problem."""
    problems: list[str] = []
    warnings: list[str] = []
    app, app_warnings = _collect(problems, lambda: app_options(app_sync_options), (SyncOptions(), []))
    warnings += app_warnings
    tasks: list[SyncTask] = []
    seen: set[tuple[str, str, str, str]] = set()
    for obj in desired:
        if not _well_formed(obj, "desired", problems):
            continue
        identity = _identity(obj)
        if identity in seen:
            problems.append(f"{describe(obj)}: appears twice in the desired state; keep one")
            continue
        seen.add(identity)
        tasks += _collect(problems, lambda obj=obj: _desired_tasks(obj, app, warnings), [])
    tasks += _namespace_task(desired, namespace, app, warnings)

    prune_tasks: list[SyncTask] = []
    live_problems: list[str] = []
    for obj in prune:
        if _well_formed(obj, "live", problems):
            prune_tasks += _collect(live_problems, lambda obj=obj: _prune_task(obj, app, warnings), [])
    problems += [f"live {problem}" for problem in live_problems]
    if problems:
        raise SyncPlanError(problems)

    prune_tasks = _mirror_prune_waves(prune_tasks)
    last_sync_wave = max([0] + [t.wave for t in tasks + prune_tasks if t.phase == SYNC])
    prune_tasks = [_replace_wave(t, last_sync_wave + 1) if t.options.prune_last else t for t in prune_tasks]
    kept = [t for t in prune_tasks if t.options.prune != "true"]
    for task in kept:
        how = "Prune=false" if task.options.prune == "false" else "Prune=confirm (confirmation is not supported)"
        warnings.append(f"{task}: not pruned ({how}); the application stays OutOfSync while it exists")
    ordered = sort_tasks(tasks + [t for t in prune_tasks if t.options.prune == "true"])
    return SyncPlan(steps=_steps([t for t in ordered if t.phase != SYNC_FAIL]),
                    sync_fail_hooks=[t for t in ordered if t.phase == SYNC_FAIL],
                    kept=[t.obj for t in kept], warnings=warnings)


def _desired_tasks(obj: dict, app: SyncOptions, warnings: list[str]) -> list[SyncTask]:
    problems: list[str] = []
    hook = _collect(problems, lambda: _runnable_hook(obj), None)
    wave = _collect(problems, lambda: wave_of(obj), 0)
    own, own_warnings = _collect(problems, lambda: options_of(obj), (SyncOptions(), []))
    if problems:
        raise SyncPlanError(problems)
    options = merged(app, own)
    warnings += own_warnings
    warnings += shadowed(obj)
    if hook is None:
        return [SyncTask(obj, SYNC, wave, APPLY, options)]
    if not hook.phases:
        if hook.unsupported:
            warnings.append(f"{describe(obj)}: left out: Helm hook {', '.join(hook.unsupported)} has no equivalent "
                            f"in a sync (Argo CD leaves it out too)")
        elif not hook.skip:
            warnings.append(f"{describe(obj)}: left out: a {'/'.join(hook.types)} hook runs only when the "
                            f"application is deleted, which is not part of a sync")
        return []
    ignored = [t for t in hook.types if t in (SKIP, PRE_DELETE, POST_DELETE)]
    if ignored:
        warnings.append(f"{describe(obj)}: hook type {', '.join(ignored)} ignored in a sync; it runs as a "
                        f"{'/'.join(hook.phases)} hook")
    return [SyncTask(obj, phase, wave, HOOK, options, hook) for phase in hook.phases]


def _runnable_hook(obj: dict) -> Hook | None:
    return hook_of(obj)


def _namespace_task(desired: Sequence[dict], namespace: str, app: SyncOptions,
                    warnings: list[str]) -> list[SyncTask]:
    if not app.create_namespace:
        return []
    if not namespace:
        warnings.append("syncPolicy.syncOptions: CreateNamespace=true, but the application has no destination "
                        "namespace; nothing to create")
        return []
    if any(isinstance(o, dict) and o.get("kind") == "Namespace" and group_of(str(o.get("apiVersion", ""))) == ""
           and (o.get("metadata") or {}).get("name") == namespace for o in desired):
        return []  # the desired state creates it
    obj = {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": namespace}}
    return [SyncTask(obj, PRE_SYNC, 0, CREATE_NAMESPACE, app)]


def _prune_task(obj: dict, app: SyncOptions, warnings: list[str]) -> list[SyncTask]:
    if hook_of(obj) is not None:
        return []  # hooks are never pruned, as in Argo CD
    wave = wave_of(obj)
    own, own_warnings = options_of(obj)
    warnings += own_warnings
    return [SyncTask(obj, SYNC, wave, PRUNE, merged(app, own))]


def _mirror_prune_waves(tasks: list[SyncTask]) -> list[SyncTask]:
    """The lowest prune wave swaps with the highest, the second lowest with the second highest, ..."""
    waves = sorted({t.wave for t in tasks})
    mirror = dict(zip(waves, reversed(waves), strict=True))
    return [_replace_wave(t, mirror[t.wave]) for t in tasks]


def _replace_wave(task: SyncTask, wave: int) -> SyncTask:
    return dataclasses.replace(task, wave=wave)


def _collect(problems: list[str], fn: Callable[[], T], default: T) -> T:
    """fn(), or `default` with its SyncPlanError's problems added to `problems`."""
    try:
        return fn()
    except SyncPlanError as error:
        problems.extend(error.problems)
        return default


def _steps(tasks: list[SyncTask]) -> list[SyncStep]:
    steps: list[SyncStep] = []
    for task in tasks:
        if steps and (steps[-1].phase, steps[-1].wave) == (task.phase, task.wave):
            steps[-1].tasks.append(task)
        else:
            steps.append(SyncStep(task.phase, task.wave, [task]))
    return steps


def _well_formed(obj: object, which: str, problems: list[str]) -> bool:
    """A desired or live object needs apiVersion, kind and metadata.name (strings) to be planned."""
    if not isinstance(obj, dict):
        problems.append(f"{which} object {describe(obj)}: expected a Kubernetes object (a mapping)")
        return False
    meta = obj.get("metadata")
    missing = [f for f, v in (("apiVersion", obj.get("apiVersion")), ("kind", obj.get("kind")),
                              ("metadata.name", meta.get("name") if isinstance(meta, dict) else None))
               if not isinstance(v, str) or not v]
    if missing:
        problems.append(f"{which} object {describe(obj)}: missing {', '.join(missing)}: every object needs "
                        f"apiVersion, kind and metadata.name")
        return False
    return True


def _identity(obj: dict) -> tuple[str, str, str, str]:
    meta = obj["metadata"]
    return group_of(obj["apiVersion"]), obj["kind"], str(meta.get("namespace") or ""), meta["name"]
