"""The agent's sync: what to apply, prune and run as hooks, in which order, and how long to wait between attempts.

This half is pure planning, Argo CD's semantics (reference §A3) with Fleetline's annotations; it does no I/O:

- `annotations`: reading `fleetline.io/*` and `argocd.argoproj.io/*` sync annotations (ours win), `SyncPlanError`;
- `hooks`: hook types, phases, delete policies, Helm hook mapping (`hook_of`);
- `options`: per-application and per-object sync options (`SyncOptions`, `merged`);
- `order`: sync waves, Argo CD's kind order, the task sort key (`wave_of`, `SyncTask`, `sort_tasks`);
- `plan`: one sync's steps, prunes and SyncFail hooks (`plan_sync`, `SyncPlan`);
- `backoff`: retry and self-heal delays, Go durations.

Executing a plan against a cluster (apply, prune, health gates) lives beside it, in `engine`/`runner`.
"""

from agent.sync.annotations import SyncPlanError
from agent.sync.backoff import RetryPolicy, parse_duration, retry_delays, self_heal_delay
from agent.sync.hooks import Hook, hook_of
from agent.sync.options import SyncOptions, app_options, merged, options_of
from agent.sync.order import KIND_ORDER, SyncTask, sort_tasks, wave_of
from agent.sync.plan import SyncPlan, SyncStep, plan_sync

__all__ = [
    "KIND_ORDER", "Hook", "RetryPolicy", "SyncOptions", "SyncPlan", "SyncPlanError", "SyncStep", "SyncTask",
    "app_options", "hook_of", "merged", "options_of", "parse_duration", "plan_sync", "retry_delays",
    "self_heal_delay", "sort_tasks", "wave_of",
]
