"""The order of a sync (§A3.2): sync waves, Argo CD's kind order, and the sort key of sync tasks.

Tasks sort by phase (PreSync, Sync, PostSync, SyncFail), then wave (ascending), then the kind's place in
`KIND_ORDER` (unknown kinds and custom resources after every listed kind), then name: gitops-engine's
`syncTasks.Less`. Namespace, API group and kind follow as tie-breakers (Argo CD's sort is unstable there).
After sorting, as in gitops-engine's `adjustDeps`, a Namespace moves ahead of the first object in it and a
CustomResourceDefinition ahead of the first object of its group/kind, taking that object's phase and wave.

The wave of an object comes from `fleetline.io/sync-wave`, else `argocd.argoproj.io/sync-wave`, else Helm's
`helm.sh/hook-weight`, else 0; a value that is not an integer is an error naming the object and the value.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from agent.sync.annotations import HELM_HOOK_WEIGHT, SYNC_WAVE, SyncPlanError, annotations_of, describe, lookup
from agent.sync.hooks import PHASE_ORDER, Hook
from agent.sync.options import SyncOptions
from fleetline.identity import group_of

# Argo CD's fixed kind order (gitops-engine sync_tasks.go, adapted from Helm's kind_sorter.go).
KIND_ORDER: tuple[str, ...] = (
    "Namespace", "NetworkPolicy", "ResourceQuota", "LimitRange", "PodSecurityPolicy", "PodDisruptionBudget",
    "ServiceAccount", "Secret", "SecretList", "ConfigMap", "StorageClass", "PersistentVolume",
    "PersistentVolumeClaim", "CustomResourceDefinition", "ClusterRole", "ClusterRoleList", "ClusterRoleBinding",
    "ClusterRoleBindingList", "Role", "RoleList", "RoleBinding", "RoleBindingList", "Service", "DaemonSet", "Pod",
    "ReplicationController", "ReplicaSet", "Deployment", "HorizontalPodAutoscaler", "StatefulSet", "Job", "CronJob",
    "IngressClass", "Ingress", "APIService",
)
_KIND_RANK = {kind: index - len(KIND_ORDER) for index, kind in enumerate(KIND_ORDER)}
_INTEGER = re.compile(r"^[+-]?[0-9]+$")

# What a task does.
APPLY, PRUNE, HOOK, CREATE_NAMESPACE = "apply", "prune", "hook", "create-namespace"


def kind_rank(kind: str) -> int:
    """Argo CD's rank of a kind: negative for the listed kinds (Namespace lowest), 0 for any other kind."""
    return _KIND_RANK.get(kind, 0)


def wave_of(obj: dict) -> int:
    """The object's sync wave (default 0). Raises SyncPlanError for a value that is not an integer."""
    found = lookup(obj, SYNC_WAVE)
    if found is None:
        weight = annotations_of(obj).get(HELM_HOOK_WEIGHT)
        found = (HELM_HOOK_WEIGHT, weight) if weight is not None else None
    if found is None:
        return 0
    key, value = found
    if not _INTEGER.match(value):
        raise SyncPlanError([f'{describe(obj)}: annotation {key} is "{value}", which is not an integer: set a whole '
                             f'number such as "1" or "-1"'])
    return int(value)


@dataclass(frozen=True)
class SyncTask:
    """One thing a sync does to one object, in one phase and wave."""

    obj: dict                 # the desired object (for a prune: the live object)
    phase: str                # "PreSync" | "Sync" | "PostSync" | "SyncFail"
    wave: int
    action: str               # APPLY | PRUNE | HOOK | CREATE_NAMESPACE
    options: SyncOptions      # the object's effective options (application's merged with its own)
    hook: Hook | None = None

    @property
    def kind(self) -> str:
        return str(self.obj.get("kind", ""))

    @property
    def group(self) -> str:
        return group_of(str(self.obj.get("apiVersion", "")))

    @property
    def name(self) -> str:
        return str((self.obj.get("metadata") or {}).get("name", ""))

    @property
    def namespace(self) -> str:
        return str((self.obj.get("metadata") or {}).get("namespace") or "")

    def key(self) -> tuple[int, int, int, str, str, str, str]:
        """Argo CD's order: (phase, wave, kind rank, name), then namespace, group and kind to break ties."""
        return (PHASE_ORDER[self.phase], self.wave, kind_rank(self.kind), self.name, self.namespace, self.group,
                self.kind)

    def __str__(self) -> str:
        return describe(self.obj)


def sort_tasks(tasks: Iterable[SyncTask]) -> list[SyncTask]:
    """Tasks in execution order: sorted by `key`, then Namespaces and CRDs moved ahead of what needs them."""
    ordered = sorted(tasks, key=SyncTask.key)
    ordered = _adjust_deps(ordered, _namespace_provided, _namespace_needed)
    return _adjust_deps(ordered, _crd_provided, _kind_needed)


def _adjust_deps(tasks: list[SyncTask], provides: Callable[[SyncTask], str | None],
                 needs: Callable[[SyncTask], str | None]) -> list[SyncTask]:
    """Move each provider ahead of the first task that needs it (with that task's phase and wave)."""
    tasks = list(tasks)
    first_need: dict[str, int] = {}
    for index in range(len(tasks)):
        task = tasks[index]
        if task.action == PRUNE:
            continue  # a prune has no desired object; gitops-engine skips it here too
        provided = provides(task)
        if provided is not None:
            target = first_need.get(provided)
            if target is not None:
                anchor = tasks[target]
                moved = dataclasses.replace(task, phase=anchor.phase, wave=anchor.wave)
                del tasks[index]
                tasks.insert(target, moved)
                first_need = {dep: (i + 1 if i >= target else i) for dep, i in first_need.items()}
            continue
        needed = needs(task)
        if needed is not None and needed not in first_need:
            first_need[needed] = index
    return tasks


def _namespace_provided(task: SyncTask) -> str | None:
    return task.name if task.kind == "Namespace" and task.group == "" else None


def _namespace_needed(task: SyncTask) -> str | None:
    return task.namespace or None


def _crd_provided(task: SyncTask) -> str | None:
    if task.kind != "CustomResourceDefinition" or task.group != "apiextensions.k8s.io":
        return None
    spec = task.obj.get("spec") if isinstance(task.obj.get("spec"), dict) else {}
    names = spec.get("names") if isinstance(spec.get("names"), dict) else {}
    group, kind = spec.get("group"), names.get("kind")
    return f"{group}/{kind}" if isinstance(group, str) and isinstance(kind, str) else None


def _kind_needed(task: SyncTask) -> str | None:
    return f"{task.group}/{task.kind}"
