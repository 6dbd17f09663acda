"""Rollback: the revert of the commit that last changed an application's rendered output, pushed to the branch."""

from __future__ import annotations

import stat

import git
import pytest

from hub.changes import (
    ChangeError,
    DirtyCloneError,
    DivergedError,
    NothingToRollBackError,
    PushRejectedError,
    RevertConflictError,
    rollback,
)
from tests.hub.changes.conftest import AUTHOR, IMAGE, MONITOR, World, overlay, overlay_path, render, served


def test_rollback_reverts_the_last_change_on_the_cluster_and_pushes_it(world: World) -> None:
    bad = world.dev.commit({overlay_path("eu-1"): overlay("eu-1", tag="1.1.0", model="resnet-50-v2")},
                           "eu-1: inference 1.1.0")
    world.dev.commit({"apps/monitor/configmap.yaml": MONITOR.replace("30s", "10s")}, "monitor: poll faster")
    us_east = world.dev.commit({overlay_path("us-east-1"): overlay("us-east-1", tag="1.2.0")}, "us-east-1: 1.2.0")
    assert served(world.remote, "main", "eu-1") == (f"{IMAGE}:1.1.0", "resnet-50-v2")

    result = rollback(world.hub.path, "main", "inference", "eu-1", "1.1.0 crash-loops on A100 nodes", AUTHOR)

    assert result.reverted == bad and result.clusters == ("eu-1",) and result.branch == "main"
    pushed = world.remote_commit("main")
    assert pushed.hexsha == result.commit and pushed.parents[0].hexsha == us_east
    assert (pushed.author.name, pushed.author.email) == ("Ada Lovelace", "ada@example.com")
    assert pushed.message.startswith("Roll back inference on cluster eu-1: 1.1.0 crash-loops on A100 nodes\n")
    assert f"This reverts commit {bad}." in pushed.message and "Reason: 1.1.0 crash-loops" in pushed.message
    assert list(pushed.stats.files) == [overlay_path("eu-1")]
    # the cluster's desired state is exactly what it was before the bad commit; the others keep theirs
    assert served(world.remote, "main", "eu-1") == (f"{IMAGE}:1.0.0", "resnet-50-v1")
    assert render(world.remote, "main", "eu-1").content_hash == render(world.remote, f"{bad}~1", "eu-1").content_hash
    assert served(world.remote, "main", "us-east-1")[0] == f"{IMAGE}:1.2.0"
    assert world.hub.status() == "" and world.hub.repo.head.commit.hexsha == result.commit


def test_a_commit_that_leaves_the_output_unchanged_is_passed_over(world: World) -> None:
    bad = world.dev.commit({overlay_path("eu-1"): overlay("eu-1", tag="1.1.0")}, "eu-1: 1.1.0")
    world.dev.commit({overlay_path("eu-1"): "# reviewed by QA\n" + overlay("eu-1", tag="1.1.0")}, "comment only")
    world.dev.commit({overlay_path("staging-1"): overlay("staging-1", tag="2.0.0")}, "staging: 2.0.0")
    assert rollback(world.hub.path, "main", "inference", "eu-1", "bad tag", AUTHOR).reverted == bad
    assert served(world.remote, "main", "eu-1")[0] == f"{IMAGE}:1.0.0"
    assert (world.hub.path / overlay_path("eu-1")).read_text().startswith("# reviewed by QA\n")


def test_environment_rollback_reverts_the_newest_change_on_any_of_its_clusters(world: World) -> None:
    world.dev.commit({overlay_path("eu-1"): overlay("eu-1", tag="1.1.0")}, "eu-1: 1.1.0")
    newest = world.dev.commit({overlay_path("us-east-1"): overlay("us-east-1", tag="1.1.0")}, "us-east-1: 1.1.0")
    world.dev.commit({overlay_path("staging-1"): overlay("staging-1", tag="9.9.9")}, "staging: 9.9.9")
    result = rollback(world.hub.path, "main", "inference", "production", "latency regression", AUTHOR)
    assert result.reverted == newest and result.clusters == ("us-east-1",)
    assert "on environment production (clusters us-east-1)" in " ".join(result.message.split())
    assert served(world.remote, "main", "us-east-1")[0] == f"{IMAGE}:1.0.0"
    assert served(world.remote, "main", "eu-1")[0] == f"{IMAGE}:1.1.0"
    assert served(world.remote, "main", "staging-1")[0] == f"{IMAGE}:9.9.9"


def test_a_fleet_yaml_change_that_moves_the_source_is_the_change(world: World) -> None:
    fleet = (world.dev.path / "fleet.yaml").read_text()
    moved = fleet.replace('{name}"}', '{name}", pathOverrides: {eu-1: apps/inference/overlays/canary}}')
    change = world.dev.commit({"apps/inference/overlays/canary/kustomization.yaml": overlay("eu-1", tag="1.4.0-rc1"),
                               "fleet.yaml": moved}, "eu-1 runs the canary overlay")
    world.dev.commit({overlay_path("us-east-1"): overlay("us-east-1", tag="1.1.0")}, "us-east-1: 1.1.0")
    world.dev.commit({"fleet.yaml": moved + "# a comment\n"}, "fleet.yaml comment")
    assert served(world.remote, "main", "eu-1")[0] == f"{IMAGE}:1.4.0-rc1"
    assert rollback(world.hub.path, "main", "inference", "eu-1", "canary failed", AUTHOR).reverted == change
    assert served(world.remote, "main", "eu-1")[0] == f"{IMAGE}:1.0.0"


def test_commits_that_failed_to_render_are_never_chosen(world: World) -> None:
    deployment = world.dev.path / "apps/inference/base/deployment.yaml"
    good = deployment.read_text()
    change = world.dev.commit({overlay_path("eu-1"): overlay("eu-1", tag="1.1.0")}, "eu-1: 1.1.0")
    world.dev.commit({"apps/inference/base/deployment.yaml": good.replace("  selector:", "  selector: [")},
                     "broken YAML")
    world.dev.commit({"apps/inference/base/deployment.yaml": good}, "fix YAML")
    assert not render(world.remote, "main~1", "eu-1").ok
    result = rollback(world.hub.path, "main", "inference", "eu-1", "roll back 1.1.0", AUTHOR)
    assert result.reverted == change  # not the fix (its revert would break the render again)
    assert served(world.remote, "main", "eu-1")[0] == f"{IMAGE}:1.0.0"


def test_a_revert_that_would_not_render_is_refused_and_nothing_is_pushed(world: World) -> None:
    overlay_file = overlay_path("eu-1")
    broken = overlay("eu-1", tag="1.1.0").replace("- ../../base", "- ../../bse")
    world.dev.commit({overlay_file: broken}, "eu-1: 1.1.0 (typo in base path)")
    fix = world.dev.commit({overlay_file: overlay("eu-1", tag="1.1.0")}, "eu-1: fix the base path")
    before = world.remote_head()
    with pytest.raises(ChangeError, match=f"reverting {fix[:12]} would leave inference unrenderable on cluster eu-1"):
        rollback(world.hub.path, "main", "inference", "eu-1", "roll back 1.1.0", AUTHOR)
    assert world.remote_head() == before and world.hub.repo.head.commit.hexsha == before and world.hub.status() == ""


def test_a_conflicting_revert_is_aborted_naming_the_files(world: World) -> None:
    file = overlay_path("eu-1")
    world.dev.commit({file: overlay("eu-1", tag="1.1.0")}, "eu-1: 1.1.0")
    text = overlay("eu-1", tag="1.1.0").replace('"1.1.0"', '"1.1.0"  # approved by QA')
    world.dev.commit({file: text}, "note the approval (same line, same output)")
    before = world.remote_head()
    with pytest.raises(RevertConflictError) as caught:
        rollback(world.hub.path, "main", "inference", "eu-1", "bad tag", AUTHOR)
    assert caught.value.files == [file] and file in str(caught.value) and "aborted" in str(caught.value)
    assert world.remote_head() == before
    assert world.hub.repo.head.commit.hexsha == before and world.hub.status() == ""
    assert not (world.hub.path / ".git" / "REVERT_HEAD").exists()


def test_a_merge_commit_is_reverted_against_its_first_parent(world: World) -> None:
    dev = world.dev.repo
    dev.git.checkout("-q", "-b", "feature")
    world.dev.commit({overlay_path("eu-1"): overlay("eu-1", tag="1.3.0")}, "eu-1: 1.3.0", push=False)
    world.dev.commit({overlay_path("eu-1"): overlay("eu-1", tag="1.3.1")}, "eu-1: 1.3.1", push=False)
    dev.git.checkout("-q", "main")
    world.dev.commit({"README.md": "fleet\n"}, "readme", push=False)
    dev.git.merge("-q", "--no-ff", "-m", "Merge feature", "feature")
    dev.git.push("-q", "origin", "main")
    merge = dev.head.commit.hexsha
    result = rollback(world.hub.path, "main", "inference", "eu-1", "undo the feature", AUTHOR)
    assert result.reverted == merge
    assert served(world.remote, "main", "eu-1")[0] == f"{IMAGE}:1.0.0"
    assert (world.hub.path / "README.md").exists()


def test_nothing_to_roll_back(world: World) -> None:
    with pytest.raises(NothingToRollBackError, match="first commit .* cannot be reverted"):
        rollback(world.hub.path, "main", "monitor", "eu-1", "why not", AUTHOR)
    world.dev.commit({overlay_path("eu-1"): overlay("eu-1", tag="1.1.0")}, "eu-1: 1.1.0")
    with pytest.raises(NothingToRollBackError, match="has not changed in the last 1 commits"):
        rollback(world.hub.path, "main", "inference", "staging-1", "why not", AUTHOR, max_commits=1)
    assert world.hub.status() == ""


def test_unknown_targets_and_missing_reasons_are_refused(world: World) -> None:
    with pytest.raises(ChangeError, match=r"'eu1' is neither a cluster nor an environment \(did you mean 'eu-1'\?\)"):
        rollback(world.hub.path, "main", "inference", "eu1", "r", AUTHOR)
    with pytest.raises(ChangeError, match=r"no application 'inferense' \(did you mean 'inference'\?\)"):
        rollback(world.hub.path, "main", "inferense", "eu-1", "r", AUTHOR)
    with pytest.raises(ChangeError, match="needs a reason"):
        rollback(world.hub.path, "main", "inference", "eu-1", "  ", AUTHOR)
    with pytest.raises(ChangeError, match="Name <email>"):
        rollback(world.hub.path, "main", "inference", "eu-1", "r", "ada")


def test_rollback_refuses_a_dirty_or_diverged_clone(world: World) -> None:
    world.dev.commit({overlay_path("eu-1"): overlay("eu-1", tag="1.1.0")}, "eu-1: 1.1.0")
    edited = world.hub.path / overlay_path("eu-1")
    edited.write_text(edited.read_text() + "# local\n")
    with pytest.raises(DirtyCloneError, match=overlay_path("eu-1")):
        rollback(world.hub.path, "main", "inference", "eu-1", "r", AUTHOR)
    world.hub.repo.git.checkout("--", ".")
    world.hub.commit({"NOTES.md": "local\n"}, "local", push=False)
    head = world.remote_head()
    with pytest.raises(DivergedError):
        rollback(world.hub.path, "main", "inference", "eu-1", "r", AUTHOR)
    assert world.remote_head() == head


def test_a_refused_push_undoes_the_local_revert(world: World) -> None:
    world.dev.commit({overlay_path("eu-1"): overlay("eu-1", tag="1.1.0")}, "eu-1: 1.1.0")
    hook = world.remote / "hooks" / "pre-receive"
    hook.write_text("#!/bin/sh\necho 'branch main is protected' >&2\nexit 1\n")
    hook.chmod(hook.stat().st_mode | stat.S_IXUSR)
    before = world.remote_head()
    with pytest.raises(PushRejectedError, match="refused the push .*branch main is protected.*undone"):
        rollback(world.hub.path, "main", "inference", "eu-1", "r", AUTHOR)
    assert world.remote_head() == before
    assert world.hub.repo.head.commit.hexsha == before and world.hub.status() == ""
    assert git.Repo(world.hub.path).active_branch.name == "main"
