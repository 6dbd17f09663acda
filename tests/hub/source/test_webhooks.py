"""Push webhooks: HMAC signature checks, payload parsing, and POST /api/v1/webhooks/git over real HTTP."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path
from urllib.parse import urlencode

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from hub.source import (
    GitMirror,
    PushNotice,
    SourceMetrics,
    SourceWatcher,
    parse_push,
    verify_generic,
    verify_github,
    webhook_routes,
)
from hub.source.webhooks import PayloadError, sign
from tests.hub.source.helpers import Remote, wait_until

SECRET = b"webhook-shared-secret"
SHA = "9fceb02d0ae598e95dc970b74767f19372d61af8"
GITHUB_PUSH = {"ref": "refs/heads/main", "before": "0" * 40, "after": SHA, "deleted": False,
               "repository": {"full_name": "acme/fleet", "clone_url": "https://github.com/acme/fleet.git",
                              "ssh_url": "git@github.com:acme/fleet.git", "html_url": "https://github.com/acme/fleet"},
               "pusher": {"name": "ada"}}


def test_github_signature() -> None:
    body = json.dumps(GITHUB_PUSH).encode()
    header = sign(body, SECRET)
    assert header.startswith("sha256=") and len(header) == 7 + 64
    assert verify_github(body, header, SECRET)
    assert verify_github(body, header.upper().replace("SHA256=", "sha256="), SECRET)  # hex case does not matter
    assert not verify_github(body + b" ", header, SECRET)
    assert not verify_github(body, header, b"another secret")
    assert not verify_github(body, None, SECRET)
    assert not verify_github(body, "", SECRET)
    assert not verify_github(body, "sha1=" + header[7:], SECRET)
    assert not verify_github(body, "sha256=zz\u00e9", SECRET)
    assert not verify_github(body, header, b"")  # an empty secret verifies nothing


def test_generic_signature() -> None:
    body = b'{"ref": "refs/heads/main"}'
    assert verify_generic(body, sign(body, SECRET), SECRET)
    assert not verify_generic(body, sign(body, b"x"), SECRET)


def test_parse_github_push_and_the_generic_form() -> None:
    notice = parse_push(json.dumps(GITHUB_PUSH).encode())
    assert notice == PushNotice("refs/heads/main", SHA, ("https://github.com/acme/fleet.git",
                                                         "git@github.com:acme/fleet.git",
                                                         "https://github.com/acme/fleet"), False)
    assert parse_push(b'{"ref": "refs/tags/v1", "after": "' + SHA.upper().encode() + b'"}') == \
        PushNotice("refs/tags/v1", SHA)
    assert parse_push(b'{"ref": "main"}') == PushNotice("main", None)
    deleted = parse_push(json.dumps({**GITHUB_PUSH, "after": "0" * 40, "deleted": True}).encode())
    assert deleted.deleted and deleted.after_sha is None
    form = urlencode({"payload": json.dumps(GITHUB_PUSH)}).encode()
    assert parse_push(form, "application/x-www-form-urlencoded").after_sha == SHA


@pytest.mark.parametrize(("body", "problem"), [
    (b"not json", "not JSON"),
    (b"[1, 2]", "expected a JSON object"),
    (b'{"after": "' + SHA.encode() + b'"}', "field 'ref' is missing"),
    (b'{"ref": "refs/heads/main", "after": "HEAD"}', "field 'after' must be a commit sha"),
    (b"\xff\xfe", "not JSON"),
])
def test_unreadable_payloads_say_what_was_expected(body: bytes, problem: str) -> None:
    with pytest.raises(PayloadError, match=problem):
        parse_push(body)


class Pushes:
    """on_push that records notices."""

    def __init__(self) -> None:
        self.notices: list[PushNotice] = []
        self.fail = False

    async def __call__(self, notice: PushNotice) -> None:
        if self.fail:
            raise RuntimeError("queue full")
        self.notices.append(notice)


@pytest.fixture
def pushes() -> Pushes:
    return Pushes()


@pytest.fixture
def metrics() -> SourceMetrics:
    return SourceMetrics()


@pytest.fixture
async def client(pushes: Pushes, metrics: SourceMetrics) -> AsyncIterator[TestClient]:
    app = web.Application()
    app.add_routes(webhook_routes(SECRET, pushes, metrics=metrics, max_body=64 * 1024))
    async with TestClient(TestServer(app)) as test_client:
        yield test_client


def count(metrics: SourceMetrics, result: str) -> float:
    return metrics.registry.get_sample_value("fleetline_hub_source_webhooks_total", {"result": result}) or 0


async def post(client: TestClient, body: bytes, headers: dict[str, str]) -> tuple[int, dict[str, object]]:
    response = await client.post("/api/v1/webhooks/git", data=body, headers=headers)
    return response.status, await response.json()


async def test_a_signed_github_push_is_accepted(client: TestClient, pushes: Pushes, metrics: SourceMetrics) -> None:
    body = json.dumps(GITHUB_PUSH).encode()
    status, answer = await post(client, body, {"X-Hub-Signature-256": sign(body, SECRET), "X-GitHub-Event": "push",
                                               "Content-Type": "application/json"})
    assert (status, answer) == (202, {"status": "accepted", "ref": "refs/heads/main", "after": SHA})
    assert [n.after_sha for n in pushes.notices] == [SHA]
    assert count(metrics, "accepted") == 1


async def test_a_generic_signed_push_is_accepted(client: TestClient, pushes: Pushes) -> None:
    body = b'{"ref": "refs/heads/develop", "after": "' + SHA.encode() + b'"}'
    status, _ = await post(client, body, {"X-Fleetline-Signature": sign(body, SECRET)})
    assert status == 202 and pushes.notices == [PushNotice("refs/heads/develop", SHA)]


async def test_missing_and_bad_signatures_get_401(client: TestClient, pushes: Pushes,
                                                  metrics: SourceMetrics) -> None:
    body = json.dumps(GITHUB_PUSH).encode()
    status, answer = await post(client, body, {"X-GitHub-Event": "push"})
    assert status == 401 and "missing signature" in str(answer["error"])
    status, answer = await post(client, body, {"X-Hub-Signature-256": sign(body, b"wrong secret")})
    assert status == 401 and "X-Hub-Signature-256 does not match the body" in str(answer["error"])
    status, answer = await post(client, body, {"X-Fleetline-Signature": sign(b"other body", SECRET)})
    assert status == 401 and "X-Fleetline-Signature does not match" in str(answer["error"])
    assert pushes.notices == []
    assert (count(metrics, "missing_signature"), count(metrics, "bad_signature")) == (1, 2)


async def test_ping_other_events_bad_payloads_and_large_bodies(client: TestClient, pushes: Pushes,
                                                               metrics: SourceMetrics) -> None:
    ping = b'{"zen": "Keep it logically awesome.", "hook_id": 1}'
    status, answer = await post(client, ping, {"X-Hub-Signature-256": sign(ping, SECRET), "X-GitHub-Event": "ping"})
    assert (status, answer) == (200, {"status": "pong"})
    issue = b'{"action": "opened"}'
    status, answer = await post(client, issue, {"X-Hub-Signature-256": sign(issue, SECRET),
                                                "X-GitHub-Event": "issues"})
    assert status == 200 and answer["status"] == "ignored"
    garbage = b"{not json"
    status, answer = await post(client, garbage, {"X-Fleetline-Signature": sign(garbage, SECRET)})
    assert status == 400 and "not JSON" in str(answer["error"])
    huge = b" " * (65 * 1024)
    status, _ = await post(client, huge, {"X-Fleetline-Signature": sign(huge, SECRET)})
    assert status == 413
    assert pushes.notices == []
    assert [count(metrics, r) for r in ("ping", "ignored", "bad_payload", "too_large")] == [1, 1, 1, 1]


async def test_a_failing_handler_answers_500(client: TestClient, pushes: Pushes, metrics: SourceMetrics) -> None:
    pushes.fail = True
    body = b'{"ref": "refs/heads/main"}'
    status, answer = await post(client, body, {"X-Fleetline-Signature": sign(body, SECRET)})
    assert status == 500 and "could not take the push notice" in str(answer["error"])
    assert count(metrics, "error") == 1


def test_an_empty_secret_is_refused() -> None:
    with pytest.raises(ValueError, match="webhook secret is empty"):
        webhook_routes(b"", Pushes())


async def test_a_webhook_makes_the_watcher_fetch_at_once(tmp_path: Path, remote: Remote) -> None:
    delivered: list[tuple[str, str]] = []

    async def on_revision(name: str, sha: str) -> None:
        delivered.append((name, sha))

    watcher = SourceWatcher(GitMirror(tmp_path / "data", str(remote.path)), {"prod": "main"}, on_revision,
                            interval=600)
    app = web.Application()
    app.add_routes(webhook_routes(SECRET, watcher.on_push))
    await watcher.start()
    try:
        async with TestClient(TestServer(app)) as test_client:
            await wait_until(lambda: len(delivered) == 1)
            sha = remote.commit({"apps/web/deploy.yaml": "replicas: 5\n"}, "scale web")
            body = json.dumps({**GITHUB_PUSH, "after": sha}).encode()
            status, _ = await post(test_client, body, {"X-Hub-Signature-256": sign(body, SECRET),
                                                       "X-GitHub-Event": "push"})
            assert status == 202
            await wait_until(lambda: ("prod", sha) in delivered, what="the pushed commit")
    finally:
        await watcher.stop()
