"""Reading Argo CD's `syncPolicy` and `ignoreDifferences`, shared by fleet.yaml and Application documents.

The field names and defaults are Argo CD's (`automated.{prune, selfHeal, allowEmpty, enabled}`,
`syncOptions` as `Name=value` strings, `retry.{limit, backoff.{duration 5s, factor 2, maxDuration 3m},
refresh}`, `managedNamespaceMetadata`), so that an Argo CD Application's policy reads the same here.
"""

from __future__ import annotations

import re

from hub.fleet.model import (
    Automated,
    Backoff,
    FrozenMap,
    IgnoreDifference,
    ManagedNamespaceMetadata,
    Retry,
    SyncPolicy,
)
from hub.fleet.reader import Reader, child, describe, did_you_mean, label_key_problem, label_value_problem

_BOOL = ("true", "false")
# The application-level sync options we honour, with their accepted values (Argo CD's spelling, case-sensitive).
SYNC_OPTIONS: dict[str, tuple[str, ...]] = {
    "CreateNamespace": _BOOL,
    "Prune": ("true", "false", "confirm"),
    "PruneLast": _BOOL,
    "Replace": _BOOL,
    "ServerSideApply": _BOOL,
    "ApplyOutOfSyncOnly": _BOOL,
    "RespectIgnoreDifferences": _BOOL,
    "Validate": _BOOL,
    "FailOnSharedResource": _BOOL,
    "PrunePropagationPolicy": ("foreground", "background", "orphan"),
}
_JSON_POINTER = re.compile(r"^(/([^~]|~[01])*)+$")


def read_sync_policy(reader: Reader, raw: object, field: str) -> SyncPolicy:
    """`syncPolicy` at `field`; a missing one is manual sync without retry."""
    spec = reader.fields(raw, field, ("automated", "syncOptions", "retry", "managedNamespaceMetadata"))
    if not spec:
        return SyncPolicy()
    automated = None
    if spec.get("automated") is not None:
        automated = _read_automated(reader, spec["automated"], child(field, "automated"))
    retry = None
    if spec.get("retry") is not None:
        retry = _read_retry(reader, spec["retry"], child(field, "retry"))
    metadata = None
    if spec.get("managedNamespaceMetadata") is not None:
        metadata = _read_namespace_metadata(reader, spec["managedNamespaceMetadata"],
                                            child(field, "managedNamespaceMetadata"))
    return SyncPolicy(automated=automated,
                      sync_options=_read_sync_options(reader, spec.get("syncOptions"), child(field, "syncOptions")),
                      retry=retry, managed_namespace_metadata=metadata)


def _read_automated(reader: Reader, raw: object, field: str) -> Automated:
    spec = reader.fields(raw, field, ("prune", "selfHeal", "allowEmpty", "enabled"),
                         "a mapping such as {prune: true, selfHeal: true} ({} for plain automated sync)")
    if spec is None:
        return Automated()
    return Automated(prune=reader.boolean(spec.get("prune"), child(field, "prune")),
                     self_heal=reader.boolean(spec.get("selfHeal"), child(field, "selfHeal")),
                     allow_empty=reader.boolean(spec.get("allowEmpty"), child(field, "allowEmpty")),
                     enabled=reader.boolean(spec.get("enabled"), child(field, "enabled"), default=True))


def _read_sync_options(reader: Reader, raw: object, field: str) -> tuple[str, ...]:
    options: list[str] = []
    seen: dict[str, str] = {}
    for path, entry in reader.items(raw, field, 'a list of "Name=value" strings such as "CreateNamespace=true"'):
        if not isinstance(entry, str) or "=" not in entry:
            reader.error(path, f'expected a "Name=value" string such as "CreateNamespace=true", found '
                               f"{describe(entry)}")
            continue
        name, _, value = entry.partition("=")
        if name not in SYNC_OPTIONS:
            reader.error(path, f'unknown sync option "{name}"{did_you_mean(name, list(SYNC_OPTIONS))}; expected '
                               f"one of: {', '.join(SYNC_OPTIONS)}")
            continue
        if value not in SYNC_OPTIONS[name]:
            reader.error(path, f'invalid value "{value}" for sync option {name}; expected '
                               + " or ".join(f"{name}={v}" for v in SYNC_OPTIONS[name]))
            continue
        if name in seen:
            reader.error(path, f"sync option {name} is set twice ({seen[name]} and {entry}); keep one")
            continue
        seen[name] = entry
        options.append(entry)
    return tuple(options)


def _read_retry(reader: Reader, raw: object, field: str) -> Retry:
    spec = reader.fields(raw, field, ("limit", "backoff", "refresh"))
    if spec is None:
        return Retry()
    limit = reader.integer(spec.get("limit"), child(field, "limit"), 0, minimum=-1,
                           expected="a number of retries (-1 for unlimited)")
    backoff = Backoff()
    backoff_field = child(field, "backoff")
    backoff_spec = reader.fields(spec.get("backoff"), backoff_field, ("duration", "factor", "maxDuration"))
    if backoff_spec:
        duration, duration_seconds = reader.duration(backoff_spec.get("duration"), child(backoff_field, "duration"),
                                                     "5s", bare_seconds=True)
        maximum, maximum_seconds = reader.duration(backoff_spec.get("maxDuration"),
                                                   child(backoff_field, "maxDuration"), "3m", bare_seconds=True)
        factor = reader.integer(backoff_spec.get("factor"), child(backoff_field, "factor"), 2, minimum=1,
                                expected="an integer multiplier of at least 1")
        backoff = Backoff(duration=duration if duration_seconds is not None else "5s", factor=factor,
                          max_duration=maximum if maximum_seconds is not None else "3m",
                          duration_seconds=5.0 if duration_seconds is None else duration_seconds,
                          max_duration_seconds=180.0 if maximum_seconds is None else maximum_seconds)
    return Retry(limit=limit, backoff=backoff, refresh=reader.boolean(spec.get("refresh"), child(field, "refresh")))


def _read_namespace_metadata(reader: Reader, raw: object, field: str) -> ManagedNamespaceMetadata:
    spec = reader.fields(raw, field, ("labels", "annotations"))
    if spec is None:
        return ManagedNamespaceMetadata()
    labels = reader.string_map(spec.get("labels"), child(field, "labels"), key_check=label_key_problem,
                               value_check=label_value_problem)
    annotations = reader.string_map(spec.get("annotations"), child(field, "annotations"),
                                    key_check=label_key_problem)
    return ManagedNamespaceMetadata(labels=FrozenMap(labels), annotations=FrozenMap(annotations))


def read_ignore_differences(reader: Reader, raw: object, field: str) -> tuple[IgnoreDifference, ...]:
    """`ignoreDifferences` at `field`: each entry selects objects (group, kind, name, namespace) and says
    which fields to ignore (jsonPointers, jqPathExpressions, managedFieldsManagers; at least one)."""
    result = []
    allowed = ("group", "kind", "name", "namespace", "jsonPointers", "jqPathExpressions", "managedFieldsManagers")
    for path, entry in reader.items(raw, field, "a list of {group, kind, jsonPointers, ...} entries"):
        spec = reader.fields(entry, path, allowed, "a mapping with group, kind and jsonPointers, "
                                                   "jqPathExpressions or managedFieldsManagers")
        if spec is None:
            continue
        kind = reader.string(spec.get("kind"), child(path, "kind"), 'a kind such as "Deployment"', required=True)
        pointers = reader.string_list(spec.get("jsonPointers"), child(path, "jsonPointers"),
                                      'a list of JSON pointers such as "/spec/replicas"',
                                      element='a JSON pointer such as "/spec/replicas"', check=_pointer_problem)
        expressions = reader.string_list(spec.get("jqPathExpressions"), child(path, "jqPathExpressions"),
                                         'a list of jq path expressions such as ".spec.replicas"')
        managers = reader.string_list(spec.get("managedFieldsManagers"), child(path, "managedFieldsManagers"),
                                      'a list of field manager names such as "kube-controller-manager"')
        if not (spec.get("jsonPointers") or spec.get("jqPathExpressions") or spec.get("managedFieldsManagers")):
            reader.error(path, "ignores nothing: expected at least one of jsonPointers, jqPathExpressions or "
                               "managedFieldsManagers")
        result.append(IgnoreDifference(
            kind=kind, group=reader.string(spec.get("group"), child(path, "group"), 'an API group such as "apps"'),
            name=reader.string(spec.get("name"), child(path, "name"), "an object name"),
            namespace=reader.string(spec.get("namespace"), child(path, "namespace"), "a namespace"),
            json_pointers=pointers or (), jq_path_expressions=expressions or (),
            managed_fields_managers=managers or ()))
    return tuple(result)


def _pointer_problem(pointer: str) -> str | None:
    if _JSON_POINTER.match(pointer):
        return None
    return "a JSON pointer (RFC 6901) starts with '/' and escapes '~' as ~0 and '/' as ~1"
