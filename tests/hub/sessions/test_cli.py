"""`fleetline hub` as a real process: desired state from a directory, SIGHUP reload, SIGKILL and restart."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from hub.sessions.cli import main
from hub.sessions.statefiles import StateFileError, desired_state_from_dict, load_state_dir
from hub.sessions.tokens import TokenStore
from tests.hub.sessions.conftest import FakeAgent

ROOT = Path(__file__).resolve().parents[3]


def write_state(directory: Path, cluster: str, revision: str, replicas: int = 1) -> None:
    directory.mkdir(exist_ok=True)
    (directory / f"{cluster}.json").write_text(json.dumps({
        "revision": revision,
        "applications": [{
            "name": "inference", "namespace": "ml",
            "manifests": [{"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "server"},
                           "spec": {"replicas": replicas}}],
            "syncPolicy": {"automated": {"prune": True, "selfHeal": True}, "syncOptions": ["CreateNamespace=true"],
                           "retry": {"limit": 3, "backoff": {"duration": "5s", "factor": 2, "maxDuration": "3m"}}},
            "ignoreDifferences": [{"group": "apps", "kind": "Deployment", "jsonPointers": ["/spec/replicas"]}],
        }]}))


def test_state_file_becomes_a_desired_state_with_tracking_and_policy(tmp_path: Path):
    write_state(tmp_path, "eu-1", "abc")
    (tmp_path / "us-east-1.yaml").write_text("revision: def\napplications:\n  - name: a\n    manifests: []\n")
    (tmp_path / "broken.yaml").write_text("revision: x\napplications:\n  - name: a\n    replicas: 3\n")
    states, errors = load_state_dir(tmp_path)
    assert sorted(states) == ["eu-1", "us-east-1"]
    assert len(errors) == 1 and "broken.yaml" in errors[0] and "'replicas'" in errors[0]
    app = states["eu-1"].applications[0]
    manifest = json.loads(app.manifests_json[0])
    assert manifest["metadata"]["namespace"] == "ml"
    assert manifest["metadata"]["annotations"]["fleetline.io/tracking-id"] == "inference:apps/Deployment:ml/server"
    assert manifest["metadata"]["labels"]["fleetline.io/app"] == "inference"
    assert app.sync_policy.automated.self_heal and app.sync_policy.retry.backoff.max_duration == "3m"
    assert list(app.ignore_differences[0].json_pointers) == ["/spec/replicas"]
    assert app.content_hash.startswith("sha256:") and app.revision == "abc"
    with pytest.raises(StateFileError, match="declared twice"):
        desired_state_from_dict({"applications": [{"name": "a"}, {"name": "a"}]}, "eu-1", "f.yaml")


def test_hub_token_command_issues_and_revokes(tmp_path: Path, capsys):
    path = tmp_path / "tokens"
    assert main(["hub-token", "issue", "eu-1", "--tokens", str(path)]) == 0
    token = capsys.readouterr().out.strip()
    assert TokenStore(path).verify(token) == "eu-1"
    assert main(["hub-token", "revoke", "eu-1", "--tokens", str(path)]) == 0
    assert TokenStore(path).verify(token) is None
    assert main(["hub-token", "issue", "Bad/Name", "--tokens", str(path)]) == 2


class HubProcess:
    def __init__(self, tmp_path: Path, tokens: Path, states: Path) -> None:
        self.args = ["-m", "hub.sessions.cli", "hub", "--listen", "127.0.0.1:0", "--data-dir", str(tmp_path / "d"),
                     "--tokens", str(tokens), "--insecure", "--desired-state", str(states),
                     "--heartbeat-interval", "0.3"]
        self.process: asyncio.subprocess.Process | None = None
        self.port = 0

    async def start(self) -> HubProcess:
        self.process = await asyncio.create_subprocess_exec(
            sys.executable, *self.args, cwd=ROOT, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.DEVNULL,
            env={**os.environ, "PYTHONPATH": str(ROOT)})
        assert self.process.stdout is not None
        line = await asyncio.wait_for(self.process.stdout.readline(), 10)
        assert b"listening on" in line, line
        self.port = int(line.decode().rsplit(":", 1)[1])
        return self

    async def kill(self, signum: int = signal.SIGKILL) -> int:
        assert self.process is not None
        if self.process.returncode is None:
            self.process.send_signal(signum)
        return await asyncio.wait_for(self.process.wait(), 10)


@pytest.fixture
async def processes() -> AsyncIterator[list[HubProcess]]:
    started: list[HubProcess] = []
    yield started
    for hub in started:
        await hub.kill()


async def test_hub_process_pushes_reloads_on_sighup_and_survives_sigkill(tmp_path: Path, agents, processes):
    tokens = TokenStore(tmp_path / "tokens")
    token = tokens.issue("eu-1")
    states = tmp_path / "states"
    write_state(states, "eu-1", "rev1")
    hub = await HubProcess(tmp_path, tokens.path, states).start()
    processes.append(hub)
    agent = await FakeAgent(f"127.0.0.1:{hub.port}", "eu-1", token).connect()
    agents.append(agent)
    await agent.expect("welcome")
    state = await agent.desired_state()
    assert (state.generation, state.revision) == (1, "rev1")
    write_state(states, "eu-1", "rev2", replicas=3)
    hub.process.send_signal(signal.SIGHUP)
    state = await agent.desired_state()
    assert (state.generation, state.revision) == (2, "rev2")
    await agent.ack(state)
    for sequence in (1, 2, 3):
        await agent.send(event={"sequence": sequence, "type": "DRIFT_DETECTED", "application": "inference"})
    acked = 0
    while acked < 3:
        acked = (await agent.expect("event_ack")).event_ack.sequence
    assert await hub.kill(signal.SIGKILL) == -signal.SIGKILL
    await agent.close()

    restarted = await HubProcess(tmp_path, tokens.path, states).start()
    processes.append(restarted)
    agent = await FakeAgent(f"127.0.0.1:{restarted.port}", "eu-1", token, applied_generation=2,
                            applied_hash=state.content_hash, next_event_sequence=4).connect()
    agents.append(agent)
    welcome = (await agent.expect("welcome")).welcome
    assert welcome.acked_event_sequence == 3, "events held before the SIGKILL are not asked for again"
    kinds = []
    while (message := await agent.read(skip_heartbeats=False)).WhichOneof("body") != "heartbeat":
        kinds.append(message.WhichOneof("body"))
    assert "desired_state" not in kinds, "an unchanged desired state is not pushed again after a restart"
    assert await restarted.kill(signal.SIGTERM) == 0
