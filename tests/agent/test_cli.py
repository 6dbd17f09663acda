"""`fleetline agent`: flags, credentials from files, the metrics endpoint, and the command as a real process
against a fake hub and a kubesim cluster over HTTP."""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import sys
from pathlib import Path

import aiohttp
import pytest

from agent.cli import add_agent_parser, credentials_from_args, serve_metrics
from agent.session.client import AgentSession, TlsCredentials, TokenCredentials
from fleetline.identity import APP_LABEL, TRACKING_ANNOTATION
from fleetline.protocol import desired_state_hash
from fleetline.wire import fleet_pb2
from tests.agent.session.fakehub import FakeHub, start_fake_hub

ROOT = Path(__file__).resolve().parents[2]
# The agent command on its own parser, so the test does not depend on the composition root (fleetline/cli.py).
RUN_AGENT = (
    "import argparse, sys\n"
    "from agent.cli import add_agent_parser\n"
    "parser = argparse.ArgumentParser(prog='fleetline')\n"
    "add_agent_parser(parser.add_subparsers())\n"
    "args = parser.parse_args(sys.argv[1:])\n"
    "sys.exit(args.run(args))\n"
)


def parse(*argv: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="fleetline")
    add_agent_parser(parser.add_subparsers())
    return parser.parse_args(["agent", *argv])


BASE = ["--hub", "127.0.0.1:1", "--cluster", "eu-1", "--cache-dir", "/tmp/x"]


def test_credentials_from_files(tmp_path: Path) -> None:
    (tmp_path / "token").write_text("s3cret\n")
    for name in ("c.crt", "c.key", "ca.crt"):
        (tmp_path / name).write_bytes(name.encode())
    assert credentials_from_args(parse(*BASE, "--token-file", str(tmp_path / "token"))) == TokenCredentials("s3cret")
    assert credentials_from_args(parse(*BASE, "--tls-cert", str(tmp_path / "c.crt"), "--tls-key",
                                       str(tmp_path / "c.key"), "--ca", str(tmp_path / "ca.crt"))) == \
        TlsCredentials(b"c.crt", b"c.key", b"ca.crt")
    assert credentials_from_args(parse(*BASE, "--insecure")) is None


@pytest.mark.parametrize(("flags", "message"), [
    (["--tls-cert", "c.crt", "--tls-key", "c.key"], "--ca"),
    (["--tls-cert", "c.crt", "--ca", "ca.crt"], "--tls-key"),
    (["--token-file", "token", "--tls-cert", "c.crt"], "either"),
    (["--token-file", "empty"], "empty"),
])
def test_inconsistent_credential_flags(tmp_path: Path, flags: list[str], message: str) -> None:
    (tmp_path / "empty").write_text("\n")
    (tmp_path / "token").write_text("t")
    args = parse(*BASE, *[str(tmp_path / f) if not f.startswith("--") else f for f in flags])
    with pytest.raises(ValueError, match=message):
        credentials_from_args(args)


async def test_metrics_endpoint(tmp_path: Path) -> None:
    session = AgentSession("127.0.0.1:1", "eu-1", "eu", tmp_path, None, insecure=True)
    session.emit(fleet_pb2.Event(type=fleet_pb2.DRIFT_DETECTED))
    runner = await serve_metrics(session.metrics.registry, 0)
    try:
        _host, port = runner.addresses[0][:2]
        async with aiohttp.ClientSession() as client, client.get(f"http://127.0.0.1:{port}/metrics") as response:
            text = await response.text()
        assert response.status == 200
        assert "fleetline_agent_connected 0.0" in text
        assert "fleetline_agent_outbox_depth 1.0" in text
    finally:
        await runner.cleanup()
        session.outbox.close()


async def _agent_process(tmp_path: Path, port: int, kubeconfig: Path, *extra: str) -> asyncio.subprocess.Process:
    return await asyncio.create_subprocess_exec(
        sys.executable, "-c", RUN_AGENT, "agent", "--hub", f"127.0.0.1:{port}", "--cluster", "us-east-1",
        "--region", "us-east", "--cache-dir", str(tmp_path / "cache"), "--insecure", "--kubeconfig", str(kubeconfig),
        *extra, cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)},
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)


def configmap_state(names: list[str]) -> fleet_pb2.DesiredState:
    """A desired state of one application with one ConfigMap per name in namespace default, as the hub sends."""
    manifests = [json.dumps({"apiVersion": "v1", "kind": "ConfigMap", "data": {"k": "v"}, "metadata": {
        "name": name, "namespace": "default", "labels": {APP_LABEL: "settings"},
        "annotations": {TRACKING_ANNOTATION: f"settings:/ConfigMap:default/{name}"}}}) for name in names]
    state = fleet_pb2.DesiredState(cluster="us-east-1", generation=1, revision="rev1", applications=[
        fleet_pb2.ApplicationBundle(name="settings", namespace="default", revision="rev1", manifests_json=manifests,
                                    sync_policy=fleet_pb2.SyncPolicy(automated=fleet_pb2.Automated(self_heal=True)))])
    state.content_hash = desired_state_hash(state)
    return state


async def test_agent_command_applies_the_desired_state_and_stops_on_sigterm(tmp_path: Path, sim, kube) -> None:
    fake = FakeHub()
    fake.auto_ack_events = True
    fake.state = configmap_state(["alpha", "beta"])
    server, port = await start_fake_hub(fake)
    process = await _agent_process(tmp_path, port, sim.kubeconfig_path, "--log-format", "json")
    lines: list[str] = []
    try:
        async with asyncio.timeout(20):
            while not any('"event": "desired_state_applied"' in line for line in lines):
                line = (await process.stderr.readline()).decode()
                assert line, "the agent exited early:\n" + "".join(lines)
                lines.append(line)
        await fake.wait_until(lambda: any(e.type == fleet_pb2.SYNC_SUCCEEDED for e in fake.events.values()), 20)
        names = {c.metadata.name for c in kube.core_v1.list_namespaced_config_map("default").items}
        assert {"alpha", "beta"} <= names, "applied to the cluster"
        process.send_signal(signal.SIGTERM)
        async with asyncio.timeout(10):
            _out, err = await process.communicate()
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
        await server.stop(grace=None)
    log = "".join(lines) + err.decode()
    assert process.returncode == 0, log
    assert fake.sessions[0].hello.cluster == "us-east-1"
    assert fake.current.of("status"), "status reports reached the hub"


async def test_agent_command_without_a_cluster_configuration_says_how_to_give_one(tmp_path: Path) -> None:
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-c", RUN_AGENT, "agent", "--hub", "127.0.0.1:1", "--cluster", "eu-1", "--insecure",
        "--cache-dir", str(tmp_path), "--kubeconfig", str(tmp_path / "missing.yaml"), cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)}, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    async with asyncio.timeout(10):
        _out, err = await process.communicate()
    assert process.returncode == 2
    assert "missing.yaml" in err.decode()


async def test_agent_command_exits_non_zero_when_refused(tmp_path: Path, sim) -> None:
    fake = FakeHub()
    fake.goodbye = fleet_pb2.Goodbye(reason=fleet_pb2.IDENTITY_MISMATCH, message="credential is for eu-1")
    server, port = await start_fake_hub(fake)
    process = await _agent_process(tmp_path, port, sim.kubeconfig_path)
    try:
        async with asyncio.timeout(8):
            _out, err = await process.communicate()
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
        await server.stop(grace=None)
    assert process.returncode == 3
    assert "IDENTITY_MISMATCH" in err.decode() and "credential is for eu-1" in err.decode()
    assert len(fake.sessions) == 1  # stopped, no retry loop


async def test_agent_command_refuses_insecure_to_a_remote_hub(tmp_path: Path, sim) -> None:
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-c", RUN_AGENT, "agent", "--hub", "hub.example.com:443", "--cluster", "eu-1",
        "--cache-dir", str(tmp_path), "--insecure", "--kubeconfig", str(sim.kubeconfig_path), cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    async with asyncio.timeout(8):
        _out, err = await process.communicate()
    assert process.returncode == 2
    assert "loopback" in err.decode()


async def test_bad_reconciler_tunables_are_refused_at_start_naming_the_flag(tmp_path: Path, sim) -> None:
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-c", RUN_AGENT, "agent", "--hub", "127.0.0.1:1", "--cluster", "eu-1", "--insecure",
        "--cache-dir", str(tmp_path), "--kubeconfig", str(sim.kubeconfig_path), "--sync-loop-threshold", "0",
        cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)}, stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE)
    async with asyncio.timeout(10):
        _out, err = await process.communicate()
    assert process.returncode == 2
    assert "--sync-loop-threshold must be 1 or more (got 0)" in err.decode()
