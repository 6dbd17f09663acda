"""`meta.k8s.io/v1` Table responses: what kube-apiserver sends for `kubectl get` (Accept `as=Table`).

Three sources of columns, as in kube-apiserver:
- built-in kinds with a printer (`kubesim.printers`, a port of pkg/printers/internalversion);
- custom resources: `Name` plus the CRD's `additionalPrinterColumns` (JSONPath evaluated here), or `Age`
  when the CRD declares none (apiextensions-apiserver's tableconvertor and serveDefaultColumnsIfEmpty);
- every other kind (Role, ClusterRole, CustomResourceDefinition, ...): the generic `Name`, `Created At`
  (RFC 3339) convertor of apiserver's registry/rest.

Rows carry `object` according to `includeObject`: a PartialObjectMetadata (default), the full object, or
null. A watch sends the column definitions only with its first event (`headers=False` afterwards).
The returned dict shares the input objects' sub-dicts: serialize it, do not mutate it.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime

from kubesim import jsonpath
from kubesim.printers import CREATED_DOC, NAME_COL, PRINTERS, col, human_duration, parse_time, since
from kubesim.resources import ResourceType

__all__ = ["INCLUDE_OBJECT", "TABLE_API_VERSION", "column_definitions", "human_duration", "to_table"]

TABLE_API_VERSION = "meta.k8s.io/v1"
INCLUDE_OBJECT = ("Metadata", "Object", "None")

_DEFAULT_CR_COLUMNS = ({"name": "Age", "type": "date", "description": CREATED_DOC,
                        "jsonPath": ".metadata.creationTimestamp"},)
_GENERIC_COLUMNS = (NAME_COL, col("Created At", "date", CREATED_DOC))


def to_table(rt: ResourceType, objects: list[dict], *, include_object: str = "Metadata", now: datetime,
             headers: bool = True, resource_version: str = "", continue_token: str = "",
             api_version: str = TABLE_API_VERSION) -> dict:
    """The Table for `objects` (one row each, in order) of type `rt`.

    `include_object` is the `includeObject` query parameter (`Metadata`, `Object`, `None`; empty means
    `Metadata`); anything else raises ValueError with kube-apiserver's message (a 400 BadRequest).
    `now` is the reference time for ages. `api_version` is `meta.k8s.io/v1` or `meta.k8s.io/v1beta1`.
    """
    include_object = include_object or "Metadata"
    if include_object not in INCLUDE_OBJECT:
        raise ValueError(f'unrecognized includeObject value: "{include_object}"')
    if now.tzinfo is None:
        now = now.replace(tzinfo=UTC)
    columns, cells_of, conditions_of = _printer_for(rt)
    rows = []
    for obj in objects:
        row: dict = {"cells": cells_of(obj, now)}
        if conditions_of is not None and (conditions := conditions_of(obj)):
            row["conditions"] = conditions
        row["object"] = _row_object(rt, obj, include_object, api_version)
        rows.append(row)
    metadata: dict = {}
    if resource_version:
        metadata["resourceVersion"] = resource_version
    if continue_token:
        metadata["continue"] = continue_token
    return {
        "kind": "Table",
        "apiVersion": api_version,
        "metadata": metadata,
        "columnDefinitions": [dict(c) for c in columns] if headers else [],
        "rows": rows,
    }


def column_definitions(rt: ResourceType) -> list[dict]:
    """The column definitions a Table of this type carries."""
    return [dict(c) for c in _printer_for(rt)[0]]


def _printer_for(rt: ResourceType):
    if not rt.builtin:
        return _custom_resource_printer(rt)
    printer = PRINTERS.get((rt.group, rt.kind))
    if printer is not None:
        return printer.columns, printer.cells, printer.conditions
    return _GENERIC_COLUMNS, _generic_cells, None


def _generic_cells(obj: dict, now: datetime) -> list:
    meta = obj.get("metadata") or {}
    created = parse_time(meta.get("creationTimestamp"))
    if created is None:
        return [meta.get("name", ""), "0001-01-01T00:00:00Z"]  # Go's zero time, as kube-apiserver prints it
    return [meta.get("name", ""), created.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")]


def _row_object(rt: ResourceType, obj: dict, include_object: str, api_version: str) -> dict | None:
    if include_object == "None":
        return None
    if include_object == "Object":
        if obj.get("kind") and obj.get("apiVersion"):
            return obj
        return {"kind": rt.kind, "apiVersion": rt.api_version, **obj}
    return {"kind": "PartialObjectMetadata", "apiVersion": api_version, "metadata": obj.get("metadata") or {}}


# --- custom resources -------------------------------------------------------------------------------------

def _custom_resource_printer(rt: ResourceType):
    specs = rt.printer_columns or _DEFAULT_CR_COLUMNS
    columns = (NAME_COL, *(col(c.get("name", ""), c.get("type", "string"), c.get("description", ""),
                               int(c.get("priority") or 0), c.get("format", "")) for c in specs))
    paths: list[jsonpath.Path | None] = []
    for spec in specs:
        try:
            paths.append(jsonpath.compile_path(spec.get("jsonPath", "")))
        except jsonpath.JSONPathError:
            paths.append(None)  # the CRD was accepted with it; print <none> rather than fail the request

    def cells(obj: dict, now: datetime) -> list:
        out: list = [(obj.get("metadata") or {}).get("name", "")]
        for spec, path in zip(specs, paths, strict=True):
            found = path.find(obj) if path is not None else []
            out.append(_cell_for(spec.get("type", "string"), found[0], now) if found else None)
        return out

    return columns, cells, None


def _cell_for(column_type: str, value, now: datetime):
    """apiextensions-apiserver tableconvertor: `string` columns print any value, others keep JSON types."""
    if value is None:
        return None
    if column_type == "string":
        return jsonpath_text(value)
    if column_type == "integer":
        if isinstance(value, bool):
            return None
        return int(value) if isinstance(value, int | float) else None
    if column_type == "number":
        if isinstance(value, bool):
            return None
        return float(value) if isinstance(value, int | float) else None
    if column_type == "boolean":
        return value if isinstance(value, bool) else None
    if column_type == "date":
        if not isinstance(value, str):
            return None
        stamp = parse_time(value)
        return "<invalid>" if stamp is None else since(value, now)
    return None


def jsonpath_text(value) -> str:
    """How k8s.io/client-go/util/jsonpath prints one result: JSON for objects and lists, text for scalars."""
    if isinstance(value, dict | list):
        text = json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
        return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return go_float(value)
    return str(value)


def go_float(value: float) -> str:
    """fmt.Sprint of a float64: shortest digits, exponent form below 1e-4 and from 1e6 up (`1e+06`)."""
    if value != value:
        return "NaN"
    if value in (float("inf"), float("-inf")):
        return "+Inf" if value > 0 else "-Inf"
    if value == 0:
        return "0"
    sign = "-" if value < 0 else ""
    coeff, _, exp_part = repr(abs(value)).partition("e")  # repr gives the shortest round-trip digits
    whole, _, frac = coeff.partition(".")
    digits = whole + frac
    stripped = digits.lstrip("0")
    point = len(whole) - (len(digits) - len(stripped)) + (int(exp_part) if exp_part else 0)
    digits = stripped.rstrip("0") or "0"
    exp = point - 1
    if exp < -4 or exp >= 6:
        body = digits[0] + ("." + digits[1:] if len(digits) > 1 else "")
        return f"{sign}{body}e{'-' if exp < 0 else '+'}{abs(exp):02d}"
    if point <= 0:
        return f"{sign}0.{'0' * -point}{digits}"
    if point >= len(digits):
        return f"{sign}{digits}{'0' * (point - len(digits))}"
    return f"{sign}{digits[:point]}.{digits[point:]}"
