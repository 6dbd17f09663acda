"""Rollback and promotion as Git operations on the hub's working clone of the fleet repository.

Owns changing the repository on behalf of a person: `rollback` reverts the commit that last changed an
application's rendered output on a cluster or environment, `promote` writes a new image tag and its model
version into kustomize overlays in one commit; both push to the tracked branch, so Git stays the only truth
and the clusters follow through the hub's normal pipeline. Both refuse to act on a dirty or diverged clone and
say why. Renders only through `hub.plan`; never talks to clusters, never force-pushes, never rewrites history.
"""

from hub.changes.errors import (
    ChangeError,
    DirtyCloneError,
    DivergedError,
    NothingToPromoteError,
    NothingToRollBackError,
    PromotionError,
    PushRejectedError,
    RefError,
    RevertConflictError,
)
from hub.changes.promote import Promotion, promote
from hub.changes.rollback import Rollback, rollback

__all__ = [
    "ChangeError", "DirtyCloneError", "DivergedError", "NothingToPromoteError", "NothingToRollBackError",
    "Promotion", "PromotionError", "PushRejectedError", "RefError", "RevertConflictError", "Rollback", "promote",
    "rollback",
]
