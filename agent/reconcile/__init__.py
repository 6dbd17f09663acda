"""The agent's reconciler (issue 5): per application, when to sync, what drifted, what to heal and report.

- `app`: `AppController`, one application (sync decisions, drift, self-heal, sync loops, status);
- `reconciler`: `Reconciler`, every application of the desired state, events and status to the hub;
- `livehealth`: health of live objects with their pods; `marks`: what was synced, on disk; `metrics`.

It uses `agent.cluster` (API access), `agent.sync` (plans and the engine), `agent.diff`, `agent.health` and
`agent.drift`, and hands events and status to the session (`agent.session`) through callbacks.
"""

from agent.reconcile.app import AppController, Settings
from agent.reconcile.reconciler import Reconciler

__all__ = ["AppController", "Reconciler", "Settings"]
