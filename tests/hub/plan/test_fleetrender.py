"""Rendering a fleet from a real Git repository, and re-rendering only what a commit affects."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import git
import pytest

from bench.fleetgen import region_kustomization, write_fleet
from fleetline.identity import APP_LABEL, TRACKING_ANNOTATION
from fleetline.yamlsafe import load_all
from hub.plan.fleetrender import FleetRenderer
from hub.plan.impact import Pair


def commit_all(repo: git.Repo, message: str) -> str:
    repo.git.add(A=True)
    return repo.index.commit(message).hexsha


@pytest.fixture
def fleet_repo(tmp_path: Path) -> tuple[Path, git.Repo]:
    root = tmp_path / "fleet"
    write_fleet(root, cluster_count=6, app_count=2)  # us-east-0000, us-west-0001, eu-0002, us-east-0003, ...
    repo = git.Repo.init(root)
    commit_all(repo, "initial fleet")
    return root, repo


def test_full_render_owns_every_object(fleet_repo: tuple[Path, git.Repo]) -> None:
    root, _ = fleet_repo
    state = FleetRenderer(root).render()
    assert len(state.states) == 12 and all(s.ok for s in state.states.values())
    eu = state.states[Pair("eu-0002", "app-00")]
    assert len(eu.objects) == 20 and eu.content_hash.startswith("sha256:")
    for obj in eu.objects:
        meta = obj["metadata"]
        assert meta["labels"][APP_LABEL] == "app-00"
        assert meta["annotations"][TRACKING_ANNOTATION].startswith("app-00:")
        assert meta["namespace"] == "app-00"  # the destination namespace filled in
    deployment = next(o for o in eu.objects if o["kind"] == "Deployment" and o["metadata"]["name"] == "app-00")
    assert deployment["spec"]["template"]["spec"]["containers"][0]["image"] == \
        "eu.registry.example.com/ml/app-00:1.4.0"
    assert deployment["metadata"]["annotations"][TRACKING_ANNOTATION] == "app-00:apps/Deployment:app-00/app-00"


@pytest.mark.skipif(shutil.which("kubectl") is None, reason="kubectl (kustomize oracle) is not on PATH")
def test_rendered_objects_equal_kustomize_plus_ownership(fleet_repo: tuple[Path, git.Repo]) -> None:
    root, _ = fleet_repo
    state = FleetRenderer(root).render()
    for pair in (Pair("us-west-0001", "app-01"), Pair("eu-0005", "app-00")):
        out = subprocess.run(["kubectl", "kustomize", str(root / f"apps/{pair.app}/clusters/{pair.cluster}")],
                             capture_output=True, check=True).stdout
        expected = load_all(out, "kubectl kustomize")
        ours = state.states[pair].objects
        for obj in ours:
            obj["metadata"]["annotations"].pop(TRACKING_ANNOTATION)
            obj["metadata"]["labels"].pop(APP_LABEL)
            obj["metadata"].pop("namespace")
            for key in ("annotations", "labels"):
                if not obj["metadata"][key]:
                    del obj["metadata"][key]
        assert ours == expected


def test_commit_to_the_eu_region_overlay_rerenders_only_eu_clusters_of_that_app(
        fleet_repo: tuple[Path, git.Repo]) -> None:
    root, repo = fleet_repo
    renderer = FleetRenderer(root)
    before = renderer.render()
    (root / "apps/app-00/regions/eu/kustomization.yaml").write_text(region_kustomization("app-00", "eu", "1.5.0"))
    revision = commit_all(repo, "eu: inference 1.5.0")
    after, rerendered = renderer.advance(revision)
    assert rerendered == {Pair("eu-0002", "app-00"), Pair("eu-0005", "app-00")}
    for pair, state in after.states.items():
        if pair in rerendered:
            assert state is not before.states[pair] and state.content_hash != before.states[pair].content_hash
            images = [c["image"] for o in state.objects if o["kind"] == "Deployment"
                      for c in o["spec"]["template"]["spec"]["containers"]]
            assert "eu.registry.example.com/ml/app-00:1.5.0" in images
        else:
            assert state is before.states[pair]  # untouched: not even re-rendered


def test_commit_to_a_base_rerenders_that_app_everywhere_and_unrelated_files_nothing(
        fleet_repo: tuple[Path, git.Repo]) -> None:
    root, repo = fleet_repo
    renderer = FleetRenderer(root)
    renderer.render()
    resources = root / "apps/app-01/base/resources.yaml"
    resources.write_text(resources.read_text().replace("level: info", "level: debug"))
    _, rerendered = renderer.advance(commit_all(repo, "app-01: debug logging"))
    assert rerendered == {Pair(c, "app-01") for c in ("us-east-0000", "us-west-0001", "eu-0002", "us-east-0003",
                                                      "us-west-0004", "eu-0005")}
    (root / "README.md").write_text("# the fleet\n")
    (root / "apps/app-00/regions/eu/notes.txt").write_text("not read by any kustomization\n")
    _, rerendered = renderer.advance(commit_all(repo, "docs"))
    assert rerendered == set()


def test_new_cluster_in_fleet_yaml_renders_only_its_pairs(fleet_repo: tuple[Path, git.Repo]) -> None:
    root, repo = fleet_repo
    renderer = FleetRenderer(root)
    renderer.render()
    write_fleet(root, cluster_count=7, app_count=2)  # adds us-east-0006 and its overlays
    state, rerendered = renderer.advance(commit_all(repo, "add us-east-0006"))
    assert rerendered == {Pair("us-east-0006", "app-00"), Pair("us-east-0006", "app-01")}
    assert len(state.states) == 14 and all(s.ok for s in state.states.values())


def test_a_failing_application_does_not_stop_the_others(fleet_repo: tuple[Path, git.Repo]) -> None:
    root, repo = fleet_repo
    overlay = root / "apps/app-01/clusters/eu-0002/kustomization.yaml"
    overlay.write_text(overlay.read_text().replace("- ../../regions/eu", "- ../../regions/europe"))
    commit_all(repo, "typo")
    state = FleetRenderer(root).render()
    broken = state.states[Pair("eu-0002", "app-01")]
    assert not broken.ok and broken.objects == []
    assert "apps/app-01/clusters/eu-0002/kustomization.yaml" in broken.errors[0]
    assert "regions/europe" in broken.errors[0]
    assert sum(s.ok for s in state.states.values()) == 11
    overlay.write_text(overlay.read_text().replace("- ../../regions/europe", "- ../../regions/eu"))
    renderer = FleetRenderer(root)
    renderer.render("HEAD")
    _, rerendered = renderer.advance(commit_all(repo, "fix typo"))
    assert rerendered == {Pair("eu-0002", "app-01")}
    assert renderer.current is not None and renderer.current.states[Pair("eu-0002", "app-01")].ok


def test_clusters_rendering_the_same_overlay_share_one_render(fleet_repo: tuple[Path, git.Repo]) -> None:
    root, repo = fleet_repo
    fleet_yaml = root / "fleet.yaml"
    fleet_yaml.write_text(fleet_yaml.read_text().replace("path: apps/app-01/clusters/{name}",
                                                         "path: apps/app-01/regions/{region}"))
    commit_all(repo, "app-01 per region")
    renderer = FleetRenderer(root)
    state = renderer.render()
    assert renderer.renderer.shared == 3  # 6 clusters, 3 regions: 3 renders, 3 shared
    east = [state.states[Pair(c, "app-01")] for c in ("us-east-0000", "us-east-0003")]
    assert [s.cluster for s in east] == ["us-east-0000", "us-east-0003"]
    assert east[0].objects == east[1].objects and east[0].content_hash == east[1].content_hash
    (root / "apps/app-01/regions/eu/kustomization.yaml").write_text(region_kustomization("app-01", "eu", "9.0"))
    after, rerendered = renderer.advance(commit_all(repo, "eu 9.0"))
    assert rerendered == {Pair("eu-0002", "app-01"), Pair("eu-0005", "app-01")}
    eu = [after.states[p] for p in sorted(rerendered)]
    assert all("eu.registry.example.com/ml/app-01:9.0" in str(s.objects) for s in eu)
    assert after.states[Pair("us-east-0000", "app-01")] is state.states[Pair("us-east-0000", "app-01")]
