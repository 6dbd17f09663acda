"""Drift on the agent: what keeps the live cluster in view and notices when it leaves Git (issue 5, scopes 5-6).

- `inventory`: the live objects of one application, kept current by watches (one per kind, filtered by the
  application's label, started as kinds appear in the desired state) plus a watch of Pods for health;
- `loops`: sync-loop detection: the same field of the same object reverted again and again, each time changed
  back by the same other field manager (an HPA, a mutating webhook).

Deciding what to do about drift (report, self-heal, stop fighting) is the application controller's
(`agent.reconcile`); this package only observes and counts.
"""

from agent.drift.inventory import Inventory, PodCache, object_key
from agent.drift.loops import SyncLoop, SyncLoopDetector

__all__ = ["Inventory", "PodCache", "SyncLoop", "SyncLoopDetector", "object_key"]
