"""Sync options (§A3.3): per application (the `sync_options` of its SyncPolicy) and per object (the annotation
`fleetline.io/sync-options` or `argocd.argoproj.io/sync-options`, comma-separated; ours wins when both).

Options are `Name=value` with Argo CD's names and values (case-sensitive). An object's option overrides the
application's (`merged`). Parsing never drops anything silently:

- a malformed entry (no `=`, an empty name) or a bad value for a known option is an error naming the object;
- the same option twice with different values is an error;
- an unknown option is a warning (with a did-you-mean), and is ignored;
- an application-only option on an object (CreateNamespace, PrunePropagationPolicy, ...) is a warning, ignored;
- `ServerSideApply=false` is a warning: the agent always applies server-side.

`helm.sh/resource-policy: keep` counts as `Delete=false`, as in Argo CD. Delete only concerns deleting the whole
application; it does not stop a prune (that is `Prune=false`).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from dataclasses import dataclass

from agent.sync.annotations import (
    HELM_RESOURCE_POLICY,
    SYNC_OPTIONS,
    SyncPlanError,
    annotations_of,
    describe,
    did_you_mean,
    lookup,
    split_csv,
)

_BOOL = ("true", "false")
# Argo CD's option names -> (SyncOptions field, accepted values). Bool options become bools.
OPTIONS: dict[str, tuple[str, tuple[str, ...]]] = {
    "CreateNamespace": ("create_namespace", _BOOL),
    "Prune": ("prune", ("true", "false", "confirm")),
    "PruneLast": ("prune_last", _BOOL),
    "Replace": ("replace", _BOOL),
    "Force": ("force", _BOOL),
    "ServerSideApply": ("server_side_apply", _BOOL),
    "ApplyOutOfSyncOnly": ("apply_out_of_sync_only", _BOOL),
    "RespectIgnoreDifferences": ("respect_ignore_differences", _BOOL),
    "Validate": ("validate", _BOOL),
    "FailOnSharedResource": ("fail_on_shared_resource", _BOOL),
    "PrunePropagationPolicy": ("prune_propagation_policy", ("foreground", "background", "orphan")),
    "Delete": ("delete", ("true", "false", "confirm")),
    "SkipDryRunOnMissingResource": ("skip_dry_run_on_missing_resource", _BOOL),
    "ClientSideApplyMigration": ("client_side_apply_migration", _BOOL),
}
# Options that only mean something for the whole application.
APP_ONLY = frozenset({"CreateNamespace", "PrunePropagationPolicy", "ApplyOutOfSyncOnly", "RespectIgnoreDifferences",
                      "FailOnSharedResource", "ClientSideApplyMigration"})


@dataclass(frozen=True)
class SyncOptions:
    """Parsed sync options with Argo CD's defaults; `explicit` holds the names that were set."""

    create_namespace: bool = False
    prune: str = "true"                      # "true" | "false" (never prune) | "confirm"
    prune_last: bool = False
    replace: bool = False
    force: bool = False
    server_side_apply: bool = True           # always true in effect: the agent only applies server-side
    apply_out_of_sync_only: bool = False
    respect_ignore_differences: bool = False
    validate: bool = True
    fail_on_shared_resource: bool = False
    prune_propagation_policy: str = "foreground"
    delete: str = "true"                     # application deletion only: "true" | "false" | "confirm"
    skip_dry_run_on_missing_resource: bool = False
    client_side_apply_migration: bool = True
    explicit: frozenset[str] = frozenset()

    def entries(self) -> list[str]:
        """The explicitly set options as `Name=value` strings, in OPTIONS order."""
        result = []
        for name, (field, _) in OPTIONS.items():
            if name in self.explicit:
                value = getattr(self, field)
                result.append(f"{name}={str(value).lower() if isinstance(value, bool) else value}")
        return result


def merged(app: SyncOptions, obj: SyncOptions) -> SyncOptions:
    """An object's effective options: each option the object sets overrides the application's."""
    overrides = {OPTIONS[name][0]: getattr(obj, OPTIONS[name][0]) for name in obj.explicit}
    return dataclasses.replace(app, **overrides, explicit=app.explicit | obj.explicit)


def parse_options(entries: Iterable[str], where: str, *, on_object: bool = False) -> tuple[SyncOptions, list[str]]:
    """(options, warnings) from `Name=value` strings; `where` names their origin in messages. Raises
    SyncPlanError with every malformed entry or bad value."""
    values: dict[str, str] = {}
    warnings: list[str] = []
    problems: list[str] = []
    for entry in entries:
        name, sep, value = (part.strip() for part in str(entry).partition("="))
        if not sep or not name:
            problems.append(f'{where}: sync option "{entry}" is malformed: expected Name=value, e.g. "Prune=false"')
            continue
        if name not in OPTIONS:
            warnings.append(f'{where}: unknown sync option "{entry}"{did_you_mean(name, OPTIONS)}; ignored')
            continue
        accepted = OPTIONS[name][1]
        if value not in accepted:
            problems.append(f'{where}: sync option "{entry}" has an invalid value; expected '
                            + " or ".join(f"{name}={v}" for v in accepted))
            continue
        if name in values and values[name] != value:
            problems.append(f"{where}: sync option {name} is set twice ({name}={values[name]} and {name}={value}); "
                            f"keep one")
            continue
        if on_object and name in APP_ONLY:
            warnings.append(f"{where}: sync option {name}={value} only applies to a whole application; set it in "
                            f"the application's syncPolicy.syncOptions (ignored here)")
            continue
        if name == "ServerSideApply" and value == "false":
            warnings.append(f"{where}: ServerSideApply=false is ignored: the agent always applies server-side")
            continue
        values[name] = value
    if problems:
        raise SyncPlanError(problems)
    fields = {OPTIONS[name][0]: (value == "true") if OPTIONS[name][1] == _BOOL else value
              for name, value in values.items()}
    return SyncOptions(**fields, explicit=frozenset(values)), warnings


def app_options(entries: Iterable[str]) -> tuple[SyncOptions, list[str]]:
    """The application's options, from its SyncPolicy's `sync_options`."""
    return parse_options(entries, "syncPolicy.syncOptions")


def options_of(obj: dict) -> tuple[SyncOptions, list[str]]:
    """(options, warnings) from an object's sync-options annotation (and Helm's resource-policy)."""
    found = lookup(obj, SYNC_OPTIONS)
    entries = split_csv(found[1]) if found else []
    where = f"{describe(obj)}: annotation {found[0]}" if found else describe(obj)
    options, warnings = parse_options(entries, where, on_object=True)
    if annotations_of(obj).get(HELM_RESOURCE_POLICY) == "keep" and "Delete" not in options.explicit:
        options = dataclasses.replace(options, delete="false", explicit=options.explicit | {"Delete"})
    return options, warnings
