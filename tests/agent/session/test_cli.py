"""`fleetline agent`: flags, credentials from files, the metrics endpoint, and the command as a real process."""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import sys
from pathlib import Path

import aiohttp
import pytest

from agent.session.cli import add_agent_parser, credentials_from_args, serve_metrics
from agent.session.client import AgentSession, TlsCredentials, TokenCredentials
from fleetline.wire import fleet_pb2
from tests.agent.session.fakehub import FakeHub, make_state, start_fake_hub

ROOT = Path(__file__).resolve().parents[3]
# The agent command on its own parser, so the test does not depend on the composition root (fleetline/cli.py).
RUN_AGENT = (
    "import argparse, sys\n"
    "from agent.session.cli import add_agent_parser\n"
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
    runner = await serve_metrics(session, 0)
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


async def _agent_process(tmp_path: Path, port: int, *extra: str) -> asyncio.subprocess.Process:
    return await asyncio.create_subprocess_exec(
        sys.executable, "-c", RUN_AGENT, "agent", "--hub", f"127.0.0.1:{port}", "--cluster", "us-east-1",
        "--region", "us-east", "--cache-dir", str(tmp_path / "cache"), "--insecure", *extra,
        cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)},
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)


async def test_agent_command_receives_logs_and_stops_on_sigterm(tmp_path: Path) -> None:
    fake = FakeHub()
    fake.state = make_state(apps=2)
    server, port = await start_fake_hub(fake)
    process = await _agent_process(tmp_path, port)
    lines: list[str] = []
    try:
        async with asyncio.timeout(8):
            while sum("event=desired_application" in line for line in lines) < 2:
                line = (await process.stderr.readline()).decode()
                assert line, "the agent exited early:\n" + "".join(lines)
                lines.append(line)
        await fake.wait_until(lambda: bool(fake.sessions) and bool(fake.current.of("desired_state_ack")), 8)
        process.send_signal(signal.SIGTERM)
        async with asyncio.timeout(8):
            _out, err = await process.communicate()
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
        await server.stop(grace=None)
    log = "".join(lines) + err.decode()
    assert process.returncode == 0, log
    assert log.count("event=desired_application") == 2  # one line per application, nothing applied
    assert "app=app0" in log and "app=app1" in log
    assert fake.sessions[0].hello.cluster == "us-east-1"


async def test_agent_command_exits_non_zero_when_refused(tmp_path: Path) -> None:
    fake = FakeHub()
    fake.goodbye = fleet_pb2.Goodbye(reason=fleet_pb2.IDENTITY_MISMATCH, message="credential is for eu-1")
    server, port = await start_fake_hub(fake)
    process = await _agent_process(tmp_path, port)
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


async def test_agent_command_refuses_insecure_to_a_remote_hub(tmp_path: Path) -> None:
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-c", RUN_AGENT, "agent", "--hub", "hub.example.com:443", "--cluster", "eu-1",
        "--cache-dir", str(tmp_path), "--insecure", cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)},
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    async with asyncio.timeout(8):
        _out, err = await process.communicate()
    assert process.returncode == 2
    assert "loopback" in err.decode()
