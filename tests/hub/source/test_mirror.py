"""GitMirror: clone into the data directory, incremental fetches with ref changes, resolving refs, commit info."""

from __future__ import annotations

from pathlib import Path

import pytest

from hub.render.files import GitTreeFiles
from hub.source import GitMirror, SourceError
from tests.hub.source.helpers import Remote, git


def test_fetch_clones_a_bare_mirror_under_the_data_directory(tmp_path: Path, remote: Remote) -> None:
    mirror = GitMirror(tmp_path / "data", str(remote.path))
    changes = mirror.fetch()
    assert mirror.path == str(tmp_path / "data" / "source" / "mirror.git")
    assert git(mirror.path, "rev-parse", "--is-bare-repository") == "true"
    assert changes == {"refs/heads/main": (None, remote.head())}
    files = GitTreeFiles(mirror.path, mirror.resolve("main"))  # what the renderer reads
    assert files.read("apps/web/deploy.yaml") == b"replicas: 1\n"
    assert not (tmp_path / "data" / "source" / "askpass.sh").exists()  # no credentials, no helper


def test_fetch_is_incremental_and_reports_what_moved(tmp_path: Path, remote: Remote) -> None:
    mirror = GitMirror(tmp_path / "data", str(remote.path))
    mirror.ensure()
    marker = Path(mirror.path) / "fleetline-marker"
    marker.write_text("survives fetches")  # a re-clone would lose it
    first = remote.head()
    assert mirror.fetch() == {}

    second = remote.commit({"apps/web/deploy.yaml": "replicas: 2\n"}, "scale web")
    remote.git("branch", "develop")
    remote.git("tag", "-a", "v1.0", "-m", "release 1.0")
    changes = mirror.fetch()
    assert changes == {"refs/heads/main": (first, second), "refs/heads/develop": (None, second),
                       "refs/tags/v1.0": (None, second)}  # tags peeled to their commit

    remote.git("branch", "-D", "develop")
    third = remote.commit({}, "empty")
    remote.git("tag", "-f", "-a", "v1.0", "-m", "moved", third)  # a tag moved on the host is followed
    assert mirror.fetch() == {"refs/heads/develop": (second, None), "refs/heads/main": (second, third),
                              "refs/tags/v1.0": (second, third)}
    assert marker.read_text() == "survives fetches"
    assert mirror.ensure() == {}


def test_resolve_branch_tag_refs_path_sha_and_head(tmp_path: Path, remote: Remote) -> None:
    first = remote.head()
    remote.git("tag", "v1", first)
    second = remote.commit({"a.txt": "a"}, "second")
    remote.git("branch", "release/1.x", first)
    mirror = GitMirror(tmp_path / "data", str(remote.path))
    mirror.fetch()
    assert mirror.resolve("main") == second
    assert mirror.resolve("HEAD") == second  # the remote's default branch
    assert mirror.resolve("release/1.x") == first
    assert mirror.resolve("v1") == first
    assert mirror.resolve("refs/tags/v1") == first
    assert mirror.resolve("refs/heads/main") == second
    assert mirror.resolve(first) == first
    assert mirror.resolve(first[:10]) == first


def test_a_branch_wins_over_a_tag_of_the_same_name(tmp_path: Path, remote: Remote) -> None:
    first = remote.head()
    remote.git("tag", "prod", first)
    second = remote.commit({}, "second")
    remote.git("branch", "prod", second)
    mirror = GitMirror(tmp_path / "data", str(remote.path))
    mirror.fetch()
    assert mirror.resolve("prod") == second
    assert mirror.resolve("refs/tags/prod") == first


def test_an_unknown_ref_names_the_refs_that_exist(tmp_path: Path, remote: Remote) -> None:
    remote.git("branch", "release")
    remote.git("tag", "v2.0")
    mirror = GitMirror(tmp_path / "data", str(remote.path))
    mirror.fetch()
    with pytest.raises(SourceError) as caught:
        mirror.resolve("relase")
    message = str(caught.value)
    assert "ref 'relase' not found" in message
    assert "did you mean 'release'?" in message
    assert "branches: main, release" in message and "tags: v2.0" in message
    with pytest.raises(SourceError, match="not a valid Git ref name"):
        mirror.resolve("--upload-pack=touch /tmp/x")
    with pytest.raises(SourceError, match="not a valid Git ref name"):
        mirror.resolve("main~1")
    with pytest.raises(SourceError, match="not found"):
        mirror.resolve("0" * 40)


def test_resolve_before_the_first_fetch_says_so(tmp_path: Path, remote: Remote) -> None:
    with pytest.raises(SourceError, match="has not been fetched yet"):
        GitMirror(tmp_path / "data", str(remote.path)).resolve("main")


def test_commit_info(tmp_path: Path, remote: Remote) -> None:
    sha = remote.commit({"x": "1"}, "bump model to v7\n\nLonger explanation.", "--date=2024-03-05T10:20:30+01:00")
    mirror = GitMirror(tmp_path / "data", str(remote.path))
    mirror.fetch()
    info = mirror.commit_info(sha)
    assert (info.sha, info.author, info.author_email, info.subject) == (
        sha, "Ada Lovelace", "ada@example.com", "bump model to v7")
    assert info.committer == "Ada Lovelace" and info.time.tzinfo is not None
    with pytest.raises(SourceError, match="not found in the mirror"):
        mirror.commit_info("f" * 40)
    with pytest.raises(SourceError, match="not a commit sha"):
        mirror.commit_info("HEAD; rm -rf /")


def test_an_unreachable_repository_fails_clearly_and_leaves_no_partial_mirror(tmp_path: Path) -> None:
    mirror = GitMirror(tmp_path / "data", str(tmp_path / "missing"))
    with pytest.raises(SourceError) as caught:
        mirror.fetch()
    assert "cannot clone" in str(caught.value) and str(tmp_path / "missing") in str(caught.value)
    assert not mirror.exists()
    assert not (tmp_path / "data" / "source" / "mirror.git.partial").exists()


def test_a_changed_url_is_followed_without_a_reclone(tmp_path: Path, remote: Remote) -> None:
    GitMirror(tmp_path / "data", str(remote.path)).fetch()
    moved = tmp_path / "moved"
    remote.path.rename(moved)
    git(moved, "commit", "-q", "--allow-empty", "-m", "after the move")
    new_sha = git(moved, "rev-parse", "HEAD")
    mirror = GitMirror(tmp_path / "data", str(moved))
    assert mirror.ensure() == {}
    assert git(mirror.path, "config", "remote.origin.url") == str(moved)
    assert mirror.fetch()["refs/heads/main"][1] == new_sha


def test_a_foreign_directory_in_the_mirror_place_is_not_overwritten(tmp_path: Path, remote: Remote) -> None:
    place = tmp_path / "data" / "source" / "mirror.git"
    place.mkdir(parents=True)
    (place / "notes.txt").write_text("mine")
    with pytest.raises(SourceError, match="is not a Git mirror"):
        GitMirror(tmp_path / "data", str(remote.path)).fetch()
    assert (place / "notes.txt").read_text() == "mine"
