"""Repository views: a directory and a Git commit's tree read the same, and nothing outside the repository."""

from __future__ import annotations

import os
from pathlib import Path

import git
import pytest

from hub.render.errors import RenderError
from hub.render.files import DirectoryFiles, GitTreeFiles, RepoFiles, resolve, within
from hub.render.inputs import RecordingFiles


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    root = tmp_path / "repo"
    (root / "base").mkdir(parents=True)
    (root / "base" / "kustomization.yaml").write_text("resources: [cm.yaml]\n")
    (root / "base" / "cm.yaml").write_text("kind: ConfigMap\n")
    (root / "overlays" / "eu").mkdir(parents=True)
    os.symlink("../../base", root / "overlays" / "eu" / "linked-base")
    os.symlink("../../../outside.yaml", root / "overlays" / "eu" / "escape.yaml")
    (tmp_path / "outside.yaml").write_text("secret: yes\n")
    repository = git.Repo.init(root)
    repository.index.add(["base/kustomization.yaml", "base/cm.yaml", "overlays/eu/linked-base",
                          "overlays/eu/escape.yaml"])
    repository.index.commit("first")
    return root


def views(root: Path) -> list[RepoFiles]:
    return [DirectoryFiles(root), GitTreeFiles(root, "HEAD")]


def test_both_views_read_the_same(repo: Path) -> None:
    for files in views(repo):
        assert files.kind("base") == "dir" and files.kind("base/cm.yaml") == "file"
        assert files.kind("missing") is None and files.kind("base/cm.yaml/x") is None
        assert files.listdir("base") == ["cm.yaml", "kustomization.yaml"]
        assert files.read("base/cm.yaml") == b"kind: ConfigMap\n"
        assert files.listdir("overlays/eu/linked-base") == ["cm.yaml", "kustomization.yaml"]
        assert files.read("overlays/eu/linked-base/cm.yaml") == b"kind: ConfigMap\n"
        with pytest.raises(FileNotFoundError):
            files.read("base")


def test_symlink_leaving_the_repository_is_refused(repo: Path) -> None:
    for files in views(repo):
        with pytest.raises(RenderError, match="outside the repository"):
            files.read("overlays/eu/escape.yaml")


def test_content_ids_follow_content(repo: Path) -> None:
    directory = DirectoryFiles(repo)
    before = directory.content_id("base/cm.yaml")
    (repo / "base" / "cm.yaml").write_text("kind: Secret\n")
    assert directory.content_id("base/cm.yaml") != before
    tree = GitTreeFiles(repo, "HEAD")
    assert tree.content_id("base/cm.yaml") == git.Repo(repo).head.commit.tree["base/cm.yaml"].hexsha


def test_unknown_revision_is_a_clear_error(repo: Path) -> None:
    with pytest.raises(RenderError, match="revision 'nope' not found"):
        GitTreeFiles(repo, "nope")


@pytest.mark.parametrize(("reference", "phrase"), [
    ("../../../etc/passwd", "leaves the repository"), ("/etc/passwd", "absolute path"),
    ("https://github.com/acme/base?ref=v1", "remote resource"), ("github.com/acme/base", "remote resource"),
    ("git@github.com:acme/base.git", "remote resource"), ("", "expected a relative path"),
])
def test_resolve_refuses_what_leaves_the_repository(reference: str, phrase: str) -> None:
    with pytest.raises(RenderError, match=phrase) as caught:
        resolve("overlays/eu", reference, "overlays/eu/kustomization.yaml", "resources[0]")
    assert str(caught.value).startswith("overlays/eu/kustomization.yaml: resources[0]: ")


def test_resolve_and_within() -> None:
    assert resolve("overlays/eu", "../../base", "k.yaml", "resources[0]") == "base"
    assert resolve("overlays/eu", "./patch.yaml", "k.yaml", "patches[0].path") == "overlays/eu/patch.yaml"
    assert resolve("", ".", "k.yaml", "resources[0]") == ""
    assert within("overlays/eu", "overlays/eu/p.yaml") and not within("overlays/eu", "overlays/eu2/p.yaml")
    assert within("", "anything")


def test_recording_files_collects_a_tree_of_inputs(repo: Path) -> None:
    recording = RecordingFiles(DirectoryFiles(repo))
    with recording.scope("overlays/eu") as outer:
        recording.read("base/cm.yaml")
        with recording.scope("base") as inner:
            recording.kind("base/missing.yaml")
            recording.listdir("base")
    assert outer.children == [inner]
    assert inner.paths() == {"base/missing.yaml", "base"}
    assert {p for _, p, _ in outer.own} == {"base/cm.yaml"}
    assert outer.paths() == {"base/cm.yaml", "base/missing.yaml", "base"}
    assert outer.still_valid(DirectoryFiles(repo))
    (repo / "base" / "missing.yaml").write_text("kind: ConfigMap\n")
    assert inner.still_valid(DirectoryFiles(repo)) is False
    assert outer.still_valid(DirectoryFiles(repo)) is False


def test_reads_through_a_symlink_are_recorded_under_the_target_too(repo: Path) -> None:
    for files in views(repo):
        assert files.real_path("overlays/eu/linked-base/cm.yaml") == "base/cm.yaml"
        assert files.real_path("base/cm.yaml") == "base/cm.yaml"
        recording = RecordingFiles(files)
        with recording.scope("overlays/eu") as inputs:
            recording.read("overlays/eu/linked-base/cm.yaml")
        assert inputs.paths() == {"overlays/eu/linked-base/cm.yaml", "base/cm.yaml"}
