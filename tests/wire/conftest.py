"""Fixtures of the wire integration tests: a hub on loopback with tokens for two clusters, and agents that are
stopped (and must stop) at the end of each test."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from hub.sessions.server import start_hub
from hub.sessions.tokens import TokenStore
from tests.wire.support import HEARTBEAT, A, B, Fleet, RunningAgent


@pytest.fixture
async def fleet(tmp_path: Path) -> AsyncIterator[Fleet]:
    store = TokenStore(tmp_path / "tokens")
    tokens = {A: store.issue(A), B: store.issue(B)}
    handle = await start_hub("127.0.0.1:0", tmp_path / "hub", tokens=store, insecure=True,
                             heartbeat_interval=HEARTBEAT, fsync=False)
    try:
        yield Fleet(handle, tokens, tmp_path)
    finally:
        await handle.stop(grace=0.5)


@pytest.fixture
async def agents() -> AsyncIterator[list[RunningAgent]]:
    running: list[RunningAgent] = []
    yield running
    problems = [problem for agent in running if (problem := await agent.stop()) is not None]
    assert not problems, problems
