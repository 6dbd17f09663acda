"""Sync hooks: which objects are hooks, in which phases they run, and when they are deleted (§A3.1).

A hook is an object annotated `fleetline.io/hook` or `argocd.argoproj.io/hook` (ours wins when both) with a
comma-separated list of PreSync, Sync, PostSync, SyncFail, Skip, PreDelete, PostDelete. As in Argo CD:

- `Skip` alone means the object is never applied (and never pruned); combined with other types it is ignored.
- PreDelete and PostDelete run only when an application is deleted, never in a sync.
- Helm's `helm.sh/hook` is mapped when neither of ours is set: pre-install and pre-upgrade are PreSync,
  post-install and post-upgrade are PostSync, pre-delete and post-delete are PreDelete and PostDelete.
  `crd-install` alone is not a hook (the object is applied as usual). Other Helm events (test, test-success,
  test-failure, pre-rollback, post-rollback) have no equivalent: such an object is left out of the sync, as
  Argo CD leaves it out. `helm.sh/hook-weight` is a wave (see `order.wave_of`).
- Delete policies (`fleetline.io/hook-delete-policy`, `argocd.argoproj.io/hook-delete-policy`, and Helm's
  `helm.sh/hook-delete-policy` added to them): BeforeHookCreation, HookSucceeded, HookFailed; BeforeHookCreation
  when none is given.

Any kind may be a hook, as in Argo CD (Helm charts carry ServiceAccount and Secret hooks). Jobs and Pods
(`RUNNING_HOOK_KINDS`) run: their phase waits until they complete or fail. Any other kind is applied in its
phase and counts as done once it is healthy (or has no health).
Unknown hook types or delete policies are errors (Argo CD ignores them silently).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from agent.sync.annotations import (
    HELM_HOOK,
    HELM_HOOK_DELETE_POLICY,
    HOOK,
    HOOK_DELETE_POLICY,
    SyncPlanError,
    annotations_of,
    describe,
    did_you_mean,
    lookup,
    split_csv,
)
from fleetline.identity import group_of

PRE_SYNC, SYNC, POST_SYNC, SYNC_FAIL = "PreSync", "Sync", "PostSync", "SyncFail"
SKIP, PRE_DELETE, POST_DELETE = "Skip", "PreDelete", "PostDelete"
# The sync phases in execution order, with Argo CD's numbers (gitops-engine syncPhaseOrder).
PHASE_ORDER: dict[str, int] = {PRE_SYNC: -1, SYNC: 0, POST_SYNC: 1, SYNC_FAIL: 2}
HOOK_TYPES = (PRE_SYNC, SYNC, POST_SYNC, SYNC_FAIL, SKIP, PRE_DELETE, POST_DELETE)

BEFORE_HOOK_CREATION, HOOK_SUCCEEDED, HOOK_FAILED = "BeforeHookCreation", "HookSucceeded", "HookFailed"
DELETE_POLICIES = (BEFORE_HOOK_CREATION, HOOK_SUCCEEDED, HOOK_FAILED)

HELM_EVENTS: dict[str, str] = {
    "pre-install": PRE_SYNC, "pre-upgrade": PRE_SYNC, "post-install": POST_SYNC, "post-upgrade": POST_SYNC,
    "pre-delete": PRE_DELETE, "post-delete": POST_DELETE,
}
HELM_CRD_INSTALL = "crd-install"
HELM_DELETE_POLICIES: dict[str, str] = {
    "before-hook-creation": BEFORE_HOOK_CREATION, "hook-succeeded": HOOK_SUCCEEDED, "hook-failed": HOOK_FAILED,
}

# (API group, kind) of the hooks that run to completion (their phase waits for success or failure).
RUNNING_HOOK_KINDS = frozenset({("batch", "Job"), ("", "Pod")})


@dataclass(frozen=True)
class Hook:
    """What an object's hook annotations say."""

    types: tuple[str, ...]                 # hook types, in HOOK_TYPES order (Helm events already mapped)
    delete_policies: tuple[str, ...]       # in DELETE_POLICIES order; (BeforeHookCreation,) when none given
    annotation: str                        # the annotation that made the object a hook
    unsupported: tuple[str, ...] = ()      # Helm events without an equivalent (test, pre-rollback, ...)

    @property
    def phases(self) -> tuple[str, ...]:
        """The sync phases the hook runs in (none for Skip, PreDelete/PostDelete only, or Helm tests)."""
        return tuple(t for t in self.types if t in PHASE_ORDER)

    @property
    def skip(self) -> bool:
        """Skip alone: the object is neither applied nor pruned."""
        return self.types == (SKIP,)

    @property
    def delete_before_creation(self) -> bool:
        return BEFORE_HOOK_CREATION in self.delete_policies

    @property
    def delete_on_success(self) -> bool:
        return HOOK_SUCCEEDED in self.delete_policies

    @property
    def delete_on_failure(self) -> bool:
        return HOOK_FAILED in self.delete_policies


def hook_of(obj: dict) -> Hook | None:
    """The object's hook, or None when it is not one. Raises SyncPlanError naming the object for an empty
    annotation or an unknown hook type or delete policy."""
    found = lookup(obj, HOOK)
    if found is not None:
        key, value = found
        types, unsupported = _hook_types(obj, key, value), ()
    else:
        helm = annotations_of(obj).get(HELM_HOOK)
        if helm is None:
            return None
        events = split_csv(helm)
        if not events:
            raise SyncPlanError([f"{describe(obj)}: annotation {HELM_HOOK} is empty: name the hook events "
                                 f"({', '.join(HELM_EVENTS)}) or remove it"])
        if events == [HELM_CRD_INSTALL]:
            return None  # Helm marks CRDs this way; they are ordinary objects
        key = HELM_HOOK
        types = _ordered(HELM_EVENTS[e] for e in events if e in HELM_EVENTS)
        unsupported = tuple(e for e in events if e not in HELM_EVENTS and e != HELM_CRD_INSTALL)
    return Hook(types=types, delete_policies=_delete_policies(obj), annotation=key, unsupported=unsupported)


def runs_to_completion(obj: dict) -> bool:
    """True for a Job or a Pod: a hook whose phase waits until it succeeds or fails."""
    return (group_of(str(obj.get("apiVersion", ""))), obj.get("kind")) in RUNNING_HOOK_KINDS


def _hook_types(obj: dict, key: str, value: str) -> tuple[str, ...]:
    items = split_csv(value)
    if not items:
        raise SyncPlanError([f"{describe(obj)}: annotation {key} is empty: set one of {', '.join(HOOK_TYPES)}, "
                             f"or remove it"])
    problems = [f'{describe(obj)}: annotation {key} has unknown hook type "{item}"{did_you_mean(item, HOOK_TYPES)}; '
                f"expected one of {', '.join(HOOK_TYPES)}" for item in items if item not in HOOK_TYPES]
    if problems:
        raise SyncPlanError(problems)
    return _ordered(items)


def _delete_policies(obj: dict) -> tuple[str, ...]:
    policies: list[str] = []
    problems: list[str] = []
    found = lookup(obj, HOOK_DELETE_POLICY)
    if found is not None:
        key, value = found
        for item in split_csv(value):
            if item in DELETE_POLICIES:
                policies.append(item)
            else:
                problems.append(f'{describe(obj)}: annotation {key} has unknown delete policy "{item}"'
                                f"{did_you_mean(item, DELETE_POLICIES)}; expected one of {', '.join(DELETE_POLICIES)}")
    helm = annotations_of(obj).get(HELM_HOOK_DELETE_POLICY)
    for item in split_csv(helm or ""):
        if item in HELM_DELETE_POLICIES:
            policies.append(HELM_DELETE_POLICIES[item])
        else:
            problems.append(f'{describe(obj)}: annotation {HELM_HOOK_DELETE_POLICY} has unknown delete policy '
                            f'"{item}"{did_you_mean(item, HELM_DELETE_POLICIES)}; expected one of '
                            f"{', '.join(HELM_DELETE_POLICIES)}")
    if problems:
        raise SyncPlanError(problems)
    return tuple(p for p in DELETE_POLICIES if p in policies) or (BEFORE_HOOK_CREATION,)


def _ordered(types: Iterable[str]) -> tuple[str, ...]:
    chosen = set(types)
    return tuple(t for t in HOOK_TYPES if t in chosen)
