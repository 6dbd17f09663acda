"""Fleet test helpers: a valid example fleet as plain data, written into a real directory and loaded."""

from __future__ import annotations

import copy
from collections.abc import Callable
from pathlib import Path

import pytest
import yaml

from hub.fleet import Fleet, FleetError, load_fleet
from hub.render.files import DirectoryFiles

BASE_FLEET: dict = {
    "apiVersion": "fleetline.io/v1alpha1",
    "kind": "Fleet",
    "metadata": {"name": "ml-platform"},
    "spec": {
        "repoURL": "https://github.com/acme/fleet.git",
        "environments": {
            "staging": {"ref": "main"},
            "production": {"ref": "release", "production": True, "approvals": {"required": 2}},
        },
        "clusters": [
            {"name": "us-east-1", "region": "us-east", "environment": "production", "labels": {"gpu": "a100"}},
            {"name": "us-west-1", "region": "us-west", "environment": "production", "labels": {"gpu": "h100"}},
            {"name": "eu-1", "region": "eu", "environment": "production", "labels": {"tier": "eu-sovereign"}},
            {"name": "staging-1", "region": "us-east", "environment": "staging", "labels": {"gpu": "t4"}},
        ],
        "applications": [
            {"name": "inference-server", "source": {"path": "apps/inference-server/overlays/{region}"},
             "destination": {"namespace": "inference"}},
        ],
    },
}


def fleet_data() -> dict:
    """A fresh deep copy of the example fleet, to modify in a test."""
    return copy.deepcopy(BASE_FLEET)


def write_repo(root: Path, fleet: dict | str | None, files: dict[str, str] | None = None) -> DirectoryFiles:
    """A repository directory holding fleet.yaml (a dict is dumped as YAML, a str written as is) and `files`."""
    root.mkdir(parents=True, exist_ok=True)
    if fleet is not None:
        text = fleet if isinstance(fleet, str) else yaml.safe_dump(fleet, sort_keys=False)
        (root / "fleet.yaml").write_text(text)
    for path, content in (files or {}).items():
        target = root / path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(content)
    return DirectoryFiles(root)


@pytest.fixture
def load(tmp_path: Path) -> Callable[..., Fleet]:
    """load(fleet, files) -> Fleet, from a fresh repository directory."""
    counter = iter(range(1000))

    def _load(fleet: dict | str | None, files: dict[str, str] | None = None) -> Fleet:
        return load_fleet(write_repo(tmp_path / f"repo{next(counter)}", fleet, files))
    return _load


@pytest.fixture
def errors(load: Callable[..., Fleet]) -> Callable[..., list[str]]:
    """errors(fleet, files) -> every error line of the FleetError the fleet raises (fails if it loads)."""
    def _errors(fleet: dict | str | None, files: dict[str, str] | None = None) -> list[str]:
        with pytest.raises(FleetError) as caught:
            load(fleet, files)
        lines = str(caught.value).splitlines()
        assert lines == [error.describe() for error in caught.value.errors]
        return lines
    return _errors
