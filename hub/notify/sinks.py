"""The sinks: what a notification looks like on the wire for each sink type, and one HTTP attempt to send it.

Slack-compatible incoming webhooks get `{"text": ..., "blocks": [...]}` (a header with the title, a mrkdwn section
with the text, a context line with cluster, region, environment, application and revision, and the link when one
is configured); values put into mrkdwn are escaped (`&`, `<`, `>`) so that an agent's message cannot inject
markup. The generic webhook gets every field as JSON plus the trigger's `details`, signed when a secret is
configured: `X-Fleetline-Signature: sha256=<hex HMAC-SHA256 of the body>`. Every request carries
`X-Fleetline-Delivery: <id>`, the same id on every retry, so that a receiver can drop a repeat.

`post` makes one attempt and classifies it: 2xx sent; 408, 429, 5xx, a timeout or a connection error retry (with
the server's Retry-After when it gives one); any other answer (including a redirect, which is never followed) is
a rejection, not retried. It never logs or returns the URL, which may carry a token.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

import aiohttp

from hub.notify.config import SLACK, MessageTemplate, Sink
from hub.notify.templates import Template
from hub.notify.triggers import Notification

SIGNATURE_HEADER = "X-Fleetline-Signature"
DELIVERY_HEADER = "X-Fleetline-Delivery"
_SHA = re.compile(r"^[0-9a-f]{8,64}$")
_SLACK_HEADER_MAX = 150  # characters of a header block's plain text
_SLACK_SECTION_MAX = 3000  # characters of a section block's text
SENT, RETRY, REJECTED = "sent", "retry", "rejected"


def short_revision(revision: str) -> str:
    return revision[:7] if _SHA.match(revision) else revision


def field_values(notification: Notification, link: Template | None) -> dict[str, str]:
    """The template fields of a notification (every name of templates.FIELDS but `title`)."""
    at = notification.occurred_at
    values = {"trigger": notification.trigger, "cluster": notification.cluster, "region": notification.region,
              "environment": notification.environment, "application": notification.application,
              "revision": notification.revision, "revision_short": short_revision(notification.revision),
              "message": notification.message,
              "time": datetime.fromtimestamp(at, UTC).strftime("%Y-%m-%d %H:%M:%S UTC") if at else ""}
    values["url"] = link.render(values) if link is not None else ""
    return values


def slack_escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[:limit - 1] + "…"


def slack_body(sink: Sink, notification: Notification, template: MessageTemplate, link: Template | None) -> dict:
    """The JSON body of a Slack-compatible incoming webhook."""
    values = field_values(notification, link)
    title = template.title.render(values)
    text = template.text.render({**values, "title": title}, escape=slack_escape)
    context = [f"*{name}* {slack_escape(values[key])}" for name, key in
               (("cluster", "cluster"), ("region", "region"), ("environment", "environment"),
                ("application", "application"), ("revision", "revision_short")) if values[key]]
    if values["url"]:
        context.append(f"<{values['url']}|open in Fleetline>")
    blocks: list[dict] = [
        {"type": "header", "text": {"type": "plain_text", "text": _clip(title, _SLACK_HEADER_MAX), "emoji": True}},
        {"type": "section", "text": {"type": "mrkdwn", "text": _clip(text, _SLACK_SECTION_MAX)}}]
    if context:
        blocks.append({"type": "context", "elements": [{"type": "mrkdwn", "text": "  ·  ".join(context)}]})
    body: dict = {"text": _clip(f"*{slack_escape(title)}*\n{text}", _SLACK_SECTION_MAX), "blocks": blocks}
    if sink.channel:
        body["channel"] = sink.channel
    if sink.username:
        body["username"] = sink.username
    return body


def webhook_body(notification: Notification, template: MessageTemplate, link: Template | None,
                 delivery_id: str) -> dict:
    """The JSON body of the generic webhook: every field, the rendered title and text, and the details."""
    values = field_values(notification, link)
    title = template.title.render(values)
    return {"id": delivery_id, "trigger": notification.trigger, "title": title,
            "text": template.text.render({**values, "title": title}), "cluster": notification.cluster,
            "region": notification.region, "regions": list(notification.all_regions()),
            "environment": notification.environment, "application": notification.application,
            "revision": notification.revision, "message": notification.message, "url": values["url"],
            "occurredAt": values["time"] and datetime.fromtimestamp(notification.occurred_at, UTC).isoformat(),
            "details": notification.details}


def render_body(sink: Sink, notification: Notification, template: MessageTemplate, link: Template | None,
                delivery_id: str) -> bytes:
    """The bytes to POST to `sink` (what is stored, and re-sent unchanged on every retry)."""
    if sink.type == SLACK:
        body = slack_body(sink, notification, template, link)
    else:
        body = webhook_body(notification, template, link, delivery_id)
    return json.dumps(body, ensure_ascii=False, sort_keys=True, default=str).encode("utf-8")


def signature(secret: bytes, body: bytes) -> str:
    """The value of the signature header: `sha256=` and the hex HMAC-SHA256 of the body keyed with `secret`."""
    return "sha256=" + hmac.new(secret, body, hashlib.sha256).hexdigest()


@dataclass(frozen=True)
class Outcome:
    """One attempt: `result` is sent, retry or rejected; `status` the HTTP status (0: none); `retry_after` the
    server's Retry-After in seconds, when it gave one; `reason` in words, for the log."""

    result: str
    status: int = 0
    retry_after: float | None = None
    reason: str = ""


def _retry_after(value: str | None) -> float | None:
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        moment = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return max(0.0, (moment - datetime.now(UTC)).total_seconds())


async def post(session: aiohttp.ClientSession, sink: Sink, body: bytes, delivery_id: str,
               timeout: float) -> Outcome:
    """POST `body` to the sink once and classify the answer (see the module docstring)."""
    headers = {**sink.headers, "Content-Type": "application/json", DELIVERY_HEADER: delivery_id}
    if sink.secret:
        headers[SIGNATURE_HEADER] = signature(sink.secret, body)
    try:
        async with session.post(sink.url, data=body, headers=headers, allow_redirects=False,
                                timeout=aiohttp.ClientTimeout(total=timeout)) as response:
            status = response.status
            text = (await response.text(errors="replace"))[:200] if status >= 300 else ""
            retry_after = _retry_after(response.headers.get("Retry-After"))
    except TimeoutError:
        return Outcome(RETRY, reason=f"no answer within {timeout:g}s")
    except aiohttp.ClientError as exc:
        return Outcome(RETRY, reason=f"{type(exc).__name__}: {_without_url(str(exc), sink.url)}")
    except OSError as exc:
        return Outcome(RETRY, reason=f"{type(exc).__name__}: {exc.strerror or exc}")
    if 200 <= status < 300:
        return Outcome(SENT, status)
    if status in (408, 429) or status >= 500:
        return Outcome(RETRY, status, retry_after, f"HTTP {status} {text}".strip())
    hint = " (redirects are not followed: configure the final URL)" if 300 <= status < 400 else ""
    return Outcome(REJECTED, status, None, f"HTTP {status}{hint} {text}".strip())


def _without_url(text: str, url: str) -> str:
    """An error message with the sink's URL (and its path, which may be a token) cut out."""
    if url and url in text:
        text = text.replace(url, "<url>")
    path = url.split("://", 1)[-1].partition("/")[2]
    return text.replace(path, "<path>") if path else text
