"""Kubernetes `Status` errors, shaped exactly like kube-apiserver's (apimachinery pkg/api/errors).

Every failure inside kubesim is an `ApiError`; the HTTP layer turns it into a Status body with its code.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from kubesim.resources import ResourceType


@dataclass
class Cause:
    reason: str  # e.g. FieldValueRequired, FieldValueInvalid, FieldManagerConflict
    message: str
    field: str

    def to_dict(self) -> dict:
        return {"reason": self.reason, "message": self.message, "field": self.field}


@dataclass
class ApiError(Exception):
    code: int
    reason: str
    message: str
    details: dict | None = None
    headers: dict[str, str] = field(default_factory=dict)

    def __str__(self) -> str:
        return f"{self.code} {self.reason}: {self.message}"

    def status(self) -> dict:
        body = {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
                "message": self.message, "reason": self.reason}
        if self.details is not None:
            body["details"] = self.details
        body["code"] = self.code
        return body


def _details(rt: ResourceType, name: str) -> dict:
    details = {"name": name}
    if rt.group:
        details["group"] = rt.group
    details["kind"] = rt.plural
    return details


def not_found(rt: ResourceType, name: str) -> ApiError:
    return ApiError(404, "NotFound", f'{rt.qualified} "{name}" not found', _details(rt, name))


def namespace_not_found(namespace: str) -> ApiError:
    return ApiError(404, "NotFound", f'namespaces "{namespace}" not found',
                    {"name": namespace, "kind": "namespaces"})


def no_such_resource() -> ApiError:
    return ApiError(404, "NotFound", "the server could not find the requested resource", {})


def already_exists(rt: ResourceType, name: str) -> ApiError:
    return ApiError(409, "AlreadyExists", f'{rt.qualified} "{name}" already exists', _details(rt, name))


def conflict(rt: ResourceType, name: str, why: str = "the object has been modified; please apply your "
             "changes to the latest version and try again") -> ApiError:
    return ApiError(409, "Conflict", f'Operation cannot be fulfilled on {rt.qualified} "{name}": {why}',
                    _details(rt, name))


def invalid(rt: ResourceType, name: str, causes: list[Cause]) -> ApiError:
    parts = [f"{c.field}: {c.message}" if c.field else c.message for c in causes]
    summary = parts[0] if len(parts) == 1 else "[" + ", ".join(parts) + "]"
    details = {"name": name}
    if rt.group:
        details["group"] = rt.group
    details["kind"] = rt.kind
    details["causes"] = [c.to_dict() for c in causes]
    return ApiError(422, "Invalid", f'{rt.kind_qualified} "{name}" is invalid: {summary}', details)


def invalid_options(message_field: str, message: str, kind: str = "PatchOptions.meta.k8s.io") -> ApiError:
    cause = Cause("FieldValueRequired", message, message_field)
    return ApiError(422, "Invalid", f'{kind} "" is invalid: {message_field}: {message}',
                    {"kind": kind.split(".")[0], "group": "meta.k8s.io",
                     "causes": [cause.to_dict()]})


def bad_request(message: str) -> ApiError:
    return ApiError(400, "BadRequest", message)


def unauthorized() -> ApiError:
    return ApiError(401, "Unauthorized", "Unauthorized")


def forbidden(message: str, details: dict | None = None) -> ApiError:
    return ApiError(403, "Forbidden", message, details)


def method_not_allowed(rt: ResourceType, verb: str) -> ApiError:
    details = {"kind": rt.plural}
    if rt.group:
        details = {"group": rt.group, "kind": rt.plural}
    return ApiError(405, "MethodNotAllowed", f'{verb} is not supported on resources of kind "{rt.qualified}"',
                    details)


def expired(message: str) -> ApiError:
    return ApiError(410, "Expired", message)


def too_large(limit: int) -> ApiError:
    return ApiError(413, "RequestEntityTooLarge", f"Request entity too large: limit is {limit}")


def unsupported_media_type(content_type: str, accepted: tuple[str, ...]) -> ApiError:
    return ApiError(415, "UnsupportedMediaType",
                    "the body of the request was in an unknown format - accepted media types include: "
                    + ", ".join(accepted))


_GO_ESCAPES = {'"': '\\"', "\\": "\\\\", "\n": "\\n", "\r": "\\r", "\t": "\\t"}


def go_quote(text: str) -> str:
    """Go's %q: a double-quoted string with quotes, backslashes and unprintable characters escaped (so it is
    safe in a header, as kube-apiserver's warnings are)."""
    out = []
    for ch in text:
        if ch in _GO_ESCAPES:
            out.append(_GO_ESCAPES[ch])
        elif ch.isprintable():
            out.append(ch)
        elif ord(ch) < 0x80:
            out.append(f"\\x{ord(ch):02x}")
        else:
            out.append(f"\\u{ord(ch):04x}" if ord(ch) <= 0xFFFF else f"\\U{ord(ch):08x}")
    return '"' + "".join(out) + '"'


def internal_error(text: str) -> ApiError:
    """500 for a bug in kubesim (kube-apiserver's NewGenericServerResponse for an unexpected failure)."""
    return ApiError(500, "InternalError", f"an error on the server ({go_quote(text)}) has prevented the request "
                    "from succeeding", {"causes": [{"reason": "UnexpectedServerResponse", "message": text}]})


def apply_conflicts(conflicts: list[tuple[str, str]]) -> ApiError:
    """409 for server-side apply: conflicts are (manager description, field path) pairs."""
    causes = [Cause("FieldManagerConflict", f"conflict with {who}", path) for who, path in conflicts]
    if len(causes) == 1:
        message = f"Apply failed with 1 conflict: conflict with {conflicts[0][0]}: {conflicts[0][1]}"
    else:
        lines = [f"conflict with {who}: {path}" for who, path in conflicts]
        message = f"Apply failed with {len(conflicts)} conflicts: " + "\n".join(lines)
    return ApiError(409, "Conflict", message, {"causes": [c.to_dict() for c in causes]})
