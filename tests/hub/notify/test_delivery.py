"""The Notifier end to end against a real local receiver: once per key, through outages and restarts, retried
with backoff, never blocking its caller, bounded, and measured."""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path

from prometheus_client import generate_latest

from fleetline.wire import fleet_pb2
from hub.notify import Notifier, parse_config
from hub.notify.config import NotificationsConfig
from hub.notify.outbox import FILE
from hub.notify.sinks import DELIVERY_HEADER

from .conftest import Receiver, free_port, make_config, wait_until

REV = "4f2a9c1e0b7d4c3a2f1e0d9c8b7a6f5e4d3c2b1a"


def ev(kind: int = fleet_pb2.SYNC_SUCCEEDED, app: str = "inference", revision: str = REV, sequence: int = 1,
       details: dict | None = None) -> fleet_pb2.Event:
    return fleet_pb2.Event(sequence=sequence, occurred_at_ms=int(time.time() * 1000), type=kind, application=app,
                           message=f"{app}: something happened", revision=revision, generation=3,
                           details_json=json.dumps(details or {}))


@asynccontextmanager
async def running(config: NotificationsConfig, data_dir: Path, **options: object) -> AsyncIterator[Notifier]:
    notifier = Notifier(config, data_dir, **options)  # type: ignore[arg-type]
    await notifier.start()
    try:
        yield notifier
    finally:
        await notifier.stop()


def count(notifier: Notifier, result: str, trigger: str = "on-deployed", sink: str = "hook") -> float:
    return notifier.metrics.value(trigger, sink, result)


def retries(notifier: Notifier, sink: str = "hook") -> float:
    return notifier.metrics.registry.get_sample_value("fleetline_notification_retries_total", {"sink": sink}) or 0


async def test_each_event_is_delivered_once_to_each_sink(tmp_path: Path, receiver: Receiver) -> None:
    config = parse_config({
        "sinks": {"hook": {"type": "webhook", "url": receiver.url},
                  "chat": {"type": "slack", "url": receiver.url.replace("/hook", "/slack")}},
        "subscriptions": [{"triggers": ["on-deployed", "on-sync-failed", "on-drift-detected", "on-sync-loop",
                                        "on-health-degraded"], "sinks": ["hook", "chat"]}]}, "hub.yaml", tmp_path)
    async with running(config, tmp_path / "data") as notifier:
        events = [ev(fleet_pb2.SYNC_SUCCEEDED, "a"), ev(fleet_pb2.SYNC_FAILED, "b"), ev(fleet_pb2.DRIFT_DETECTED, "c"),
                  ev(fleet_pb2.SYNC_LOOP, "d"),
                  ev(fleet_pb2.HEALTH_CHANGED, "e", details={"health": "Degraded", "previous": "Healthy"})]
        for event in events:
            assert notifier.event("eu-1", "eu", "prod", event) is not None
        assert notifier.event("eu-1", "eu", "prod", ev(fleet_pb2.SYNC_SUCCEEDED, "a", sequence=9)) is not None
        assert notifier.event("eu-1", "eu", "prod", ev(fleet_pb2.SYNC_STARTED, "a")) is None
        await wait_until(lambda: len(receiver.requests) >= 10, what="ten deliveries")
        await notifier.drain(5)
        hooks = [r.json for r in receiver.requests if r.path == "/hook"]
        slack = [r.json for r in receiver.requests if r.path == "/slack"]
        assert sorted((b["trigger"], b["application"]) for b in hooks) == [
            ("on-deployed", "a"), ("on-drift-detected", "c"), ("on-health-degraded", "e"), ("on-sync-failed", "b"),
            ("on-sync-loop", "d")]
        assert len(slack) == 5 and all(set(b) == {"text", "blocks"} for b in slack)
        assert len({r.headers[DELIVERY_HEADER] for r in receiver.requests}) == 10
        assert count(notifier, "sent") == 1 and count(notifier, "sent", sink="chat") == 1
        assert count(notifier, "duplicate") == 1 and count(notifier, "duplicate", sink="chat") == 1


async def test_receiver_down_then_up_gets_each_notification_once(tmp_path: Path) -> None:
    receiver = Receiver(port=free_port())  # not listening yet: connections are refused
    async with running(make_config(receiver.url, tmp_path), tmp_path / "data") as notifier:
        notifier.event("eu-1", "eu", "prod", ev(app="first"))
        await wait_until(lambda: retries(notifier) >= 3, what="three failed attempts")
        assert notifier.depth() == 1
        await receiver.start()
        try:
            await wait_until(lambda: len(receiver.requests) == 1, what="the delivery after the outage")
            notifier.event("eu-1", "eu", "prod", ev(app="second"))
            notifier.event("eu-1", "eu", "prod", ev(app="first", sequence=2))  # the same key again
            await wait_until(lambda: len(receiver.requests) == 2, what="the second delivery")
            await notifier.drain(5)
            assert [b["application"] for b in receiver.bodies()] == ["first", "second"]
            assert count(notifier, "sent") == 2 and count(notifier, "duplicate") == 1
        finally:
            await receiver.stop()


async def test_server_errors_are_retried_until_accepted(tmp_path: Path, receiver: Receiver) -> None:
    receiver.statuses = [503, 500, 429]
    async with running(make_config(receiver.url, tmp_path), tmp_path / "data") as notifier:
        notifier.event("eu-1", "eu", "prod", ev(fleet_pb2.SYNC_FAILED))
        await wait_until(lambda: len(receiver.requests) == 1, what="the delivery")
        await notifier.drain(5)
        assert receiver.arrived == 4 and retries(notifier) == 3
        assert len({r.headers[DELIVERY_HEADER] for r in receiver.attempts}) == 1  # the same id on every retry
        assert count(notifier, "sent", "on-sync-failed") == 1


async def test_no_resend_after_a_restart(tmp_path: Path, receiver: Receiver) -> None:
    config = make_config(receiver.url, tmp_path)
    async with running(config, tmp_path / "data") as notifier:
        notifier.event("eu-1", "eu", "prod", ev(app="a"))
        await wait_until(lambda: len(receiver.requests) == 1, what="the first delivery")
        await notifier.drain(5)
    async with running(config, tmp_path / "data") as notifier:
        notifier.event("eu-1", "eu", "prod", ev(app="a", sequence=2))  # the hub sees it again after its restart
        notifier.event("eu-1", "eu", "prod", ev(app="b"))
        await wait_until(lambda: len(receiver.requests) == 2, what="the new notification")
        await notifier.drain(5)
        assert [b["application"] for b in receiver.bodies()] == ["a", "b"]
        assert count(notifier, "duplicate") == 1


async def test_pending_deliveries_survive_a_restart(tmp_path: Path, receiver: Receiver) -> None:
    receiver.statuses = [503] * 10_000
    config = make_config(receiver.url, tmp_path)
    async with running(config, tmp_path / "data") as notifier:
        notifier.event("eu-1", "eu", "prod", ev(fleet_pb2.SYNC_FAILED, app="a"))
        await wait_until(lambda: receiver.arrived >= 2, what="a retried attempt")
    first_id = receiver.attempts[0].headers[DELIVERY_HEADER]
    receiver.statuses = []
    async with running(config, tmp_path / "data") as notifier:
        await wait_until(lambda: len(receiver.requests) == 1, what="the pending delivery after the restart")
        await notifier.drain(5)
        assert receiver.requests[0].headers[DELIVERY_HEADER] == first_id
        assert receiver.bodies()[0]["application"] == "a"
        assert count(notifier, "sent", "on-sync-failed") == 1


async def test_a_slow_receiver_never_blocks_the_caller_and_the_queue_is_bounded(tmp_path: Path,
                                                                               receiver: Receiver) -> None:
    receiver.holding = True
    config = make_config(receiver.url, tmp_path, delivery={"maxQueue": 10})
    async with running(config, tmp_path / "data") as notifier:
        notifier.event("eu-1", "eu", "prod", ev(app="app-0"))
        await wait_until(lambda: receiver.arrived == 1, what="the receiver holding the first request")
        slowest = 0.0
        for index in range(1, 30):
            started = time.perf_counter()
            notifier.event("eu-1", "eu", "prod", ev(app=f"app-{index}"))
            slowest = max(slowest, time.perf_counter() - started)
        # every call returned while the receiver still held the first request
        assert receiver.holding and not receiver.requests and receiver.arrived == 1
        assert slowest < 0.1, f"Notifier.event took {slowest:.3f}s"
        assert count(notifier, "dropped") == 19  # beyond 10 waiting, the oldest are dropped
        await wait_until(lambda: notifier.metrics.registry.get_sample_value(
            "fleetline_notifications_queue_depth", {"sink": "hook"}) == 11, what="ten waiting and one in flight")
        assert notifier.depth() == 11
        receiver.release()
        await wait_until(lambda: len(receiver.requests) == 11, what="the held and the queued deliveries")
        await notifier.drain(5)
        assert [b["application"] for b in receiver.bodies()] == ["app-0"] + [f"app-{i}" for i in range(20, 30)]


async def test_gives_up_after_the_maximum_age(tmp_path: Path, receiver: Receiver) -> None:
    receiver.statuses = [503] * 10_000
    config = make_config(receiver.url, tmp_path, delivery={"maxAge": "300ms"})
    async with running(config, tmp_path / "data") as notifier:
        notifier.event("eu-1", "eu", "prod", ev(app="doomed"))
        await wait_until(lambda: count(notifier, "expired") == 1, what="the delivery to expire")
        attempts = receiver.arrived
        assert attempts >= 2
        receiver.statuses = []
        notifier.event("eu-1", "eu", "prod", ev(app="later"))
        await wait_until(lambda: len(receiver.requests) == 1, what="the next delivery")
        await notifier.drain(5)
        assert [b["application"] for b in receiver.bodies()] == ["later"]
        assert receiver.arrived == attempts + 1  # the expired one was not tried again


async def test_a_rejected_notification_is_not_retried(tmp_path: Path, receiver: Receiver) -> None:
    receiver.statuses = [400]
    async with running(make_config(receiver.url, tmp_path), tmp_path / "data") as notifier:
        notifier.event("eu-1", "eu", "prod", ev(app="bad"))
        notifier.event("eu-1", "eu", "prod", ev(app="good"))
        await wait_until(lambda: len(receiver.requests) == 1, what="the second delivery")
        await notifier.drain(5)
        assert receiver.arrived == 2 and count(notifier, "rejected") == 1 and count(notifier, "sent") == 1


async def test_agent_disconnected_after_the_grace_only(tmp_path: Path, receiver: Receiver) -> None:
    now = [1000.0]
    clock: Callable[[], float] = lambda: now[0]  # noqa: E731
    config = make_config(receiver.url, tmp_path)
    async with running(config, tmp_path / "data", clock=clock, tick=3600.0) as notifier:
        assert config.disconnect_grace == 300
        notifier.agent_disconnected("eu-1", region="eu", environment="prod")
        now[0] = 1200.0
        notifier.agent_connected("eu-1")  # back within the grace: nothing
        now[0] = 2000.0
        assert notifier.check_disconnects() == []
        notifier.agent_disconnected("eu-2", at=2000.0, region="eu", environment="prod")
        now[0] = 2299.0
        assert notifier.check_disconnects() == []
        now[0] = 2300.0
        [fired] = notifier.check_disconnects()
        assert fired.trigger == "on-agent-disconnected" and fired.cluster == "eu-2"
        now[0] = 5000.0
        assert notifier.check_disconnects() == []  # once per disconnection
        await wait_until(lambda: len(receiver.requests) == 1, what="the disconnection notice")
        await notifier.drain(5)
        [body] = receiver.bodies()
        assert (body["trigger"], body["cluster"], body["region"]) == ("on-agent-disconnected", "eu-2", "eu")
        assert "since 1970-01-01 00:33:20 UTC" in body["text"]


async def test_pipeline_notifications_follow_region_filters(tmp_path: Path, receiver: Receiver) -> None:
    config = make_config(receiver.url, tmp_path, subscriptions=[
        {"triggers": ["on-rollout-halted", "on-approval-required"], "sinks": ["hook"], "regions": ["eu"]}])
    async with running(config, tmp_path / "data") as notifier:
        notifier.rollout_halted("prod", "inference", REV, "1 cluster failed", regions=("us-east",))
        notifier.rollout_halted("prod", "trainer", REV, "2 clusters failed", regions=("eu", "us-east"),
                                failed={"eu-1": "Degraded", "us-east-1": "deadline"})
        notifier.approval_required("prod", "inference", REV, required=2, approvers=("ana",), clusters=("eu-1",),
                                   regions=("eu",))
        notifier.approval_required("prod", "inference", REV, required=2, approvers=("ana",), regions=("eu",))
        await wait_until(lambda: len(receiver.requests) == 2, what="two deliveries")
        await notifier.drain(5)
        bodies = receiver.bodies()
        assert [(b["trigger"], b["application"]) for b in bodies] == [("on-rollout-halted", "trainer"),
                                                                       ("on-approval-required", "inference")]
        assert bodies[0]["details"]["failed"] == {"eu-1": "Degraded", "us-east-1": "deadline"}
        assert f"fleetline approve prod inference {REV}" in bodies[1]["text"]


async def test_metrics_exposition(tmp_path: Path, receiver: Receiver) -> None:
    async with running(make_config(receiver.url, tmp_path), tmp_path / "data") as notifier:
        notifier.event("eu-1", "eu", "prod", ev())
        await wait_until(lambda: len(receiver.requests) == 1, what="the delivery")
        await notifier.drain(5)
        text = generate_latest(notifier.metrics.registry).decode()
    assert 'fleetline_notifications_total{result="sent",sink="hook",trigger="on-deployed"} 1.0' in text
    assert 'fleetline_notifications_queue_depth{sink="hook"} 0.0' in text
    assert "# TYPE fleetline_notification_retries_total counter" in text


async def test_an_unreadable_record_is_set_aside(tmp_path: Path, receiver: Receiver) -> None:
    path = tmp_path / "data" / FILE
    path.parent.mkdir(parents=True)
    path.write_bytes(b"this is not a database" * 100)
    async with running(make_config(receiver.url, tmp_path), tmp_path / "data") as notifier:
        notifier.event("eu-1", "eu", "prod", ev())
        await wait_until(lambda: len(receiver.requests) == 1, what="the delivery")
    assert list(path.parent.glob("deliveries.sqlite.corrupt-*"))
