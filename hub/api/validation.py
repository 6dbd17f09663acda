"""Reading and checking what a client sends: JSON bodies (an object with known fields of known types) and query
parameters (known names; times, integers, choices). Every problem is a 400 naming the field and the fix."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from aiohttp import web

from hub.api.errors import BadRequest


@dataclass(frozen=True)
class Field:
    """A body field: its name, its JSON type ("string", "boolean" or "strings": a list of strings), whether the
    body must have it."""

    name: str
    kind: str = "string"
    required: bool = True


_TYPE_WORDS = {"string": "a non-empty string", "boolean": "true or false", "strings": "a list of strings"}


async def read_body(request: web.Request, fields: Sequence[Field]) -> dict:
    """The request's JSON object, checked against `fields`: missing required fields, unknown fields and wrong
    types are 400s. An absent field (or null) is left out of the result."""
    raw = await request.read()
    example = "{" + ", ".join(f'"{f.name}": ...' for f in fields if f.required) + "}"
    if not raw.strip():
        document: object = {}
    else:
        try:
            document = json.loads(raw)
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise BadRequest(f"the request body is not valid JSON ({exc}): send an object such as {example}",
                             "invalid_json") from None
    if not isinstance(document, dict):
        raise BadRequest(f"the request body must be a JSON object such as {example}", "invalid_json")
    names = [f.name for f in fields]
    unknown = sorted(set(document) - set(names))
    if unknown:
        raise BadRequest(f"unknown field(s) {', '.join(map(repr, unknown))} in the request body: the fields are "
                         f"{', '.join(names) or 'none'}", "unknown_field")
    body = {}
    for field in fields:
        value = document.get(field.name)
        if value is None:
            if field.required:
                raise BadRequest(f'missing field "{field.name}" ({_TYPE_WORDS[field.kind]}) in the request body: '
                                 f"send {example}", "missing_field")
            continue
        if not _has_kind(value, field.kind):
            raise BadRequest(f'field "{field.name}" must be {_TYPE_WORDS[field.kind]}, not {json.dumps(value)}',
                             "invalid_field")
        body[field.name] = value
    return body


def _has_kind(value: object, kind: str) -> bool:
    if kind == "boolean":
        return isinstance(value, bool)
    if kind == "strings":
        return isinstance(value, list) and all(isinstance(v, str) and v for v in value)
    return isinstance(value, str) and bool(value.strip())


def check_query(request: web.Request, allowed: Sequence[str]) -> None:
    """A 400 for a query parameter the route does not know (a misspelt filter must not silently match all)."""
    unknown = sorted(set(request.query) - set(allowed))
    if unknown:
        raise BadRequest(f"unknown query parameter(s) {', '.join(map(repr, unknown))}: this route takes "
                         f"{', '.join(allowed) or 'none'}", "invalid_parameter")


def query_text(request: web.Request, name: str) -> str | None:
    value = request.query.get(name, "").strip()
    return value or None


def query_time(request: web.Request, name: str, *, required: bool = False) -> datetime | None:
    """A time parameter: a date (2026-03-01, midnight UTC) or an RFC 3339 time (2026-03-01T09:30:00Z)."""
    value = query_text(request, name)
    if value is None:
        if required:
            raise BadRequest(f"missing query parameter {name!r}: give a date such as {name}=2026-03-01",
                             "missing_parameter")
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise BadRequest(f"query parameter {name}={value!r} is not a date or time: use 2026-03-01 or "
                         "2026-03-01T09:30:00Z", "invalid_parameter") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def query_int(request: web.Request, name: str, default: int, low: int, high: int) -> int:
    value = query_text(request, name)
    if value is None:
        return default
    try:
        number = int(value)
    except ValueError:
        number = low - 1
    if not low <= number <= high:
        raise BadRequest(f"query parameter {name}={value!r} must be an integer from {low} to {high}",
                         "invalid_parameter")
    return number


def query_choice(request: web.Request, name: str, choices: Sequence[str], default: str) -> str:
    value = query_text(request, name) or default
    if value not in choices:
        raise BadRequest(f"query parameter {name}={value!r} must be one of {', '.join(choices)}",
                         "invalid_parameter")
    return value
