"""The errors of cluster access: `ClusterError` (the API server or the connection failed), `UnknownKind`
(discovery does not know an apiVersion/kind) and `InvalidObject` (a manifest we cannot even send).

Every message names the object it is about, so a sync result or a log line can be read on its own.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from agent.cluster.refs import ObjectRef


class InvalidObject(ValueError):
    """A manifest that is not a usable Kubernetes object (no kind, no name, a namespace on a cluster-scoped kind)."""


class ClusterError(Exception):
    """A request failed: `status` is the HTTP status (0 when the server was not reached), `reason` the Status
    reason (`NotFound`, `Invalid`, `Conflict`, ...) and `message` what the server said."""

    def __init__(self, status: int, reason: str, message: str, ref: ObjectRef | None = None) -> None:
        self.status, self.reason, self.message, self.ref = status, reason, message, ref
        super().__init__(str(self))

    def __str__(self) -> str:
        where = f"{self.ref}: " if self.ref is not None else ""
        return f"{where}{self.status} {self.reason}: {self.message}"

    @classmethod
    def from_response(cls, status: int, http_reason: str, body: bytes | str | None,
                      ref: ObjectRef | None = None) -> ClusterError:
        """From an HTTP error response whose body is (usually) a Kubernetes `Status`."""
        text = body.decode("utf-8", "replace") if isinstance(body, bytes) else (body or "")
        try:
            doc = json.loads(text) if text.strip() else {}
        except ValueError:
            doc = {}
        if not isinstance(doc, dict) or doc.get("kind") != "Status":
            return cls(status, http_reason or "Error", text.strip()[:500] or "(no response body)", ref)
        return cls.from_status(doc, ref, default_code=status, default_reason=http_reason)

    @classmethod
    def from_status(cls, doc: dict, ref: ObjectRef | None = None, *, default_code: int = 0,
                    default_reason: str = "") -> ClusterError:
        """From a `Status` object (an error response body, or the object of a watch ERROR event)."""
        code = doc.get("code") if isinstance(doc.get("code"), int) else default_code
        reason = doc.get("reason") or default_reason or "Error"
        causes = (doc.get("details") or {}).get("causes") or []
        parts = [f"{c['field']}: {c.get('message', '')}" if c.get("field") else str(c.get("message", ""))
                 for c in causes if isinstance(c, dict)]
        message = "; ".join(p for p in parts if p) or str(doc.get("message") or "(no message)")
        return cls(code, str(reason), message, ref)


class UnknownKind(ClusterError):
    """Discovery does not list this apiVersion/kind, even after a refresh."""

    def __init__(self, api_version: str, kind: str, hint: str = "") -> None:
        self.api_version, self.kind, self.hint = api_version, kind, hint
        message = hint or "is its CustomResourceDefinition installed? (or is the apiVersion misspelt?)"
        super().__init__(404, "UnknownKind", f'the cluster serves no kind "{kind}" in "{api_version}": {message}')

    def with_ref(self, ref: ObjectRef) -> UnknownKind:
        error = UnknownKind(self.api_version, self.kind, self.hint)
        error.ref = ref
        error.args = (str(error),)
        return error
