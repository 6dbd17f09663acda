"""Push webhooks for the fleet repository: HMAC-SHA256 signature checks (GitHub's `X-Hub-Signature-256`, and the
generic `X-Fleetline-Signature` any CI can send), push payload parsing, and the aiohttp route
`POST /api/v1/webhooks/git`, which hands each verified push to `on_push` (usually `SourceWatcher.on_push`).

A webhook only makes the hub fetch sooner: what is deployed is always what the fetch finds in the repository,
never what a payload claims, so a payload is trusted for nothing but its signature.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from urllib.parse import parse_qs

from aiohttp import web

from hub.source.metrics import SourceMetrics
from hub.source.redact import kv, redact

log = logging.getLogger(__name__)

WEBHOOK_PATH = "/api/v1/webhooks/git"
GITHUB_HEADER = "X-Hub-Signature-256"
GENERIC_HEADER = "X-Fleetline-Signature"
MAX_BODY = 25 * 1024 * 1024  # GitHub caps payloads at 25 MB
_SHA = re.compile(r"^[0-9a-fA-F]{40}([0-9a-fA-F]{24})?$")
_URL_KEYS = ("clone_url", "ssh_url", "git_url", "html_url", "url", "svn_url", "git_http_url", "git_ssh_url")
OnPush = Callable[["PushNotice"], Awaitable[None]]


class PayloadError(ValueError):
    """A webhook body that is not a push notice we can read (the message says what was expected)."""


@dataclass(frozen=True)
class PushNotice:
    """A verified push: the ref it moved, the commit it moved to (None when the sender did not say), the
    repository's URLs as the sender knows them, and whether the ref was deleted."""

    ref: str
    after_sha: str | None
    repository_urls: tuple[str, ...] = ()
    deleted: bool = False


def sign(body: bytes, secret: bytes) -> str:
    """The signature header value for `body`: `sha256=<hex HMAC-SHA256 keyed with secret>`."""
    return "sha256=" + hmac.new(secret, body, hashlib.sha256).hexdigest()


def verify_signature(body: bytes, header: str | None, secret: bytes) -> bool:
    """Whether `header` is `sha256=<hex>` and the hex is the HMAC-SHA256 of `body` under `secret` (compared in
    constant time). An empty secret verifies nothing."""
    if not header or not secret:
        return False
    scheme, _, digest = header.strip().partition("=")
    if scheme.strip().lower() != "sha256" or not digest:
        return False
    expected = hmac.new(secret, body, hashlib.sha256).hexdigest().encode()
    return hmac.compare_digest(expected, digest.strip().lower().encode("utf-8", "replace"))


def verify_github(body: bytes, header: str | None, secret: bytes) -> bool:
    """GitHub's `X-Hub-Signature-256` header (`sha256=<hex>`) for `body`."""
    return verify_signature(body, header, secret)


def verify_generic(body: bytes, header: str | None, secret: bytes) -> bool:
    """The generic `X-Fleetline-Signature` header (`sha256=<hex>`, HMAC-SHA256 of the body)."""
    return verify_signature(body, header, secret)


def parse_push(body: bytes, content_type: str | None = None) -> PushNotice:
    """The push a body announces: a GitHub push event (JSON, or form-encoded with a `payload` field), or the
    generic `{"ref": "refs/heads/main", "after": "<sha>"}`. PayloadError says what is wrong."""
    if content_type == "application/x-www-form-urlencoded":
        try:
            fields = parse_qs(body.decode("utf-8"), strict_parsing=True)
        except (UnicodeDecodeError, ValueError):
            raise PayloadError("the form-encoded body cannot be read; expected payload=<JSON>") from None
        if "payload" not in fields:
            raise PayloadError("the form-encoded body has no 'payload' field; expected payload=<JSON>")
        body = fields["payload"][0].encode("utf-8")
    try:
        payload = json.loads(body)
    except (UnicodeDecodeError, ValueError) as exc:
        raise PayloadError(f"the body is not JSON ({exc}); expected a push event such as "
                           '{"ref": "refs/heads/main", "after": "<sha>"}') from None
    if not isinstance(payload, dict):
        raise PayloadError(f"expected a JSON object, found {type(payload).__name__}")
    ref = payload.get("ref")
    if not isinstance(ref, str) or not ref.strip():
        raise PayloadError("field 'ref' is missing or not a string; expected for example \"refs/heads/main\"")
    after = payload.get("after")
    if after is not None and (not isinstance(after, str) or not _SHA.match(after)):
        raise PayloadError(f"field 'after' must be a commit sha (40 or 64 hex digits), found {after!r}")
    deleted = payload.get("deleted") is True or (after is not None and set(after) == {"0"})
    return PushNotice(ref=ref.strip(), after_sha=None if after is None or deleted else after.lower(),
                      repository_urls=_repository_urls(payload.get("repository")), deleted=deleted)


def _repository_urls(repository: object) -> tuple[str, ...]:
    if isinstance(repository, str):
        return (redact(repository),)
    if not isinstance(repository, dict):
        return ()
    urls = [repository.get(key) for key in _URL_KEYS]
    return tuple(dict.fromkeys(redact(url) for url in urls if isinstance(url, str) and url))


def webhook_routes(secret: bytes, on_push: OnPush, *, metrics: SourceMetrics | None = None,
                   max_body: int = MAX_BODY, path: str = WEBHOOK_PATH) -> list[web.RouteDef]:
    """The route `POST path` for push webhooks signed with `secret`: 401 for a missing or bad signature, 400 for
    an unreadable payload, 413 above `max_body` bytes, 200 for GitHub `ping` (and for events other than `push`,
    ignored), 202 once `on_push` has taken the notice. Every answer is JSON; refusals are counted in
    `fleetline_hub_source_webhooks_total{result}` and logged without the body."""
    if not isinstance(secret, bytes) or not secret:
        raise ValueError("the webhook secret is empty: set one (the same in the Git host's webhook settings)")
    counters = metrics if metrics is not None else SourceMetrics()

    def answer(result: str, code: int, request: web.Request, **body: object) -> web.Response:
        counters.webhooks.labels(result).inc()
        if code >= 400:
            log.warning(kv(event="webhook_refused", result=result, status=code, peer=request.remote,
                           error=body.get("error")))
        return web.json_response(body, status=code)

    async def handle(request: web.Request) -> web.Response:
        body = await _read_body(request, max_body)
        if body is None:
            return answer("too_large", 413, request, error=f"payload larger than {max_body} bytes")
        header_name = GITHUB_HEADER if GITHUB_HEADER in request.headers else GENERIC_HEADER
        header = request.headers.get(header_name)
        if header is None:
            return answer("missing_signature", 401, request, error=(
                f"missing signature: send {GITHUB_HEADER} (on GitHub, set the webhook's secret) or "
                f"{GENERIC_HEADER}: sha256=<hex HMAC-SHA256 of the body with the shared secret>"))
        if not verify_signature(body, header, secret):
            return answer("bad_signature", 401, request, error=(
                f"{header_name} does not match the body: the secret differs from the hub's, or the body was "
                "changed on the way (expected sha256=<hex HMAC-SHA256 of the body>)"))
        event = request.headers.get("X-GitHub-Event")
        if event == "ping":
            return answer("ping", 200, request, status="pong")
        if event is not None and event != "push":
            return answer("ignored", 200, request, status="ignored", event=event,
                          reason="only push events make the hub fetch")
        try:
            notice = parse_push(body, request.content_type)
        except PayloadError as exc:
            return answer("bad_payload", 400, request, error=str(exc))
        try:
            await on_push(notice)
        except Exception:  # noqa: BLE001 - report a failure to the sender instead of dropping the connection
            log.error(kv(event="webhook_handler_failed", ref=notice.ref), exc_info=True)
            return answer("error", 500, request, error="the hub could not take the push notice; see the hub's log")
        log.info(kv(event="webhook_push", ref=notice.ref, after=notice.after_sha, peer=request.remote))
        return answer("accepted", 202, request, status="accepted", ref=notice.ref, after=notice.after_sha)

    return [web.post(path, handle)]


async def _read_body(request: web.Request, limit: int) -> bytes | None:
    """The whole body, or None when it is larger than `limit` bytes."""
    if request.content_length is not None and request.content_length > limit:
        return None
    chunks, size = [], 0
    async for chunk in request.content.iter_any():
        size += len(chunk)
        if size > limit:
            return None
        chunks.append(chunk)
    return b"".join(chunks)
