"""`fleetline render --repo ... --cluster ...`: what the hub would send, from any Git revision, as a real process."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import git
import pytest

from bench.fleetgen import region_kustomization, write_fleet
from fleetline.identity import TRACKING_ANNOTATION
from fleetline.yamlsafe import load_all


def fleetline(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "fleetline.cli", *args], capture_output=True, text=True,
                          timeout=60)


@pytest.fixture(scope="module")
def repo(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str, str]:
    root = tmp_path_factory.mktemp("cli") / "fleet"
    write_fleet(root, cluster_count=3, app_count=2)
    repository = git.Repo.init(root)
    repository.git.add(A=True)
    first = repository.index.commit("first").hexsha
    (root / "apps/app-00/regions/eu/kustomization.yaml").write_text(region_kustomization("app-00", "eu", "2.0.0"))
    repository.git.add(A=True)
    second = repository.index.commit("eu 2.0.0").hexsha
    return root, first, second


def images(objects: list[dict]) -> set[str]:
    return {c["image"] for o in objects if o.get("kind") == "Deployment"
            for c in o["spec"]["template"]["spec"]["containers"]}


def test_cluster_desired_state_at_two_revisions(repo: tuple[Path, str, str]) -> None:
    root, first, second = repo
    old = fleetline("render", "--repo", str(root), "--revision", first, "--cluster", "eu-0002", "--app", "app-00")
    new = fleetline("render", "--repo", str(root), "--cluster", "eu-0002", "--app", "app-00")
    assert old.returncode == 0 and new.returncode == 0, old.stderr + new.stderr
    assert first[:12] in old.stdout.splitlines()[0] and second[:12] in new.stdout.splitlines()[0]
    old_objects, new_objects = load_all(old.stdout, "old"), load_all(new.stdout, "new")
    assert "eu.registry.example.com/ml/app-00:1.4.0" in images(old_objects)
    assert "eu.registry.example.com/ml/app-00:2.0.0" in images(new_objects)
    assert all(o["metadata"]["annotations"][TRACKING_ANNOTATION].startswith("app-00:") for o in new_objects)


def test_json_output_lists_every_application(repo: tuple[Path, str, str]) -> None:
    root, _, second = repo
    result = fleetline("render", "--repo", str(root), "--cluster", "us-west-0001", "-o", "json")
    assert result.returncode == 0, result.stderr
    payload = json.loads(result.stdout)
    assert payload["revision"] == second and payload["cluster"] == "us-west-0001"
    assert [a["name"] for a in payload["applications"]] == ["app-00", "app-01"]
    assert all(a["contentHash"].startswith("sha256:") and len(a["objects"]) == 20 for a in payload["applications"])


def test_directory_at_a_revision(repo: tuple[Path, str, str]) -> None:
    root, first, _ = repo
    result = fleetline("render", "--repo", str(root), "--revision", first, "apps/app-00/regions/eu")
    assert result.returncode == 0, result.stderr
    assert "eu.registry.example.com/ml/app-00:1.4.0" in images(load_all(result.stdout, "out"))


@pytest.mark.parametrize(("args", "message"), [
    (["--cluster", "nowhere"], "fleet.yaml: no cluster named 'nowhere'"),
    (["--cluster", "eu-0002", "--app", "ghost"], "cluster 'eu-0002' runs no application named ghost"),
    (["--revision", "v9.9.9", "--cluster", "eu-0002"], "revision 'v9.9.9' not found"),
])
def test_errors_name_what_is_wrong(repo: tuple[Path, str, str], args: list[str], message: str) -> None:
    root, _, _ = repo
    result = fleetline("render", "--repo", str(root), *args)
    assert result.returncode == 1 and message in result.stderr and result.stdout == ""


def test_cluster_without_repo_is_a_usage_error() -> None:
    result = fleetline("render", "--cluster", "eu-0002")
    assert result.returncode == 2 and "--cluster and --app need --repo" in result.stderr


def test_impact_lists_the_pairs_a_change_affects(repo: tuple[Path, str, str]) -> None:
    root, first, second = repo
    result = fleetline("impact", "--repo", str(root), "--from", first, "--to", second)
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == ["1 of 6 (cluster, application) pairs affected", "eu-0002/app-00"]
    payload = json.loads(fleetline("impact", "--repo", str(root), "--from", first, "-o", "json").stdout)
    assert payload["to"] == second and [(p["cluster"], p["app"]) for p in payload["pairs"]] == [("eu-0002", "app-00")]
    assert fleetline("impact", "--repo", str(root), "--from", second).stdout.startswith("0 of 6")
