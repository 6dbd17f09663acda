"""The official `kubernetes` 37.x client's pydantic models, used by kubesim as the schema of built-in kinds.

What kubesim stores must deserialize into these models, or the typed Python client cannot read it back.
This module maps a resource type to its model class, walks the models' JSON field names (the pydantic
aliases) to find fields a kind does not define, and turns pydantic errors into Kubernetes field paths.
It knows nothing of Kubernetes' own rules; `kubesim.validation` holds those.

Objects are checked with `model_validate` on the whole object rather than the generated `from_dict`:
`from_dict` validates one nested model at a time, so it stops at the first bad sub-object and reports
its error relative to that sub-object, and it is several times slower. Both accept the same objects (the
generated `from_dict` only drops unknown keys first, so `extra_forbidden` errors are ignored here).
"""

from __future__ import annotations

import types
import typing
from dataclasses import dataclass
from functools import cache

from pydantic import BaseModel, ValidationError

from kubesim.resources import ResourceType

# A shape says what a JSON value must look like: ("m", model class), ("l", item shape), ("d", value shape),
# ANY (free-form JSON) or SCALAR. Unions of scalars (int-or-string, bytes-or-string) are SCALAR.
ANY = ("a",)
SCALAR = ("s",)

# Free-form subtrees: the CRD schema language (whatever JSON Schema keywords the user writes are kept).
FREE_FORM = frozenset({"V1JSONSchemaProps"})


def _shape(annotation: object) -> tuple:
    origin = typing.get_origin(annotation)
    args = typing.get_args(annotation)
    if origin is typing.Annotated:
        return _shape(args[0])
    if origin is typing.Union or origin is types.UnionType:
        shapes = {_shape(a) for a in args if a is not type(None)}
        return shapes.pop() if len(shapes) == 1 else ANY
    if origin is list:
        return ("l", _shape(args[0]) if args else ANY)
    if origin is dict:
        return ("d", _shape(args[1]) if len(args) == 2 else ANY)
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return ("m", annotation)
    if annotation is typing.Any or annotation is object:
        return ANY
    return SCALAR


@cache
def _names(cls: type[BaseModel]) -> dict[str, tuple[str, tuple]]:
    """Every name pydantic may report for a field (JSON name, aliases, python name) -> (JSON name, shape)."""
    names: dict[str, tuple[str, tuple]] = {}
    for attr, info in cls.model_fields.items():
        json_name = info.serialization_alias or info.alias or attr
        entry = (json_name, _shape(info.annotation))
        choices = getattr(info.validation_alias, "choices", None) or []
        for other in [attr, info.alias, *[c for c in choices if isinstance(c, str)]]:
            if other:
                names[other] = entry
    return names


@cache
def json_fields(cls: type[BaseModel]) -> dict[str, tuple]:
    """JSON field name -> shape: the fields Kubernetes' JSON decoding knows for this model."""
    return dict(_names(cls).values())


_MODELS: dict[tuple[str, str, str], type[BaseModel] | None] = {}


def model_for(rt: ResourceType) -> type[BaseModel] | None:
    """The client's class for a built-in kind (`V1Deployment`, `CoreV1Event`, `V2HorizontalPodAutoscaler`)."""
    key = (rt.group, rt.version, rt.kind)
    if key not in _MODELS:
        cls = None
        if rt.builtin:
            from kubernetes.client import models  # lazy: each model class is imported on first use

            version = rt.version[:1].upper() + rt.version[1:]
            group = rt.group.split(".")[0].capitalize() if rt.group else "Core"
            for name in (f"{group}{version}{rt.kind}", f"{version}{rt.kind}"):
                try:
                    cls = getattr(models, name)
                    break
                except AttributeError:
                    continue
        _MODELS[key] = cls
    return _MODELS[key]


# ---------------------------------------------------------------- pydantic errors as field problems


@dataclass
class Problem:
    """One field the client cannot read: `detail` None means a required value is missing."""

    path: str
    value: object
    detail: str | None


_TYPE_REASONS = {
    kind: reason
    for reason, kinds in {
        "must be an integer": ("int_type", "int_parsing", "int_from_float"),
        "must be a string": ("string_type", "bytes_type"),
        "must be a boolean": ("bool_type", "bool_parsing"),
        "must be a number": ("float_type", "float_parsing"),
        "must be a list": ("list_type",),
        "must be an object": ("dict_type", "model_type", "model_attributes_type"),
    }.items()
    for kind in kinds
}


def _reason(error: dict) -> str:
    kind = error["type"]
    if kind in _TYPE_REASONS:
        return _TYPE_REASONS[kind]
    if kind.startswith(("datetime", "date_")):
        return "must be an RFC3339 timestamp"
    msg = error.get("msg", kind)
    return msg[:1].lower() + msg[1:]


def field_path(cls: type[BaseModel], loc: tuple) -> str:
    """Pydantic `loc` -> Kubernetes field path (`spec.template.spec.containers[0].name`, `data[key]`)."""
    path, shape = "", ("m", cls)
    for part in loc:
        kind = shape[0]
        if kind == "m" and isinstance(part, str):
            json_name, shape = _names(shape[1]).get(part, (part, ANY))
            path = f"{path}.{json_name}" if path else json_name
        elif (kind == "l" and isinstance(part, int)) or kind == "d":
            path, shape = f"{path}[{part}]", shape[1]
        else:  # a scalar or free-form value: the rest of loc names union members, not fields
            break
    return path


def problems(cls: type[BaseModel], value: object, prefix: str = "") -> list[Problem]:
    """Why `cls.from_dict(value)` would fail, one problem per field path (empty: the client reads it)."""
    try:
        cls.model_validate(value)
        return []
    except ValidationError as exc:
        errors = exc.errors(include_url=False, include_context=False)
    except Exception as exc:  # a generated validator raising something pydantic did not wrap
        return [Problem(prefix, "", f"cannot be read by the Kubernetes client: {exc}")]
    grouped: dict[str, list[dict]] = {}
    for error in errors:
        if error["type"] == "extra_forbidden":  # unknown fields: dropped by the client; see unknown()
            continue
        path = field_path(cls, error["loc"])
        grouped.setdefault(f"{prefix}.{path}" if prefix and path else prefix or path, []).append(error)
    out = []
    for path, group in grouped.items():
        value = group[0].get("input")
        if group[0]["type"] == "missing" or value is None:
            out.append(Problem(path, None, None))
            continue
        reasons = list(dict.fromkeys(_reason(e) for e in group))  # a union reports once per member
        out.append(Problem(path, value, reasons[0] + "".join(" or " + r.removeprefix("must be ")
                                                             for r in reasons[1:])))
    return out


# ---------------------------------------------------------------- unknown fields


def unknown(cls: type[BaseModel], obj: object, prune: bool = False, drop_nulls: bool = False) -> list[str]:
    """JSON paths of the fields of `obj` that `cls` does not define; removed from `obj` when `prune`.

    With `drop_nulls`, fields whose value is null are removed from `obj`'s structs too: decoding into Go types
    leaves such a field at its zero value, which kube-apiserver does not store, so readers never meet one."""
    out: list[str] = []
    _walk(obj, ("m", cls), "", out, prune, drop_nulls)
    return out


def _walk(value: object, shape: tuple, path: str, out: list[str], prune: bool, nulls: bool) -> None:
    kind = shape[0]
    if kind == "m" and isinstance(value, dict):
        if shape[1].__name__ in FREE_FORM:
            return
        known = json_fields(shape[1])
        for key in list(value):
            sub = known.get(key)
            if sub is None:
                out.append(f"{path}.{key}" if path else key)
                if prune:
                    del value[key]
            elif value[key] is None:
                if nulls:
                    del value[key]
            elif sub[0] in "mld":
                _walk(value[key], sub, f"{path}.{key}" if path else key, out, prune, nulls)
    elif kind == "l" and isinstance(value, list) and shape[1][0] in "mld":
        for i, item in enumerate(value):
            _walk(item, shape[1], f"{path}[{i}]", out, prune, nulls)
    elif kind == "d" and isinstance(value, dict) and shape[1][0] in "mld":
        for key, item in value.items():
            _walk(item, shape[1], f"{path}[{key}]", out, prune, nulls)

