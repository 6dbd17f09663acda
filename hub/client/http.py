"""`HubClient`: the hub's REST API (`/api/v1`, see docs/cli.md and the API's openapi.json) as async methods.

Owns HTTP only: the bearer token on every call, JSON in and out, the Server-Sent Events stream, and turning
every failure into a ClientError that says what happened and what to do (ApiError with the hub's own message
and reason, HubUnreachable, UnexpectedAnswer). Presenting the answers is the commands' business.
"""

from __future__ import annotations

import json
import ssl
from collections.abc import AsyncIterator, Callable, Mapping
from typing import Any
from urllib.parse import quote

import aiohttp

from hub.client.connection import HubTarget
from hub.client.errors import ApiError, HubUnreachable, UnexpectedAnswer, UsageError
from hub.client.sse import SseEvent, SseParser, split_lines

USER_AGENT = "fleetline-cli/0.1"
DEFAULT_REQUEST_TIMEOUT = 30.0
# The hub sends a keep-alive comment every 15 s: three missed ones mean the stream is dead.
STREAM_TIMEOUT = aiohttp.ClientTimeout(total=None, sock_connect=10, sock_read=45)


def segment(name: str) -> str:
    """`name` quoted as one path segment."""
    return quote(name, safe="")


class HubClient:
    """An open connection pool to one hub; use as `async with HubClient(target) as client:`."""

    def __init__(self, target: HubTarget, *, request_timeout: float = DEFAULT_REQUEST_TIMEOUT) -> None:
        self.target = target
        self.request_timeout = request_timeout
        self._session: aiohttp.ClientSession | None = None

    async def __aenter__(self) -> HubClient:
        connector = aiohttp.TCPConnector(ssl=self._ssl_context())
        self._session = aiohttp.ClientSession(
            connector=connector, timeout=aiohttp.ClientTimeout(total=self.request_timeout),
            headers={"Authorization": f"Bearer {self.target.token}", "User-Agent": USER_AGENT})
        return self

    async def __aexit__(self, *_: object) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    def _ssl_context(self) -> ssl.SSLContext | bool:
        if not self.target.ca_file:
            return True
        try:
            return ssl.create_default_context(cafile=self.target.ca_file)
        except (OSError, ssl.SSLError) as exc:
            raise UsageError(f"--ca {self.target.ca_file}: not a readable PEM CA certificate ({exc})") from None

    @property
    def session(self) -> aiohttp.ClientSession:
        if self._session is None:
            raise RuntimeError("HubClient used outside `async with`")
        return self._session

    # ---- transport ---------------------------------------------------------------------------------------

    async def request(self, method: str, path: str, *, params: Mapping[str, object] | None = None,
                      body: object = None, text: bool = False) -> Any:
        """Call `path` (under the hub's URL); the JSON answer (or the text with `text=True`)."""
        query = {key: str(value) for key, value in (params or {}).items() if value not in (None, "")}
        try:
            async with self.session.request(method, self.target.url + path, params=query,
                                            json=body if body is not None else None) as response:
                payload = await response.read()
                status, content_type = response.status, response.content_type
        except (TimeoutError, aiohttp.ClientError) as exc:
            raise self.unreachable(exc) from None
        if status >= 400:
            raise api_error(method, path, status, content_type, payload)
        if text:
            return payload.decode("utf-8", errors="replace")
        return self._json(method, path, content_type, payload)

    def _json(self, method: str, path: str, content_type: str, payload: bytes) -> Any:
        if content_type == "application/json":
            try:
                return json.loads(payload)
            except ValueError:
                pass
        raise UnexpectedAnswer(f"{method} {path}: the hub at {self.target.url} answered {content_type or 'nothing'}, "
                               "not the API's JSON; is --hub/FLEETLINE_HUB the hub's API address?")

    def unreachable(self, exc: BaseException) -> HubUnreachable:
        """The HubUnreachable that `exc`, raised while calling the hub, means."""
        url = self.target.url
        if isinstance(exc, aiohttp.ClientSSLError):
            return HubUnreachable(f"TLS with the hub at {url} failed ({exc}); if its certificate comes from a "
                                  "private CA, give it with --ca FILE")
        if isinstance(exc, TimeoutError):
            return HubUnreachable(f"the hub at {url} did not answer within {self.request_timeout:g} s")
        return HubUnreachable(f"cannot reach the hub at {url} ({exc or type(exc).__name__}); is it running, and "
                              "is --hub/FLEETLINE_HUB right?")

    async def events(self, on_open: Callable[[], None] | None = None) -> AsyncIterator[SseEvent]:
        """The hub's Server-Sent Events (`GET /api/v1/events`) until the stream ends; `on_open` is called once
        the hub has accepted the stream."""
        path = "/api/v1/events"
        try:
            async with self.session.get(self.target.url + path, headers={"Accept": "text/event-stream"},
                                        timeout=STREAM_TIMEOUT) as response:
                if response.status >= 400:
                    raise api_error("GET", path, response.status, response.content_type, await response.read())
                if response.content_type != "text/event-stream":
                    raise UnexpectedAnswer(f"GET {path}: the hub answered {response.content_type}, not an event "
                                           "stream")
                if on_open is not None:
                    on_open()
                parser, buffer = SseParser(), b""
                async for chunk in response.content.iter_any():
                    lines, buffer = split_lines(buffer, chunk)
                    for line in lines:
                        event = parser.feed(line)
                        if event is not None:
                            yield event
        except (TimeoutError, aiohttp.ClientError) as exc:
            raise self.unreachable(exc) from None

    # ---- the API -----------------------------------------------------------------------------------------

    async def fleet(self) -> dict:
        return await self.request("GET", "/api/v1/fleet")

    async def cluster(self, cluster: str) -> dict:
        return await self.request("GET", f"/api/v1/clusters/{segment(cluster)}")

    async def application(self, cluster: str, app: str) -> dict:
        return await self.request("GET", f"/api/v1/clusters/{segment(cluster)}/applications/{segment(app)}")

    async def diff(self, cluster: str, app: str) -> dict:
        return await self.request("GET", f"/api/v1/clusters/{segment(cluster)}/applications/{segment(app)}/diff")

    async def history(self, cluster: str, app: str) -> dict:
        return await self.request("GET",
                                  f"/api/v1/clusters/{segment(cluster)}/applications/{segment(app)}/history")

    async def sync(self, cluster: str, app: str, revision: str | None = None, prune: bool = False) -> dict:
        body: dict[str, object] = {"prune": prune}
        if revision:
            body["revision"] = revision
        return await self.request("POST", f"/api/v1/clusters/{segment(cluster)}/applications/{segment(app)}/sync",
                                  body=body)

    async def approvals(self) -> dict:
        return await self.request("GET", "/api/v1/approvals")

    async def approve(self, environment: str, application: str, revision: str, region: str | None = None) -> dict:
        body = {"environment": environment, "application": application, "revision": revision}
        if region:
            body["region"] = region
        return await self.request("POST", "/api/v1/approvals", body=body)

    async def rollouts(self) -> dict:
        return await self.request("GET", "/api/v1/rollouts")

    async def rollout_action(self, environment: str, app: str, action: str) -> dict:
        """`action` is `resume` or `abort`."""
        return await self.request("POST", f"/api/v1/rollouts/{segment(environment)}/{segment(app)}/{action}",
                                  body={})

    async def rollback(self, application: str, reason: str, *, cluster: str | None = None,
                       environment: str | None = None) -> dict:
        body = {"application": application, "reason": reason}
        body.update({"cluster": cluster} if cluster else {"environment": environment or ""})
        return await self.request("POST", "/api/v1/rollback", body=body)

    async def promote(self, body: Mapping[str, str]) -> dict:
        return await self.request("POST", "/api/v1/promote", body=dict(body))

    async def audit(self, **params: object) -> dict:
        return await self.request("GET", "/api/v1/audit", params=params)

    async def audit_verify(self) -> dict:
        return await self.request("GET", "/api/v1/audit/verify")

    async def audit_report(self, fmt: str, **params: object) -> Any:
        """The report: a dict for `json`, the text for `csv` and `html`."""
        return await self.request("GET", "/api/v1/audit/report", params={**params, "format": fmt},
                                  text=fmt != "json")


def api_error(method: str, path: str, status: int, content_type: str, payload: bytes) -> ApiError:
    """The ApiError of an error answer: the hub's `error` and `reason`, else what the body says."""
    message, reason = "", ""
    if content_type == "application/json":
        try:
            body = json.loads(payload)
        except ValueError:
            body = None
        if isinstance(body, dict):
            message, reason = str(body.get("error") or ""), str(body.get("reason") or "")
    if not message:
        text = payload.decode("utf-8", errors="replace").strip()
        message = " ".join(text.split())[:200] or "the hub gave no reason"
    return ApiError(status, message, reason, method, path)
