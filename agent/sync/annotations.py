"""Reading the sync annotations of one object, and naming that object in messages.

Every sync annotation exists twice: `fleetline.io/<name>` and Argo CD's `argocd.argoproj.io/<name>`. Ours wins
when both are set (the whole value, not a merge), and `shadowed()` reports the disagreement. Helm's hook
annotations (`helm.sh/hook`, `helm.sh/hook-weight`, ...) are read by the modules that map them.

Also `SyncPlanError`, the one error of sync planning: it carries every problem found, one line each, each naming
the object and what to fix.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable

FLEETLINE_PREFIX = "fleetline.io/"
ARGOCD_PREFIX = "argocd.argoproj.io/"

SYNC_WAVE = "sync-wave"
HOOK = "hook"
HOOK_DELETE_POLICY = "hook-delete-policy"
SYNC_OPTIONS = "sync-options"
NAMES = (SYNC_WAVE, HOOK, HOOK_DELETE_POLICY, SYNC_OPTIONS)

HELM_HOOK = "helm.sh/hook"
HELM_HOOK_WEIGHT = "helm.sh/hook-weight"
HELM_HOOK_DELETE_POLICY = "helm.sh/hook-delete-policy"
HELM_RESOURCE_POLICY = "helm.sh/resource-policy"


class SyncPlanError(ValueError):
    """Bad sync annotations or options. `problems` holds one line per problem, each naming the object."""

    def __init__(self, problems: Iterable[str]) -> None:
        self.problems = list(problems)
        super().__init__("\n".join(self.problems))


def describe(obj: object) -> str:
    """`Deployment ml/inference`, `ClusterRole admin`: how messages name an object."""
    if not isinstance(obj, dict):
        return f"<not an object: {type(obj).__name__}>"
    meta = obj.get("metadata") if isinstance(obj.get("metadata"), dict) else {}
    kind = obj.get("kind") or "<no kind>"
    name = meta.get("name") or "<no name>"
    namespace = meta.get("namespace")
    return f"{kind} {namespace}/{name}" if namespace else f"{kind} {name}"


def annotations_of(obj: dict) -> dict[str, str]:
    """The object's annotations; a value that is not a string is an error (Kubernetes only stores strings)."""
    meta = obj.get("metadata")
    annotations = meta.get("annotations") if isinstance(meta, dict) else None
    if annotations is None:
        return {}
    if not isinstance(annotations, dict):
        raise SyncPlanError([f"{describe(obj)}: metadata.annotations must be a mapping of strings"])
    problems = [f'{describe(obj)}: annotation {key} must be a string, found {value!r}: quote it ("{value}")'
                for key, value in annotations.items() if not isinstance(value, str)]
    if problems:
        raise SyncPlanError(problems)
    return annotations


def lookup(obj: dict, name: str) -> tuple[str, str] | None:
    """(annotation key, value) of `fleetline.io/<name>`, else `argocd.argoproj.io/<name>`, else None."""
    annotations = annotations_of(obj)
    for key in (FLEETLINE_PREFIX + name, ARGOCD_PREFIX + name):
        if key in annotations:
            return key, annotations[key]
    return None


def split_csv(value: str) -> list[str]:
    """A comma-separated annotation value: items trimmed, empty items dropped, duplicates dropped (in order)."""
    items: list[str] = []
    for item in value.split(","):
        item = item.strip()
        if item and item not in items:
            items.append(item)
    return items


def shadowed(obj: dict) -> list[str]:
    """Warnings for sync annotations set in both namespaces with different values (ours is used)."""
    annotations = annotations_of(obj)
    warnings = []
    for name in NAMES:
        ours, theirs = annotations.get(FLEETLINE_PREFIX + name), annotations.get(ARGOCD_PREFIX + name)
        if ours is not None and theirs is not None and ours != theirs:
            warnings.append(f'{describe(obj)}: both {FLEETLINE_PREFIX}{name} ("{ours}") and {ARGOCD_PREFIX}{name} '
                            f'("{theirs}") are set; using {FLEETLINE_PREFIX}{name}')
    return warnings


def did_you_mean(word: str, choices: Iterable[str]) -> str:
    """` (did you mean "PreSync"?)` for the closest choice (case-insensitively too), or "" when none is close."""
    choices = list(choices)
    by_lower = {choice.lower(): choice for choice in choices}
    close = [by_lower[word.lower()]] if word.lower() in by_lower else difflib.get_close_matches(word, choices, n=1)
    return f' (did you mean "{close[0]}"?)' if close else ""
