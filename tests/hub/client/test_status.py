"""`fleetline status`: the fleet grouped by region, colours that never replace words, exit codes, `--watch`
redrawn from the event stream."""

from __future__ import annotations

import asyncio
import contextlib
import io
import json
import signal
import socket
import subprocess

from hub.client.connection import HubTarget
from hub.client.http import HubClient
from hub.client.output import Terminal
from hub.client.status import watch_status
from tests.hub.client.fakehub import TOKEN, FakeHubApi, app_summary, cluster_summary, healthy_fleet
from tests.hub.client.harness import CLI, NOW, ROOT, build_parser, process_env, run_cli


def troubled_fleet() -> dict:
    return {"regions": [{"name": "eu", "clusters": [
        cluster_summary("eu-1", "eu", "prod", [
            app_summary("inference-server", phase="Running", message="waiting for wave 1"),
            app_summary("model-registry", sync="OutOfSync", health="Progressing",
                        message="OutOfSync: waiting for a sync request (manual sync)")]),
        cluster_summary("eu-2", "eu", "prod", [], connected=False)]}]}


def test_the_fleet_as_a_table_grouped_by_region(hub: FakeHubApi) -> None:
    result = run_cli(hub, "status")
    assert result.code == 0, result.err
    assert result.out.splitlines() == [
        "REGION eu  1 cluster, 2 applications",
        "CLUSTER    ENVIRONMENT  CONNECTED  APP               SYNC    HEALTH   REVISION  MESSAGE",
        "eu-1       prod         yes        inference-server  Synced  Healthy  4f2a9c1",
        "eu-1       prod         yes        model-registry    Synced  Healthy  4f2a9c1",
        "",
        "REGION us-east  1 cluster, 1 application",
        "CLUSTER    ENVIRONMENT  CONNECTED  APP               SYNC    HEALTH   REVISION  MESSAGE",
        "us-east-1  prod         yes        inference-server  Synced  Healthy  4f2a9c1",
    ]
    assert hub.requests[0].authorization == "Bearer op-token-1"


def test_what_is_not_well_is_shown_and_exits_1(hub: FakeHubApi) -> None:
    hub.on("GET", "/api/v1/fleet", (200, troubled_fleet()))
    result = run_cli(hub, "status")
    assert result.code == 1
    lines = result.out.splitlines()
    assert lines[0] == "REGION eu  2 clusters (1 disconnected), 2 applications (1 not synced, 1 not healthy)"
    assert "sync running: waiting for wave 1" in lines[2]
    assert "OutOfSync  Progressing" in lines[3]
    assert lines[4].split()[:5] == ["eu-2", "prod", "no", "(last", "seen"] and "5m)" in lines[4]
    assert result.err == "not well: eu-1/model-registry OutOfSync Progressing; eu-2 not connected\n"


def test_region_filter_and_json(hub: FakeHubApi) -> None:
    result = run_cli(hub, "status", "--region", "us-east", "-o", "json")
    assert result.code == 0
    fleet = json.loads(result.out)
    assert [r["name"] for r in fleet["regions"]] == ["us-east"]
    assert fleet["regions"][0]["clusters"][0]["applications"][0]["sync_status"] == "Synced"


def test_colours_accompany_the_words(hub: FakeHubApi) -> None:
    hub.on("GET", "/api/v1/fleet", (200, troubled_fleet()))
    coloured = run_cli(hub, "status", "--color", "always").out
    assert "\x1b[33mOutOfSync\x1b[0m" in coloured and "\x1b[34mProgressing\x1b[0m" in coloured
    assert "\x1b[32mSynced\x1b[0m" in coloured and "\x1b[31mno (last seen 5m)\x1b[0m" in coloured
    plain = run_cli(hub, "status", "--color", "never").out
    assert "\x1b[" not in plain and "OutOfSync" in plain and "no (last seen 5m)" in plain


def test_a_refused_token_exits_3_with_the_hubs_reason(hub: FakeHubApi) -> None:
    result = run_cli(hub, "status", token="wrong")
    assert result.code == 3
    assert "unknown or revoked API token" in result.err and "unauthenticated" in result.err
    assert "--token-file" in result.err


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_exit_codes_as_a_process(hub: FakeHubApi) -> None:
    def run(*argv: str, **env: str) -> subprocess.CompletedProcess:
        return subprocess.run([*CLI, *argv], env={**process_env(hub), **env}, cwd=ROOT, capture_output=True,
                              text=True, timeout=30)

    ok = run("status")
    assert ok.returncode == 0 and "REGION us-east" in ok.stdout and "\x1b[" not in ok.stdout
    hub.on("GET", "/api/v1/fleet", (200, troubled_fleet()))
    assert run("status").returncode == 1
    refused = run("status", FLEETLINE_TOKEN="wrong")
    assert refused.returncode == 3 and "unknown or revoked API token" in refused.stderr
    usage = run("status", "--color", "sometimes")
    assert usage.returncode == 2 and "--color" in usage.stderr
    down = run("status", FLEETLINE_HUB=f"http://127.0.0.1:{_closed_port()}")
    assert down.returncode == 4 and "cannot reach the hub" in down.stderr


async def _read_until(stream: asyncio.StreamReader, seen: list[str], text: str, timeout: float = 15) -> None:
    async with asyncio.timeout(timeout):
        while not any(text in line for line in seen):
            line = (await stream.readline()).decode()
            assert line, "the command ended early:\n" + "".join(seen)
            seen.append(line)


async def _until(condition, timeout: float = 10) -> None:  # noqa: ANN001
    async with asyncio.timeout(timeout):
        while not condition():
            await asyncio.sleep(0.02)


async def test_watch_without_the_stream_polls_and_rides_out_an_unavailable_hub(hub: FakeHubApi) -> None:
    out, err = io.StringIO(), io.StringIO()
    terminal = Terminal(out=out, err=err, now=lambda: NOW)
    args = build_parser().parse_args(["status", "--watch", "--no-stream", "--interval", "0.05", "-o", "json"])
    async with HubClient(HubTarget(hub.url, TOKEN)) as client:
        task = asyncio.create_task(watch_status(client, args, terminal))
        try:
            await _until(lambda: out.getvalue().count("\n") == 1)
            hub.on("GET", "/api/v1/fleet", (503, {"error": "session server not ready", "reason": "not_ready"}))
            await _until(lambda: "retrying" in err.getvalue())
            hub.on("GET", "/api/v1/fleet", (200, troubled_fleet()))
            await _until(lambda: out.getvalue().count("\n") == 2)
        finally:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
    first, second = (json.loads(line) for line in out.getvalue().splitlines())
    assert first == healthy_fleet() and second == troubled_fleet()
    assert "session server not ready" in err.getvalue() and "the hub answers again" in err.getvalue()
    assert not hub.calls("GET", "/api/v1/events")


def _as_in_a_terminal() -> None:
    """Ctrl-C as a terminal delivers it: a test run started in the background (`nohup`, `cmd &` in a script) hands
    its children SIGINT ignored, and Python then never turns SIGINT into KeyboardInterrupt."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


async def test_watch_redraws_on_a_change_from_the_event_stream_until_ctrl_c(hub: FakeHubApi) -> None:
    process = await asyncio.create_subprocess_exec(
        *CLI, "status", "--watch", "--interval", "60", cwd=ROOT, env=process_env(hub),
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE, preexec_fn=_as_in_a_terminal)
    seen: list[str] = []
    try:
        await _read_until(process.stdout, seen, "us-east-1")
        await _until(lambda: hub.streams)
        changed = healthy_fleet()
        changed["regions"][0]["clusters"][0]["applications"][1]["sync_status"] = "OutOfSync"
        hub.on("GET", "/api/v1/fleet", (200, changed))
        hub.publish("status", {"cluster": "eu-1"})
        await _read_until(process.stdout, seen, "OutOfSync")
        process.send_signal(signal.SIGINT)
        async with asyncio.timeout(10):
            rest, err = await process.communicate()
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
    assert process.returncode == 0, err.decode()
    output = "".join(seen)
    assert output.count("--- fleetline status") == 2, output
    assert len(hub.calls("GET", "/api/v1/fleet")) == 2  # the redraw came from the stream, not from polling
    assert "Traceback" not in err.decode()
