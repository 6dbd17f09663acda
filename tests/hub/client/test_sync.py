"""`fleetline sync`: the request, and `--wait` following it through its waves to Synced+Healthy (0), a failure
or Degraded (1), or a timeout (2), from the event stream and from the application's status."""

from __future__ import annotations

import asyncio
import json
import subprocess

from hub.client.sse import SseEvent
from hub.client.syncwait import SyncWatch, event_fields, wave_lines
from tests.hub.client.fakehub import FakeHubApi, Recorded, app_summary, cluster_summary
from tests.hub.client.harness import CLI, ROOT, process_env, run_cli

OLD, NEW = "1" * 40, "4f2a9c1" + "e" * 33
APP_PATH = "/api/v1/clusters/eu-1/applications/inference-server"


def resource(kind: str, name: str, wave: int, sync: str = "Synced", health: str = "Healthy", message: str = "") -> dict:
    return {"group": "", "version": "v1", "kind": kind, "namespace": "ml", "name": name, "sync_status": sync,
            "health": health, "message": message, "sync_wave": wave}


def app(sync: str, health: str, revision: str = NEW, phase: str = "", message: str = "",
        resources: list[dict] | None = None) -> dict:
    return app_summary("inference-server", sync, health, revision, message, phase, resources=resources or [],
                       drift={"drifted_resources": 0, "drifted_fields": 0, "fields": []}, conditions=[])


def event(kind: str, request_id: str = "req-1", **details: object) -> dict:
    return {"cluster": "eu-1", "application": "inference-server", "type": kind, "message": "",
            "details": {"request_id": request_id, "revision": NEW, "generation": 8, **details}}


class Script:
    """The application's status on the fake hub: `before` until the sync is requested, then `after` one state per
    GET (the last one repeated); the sync call publishes `events` first."""

    def __init__(self, hub: FakeHubApi, before: dict, after: list[dict], events: list[dict] | None = None,
                 connected: bool = True) -> None:
        self.before, self.after, self.events, self.requested = before, after, events or [], False
        self.hub = hub
        hub.on("GET", "/api/v1/clusters/eu-1", (200, cluster_summary("eu-1", "eu", "prod", [], connected=connected)))
        hub.on("GET", APP_PATH, self.status)
        hub.on("POST", APP_PATH + "/sync", self.sync)

    def status(self, _: Recorded) -> tuple[int, dict]:
        if not self.requested:
            return 200, self.before
        state = self.after.pop(0) if len(self.after) > 1 else self.after[0]
        return state if isinstance(state, tuple) else (200, state)

    def sync(self, request: Recorded) -> tuple[int, dict]:
        self.requested = True
        for data in self.events:
            self.hub._publish("event", data)
        return 202, {"request_id": "req-1", "revision": request.body.get("revision") or NEW}


# ---- the rules, without a hub ----------------------------------------------------------------------------


def test_outcome_rules() -> None:
    watch = SyncWatch("eu-1", "inference-server", baseline=app("Synced", "Healthy", OLD))
    watch.requested("req-1", NEW)
    watch.on_status(app("Synced", "Healthy", OLD))
    assert watch.outcome() is None, "still at the old revision"
    watch.on_status(app("OutOfSync", "Progressing", NEW, "Running"))
    assert watch.outcome() is None, "running"
    watch.on_status(app("Synced", "Healthy", NEW, "Succeeded"))
    assert watch.outcome().code == 0


def test_a_failure_left_from_before_the_request_is_not_the_outcome() -> None:
    stale = app("OutOfSync", "Degraded", NEW, "Failed", "last sync failed: quota")
    watch = SyncWatch("eu-1", "inference-server", baseline=stale)
    watch.requested("req-1", NEW[:7])
    watch.on_status(stale)
    assert watch.outcome() is None
    watch.on_status(app("OutOfSync", "Degraded", NEW, "Running"))
    watch.on_status(app("OutOfSync", "Degraded", NEW, "Failed", "last sync failed: quota"))
    outcome = watch.outcome()
    assert outcome.code == 1 and "ended Failed: last sync failed: quota" in outcome.message


def test_degraded_counts_only_once_the_sync_changed_something() -> None:
    degraded = app("Synced", "Degraded", NEW, "", "Deployment/ml/inference: CrashLoopBackOff")
    watch = SyncWatch("eu-1", "inference-server", baseline=degraded)
    watch.requested("req-1", NEW)
    watch.on_status(degraded)
    assert watch.outcome() is None
    watch.on_event(SseEvent("event", json.dumps(event("SYNC_STARTED"))))
    assert watch.outcome().code == 1 and "Degraded: Deployment/ml/inference: CrashLoopBackOff" in \
        watch.outcome().message


def test_events_of_the_request_only_and_those_before_its_id_replayed() -> None:
    watch = SyncWatch("eu-1", "inference-server")
    early = SseEvent("event", json.dumps(event("SYNC_STARTED")))
    assert watch.on_event(early) == []
    assert watch.requested("req-1", NEW) == ["sync started at revision 4f2a9c1 (generation 8)"]
    assert watch.on_event(SseEvent("event", json.dumps(event("SYNC_FAILED", "req-other")))) == []
    assert watch.on_event(SseEvent("event", json.dumps({**event("SYNC_FAILED"), "cluster": "eu-2"}))) == []
    assert watch.on_event(SseEvent("status", json.dumps(event("SYNC_FAILED")))) == []
    assert watch.outcome() is None
    camel = {"cluster": "eu-1", "application": "inference-server", "type": "SyncFailed", "message": "refused",
             "detailsJson": json.dumps({"request_id": "req-1"})}
    assert watch.on_event(SseEvent("event", json.dumps(camel))) == ["sync failed: refused"]
    assert watch.outcome().code == 1 and watch.outcome().message.endswith("failed: refused")


def test_event_fields_accept_numbers_and_details_text() -> None:
    fields = event_fields(SseEvent("event", json.dumps({"cluster": "c", "app": "a", "type": 6,
                                                        "details_json": "{\"hook\": {}}"})))
    assert (fields["cluster"], fields["application"], fields["type"]) == ("c", "a", "hookresult")
    assert fields["details"]["hook"] == {} and "details_json" not in fields["details"]


def test_a_request_id_beside_the_details_as_docs_api_shows_it() -> None:
    watch = SyncWatch("eu-1", "inference")
    watch.requested("3b0c5e", NEW)
    flat = {"cluster": "eu-1", "type": "SYNC_FAILED", "application": "inference", "message": "quota exceeded",
            "request_id": "3b0c5e"}
    assert watch.on_event(SseEvent("event", json.dumps(flat))) == ["sync failed: quota exceeded"]


def test_wave_lines() -> None:
    lines = wave_lines([resource("ConfigMap", "config", 0), resource("Deployment", "inference", 1, "Synced",
                        "Progressing", "Waiting for rollout"), resource("Service", "inference", 1, "OutOfSync", "")])
    assert lines == [(0, "wave 0: 1/1 Synced, 1/1 Healthy"),
                     (1, "wave 1: 1/2 Synced, 1/2 Healthy; Deployment/ml/inference Synced Progressing: Waiting "
                         "for rollout")]


# ---- against a hub -----------------------------------------------------------------------------------------


def test_sync_without_wait_sends_the_request(hub: FakeHubApi) -> None:
    Script(hub, app("OutOfSync", "Healthy"), [app("OutOfSync", "Healthy")])
    result = run_cli(hub, "sync", "eu-1", "inference-server", "--revision", "4f2a9c1", "--prune")
    assert result.code == 0, result.err
    assert result.out == "sync of inference-server on eu-1 requested at revision 4f2a9c1 with prune (request req-1)\n"
    assert hub.calls("POST", APP_PATH + "/sync")[0].body == {"revision": "4f2a9c1", "prune": True}
    as_json = run_cli(hub, "sync", "eu-1", "inference-server", "-o", "json")
    assert json.loads(as_json.out) == {"request_id": "req-1", "revision": NEW}
    assert hub.calls("POST", APP_PATH + "/sync")[1].body == {"prune": False}


async def _read_until(stream: asyncio.StreamReader, seen: list[str], text: str) -> None:
    async with asyncio.timeout(15):
        while not any(text in line for line in seen):
            line = (await stream.readline()).decode()
            assert line, "the command ended early:\n" + "".join(seen)
            seen.append(line)


async def test_wait_follows_the_waves_to_synced_and_healthy(hub: FakeHubApi) -> None:
    running = [app("OutOfSync", "Progressing", NEW, "Running", resources=[
                   resource("ConfigMap", "config", 0), resource("Deployment", "inference", 1, "OutOfSync", "Missing")]),
               app("Synced", "Progressing", NEW, "Running", resources=[
                   resource("ConfigMap", "config", 0),
                   resource("Deployment", "inference", 1, "Synced", "Progressing", "Waiting for rollout")])]
    hook = {"kind": "Job", "namespace": "ml", "name": "smoke-test", "phase": "PostSync", "hook_phase": "Succeeded"}
    script = Script(hub, app("OutOfSync", "Healthy", NEW, "", "waiting for a sync request (manual sync)"), running,
                    [event("SYNC_STARTED"), event("SYNC_FAILED", "req-other"), event("HOOK_RESULT", hook=hook),
                     event("SYNC_SUCCEEDED", result={"message": "successfully synced 2 resources"})])
    process = await asyncio.create_subprocess_exec(
        *CLI, "sync", "eu-1", "inference-server", "--wait", "--interval", "0.05", cwd=ROOT, env=process_env(hub),
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    seen: list[str] = []
    try:
        await _read_until(process.stdout, seen, "sync succeeded")
        await _read_until(process.stdout, seen, "Waiting for rollout")
        script.after = [app("Synced", "Healthy", NEW, "Succeeded", resources=[
            resource("ConfigMap", "config", 0), resource("Deployment", "inference", 1)])]
        async with asyncio.timeout(15):
            rest, err = await process.communicate()
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
    output = "".join(seen) + rest.decode()
    assert process.returncode == 0, output + err.decode()
    for expected in ("sync of inference-server on eu-1 requested at revision 4f2a9c1 (request req-1)",
                     "sync started at revision 4f2a9c1", "OutOfSync Progressing at 4f2a9c1, operation Running",
                     "wave 1: 0/1 Synced, 0/1 Healthy; Deployment/ml/inference OutOfSync Missing",
                     "wave 1: 1/1 Synced, 0/1 Healthy; Deployment/ml/inference Synced Progressing: Waiting for rollout",
                     "hook Job/ml/smoke-test (PostSync): Succeeded",
                     "sync succeeded: successfully synced 2 resources", "wave 1: 1/1 Synced, 1/1 Healthy",
                     "inference-server on eu-1 is Synced and Healthy at 4f2a9c1"):
        assert expected in output, output
    assert "sync failed" not in output, "another request's event"
    assert output.splitlines()[0].startswith("[") and "s] " in output.splitlines()[0]


def test_wait_ends_1_when_the_agent_reports_the_sync_failed(hub: FakeHubApi) -> None:
    Script(hub, app("OutOfSync", "Healthy"), [app("OutOfSync", "Progressing", NEW, "Running")],
           [event("SYNC_STARTED"), event("SYNC_FAILED", result={
               "message": "one or more objects failed to apply", "resources": [
                   {"wave": 1, "kind": "Deployment", "namespace": "ml", "name": "inference", "status": "SyncFailed",
                    "message": "admission webhook denied the request"}]})])
    result = run_cli(hub, "sync", "eu-1", "inference-server", "--wait", "--interval", "0.05", "--timeout", "20")
    assert result.code == 1, result.out + result.err
    assert "wave 1 Deployment/ml/inference: admission webhook denied the request" in result.out
    assert result.err == ("error: the sync of inference-server on eu-1 failed: one or more objects failed to "
                          "apply\n")


def test_wait_ends_1_when_synced_but_degraded_polling_only(hub: FakeHubApi) -> None:
    Script(hub, app("OutOfSync", "Healthy"), [app("OutOfSync", "Progressing", NEW, "Running"),
                                              app("Synced", "Degraded", NEW, "Succeeded", "CrashLoopBackOff")],
           connected=False)
    result = run_cli(hub, "sync", "eu-1", "inference-server", "--wait", "--no-stream", "--interval", "0.05")
    assert result.code == 1
    assert "eu-1 is not connected: the request is delivered when its agent reconnects" in result.out
    assert result.err == "error: inference-server on eu-1 synced but is Degraded: CrashLoopBackOff\n"
    assert not hub.calls("GET", "/api/v1/events")


def test_wait_with_json_prints_progress_on_stderr_and_the_final_status_on_stdout(hub: FakeHubApi) -> None:
    stale = app("OutOfSync", "Degraded", OLD, "Failed", "last sync failed")
    Script(hub, stale, [stale, stale, app("Synced", "Healthy", NEW, "Succeeded")])
    result = run_cli(hub, "sync", "eu-1", "inference-server", "--wait", "--no-stream", "--interval", "0.05", "-o",
                     "json")
    assert result.code == 0, result.err
    assert json.loads(result.out)["health"] == "Healthy"
    assert "is Synced and Healthy" in result.err


def test_wait_rides_out_a_hub_that_is_briefly_unavailable(hub: FakeHubApi) -> None:
    unavailable = (503, {"error": "the pipeline is not running yet", "reason": "not_ready"})
    Script(hub, app("OutOfSync", "Healthy"), [unavailable, unavailable, app("Synced", "Healthy", NEW, "Succeeded")])
    result = run_cli(hub, "sync", "eu-1", "inference-server", "--wait", "--no-stream", "--interval", "0.05")
    assert result.code == 0, result.err
    assert result.out.count("the pipeline is not running yet") == 1, "said once, then retried"


def test_wait_times_out_with_2_saying_what_it_saw(hub: FakeHubApi) -> None:
    Script(hub, app("OutOfSync", "Healthy"), [app("OutOfSync", "Healthy", NEW, "", "waiting for a sync request")])
    done = subprocess.run([*CLI, "sync", "eu-1", "inference-server", "--wait", "--timeout", "0.5", "--interval",
                           "0.1"], env=process_env(hub), cwd=ROOT, capture_output=True, text=True, timeout=30)
    assert done.returncode == 2, done.stdout + done.stderr
    assert "timed out waiting for inference-server on eu-1 to be Synced and Healthy; last seen: OutOfSync Healthy " \
           "at 4f2a9c1: waiting for a sync request" in done.stderr


def test_a_refused_sync_exits_3_with_the_reason(hub: FakeHubApi) -> None:
    hub.on("POST", APP_PATH + "/sync", (403, {"error": "role viewer may not sync: needs operator",
                                              "reason": "forbidden"}))
    result = run_cli(hub, "sync", "eu-1", "inference-server")
    assert result.code == 3
    assert "role viewer may not sync: needs operator" in result.err and "HTTP 403 forbidden" in result.err
