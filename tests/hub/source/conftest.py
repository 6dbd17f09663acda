"""Fixtures for the Git source tests."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.hub.source.helpers import Remote


@pytest.fixture
def remote(tmp_path: Path) -> Remote:
    repo = Remote(tmp_path / "remote")
    repo.commit({"fleet.yaml": "kind: Fleet\n", "apps/web/deploy.yaml": "replicas: 1\n"}, "initial fleet")
    return repo
