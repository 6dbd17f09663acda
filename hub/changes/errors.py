"""The errors a rollback or promotion raises: each says what was refused, where, and what to do instead.

Every error leaves the working clone as it was found (nothing half-committed, nothing lost): the operations
check everything before they write, and undo their own commit when a later step (verification, push) fails.
"""

from __future__ import annotations


class ChangeError(Exception):
    """A rollback or promotion that did not happen; str() says why and what to do."""


class DirtyCloneError(ChangeError):
    """The working clone has uncommitted changes, untracked files, or an unfinished merge, revert or rebase."""


class DivergedError(ChangeError):
    """The clone's branch has commits the remote does not have (diverged, or unpushed local commits)."""


class RefError(ChangeError):
    """The ref to change is not a branch of the remote (a tag, a commit id, a missing branch)."""


class RevertConflictError(ChangeError):
    """`git revert` of the chosen commit conflicts with later commits; `files` lists the conflicting paths."""

    def __init__(self, message: str, files: list[str]) -> None:
        super().__init__(message)
        self.files = files


class NothingToRollBackError(ChangeError):
    """No commit on the ref changed the application's rendered output on the target."""


class PromotionError(ChangeError):
    """A promotion's image or model-version entry was not found, is ambiguous, or cannot be edited safely."""


class NothingToPromoteError(PromotionError):
    """Every overlay already has the image tag and the model version asked for (no commit was made)."""


class PushRejectedError(ChangeError):
    """The remote refused the push (usually: someone pushed meanwhile); the local commit was undone."""
