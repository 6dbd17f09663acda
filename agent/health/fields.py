"""Typed reads of the JSON objects the API returns, for the health rules.

Every reader takes a dotted path (`status.replicas`), returns a default when the field is absent or null,
and raises `HealthInputError` naming the field when it holds the wrong type, so that a malformed object
becomes `Unknown` with a message instead of an exception deep inside a rule.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any


class HealthInputError(ValueError):
    """An object's field does not have the type the Kubernetes API gives it."""


def _lookup(obj: Mapping[str, Any], path: str) -> Any:
    value: Any = obj
    walked = []
    for key in path.split("."):
        if value is None:
            return None
        if not isinstance(value, Mapping):
            raise HealthInputError(f"{'.'.join(walked)} is {value!r}, expected an object")
        walked.append(key)
        value = value.get(key)
    return value


def mapping(obj: Mapping[str, Any], path: str) -> Mapping[str, Any]:
    value = _lookup(obj, path)
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise HealthInputError(f"{path} is {value!r}, expected an object")
    return value


def sequence(obj: Mapping[str, Any], path: str) -> Sequence[Any]:
    value = _lookup(obj, path)
    if value is None:
        return ()
    if isinstance(value, (str, bytes, Mapping)) or not isinstance(value, Sequence):
        raise HealthInputError(f"{path} is {value!r}, expected a list")
    return value


def objects(obj: Mapping[str, Any], path: str) -> list[Mapping[str, Any]]:
    """A list of objects (conditions, container statuses); each item must be a mapping."""
    items = sequence(obj, path)
    for index, item in enumerate(items):
        if not isinstance(item, Mapping):
            raise HealthInputError(f"{path}[{index}] is {item!r}, expected an object")
    return list(items)


def integer(obj: Mapping[str, Any], path: str, default: int = 0) -> int:
    value = _lookup(obj, path)
    if value is None:
        return default
    if isinstance(value, bool) or not isinstance(value, int):
        raise HealthInputError(f"{path} is {value!r}, expected an integer")
    return value


def optional_integer(obj: Mapping[str, Any], path: str) -> int | None:
    """An integer field where "absent" differs from 0 (Argo CD's `spec.replicas != nil`)."""
    return None if _lookup(obj, path) is None else integer(obj, path)


def string(obj: Mapping[str, Any], path: str, default: str = "") -> str:
    value = _lookup(obj, path)
    if value is None:
        return default
    if not isinstance(value, str):
        raise HealthInputError(f"{path} is {value!r}, expected a string")
    return value


def flag(obj: Mapping[str, Any], path: str) -> bool:
    value = _lookup(obj, path)
    if value is None:
        return False
    if not isinstance(value, bool):
        raise HealthInputError(f"{path} is {value!r}, expected true or false")
    return value


def annotation(obj: Mapping[str, Any], key: str) -> str:
    value = mapping(obj, "metadata.annotations").get(key)
    return value if isinstance(value, str) else ""


def labels(obj: Mapping[str, Any]) -> Mapping[str, Any]:
    return mapping(obj, "metadata.labels")


def conditions(obj: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    return objects(obj, "status.conditions")


def condition(obj: Mapping[str, Any], kind: str) -> Mapping[str, Any] | None:
    """The first `status.conditions` entry of type `kind`, or None."""
    for entry in conditions(obj):
        if entry.get("type") == kind:
            return entry
    return None


def is_true(entry: Mapping[str, Any] | None) -> bool:
    return entry is not None and entry.get("status") == "True"


def reason_message(entry: Mapping[str, Any]) -> str:
    """A condition's `Reason: message` (or whichever of the two it has)."""
    reason, message = entry.get("reason") or "", entry.get("message") or ""
    return f"{reason}: {message}" if reason and message else str(reason or message)


def timestamp(value: Any, where: str) -> float | None:
    """An RFC 3339 time (`2024-05-01T10:00:00Z`, with or without fractions) as unix seconds; None if unset."""
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise HealthInputError(f"{where} is {value!r}, expected an RFC 3339 time")
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp()
    except ValueError:
        raise HealthInputError(f"{where} is {value!r}, expected an RFC 3339 time") from None


def group_of(obj: Mapping[str, Any]) -> str:
    """The API group of `obj` ("" for the core group), from its apiVersion."""
    api_version = obj.get("apiVersion") or ""
    return api_version.rpartition("/")[0]


def describe(obj: Mapping[str, Any]) -> str:
    """`Kind namespace/name` (or `Kind name` for cluster-scoped objects), for messages."""
    metadata = obj.get("metadata") if isinstance(obj.get("metadata"), Mapping) else {}
    name = metadata.get("name") or "?"
    namespace = metadata.get("namespace")
    return f"{obj.get('kind') or '?'} {namespace}/{name}" if namespace else f"{obj.get('kind') or '?'} {name}"


def name_of(obj: Mapping[str, Any]) -> str:
    return string(obj, "metadata.name")


def duration(seconds: float) -> str:
    """A short human duration: `45s`, `12m30s`, `2h5m`."""
    total = max(0, int(seconds))
    hours, rest = divmod(total, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{hours}h{minutes}m" if minutes else f"{hours}h"
    if minutes:
        return f"{minutes}m{secs}s" if secs else f"{minutes}m"
    return f"{secs}s"
