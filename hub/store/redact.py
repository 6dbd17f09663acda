"""No Secret value is ever stored: the redaction the store applies to every audit entry's `data` and every agent
event's details before writing them.

The rule, applied recursively to any JSON value:
- a map is *about a Secret* when its `kind` is `Secret`, or (when it has no `kind` of its own) one of its
  `object`, `resource`, `tracking_id`, `trackingId` strings names a Secret (`Secret ns/name`, `Secret/ns/name`,
  `v1/Secret/...`, or a tracking id `<app>:/Secret:<ns>/<name>`), or it sits inside a map about a Secret; a map
  whose `kind` is something else is not, whatever surrounds it;
- in a map about a Secret, the values under `data` and `stringData` are replaced (keys are kept: they are names,
  not values), and so is the kubectl last-applied annotation (a copy of the whole object); every value-bearing
  field (`desired`, `live`, `value`, `old`, `new`, `before`, `after`) of a map whose `path` or `pointer` lies
  under `/data` or `/stringData` (or `data.`/`stringData.`) is replaced too: that is a field-level diff or a
  patch of the Secret's data;
- a replaced value becomes `<redacted>`; a value the agent already redacted (`<redacted ...>`, an HMAC token that
  shows whether a value changed without revealing it) is kept as it is; null stays null.
The input is never modified: a changed copy is returned.
"""

from __future__ import annotations

from typing import Any

from fleetline.identity import parse_tracking_id

REDACTED = "<redacted>"
SECRET_FIELDS = ("data", "stringData")
_NAME_KEYS = ("object", "resource", "tracking_id", "trackingId")
_VALUE_KEYS = ("desired", "live", "value", "old", "new", "before", "after")
_LAST_APPLIED = "kubectl.kubernetes.io/last-applied-configuration"


def redact(value: Any, secret: bool = False) -> Any:
    """`value` with every Secret value replaced, by the rule of the module docstring (`secret`: the value is
    already inside something about a Secret)."""
    if isinstance(value, dict):
        return _redact_map(value, secret)
    if isinstance(value, list):
        return [redact(item, secret) for item in value]
    return value


def hide(value: Any) -> Any:
    """Every leaf of `value` replaced by `<redacted>` (maps keep their keys; agent tokens and null are kept)."""
    if value is None or (isinstance(value, str) and value.startswith("<redacted")):
        return value
    if isinstance(value, dict):
        return {key: hide(inner) for key, inner in value.items()}
    if isinstance(value, list):
        return [hide(inner) for inner in value]
    return REDACTED


def names_secret(text: object) -> bool:
    """Whether a string names a Secret object: `Secret ns/name`, `Secret/ns/name`, `v1/Secret/...` or a tracking
    id whose kind is Secret (core group)."""
    if not isinstance(text, str) or not text:
        return False
    parsed = parse_tracking_id(text)
    if parsed is not None:
        return parsed[1] == "" and parsed[2] == "Secret"
    return text.startswith(("Secret ", "Secret/", "v1/Secret/", "/v1/Secret/", "v1/Secret ", "core/Secret"))


def _about_secret(value: dict, inherited: bool) -> bool:
    kind = value.get("kind")
    if isinstance(kind, str) and kind:
        return kind == "Secret" and str(value.get("apiVersion", "v1")) == "v1"
    return inherited or any(names_secret(value.get(key)) for key in _NAME_KEYS)


def _under_data(path: object) -> bool:
    if not isinstance(path, str):
        return False
    trimmed = path.lstrip("/")
    return any(trimmed == name or trimmed.startswith((f"{name}/", f"{name}.", f"{name}[")) for name in SECRET_FIELDS)


def _redact_map(value: dict, inherited: bool) -> dict:
    secret = _about_secret(value, inherited)
    if not secret:
        return {key: redact(inner, False) for key, inner in value.items()}
    diff_of_data = _under_data(value.get("path")) or _under_data(value.get("pointer"))
    out: dict = {}
    for key, inner in value.items():
        if key in SECRET_FIELDS or (diff_of_data and key in _VALUE_KEYS):
            out[key] = hide(inner)
        elif key == "metadata" and isinstance(inner, dict):
            out[key] = _redact_metadata(inner)
        else:
            out[key] = redact(inner, True)
    return out


def _redact_metadata(metadata: dict) -> dict:
    out = redact(metadata, True)
    annotations = out.get("annotations")
    if isinstance(annotations, dict) and _LAST_APPLIED in annotations:
        out["annotations"] = {**annotations, _LAST_APPLIED: REDACTED}
    return out
