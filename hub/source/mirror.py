"""The hub's bare mirror of the fleet repository: cloned once under `<data_dir>/source/mirror.git`, then kept
up to date with incremental fetches, and read by the renderer (`hub.render.files.GitTreeFiles(mirror.path, sha)`).

Owns cloning, fetching (branches and tags, pruned, atomic), resolving a ref to a commit, and commit metadata.
Network work goes through the git binary (`gitrun`, for control of credentials and timeouts); reading commits
goes through GitPython. The URL kept on disk and shown in messages never carries credentials.
"""

from __future__ import annotations

import difflib
import logging
import os
import re
import shutil
import threading
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from hub.source.credentials import Credentials, is_remote_url, split_url_credentials
from hub.source.errors import SourceError
from hub.source.gitrun import GitRunner, write_askpass
from hub.source.redact import kv, redact_url

log = logging.getLogger(__name__)

REFSPECS = ("+refs/heads/*:refs/heads/*", "+refs/tags/*:refs/tags/*")
_HEX = re.compile(r"^[0-9a-fA-F]{4,64}$")
_BAD_REF = re.compile(r"(\.\.|@\{|[\x00-\x20\x7f~^:?*\[\\])")
_LISTED = 20
RefChanges = dict[str, tuple[str | None, str | None]]


@dataclass(frozen=True)
class CommitInfo:
    """Who made a commit and when, and the first line of its message."""

    sha: str
    author: str
    author_email: str
    committer: str
    committer_email: str
    subject: str
    time: datetime  # the commit time, with the committer's UTC offset


def ref_problem(ref: object) -> str | None:
    """Why `ref` cannot name a branch, tag, `refs/...` path or commit (None when it can)."""
    if not isinstance(ref, str) or not ref:
        return "expected a branch, a tag, a refs/... name or a commit sha, found an empty value"
    if ref.startswith("-") or ref.endswith(("/", ".lock", ".")) or _BAD_REF.search(ref):
        return ("is not a valid Git ref name (no spaces, '..', '~', '^', ':', '?', '*', '[', '\\\\' or leading "
                "'-'); give a branch, a tag, a refs/... name or a commit sha")
    return None


class GitMirror:
    """A bare mirror of `url` (a URL or a local path) under `data_dir`, fetched with `credentials`."""

    def __init__(self, data_dir: str | os.PathLike[str], url: str, credentials: Credentials | None = None,
                 *, timeout: float = 300.0) -> None:
        if not isinstance(url, str) or not url.strip() or url.startswith("-"):
            raise SourceError(f"repository URL {redact_url(str(url))!r} is not a URL or a path; give an https://, "
                              "ssh:// or git@host: URL, or the path of a local repository")
        url = url.strip()
        if not is_remote_url(url):
            url = os.path.abspath(os.path.expanduser(url))
        self.url, credentials = split_url_credentials(url, credentials)
        self.display_url = redact_url(self.url)
        self.source_dir = Path(data_dir) / "source"
        self._path = self.source_dir / "mirror.git"
        askpass = write_askpass(self.source_dir) if credentials is not None else None
        self._git = GitRunner(credentials, askpass, timeout)
        self._lock = threading.Lock()  # one clone or fetch at a time: ref snapshots would mix otherwise

    @property
    def path(self) -> str:
        """The bare repository's directory (what `GitTreeFiles` and `verify_commit` read)."""
        return str(self._path)

    def redact(self, text: str) -> str:
        """`text` with this mirror's secrets and any URL credentials masked."""
        return self._git.redact(text)

    def exists(self) -> bool:
        return (self._path / "HEAD").is_file()

    def ensure(self) -> RefChanges:
        """Clone the mirror when it is not there yet (every ref then counts as new); otherwise make sure it
        fetches from `url` (the URL may have changed since it was cloned) and change nothing else."""
        with self._lock:
            return self._ensure()

    def fetch(self) -> RefChanges:
        """Bring the mirror up to date (cloning it first when needed): ref -> (old sha, new sha) for every
        branch or tag that appeared, moved (sha of the commit, tags peeled) or went away (new sha None)."""
        with self._lock:
            if not self.exists():
                return self._ensure()
            before = self.refs()
            self._git.run(["fetch", "--prune", "--atomic", "--quiet", "origin"], git_dir=self.path,
                          what=f"cannot fetch {self.display_url}{self._hint()}")
            changes = _diff(before, self.refs())
            if changes:
                log.info(kv(event="source_fetched", url=self.display_url, refs_changed=len(changes)))
            return changes

    def refs(self) -> dict[str, str]:
        """Every branch and tag of the mirror: refname -> commit sha (annotated tags peeled)."""
        if not self.exists():
            return {}
        out = self._git.run(["for-each-ref", "--format=%(objectname) %(*objectname) %(refname)",
                             "refs/heads", "refs/tags"], git_dir=self.path, what=f"cannot list refs of {self.path}")
        refs = {}
        for line in out.splitlines():
            sha, peeled, name = line.split(" ", 2)
            refs[name] = peeled or sha
        return refs

    def resolve(self, ref: str) -> str:
        """The commit sha `ref` names: `HEAD` (the remote's default branch), a branch, a tag, `refs/...`, or a
        commit sha (full or abbreviated). A branch wins over a tag of the same name."""
        problem = ref_problem(ref)
        if problem:
            raise SourceError(f"ref {ref!r} {problem}")
        if not self.exists():
            raise SourceError(f"ref {ref!r}: the mirror of {self.display_url} has not been fetched yet")
        if ref == "HEAD" or ref.startswith("refs/"):
            candidates = [ref]
        else:
            candidates = [f"refs/heads/{ref}", f"refs/tags/{ref}"]
            if _HEX.match(ref):
                candidates.append(ref)
        for candidate in candidates:
            code, out, _ = self._git.call(["rev-parse", "--verify", "--quiet", "--end-of-options",
                                           f"{candidate}^{{commit}}"], git_dir=self.path,
                                          what=f"cannot resolve {ref!r}")
            if code == 0:
                return out.strip()
        raise SourceError(self._not_found(ref))

    def commit_info(self, sha: str) -> CommitInfo:
        """Author, committer, subject and time of commit `sha` (SourceError when it is not in the mirror)."""
        import git  # GitPython

        if not isinstance(sha, str) or not _HEX.match(sha):
            raise SourceError(f"{sha!r} is not a commit sha (expected 4 to 64 hexadecimal digits)")
        try:
            with git.Repo(self.path) as repo:
                commit = repo.commit(sha)
                return CommitInfo(sha=commit.hexsha, author=commit.author.name or "",
                                  author_email=commit.author.email or "", committer=commit.committer.name or "",
                                  committer_email=commit.committer.email or "", subject=str(commit.summary),
                                  time=commit.committed_datetime)
        except (git.BadName, git.NoSuchPathError, git.InvalidGitRepositoryError, ValueError) as exc:
            raise SourceError(f"commit {sha} not found in the mirror of {self.display_url} "
                              f"({type(exc).__name__})") from None

    def _ensure(self) -> RefChanges:
        if self.exists():
            self._check_origin()
            return {}
        if self._path.exists():
            raise SourceError(f"{self.path} exists but is not a Git mirror; move it away and the hub clones the "
                              "repository again")
        self.source_dir.mkdir(parents=True, exist_ok=True)
        staging = self.source_dir / "mirror.git.partial"
        if staging.exists():
            shutil.rmtree(staging)  # a clone interrupted earlier (our own directory)
        try:
            self._git.run(["clone", "--bare", "--quiet", "--", self.url, str(staging)],
                          what=f"cannot clone {self.display_url}{self._hint()}")
            self._git.run(["config", "--replace-all", "remote.origin.fetch", REFSPECS[0]], git_dir=str(staging),
                          what="cannot configure the mirror")
            for refspec in REFSPECS[1:]:
                self._git.run(["config", "--add", "remote.origin.fetch", refspec], git_dir=str(staging),
                              what="cannot configure the mirror")
            os.replace(staging, self._path)
        finally:
            if staging.exists():
                shutil.rmtree(staging)
        changes = _diff({}, self.refs())
        log.info(kv(event="source_cloned", url=self.display_url, path=self.path, refs=len(changes)))
        return changes

    def _check_origin(self) -> None:
        code, out, _ = self._git.call(["config", "--get", "remote.origin.url"], git_dir=self.path,
                                      what="cannot read the mirror's remote")
        if code != 0 or out.strip() != self.url:
            self._git.run(["config", "remote.origin.url", self.url], git_dir=self.path,
                          what="cannot set the mirror's remote")
            log.warning(kv(event="source_url_changed", url=self.display_url, previous=self.redact(out.strip())))

    def _hint(self) -> str:
        return "" if self._git.credentials is not None or not self.url.startswith(("http://", "https://")) else \
            " (no credentials configured: a private repository needs FLEETLINE_GIT_TOKEN or a credentials file)"

    def _not_found(self, ref: str) -> str:
        refs = self.refs()
        branches = sorted(name[len("refs/heads/"):] for name in refs if name.startswith("refs/heads/"))
        tags = sorted(name[len("refs/tags/"):] for name in refs if name.startswith("refs/tags/"))
        close = difflib.get_close_matches(ref, branches + tags, n=1)
        suggestion = f" (did you mean {close[0]!r}?)" if close else ""
        return (f"ref {ref!r} not found in {self.display_url}{suggestion}; branches: {_listing(branches)}; "
                f"tags: {_listing(tags)}")


def _listing(names: list[str]) -> str:
    if not names:
        return "none"
    shown = ", ".join(names[:_LISTED])
    return shown if len(names) <= _LISTED else f"{shown} (and {len(names) - _LISTED} more)"


def _diff(before: dict[str, str], after: dict[str, str]) -> RefChanges:
    return {ref: (before.get(ref), after.get(ref)) for ref in sorted(before.keys() | after.keys())
            if before.get(ref) != after.get(ref)}
