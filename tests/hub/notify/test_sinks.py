"""The sinks' bodies (Slack blocks, the generic webhook's JSON and its HMAC signature) and how one HTTP attempt
is classified, against a real local receiver."""

from __future__ import annotations

import dataclasses
import hashlib
import hmac
import json
from pathlib import Path

import aiohttp

from hub.notify.sinks import DELIVERY_HEADER, REJECTED, RETRY, SENT, SIGNATURE_HEADER, post, render_body
from hub.notify.templates import Template
from hub.notify.triggers import Notification

from .conftest import Receiver, free_port, make_config

REV = "4f2a9c1e0b7d4c3a2f1e0d9c8b7a6f5e4d3c2b1a"


def failed_sync() -> Notification:
    return Notification("on-sync-failed", "eu-prod-1", "eu", "prod", "inference", REV,
                        "Deployment/inference <invalid> & refused", details={"result": {"phase": "Failed"}},
                        occurred_at=1_767_225_600.0)


def test_slack_body_has_text_and_simple_blocks(tmp_path: Path) -> None:
    config = make_config("https://hooks.example.com/T/B/X", tmp_path, sink_type="slack",
                         extra={"channel": "#fleet", "username": "fleetline"})
    config = dataclasses.replace(config, link=Template.parse("https://fleet.example.com/{cluster}/{application}"))
    body = json.loads(render_body(config.sinks["hook"], failed_sync(), config.templates["on-sync-failed"],
                                  config.link, "d1"))
    assert set(body) == {"text", "blocks", "channel", "username"}
    assert body["channel"] == "#fleet" and body["username"] == "fleetline"
    assert body["text"].startswith("*Sync failed: inference on eu-prod-1*\n")
    # values are escaped for mrkdwn; the template's own markup is not
    assert "&lt;invalid&gt; &amp; refused" in body["text"] and "<invalid>" not in body["text"]
    header, section, context = body["blocks"]
    assert header == {"type": "header", "text": {"type": "plain_text", "text": "Sync failed: inference on eu-prod-1",
                                                 "emoji": True}}
    assert section["type"] == "section" and section["text"]["type"] == "mrkdwn"
    assert "at 4f2a9c1 failed on eu-prod-1 (region eu, environment prod)" in section["text"]["text"]
    assert context["type"] == "context"
    line = context["elements"][0]["text"]
    assert "*cluster* eu-prod-1" in line and "*revision* 4f2a9c1" in line
    assert "<https://fleet.example.com/eu-prod-1/inference|open in Fleetline>" in line


def test_slack_text_is_clipped_to_slack_limits(tmp_path: Path) -> None:
    config = make_config("https://hooks.example.com/x", tmp_path, sink_type="slack")
    long = Notification("on-sync-failed", "c", "eu", "prod", "a" * 200, REV, "m" * 5000)
    body = json.loads(render_body(config.sinks["hook"], long, config.templates["on-sync-failed"], None, "d"))
    assert len(body["blocks"][0]["text"]["text"]) <= 150
    assert len(body["blocks"][1]["text"]["text"]) <= 3000 and len(body["text"]) <= 3000


async def test_webhook_body_and_hmac_signature(tmp_path: Path, receiver: Receiver) -> None:
    (tmp_path / "secret").write_text("k3y\n")
    config = make_config(receiver.url, tmp_path, extra={"secretFile": "secret", "headers": {"X-Team": "ml"}})
    sink = config.sinks["hook"]
    body = render_body(sink, failed_sync(), config.templates["on-sync-failed"], None, "delivery-1")
    async with aiohttp.ClientSession() as session:
        outcome = await post(session, sink, body, "delivery-1", timeout=2)
    assert outcome.result == SENT and outcome.status == 200
    [request] = receiver.requests
    assert request.headers["X-Team"] == "ml" and request.headers[DELIVERY_HEADER] == "delivery-1"
    expected = "sha256=" + hmac.new(b"k3y", request.body, hashlib.sha256).hexdigest()
    assert request.headers[SIGNATURE_HEADER] == expected
    sent = request.json
    assert sent["id"] == "delivery-1" and sent["trigger"] == "on-sync-failed"
    assert (sent["cluster"], sent["region"], sent["environment"], sent["application"], sent["revision"]) == (
        "eu-prod-1", "eu", "prod", "inference", REV)
    assert sent["message"] == "Deployment/inference <invalid> & refused"  # no Slack escaping in JSON
    assert sent["title"] == "Sync failed: inference on eu-prod-1" and sent["details"] == {"result": {"phase": "Failed"}}
    assert sent["occurredAt"] == "2026-01-01T00:00:00+00:00"


async def test_unsigned_webhook_has_no_signature(tmp_path: Path, receiver: Receiver) -> None:
    config = make_config(receiver.url, tmp_path)
    async with aiohttp.ClientSession() as session:
        await post(session, config.sinks["hook"], b"{}", "d", timeout=2)
    assert SIGNATURE_HEADER not in receiver.requests[0].headers


async def test_attempts_are_classified(tmp_path: Path, receiver: Receiver) -> None:
    config = make_config(receiver.url, tmp_path)
    sink = config.sinks["hook"]
    receiver.statuses = [500, 503, 429, 408, 400, 404, 302]
    receiver.retry_after = "7"
    async with aiohttp.ClientSession() as session:
        results = [await post(session, sink, b"{}", "d", timeout=2) for _ in range(7)]
        assert [r.result for r in results] == [RETRY, RETRY, RETRY, RETRY, REJECTED, REJECTED, REJECTED]
        assert results[2].retry_after == 7.0
        assert "redirects are not followed" in results[6].reason
        down = make_config(f"http://127.0.0.1:{free_port()}/hook/TOKEN123", tmp_path).sinks["hook"]
        refused = await post(session, down, b"{}", "d", timeout=2)
    assert refused.result == RETRY and "TOKEN123" not in refused.reason
