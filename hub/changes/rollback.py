"""Rollback as a Git operation: revert the commit that last changed an application's output on a target.

`rollback` brings the hub's working clone up to date with the tracked branch (refusing a dirty or diverged
clone), finds the newest first-parent commit that changed the application's rendered output on the cluster,
or on any cluster of the environment (`hub.changes.history`), reverts it (`git revert`, mainline 1 for a merge
commit) in a commit whose message names the application, the target, the reason and the reverted commit, checks
that the application still renders there, and pushes the commit to the branch. Git stays the truth: the
clusters go back through the hub's normal pipeline. Any refusal leaves the clone as it was.
"""

from __future__ import annotations

import difflib
import os
import textwrap
from dataclasses import dataclass

from hub.changes.errors import ChangeError, NothingToRollBackError, RevertConflictError
from hub.changes.history import HistoryWalker, last_change
from hub.changes.workclone import Identity, WorkClone, parse_author
from hub.fleet import Fleet, load_fleet
from hub.render.errors import RenderError
from hub.render.files import GitTreeFiles

DEFAULT_MAX_COMMITS = 1000  # how far back the walk looks before saying there is nothing to roll back
_SUBJECT_REASON = 72  # characters of the reason shown in the subject line
_BODY_WIDTH = 72


@dataclass(frozen=True)
class Target:
    """What a rollback is for: a cluster, or an environment and the clusters of it running the application."""

    kind: str  # "cluster" or "environment"
    name: str
    clusters: tuple[str, ...]

    def __str__(self) -> str:
        return f"{self.kind} {self.name}"


@dataclass(frozen=True)
class Rollback:
    """A pushed rollback: the revert commit, the commit it reverts, and its message."""

    commit: str
    reverted: str
    message: str
    branch: str
    clusters: tuple[str, ...]  # the clusters of the target whose output the reverted commit had changed


def rollback(clone_path: str | os.PathLike[str], ref: str, application: str, cluster_or_environment: str,
             reason: str, author: str, *, remote: str = "origin", max_commits: int = DEFAULT_MAX_COMMITS) -> Rollback:
    """Revert the commit on `ref` that last changed `application`'s rendered output on `cluster_or_environment`
    (a cluster name, an environment name, or `cluster:NAME` / `environment:NAME` when a name is both), commit
    it by `author` (`Name <email>`) with `reason`, and push it to `ref` on `remote`.

    Raises ChangeError (a subclass saying which refusal) and leaves the clone as it was when the clone is dirty
    or diverged, the target is unknown, no commit in the last `max_commits` changed the output, the revert
    conflicts (the error names the files), the result does not render, or the push is refused."""
    identity = parse_author(author)
    reason = (reason or "").strip()
    if not reason:
        raise ChangeError("a rollback needs a reason: it is written into the revert commit for the audit trail")
    clone = WorkClone(clone_path, ref, remote)
    with clone.change() as tip:
        target = resolve_target(_fleet_at(clone, tip), application, cluster_or_environment)
        walker = HistoryWalker(clone.path, application, target.clusters)
        listed = clone.git("rev-list", "--first-parent", f"--max-count={max_commits + 1}", tip)[1].split()
        commits, reached_root = listed[:max_commits], len(listed) <= max_commits
        change = last_change(walker, commits, reached_root)
        if change is None:
            horizon = "since the repository's first commit" if reached_root else f"in the last {max_commits} commits"
            raise NothingToRollBackError(f"nothing to roll back: the rendered output of {application} on {target} "
                                         f"has not changed {horizon} of {clone.branch!r}")
        if change.root:
            raise NothingToRollBackError(f"nothing to roll back: the rendered output of {application} on {target} "
                                         f"was last changed by the repository's first commit {change.commit[:12]}, "
                                         "which cannot be reverted (it would remove the whole repository)")
        message = _message(clone, application, target, change.commit, change.clusters, reason)
        commit = _revert(clone, change.commit, message, identity)
        errors = walker.errors(commit)
        if errors:
            raise ChangeError(f"reverting {change.commit[:12]} would leave {application} unrenderable on {target}: "
                              + "; ".join(errors) + ". Nothing was pushed; the reverted commit probably fixed an "
                              "earlier broken one: revert both by hand or roll forward with a fix")
        clone.push()
        return Rollback(commit, change.commit, message, clone.branch, change.clusters)


def resolve_target(fleet: Fleet, application: str, name: str) -> Target:
    """The clusters `name` stands for (a cluster, or an environment's clusters running `application`)."""
    apps = sorted({app.name for app in fleet.applications})
    if application not in apps:
        raise ChangeError(f"{fleet.file}: no application {application!r}{_did_you_mean(application, apps)}; "
                          f"applications: {', '.join(apps) or 'none'}")
    kind, _, bare = name.partition(":") if name.startswith(("cluster:", "environment:")) else ("", "", name)
    clusters = [c.name for c in fleet.clusters]
    is_cluster, is_environment = bare in clusters, bare in fleet.environments
    if not kind and is_cluster and is_environment:
        raise ChangeError(f"{fleet.file}: {bare!r} is both a cluster and an environment; write cluster:{bare} or "
                          f"environment:{bare}")
    if kind == "cluster" or (not kind and is_cluster):
        try:
            fleet.application(application, bare)
        except KeyError as exc:
            raise ChangeError(f"{fleet.file}: {exc.args[0]}") from exc
        return Target("cluster", bare, (bare,))
    if kind == "environment" or (not kind and is_environment):
        if bare not in fleet.environments:
            raise ChangeError(f"{fleet.file}: no environment {bare!r}"
                              f"{_did_you_mean(bare, list(fleet.environments))}")
        running = tuple(c.name for c in fleet.clusters if c.environment == bare
                        and any(a.name == application for a in fleet.applications_for(c)))
        if not running:
            raise ChangeError(f"{fleet.file}: application {application!r} runs on no cluster of environment "
                              f"{bare!r}")
        return Target("environment", bare, running)
    raise ChangeError(f"{fleet.file}: {bare!r} is neither a cluster nor an environment"
                      f"{_did_you_mean(bare, clusters + list(fleet.environments))}; clusters: "
                      f"{', '.join(clusters) or 'none'}; environments: {', '.join(fleet.environments) or 'none'}")


def _did_you_mean(word: str, choices: list[str]) -> str:
    close = difflib.get_close_matches(word, choices, n=1)
    return f" (did you mean {close[0]!r}?)" if close else ""


def _fleet_at(clone: WorkClone, revision: str) -> Fleet:
    try:
        return load_fleet(GitTreeFiles(clone.path, revision))
    except RenderError as exc:
        raise ChangeError(f"the fleet definition at the tip of {clone.branch!r} does not load, so the target cannot "
                          f"be resolved: {exc.describe()}") from exc


def _message(clone: WorkClone, application: str, target: Target, reverted: str, clusters: tuple[str, ...],
             reason: str) -> str:
    subject = clone.git("log", "-1", "--format=%s", reverted)[1].strip()
    first_line = reason.splitlines()[0]
    if len(first_line) > _SUBJECT_REASON:
        first_line = first_line[:_SUBJECT_REASON - 3].rstrip() + "..."
    on = f" (clusters {', '.join(clusters)})" if target.kind == "environment" else ""
    why = textwrap.fill(f"Revert {reverted[:12]} \"{subject}\", the last commit that changed the rendered output "
                        f"of application {application} on {target}{on}.", width=_BODY_WIDTH)
    return (f"Roll back {application} on {target}: {first_line}\n\n{why}\n\n"
            f"Reason: {reason}\n\n"
            f"This reverts commit {reverted}.\n\n"
            f"Fleetline-Rollback: {application} {target.kind}/{target.name}\n")


def _revert(clone: WorkClone, commit: str, message: str, identity: Identity) -> str:
    """Revert `commit` in one new commit; on conflict abort, restore the clone and raise naming the files."""
    parents = clone.git("rev-list", "--parents", "-n", "1", commit)[1].split()[1:]
    mainline = ["-m", "1"] if len(parents) > 1 else []  # a merge: undo what it brought to the first parent
    status, out, err = clone.git("revert", "--no-commit", *mainline, commit, env=identity.env(), check=False)
    if status != 0:
        conflicted = clone.git("diff", "--name-only", "--diff-filter=U")[1].split()
        clone.git("revert", "--abort", check=False)
        if conflicted:
            raise RevertConflictError(f"reverting {commit[:12]} conflicts with later commits in "
                                      f"{', '.join(conflicted)}; the revert was aborted and nothing changed: change "
                                      "these files by hand in a new commit instead", conflicted)
        raise ChangeError(f"git revert of {commit[:12]} failed: {(err or out).strip()}; nothing changed")
    if clone.git("diff", "--cached", "--quiet", check=False)[0] == 0:
        raise NothingToRollBackError(f"reverting {commit[:12]} changes no file (later commits already undid it)")
    clone.git("commit", "--quiet", "--cleanup=whitespace", "-m", message, env=identity.env())
    return clone.head()
