"""The working clone's checks before a change: dirty, diverged, ahead, not a branch; fast-forward when behind."""

from __future__ import annotations

import git
import pytest

from hub.changes.errors import ChangeError, DirtyCloneError, DivergedError, RefError
from hub.changes.workclone import WorkClone, parse_author, redact
from tests.hub.changes.conftest import World, overlay, overlay_path


def test_a_clone_behind_the_remote_is_fast_forwarded_and_checked_out(world: World) -> None:
    pushed = world.dev.commit({overlay_path("eu-1"): overlay("eu-1", tag="1.1.0")}, "eu-1: 1.1.0")
    world.hub.repo.git.checkout("-q", "-b", "elsewhere")  # the clone may sit on another branch
    clone = WorkClone(world.hub.path, "main")
    assert clone.prepare() == pushed
    assert world.hub.repo.active_branch.name == "main" and world.hub.repo.head.commit.hexsha == pushed


def test_a_branch_only_on_the_remote_is_created_locally(world: World) -> None:
    world.dev.repo.git.push("-q", "origin", "HEAD:refs/heads/release")
    clone = WorkClone(world.hub.path, "refs/heads/release")
    assert clone.prepare() == world.initial and world.hub.repo.active_branch.name == "release"


@pytest.mark.parametrize("mess", ["modified", "staged", "untracked"])
def test_a_dirty_clone_is_refused_naming_the_files_and_nothing_is_touched(world: World, mess: str) -> None:
    target = world.hub.path / overlay_path("eu-1")
    if mess == "untracked":
        target = world.hub.path / "notes.txt"
    target.write_text("local edit\n")
    if mess == "staged":
        world.hub.repo.git.add(str(target))
    with pytest.raises(DirtyCloneError) as caught:
        WorkClone(world.hub.path, "main").prepare()
    assert target.relative_to(world.hub.path).as_posix() in str(caught.value)
    assert "uncommitted changes or untracked files" in str(caught.value)
    assert target.read_text() == "local edit\n"


def test_an_unfinished_revert_is_refused(world: World) -> None:
    (world.hub.path / ".git" / "REVERT_HEAD").write_text(world.initial + "\n")
    with pytest.raises(DirtyCloneError, match="a revert is in progress.*git revert --abort"):
        WorkClone(world.hub.path, "main").prepare()


def test_a_diverged_clone_is_refused_and_keeps_its_commits(world: World) -> None:
    world.dev.commit({"README.md": "remote\n"}, "remote change")
    local = world.hub.commit({"NOTES.md": "local\n"}, "local change", push=False)
    with pytest.raises(DivergedError, match=r"has diverged from origin/main: 1 local commit\(s\).*1 commit\(s\)"):
        WorkClone(world.hub.path, "main").prepare()
    assert world.hub.repo.head.commit.hexsha == local


def test_unpushed_local_commits_are_refused(world: World) -> None:
    world.hub.commit({"NOTES.md": "local\n"}, "local change", push=False)
    with pytest.raises(DivergedError, match="1 commit\\(s\\) that are not on origin/main"):
        WorkClone(world.hub.path, "main").prepare()


def test_a_tag_or_missing_branch_is_refused(world: World) -> None:
    world.dev.repo.create_tag("v1")
    world.dev.repo.git.push("-q", "origin", "v1")
    with pytest.raises(RefError, match="'v1' is a tag, not a branch"):
        WorkClone(world.hub.path, "v1").prepare()
    with pytest.raises(RefError, match="is a tag"):
        WorkClone(world.hub.path, "refs/tags/v1")
    with pytest.raises(RefError, match="'nope' is not a branch of the remote"):
        WorkClone(world.hub.path, "nope").prepare()


def test_head_means_the_checked_out_branch_and_a_detached_head_is_refused(world: World) -> None:
    assert WorkClone(world.hub.path, "HEAD").branch == "main"
    world.hub.repo.git.checkout("-q", "--detach")
    with pytest.raises(RefError, match="detached"):
        WorkClone(world.hub.path, "HEAD")


def test_not_a_working_clone(world: World) -> None:
    with pytest.raises(ChangeError, match="bare repository"):
        WorkClone(world.remote, "main")
    with pytest.raises(ChangeError, match="not a Git working clone"):
        WorkClone(world.remote.parent / "missing", "main")


def test_one_change_at_a_time_per_clone(world: World) -> None:
    first, second = WorkClone(world.hub.path, "main"), WorkClone(world.hub.path, "main")
    with first.locked(), pytest.raises(ChangeError, match="another rollback or promotion is running"), \
            second.locked():
        pass
    with second.locked():  # released
        pass


def test_a_failing_body_puts_the_clone_back(world: World) -> None:
    clone = WorkClone(world.hub.path, "main")
    with pytest.raises(RuntimeError), clone.change():
        world.hub.commit({"x.txt": "half done\n"}, "half done", push=False)
        raise RuntimeError("boom")
    assert world.hub.repo.head.commit.hexsha == world.initial and world.hub.status() == ""


def test_author_and_redaction() -> None:
    identity = parse_author("  Ada Lovelace <ada@example.com> ")
    assert (identity.name, identity.email) == ("Ada Lovelace", "ada@example.com")
    for bad in ("ada", "<ada@example.com>", "Ada <>", ""):
        with pytest.raises(ChangeError, match="Name <email>"):
            parse_author(bad)
    assert redact("fatal: https://bot:s3cret@git.example.com/fleet.git not found") == \
        "fatal: https://***@git.example.com/fleet.git not found"


def test_fetch_failure_names_the_remote_without_credentials(world: World) -> None:
    world.hub.repo.git.remote("set-url", "origin", f"file://user:tok3n@{world.remote.parent}/gone.git")
    with pytest.raises(ChangeError) as caught:
        WorkClone(world.hub.path, "main").prepare()
    assert "could not fetch" in str(caught.value) and "tok3n" not in str(caught.value)
    assert isinstance(git.Repo(world.hub.path).head.commit.hexsha, str)
