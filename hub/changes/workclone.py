"""The hub's working clone: checked, brought up to date with the remote branch, committed to, and pushed.

Before a change (`WorkClone.prepare`): refuse a dirty clone (modified, staged or untracked files; a merge,
revert, cherry-pick or rebase in progress), fetch the branch from the remote, refuse when the local branch has
commits the remote does not have (diverged, or only ahead: those commits would be published with ours),
fast-forward when it is only behind, and check the branch out. After (`WorkClone.push`): push the new commit
to the remote branch, never forced; when the remote refuses, the local commit is undone so the clone is back
at the remote's tip and nothing half-done remains. One change at a time per clone (a lock file in the clone's
Git directory). Git runs as the `git` binary through GitPython, with prompts off and credentials in remote
URLs redacted from every message.
"""

from __future__ import annotations

import fcntl
import os
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import git

from hub.changes.errors import ChangeError, DirtyCloneError, DivergedError, PushRejectedError, RefError

GIT_TIMEOUT = 300.0  # seconds for any one git command (a fetch or push to an unreachable host)
LOCK_FILE = "fleetline-change.lock"
_IN_PROGRESS = (("MERGE_HEAD", "a merge", "git merge --abort"), ("REVERT_HEAD", "a revert", "git revert --abort"),
                ("CHERRY_PICK_HEAD", "a cherry-pick", "git cherry-pick --abort"),
                ("rebase-merge", "a rebase", "git rebase --abort"), ("rebase-apply", "a rebase", "git rebase --abort"),
                ("sequencer", "a revert or cherry-pick sequence", "git revert --abort"))
_AUTHOR = re.compile(r"^\s*([^<>\n]+?)\s*<([^<>\s]+)>\s*$")
_CREDENTIALS = re.compile(r"([a-zA-Z][a-zA-Z0-9+.-]*://)[^/@\s]+@")
_SHOWN_PATHS = 10


@dataclass(frozen=True)
class Identity:
    """Who a commit is by: `Name <email>`; used as both author and committer."""

    name: str
    email: str

    def __str__(self) -> str:
        return f"{self.name} <{self.email}>"

    def env(self) -> dict[str, str]:
        return {"GIT_AUTHOR_NAME": self.name, "GIT_AUTHOR_EMAIL": self.email,
                "GIT_COMMITTER_NAME": self.name, "GIT_COMMITTER_EMAIL": self.email}


def parse_author(author: str) -> Identity:
    """`Name <email>` as an Identity; ChangeError saying the expected form otherwise."""
    match = _AUTHOR.match(author or "")
    if not match:
        raise ChangeError(f"author {author!r} is not of the form 'Name <email>' (e.g. 'Ada Lovelace "
                          "<ada@example.com>'): every rollback and promotion commit names the person who asked for it")
    return Identity(match.group(1), match.group(2))


def redact(text: str) -> str:
    """`text` with credentials in URLs (`https://user:token@host`) replaced by `***`."""
    return _CREDENTIALS.sub(r"\1***@", text)


def _reason(out: str, err: str) -> str:
    """Git's own explanation of a failure, hints left out, credentials redacted."""
    lines = [line.strip() for line in (out + "\n" + err).splitlines()
             if line.strip() and not line.startswith(("hint:", "To ", "Done"))]
    return redact("; ".join(lines)) or "no reason given"


def _listing(lines: list[str]) -> str:
    shown = ", ".join(lines[:_SHOWN_PATHS])
    return shown + (f" and {len(lines) - _SHOWN_PATHS} more" if len(lines) > _SHOWN_PATHS else "")


class WorkClone:
    """A working clone at `path` whose branch `ref` is changed and pushed to `remote`.

    `ref` is a branch name (`main`), `refs/heads/<branch>`, or `HEAD` for the branch the clone has checked
    out; tags and commit ids are refused since a change must be pushed to a branch."""

    def __init__(self, path: str | os.PathLike[str], ref: str, remote: str = "origin") -> None:
        self.path = str(path)
        try:
            self.repo = git.Repo(self.path)
        except (git.NoSuchPathError, git.InvalidGitRepositoryError) as exc:
            raise ChangeError(f"{self.path}: not a Git working clone; give the path of the hub's working clone of "
                              "the fleet repository") from exc
        if self.repo.bare:
            raise ChangeError(f"{self.path}: is a bare repository; rollback and promotion need a working clone "
                              "(git clone URL PATH)")
        self.remote = remote
        self.branch = self._branch_of(ref)
        self.base = ""  # the remote tip the change starts from, set by prepare()

    def __str__(self) -> str:
        return f"{self.path} (branch {self.branch!r} of {self.remote!r})"

    def git(self, *args: str, env: dict[str, str] | None = None, check: bool = True) -> tuple[int, str, str]:
        """Run `git ARGS` in the clone: (status, stdout, stderr); ChangeError when it fails and `check`."""
        full_env = {"GIT_TERMINAL_PROMPT": "0", "GIT_EDITOR": "true", **(env or {})}
        status, out, err = self.repo.git.execute(["git", *args], env=full_env, with_extended_output=True,
                                                 with_exceptions=False, kill_after_timeout=GIT_TIMEOUT)
        if check and status != 0:
            raise ChangeError(f"{self.path}: git {args[0]} failed: {_reason(out, err)}")
        return status, out, err

    def head(self) -> str:
        return self.git("rev-parse", "HEAD")[1].strip()

    @contextmanager
    def locked(self) -> Iterator[None]:
        """Hold the clone's change lock; ChangeError at once when another change holds it."""
        with open(os.path.join(self.repo.git_dir, LOCK_FILE), "w") as handle:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError as exc:
                raise ChangeError(f"{self.path}: another rollback or promotion is running on this clone; retry "
                                  "when it has finished") from exc
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)

    @contextmanager
    def change(self) -> Iterator[str]:
        """Lock the clone and prepare() it, yielding the commit it is at; when the body raises, the clone is put
        back at that commit (anything staged or committed since is dropped) before the error propagates."""
        with self.locked():
            base = self.prepare()
            try:
                yield base
            except BaseException:
                self.undo()
                raise

    def prepare(self) -> str:
        """Check the clone, fetch, fast-forward and check out the branch; returns the commit it is at."""
        self._refuse_dirty()
        tracking = f"refs/remotes/{self.remote}/{self.branch}"
        self._fetch(tracking)
        local = f"refs/heads/{self.branch}"
        if self.git("show-ref", "--verify", "--quiet", local, check=False)[0] != 0:
            self.git("checkout", "--quiet", "-b", self.branch, "--no-track", tracking)
        else:
            ahead, behind = (int(n) for n in self.git("rev-list", "--left-right", "--count",
                                                      f"{local}...{tracking}")[1].split())
            where = f"{self.path}: branch {self.branch!r}"
            if ahead and behind:
                raise DivergedError(f"{where} has diverged from {self.remote}/{self.branch}: {ahead} local commit(s) "
                                    f"are not on the remote and the remote has {behind} commit(s) not here; save "
                                    f"what you need and reset the clone (git reset --hard {self.remote}/{self.branch})")
            if ahead:
                raise DivergedError(f"{where} has {ahead} commit(s) that are not on {self.remote}/{self.branch}; "
                                    "a push would publish them with this change: push or drop them first "
                                    f"(git reset --hard {self.remote}/{self.branch})")
            if self._current_branch() != self.branch:
                self.git("checkout", "--quiet", self.branch)
            if behind:
                self.git("merge", "--quiet", "--ff-only", tracking)
        self.base = self.head()
        return self.base

    def push(self) -> None:
        """Push HEAD to the remote branch (no force); when refused, undo the local commit and raise."""
        status, out, err = self.git("push", "--porcelain", self.remote, f"HEAD:refs/heads/{self.branch}",
                                    check=False)
        if status != 0:
            commit = self.head()
            self.undo()
            raise PushRejectedError(f"{self.remote} refused the push of {commit[:12]} to {self.branch!r} "
                                    f"({_reason(out, err)}); the local commit was undone and nothing changed: run "
                                    "the operation again (someone may have pushed meanwhile)")

    def undo(self) -> None:
        """Put the clone back at the commit prepare() started from, dropping every change made since."""
        self.git("reset", "--quiet", "--hard", self.base)

    def _branch_of(self, ref: str) -> str:
        if ref == "HEAD":
            branch = self._current_branch()
            if branch is None:
                raise RefError(f"{self.path}: ref HEAD names no branch (the clone's HEAD is detached); name the "
                               "branch to change, e.g. main")
            return branch
        if ref.startswith("refs/tags/"):
            raise RefError(f"ref {ref!r} is a tag: rollback and promotion push a commit to a branch; make the "
                           "environment track a branch")
        branch = ref.removeprefix("refs/heads/")
        if self.git("check-ref-format", "--branch", branch, check=False)[0] != 0:
            raise RefError(f"ref {ref!r} is not a valid branch name")
        return branch

    def _current_branch(self) -> str | None:
        status, out, _ = self.git("symbolic-ref", "--quiet", "--short", "HEAD", check=False)
        return out.strip() if status == 0 else None

    def _refuse_dirty(self) -> None:
        for name, what, fix in _IN_PROGRESS:
            if os.path.exists(os.path.join(self.repo.git_dir, name)):
                raise DirtyCloneError(f"{self.path}: {what} is in progress in the clone; finish it or abort it "
                                      f"({fix}) first")
        out = self.git("status", "--porcelain=v1", "--untracked-files=all")[1]
        entries = [line for line in out.splitlines() if line.strip()]
        if entries:
            raise DirtyCloneError(f"{self.path}: the working clone has uncommitted changes or untracked files "
                                  f"({_listing([e[3:] for e in entries])}); rollback and promotion commit only "
                                  "what they change: commit, stash or remove these first")

    def _fetch(self, tracking: str) -> None:
        if self.git("remote", "get-url", self.remote, check=False)[0] != 0:
            raise ChangeError(f"{self.path}: the clone has no remote {self.remote!r} to push to")
        status, out, err = self.git("fetch", "--quiet", "--no-tags", self.remote,
                                    f"+refs/heads/{self.branch}:{tracking}", check=False)
        if status == 0:
            return
        if "couldn't find remote ref" in err:
            tag = self.git("ls-remote", "--tags", self.remote, f"refs/tags/{self.branch}", check=False)[1].strip()
            kind = "a tag, not a branch" if tag else "not a branch of the remote"
            raise RefError(f"ref {self.branch!r} is {kind} ({self.remote}); rollback and promotion push a commit to a "
                           "branch: name the branch the environment tracks")
        raise ChangeError(f"{self.path}: could not fetch {self.branch!r} from {self.remote!r}: "
                          f"{_reason(out, err)}; nothing was changed")
