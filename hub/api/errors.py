"""The API's errors: each carries its HTTP status, a machine word (`reason`) and a message for a human saying
what is wrong and how to fix it. Rendered as `{"error": message, "reason": reason}` by the app's error
middleware; the facade raises the 404/409/422/503 ones."""

from __future__ import annotations


class ApiError(Exception):
    """An error answered to the client as `status` with `{"error": message, "reason": reason}`."""

    status = 500
    default_reason = "internal"

    def __init__(self, message: str, reason: str | None = None, **extra: object) -> None:
        super().__init__(message)
        self.message = message
        self.reason = reason or self.default_reason
        self.extra = extra  # more top-level keys of the error body (e.g. "not_ready")

    def body(self) -> dict:
        return {"error": self.message, "reason": self.reason, **self.extra}


class BadRequest(ApiError):
    status = 400
    default_reason = "bad_request"


class Unauthorized(ApiError):
    status = 401
    default_reason = "unauthorized"


class Forbidden(ApiError):
    status = 403
    default_reason = "forbidden"


class NotFound(ApiError):
    """The cluster, application, environment, rollout or token named does not exist."""

    status = 404
    default_reason = "not_found"


class Conflict(ApiError):
    """The request is valid but the state does not allow it now (e.g. resuming a rollout that is not paused)."""

    status = 409
    default_reason = "conflict"


class Unprocessable(ApiError):
    """The request is well formed but cannot be carried out (e.g. a promotion naming an overlay that is missing)."""

    status = 422
    default_reason = "unprocessable"


class Unavailable(ApiError):
    """Something the request needs is not running or not readable now; retrying later may work."""

    status = 503
    default_reason = "unavailable"
