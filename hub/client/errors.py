"""What can go wrong talking to the hub, and the exit code scripts see for each.

0 ok; 1 the operation failed or the thing is unhealthy; 2 usage error or timeout; 3 authentication or
permission refused; 4 hub unreachable (or answering 502/503/504: retry later).
"""

from __future__ import annotations

OK, FAILED, USAGE, REFUSED, UNREACHABLE = 0, 1, 2, 3, 4


class ClientError(Exception):
    """An error shown to the user as `error: <message>`, ending the command with `exit_code`."""

    exit_code = FAILED


class UsageError(ClientError):
    """The command was called wrongly (a flag, a value, a missing setting); nothing was sent to the hub."""

    exit_code = USAGE


class MissingToken(ClientError):
    """No API token was given: the hub would refuse every call."""

    exit_code = REFUSED


class WaitTimeout(ClientError):
    """A wait (sync --wait) ran out of time before an outcome."""

    exit_code = USAGE


class HubUnreachable(ClientError):
    """The hub could not be reached (connection refused, DNS, TLS, timeout)."""

    exit_code = UNREACHABLE


class UnexpectedAnswer(ClientError):
    """The hub answered something that is not the API's JSON (a wrong --hub address, a proxy page)."""


class ApiError(ClientError):
    """The hub answered an error: `{"error": message, "reason": word}` with an HTTP status."""

    def __init__(self, status: int, message: str, reason: str, method: str, path: str) -> None:
        self.status, self.message, self.reason, self.method, self.path = status, message, reason, method, path
        self.exit_code = exit_code_for_status(status)
        super().__init__(self.describe())

    def describe(self) -> str:
        what = f"{self.method} {self.path}: HTTP {self.status}" + (f" {self.reason}" if self.reason else "")
        hint = ""
        if self.status == 401:
            hint = " (give a valid API token with --token-file, --token or FLEETLINE_TOKEN)"
        elif self.status == 403:
            hint = " (ask an admin for a token with the role or scope named above)"
        return f"{self.message} [{what}]{hint}"


def exit_code_for_status(status: int) -> int:
    """The exit code of a hub answer with HTTP `status` (>= 400)."""
    if status in (401, 403):
        return REFUSED
    if status in (400, 422):
        return USAGE
    if status in (502, 503, 504):
        return UNREACHABLE
    return FAILED
