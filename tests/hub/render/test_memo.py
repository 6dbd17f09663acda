"""Memoised builds: a base shared by many overlays is built once per distinct input, across revisions too."""

from __future__ import annotations

from pathlib import Path

import git

from bench.fleetgen import region_kustomization, write_fleet
from hub.render.build import Builder
from hub.render.files import DirectoryFiles, GitTreeFiles
from hub.render.memo import BuildMemo, MemoBuilder


def test_shared_bases_are_built_once_per_distinct_input(tmp_path: Path) -> None:
    root = tmp_path / "fleet"
    pairs = write_fleet(root, cluster_count=9, app_count=1)
    repo = git.Repo.init(root)
    repo.git.add(A=True)
    first = repo.index.commit("fleet").hexsha
    memo = BuildMemo()
    files = GitTreeFiles(root, first)
    outputs = {}
    for cluster, _, app in pairs:
        path = f"apps/{app}/clusters/{cluster}"
        outputs[path] = [r.obj for r in MemoBuilder(files, memo).build(path)]
        assert outputs[path] == [r.obj for r in Builder(GitTreeFiles(root, first)).build(path)]  # same output
    assert memo.builds == {"apps/app-00/base": 1, "apps/app-00/regions/us-east": 1,
                           "apps/app-00/regions/us-west": 1, "apps/app-00/regions/eu": 1}

    (root / "apps/app-00/regions/eu/kustomization.yaml").write_text(region_kustomization("app-00", "eu", "2.0"))
    repo.git.add(A=True)
    second = repo.index.commit("eu 2.0").hexsha
    files = GitTreeFiles(root, second)
    for cluster, region, app in pairs:
        objects = [r.obj for r in MemoBuilder(files, memo).build(f"apps/{app}/clusters/{cluster}")]
        images = {c["image"] for o in objects if o["kind"] == "Deployment"
                  for c in o["spec"]["template"]["spec"]["containers"]}
        assert ("eu.registry.example.com/ml/app-00:2.0" in images) == (region == "eu")
    # only the changed region overlay was built again; the base and the other regions were reused
    assert memo.builds["apps/app-00/regions/eu"] == 2
    assert memo.builds["apps/app-00/base"] == 1 and memo.builds["apps/app-00/regions/us-east"] == 1


def test_reused_results_are_copies(tmp_path: Path) -> None:
    root = tmp_path / "fleet"
    write_fleet(root, cluster_count=3, app_count=1)
    memo, files = BuildMemo(), DirectoryFiles(root)
    first = MemoBuilder(files, memo).build("apps/app-00/clusters/us-east-0000")
    first[0].obj["metadata"]["name"] = "mutated by a caller"
    again = MemoBuilder(files, memo).build("apps/app-00/clusters/us-east-0000")
    assert all(r.obj["metadata"]["name"] != "mutated by a caller" for r in again)
    assert memo.hits >= 1
