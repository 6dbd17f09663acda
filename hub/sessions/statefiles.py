"""Desired state from files, until the Git pipeline feeds the hub: one `<cluster>.json|yaml|yml` per cluster.

The form mirrors DesiredState with Argo CD's field names:

    revision: 4f2a9c1
    applications:
      - name: inference
        namespace: ml                  # destination namespace, filled into namespaced objects without one
        revision: 4f2a9c1              # optional, defaults to the state's
        manual: false
        manifests: [{apiVersion: v1, kind: ConfigMap, metadata: {name: cfg}, data: {...}}]
        syncPolicy: {automated: {prune: true, selfHeal: true, allowEmpty: false}, syncOptions: [...],
                     retry: {limit: 3, backoff: {duration: 5s, factor: 2, maxDuration: 3m}}}
        ignoreDifferences: [{group: apps, kind: Deployment, name: x, namespace: ml, jsonPointers: [...],
                             jqPathExpressions: [...], managedFieldsManagers: [...]}]

Each manifest gets the tracking annotation and the app label (fleetline.identity), and each application its
content hash, as the planner would give them. Errors name the file and the field.
"""

from __future__ import annotations

import json
from pathlib import Path

from fleetline import yamlsafe
from fleetline.identity import APP_LABEL, TRACKING_ANNOTATION, canonical_json, content_hash, tracking_id
from fleetline.wire import fleet_pb2
from hub.sessions.tokens import valid_cluster_name

SUFFIXES = (".json", ".yaml", ".yml")
_STATE_KEYS = {"revision", "applications", "cluster"}
_APP_KEYS = {"name", "namespace", "revision", "manual", "manifests", "syncPolicy", "ignoreDifferences"}
_IGNORE_KEYS = {"group": "group", "kind": "kind", "name": "name", "namespace": "namespace",
                "jsonPointers": "json_pointers", "jqPathExpressions": "jq_path_expressions",
                "managedFieldsManagers": "managed_fields_managers"}


class StateFileError(ValueError):
    """A desired-state file that cannot be used; the message names the file and the field."""


def _expect(value: object, kind: type | tuple[type, ...], where: str) -> object:
    if not isinstance(value, kind):
        names = kind.__name__ if isinstance(kind, type) else " or ".join(k.__name__ for k in kind)
        raise StateFileError(f"{where}: expected {names}, got {type(value).__name__}")
    return value


def _unknown(mapping: dict, allowed: set[str], where: str) -> None:
    extra = sorted(set(mapping) - allowed)
    if extra:
        raise StateFileError(f"{where}: unknown field {extra[0]!r} (known: {', '.join(sorted(allowed))})")


def _sync_policy(data: dict, where: str) -> fleet_pb2.SyncPolicy:
    _unknown(data, {"automated", "syncOptions", "retry"}, where)
    policy = fleet_pb2.SyncPolicy()
    if data.get("automated") is not None:
        automated = _expect(data["automated"], dict, f"{where}.automated")
        _unknown(automated, {"prune", "selfHeal", "allowEmpty"}, f"{where}.automated")
        policy.automated.SetInParent()
        policy.automated.prune = bool(automated.get("prune", False))
        policy.automated.self_heal = bool(automated.get("selfHeal", False))
        policy.automated.allow_empty = bool(automated.get("allowEmpty", False))
    for option in _expect(data.get("syncOptions") or [], list, f"{where}.syncOptions"):
        policy.sync_options.append(str(option))
    if data.get("retry") is not None:
        retry = _expect(data["retry"], dict, f"{where}.retry")
        _unknown(retry, {"limit", "backoff"}, f"{where}.retry")
        policy.retry.limit = int(retry.get("limit", 0))
        backoff = _expect(retry.get("backoff") or {}, dict, f"{where}.retry.backoff")
        _unknown(backoff, {"duration", "factor", "maxDuration"}, f"{where}.retry.backoff")
        policy.retry.backoff.duration = str(backoff.get("duration", ""))
        policy.retry.backoff.factor = int(backoff.get("factor", 0))
        policy.retry.backoff.max_duration = str(backoff.get("maxDuration", ""))
    return policy


def _application(data: dict, state_revision: str, where: str) -> fleet_pb2.ApplicationBundle:
    _unknown(data, _APP_KEYS, where)
    name = data.get("name")
    if not isinstance(name, str) or not name:
        raise StateFileError(f"{where}.name: every application needs a name")
    namespace = str(data.get("namespace") or "")
    bundle = fleet_pb2.ApplicationBundle(name=name, namespace=namespace,
                                         revision=str(data.get("revision") or state_revision),
                                         manual=bool(data.get("manual", False)))
    objects = []
    for index, raw in enumerate(_expect(data.get("manifests") or [], list, f"{where}.manifests")):
        obj = _expect(raw, dict, f"{where}.manifests[{index}]")
        meta = obj.setdefault("metadata", {})
        _expect(meta, dict, f"{where}.manifests[{index}].metadata")
        if not meta.get("name") or not obj.get("kind"):
            raise StateFileError(f"{where}.manifests[{index}]: a manifest needs kind and metadata.name")
        if namespace and not meta.get("namespace") and obj.get("kind") != "Namespace":
            meta["namespace"] = namespace
        meta.setdefault("annotations", {})[TRACKING_ANNOTATION] = tracking_id(name, obj)
        meta.setdefault("labels", {})[APP_LABEL] = name
        objects.append(obj)
    bundle.manifests_json.extend(canonical_json(obj).decode("utf-8") for obj in objects)
    bundle.content_hash = content_hash(objects)
    if data.get("syncPolicy") is not None:
        bundle.sync_policy.CopyFrom(_sync_policy(_expect(data["syncPolicy"], dict, f"{where}.syncPolicy"),
                                                 f"{where}.syncPolicy"))
    for index, raw in enumerate(_expect(data.get("ignoreDifferences") or [], list, f"{where}.ignoreDifferences")):
        item = _expect(raw, dict, f"{where}.ignoreDifferences[{index}]")
        _unknown(item, set(_IGNORE_KEYS), f"{where}.ignoreDifferences[{index}]")
        entry = bundle.ignore_differences.add()
        for key, attr in _IGNORE_KEYS.items():
            value = item.get(key)
            if value is None:
                continue
            if isinstance(getattr(entry, attr), str):
                setattr(entry, attr, str(value))
            else:
                getattr(entry, attr).extend(str(v) for v in _expect(value, list, f"{where}.{key}"))
    return bundle


def desired_state_from_dict(data: object, cluster: str, source: str) -> fleet_pb2.DesiredState:
    state_data = _expect(data, dict, source)
    _unknown(state_data, _STATE_KEYS, source)
    if state_data.get("cluster") not in (None, cluster):
        raise StateFileError(f"{source}: cluster {state_data['cluster']!r} does not match the file name {cluster!r}")
    revision = str(state_data.get("revision") or "")
    state = fleet_pb2.DesiredState(cluster=cluster, revision=revision)
    names: set[str] = set()
    apps = _expect(state_data.get("applications") or [], list, f"{source}: applications")
    for index, raw in enumerate(apps):
        where = f"{source}: applications[{index}]"
        bundle = _application(_expect(raw, dict, where), revision, where)
        if bundle.name in names:
            raise StateFileError(f"{where}: application {bundle.name!r} is declared twice")
        names.add(bundle.name)
        state.applications.append(bundle)
    return state


def load_state_file(path: Path) -> tuple[str, fleet_pb2.DesiredState]:
    cluster = path.stem
    if not valid_cluster_name(cluster):
        raise StateFileError(f"{path}: the file name must be <cluster>.json|yaml, and {cluster!r} is not a "
                             "valid cluster name")
    raw = path.read_bytes()
    try:
        data = json.loads(raw) if path.suffix == ".json" else yamlsafe.load_one(raw, str(path))
    except json.JSONDecodeError as exc:
        raise StateFileError(f"{path}:{exc.lineno}: invalid JSON: {exc.msg}") from exc
    except yamlsafe.YamlError as exc:
        raise StateFileError(str(exc)) from exc
    return cluster, desired_state_from_dict(data, cluster, str(path))


def load_state_dir(directory: Path) -> tuple[dict[str, fleet_pb2.DesiredState], list[str]]:
    """Every cluster's state in `directory`, and the errors of the files that could not be used."""
    states: dict[str, fleet_pb2.DesiredState] = {}
    errors: list[str] = []
    for path in sorted(directory.iterdir()):
        if path.suffix not in SUFFIXES or not path.is_file():
            continue
        try:
            cluster, state = load_state_file(path)
        except (StateFileError, OSError) as exc:
            errors.append(str(exc))
            continue
        if cluster in states:
            errors.append(f"{path}: cluster {cluster} has more than one desired-state file")
            continue
        states[cluster] = state
    return states, errors
