"""The Fleetline agent: the spoke, one per cluster (`fleetline agent`; user documentation in docs/agent.md).

Dials out to the hub, applies the cluster's desired state with server-side apply (in phases and waves, with
health gates, hooks and safe prune), reports field-level drift and health, self-heals, and detects sync loops.
It never imports `hub` or `kubesim`. Packages:

- `session`: the gRPC client, the desired-state cache and the event outbox on local disk;
- `cluster`: Kubernetes access through the official client (discovery, watches, QPS limits);
- `sync`: planning and running one sync (order, options, hooks, prune, retries);
- `diff`: the declared-field diff and ignoreDifferences;
- `health`: resource and application health (Argo CD's rules, kstatus, crash loops, GPU waits);
- `drift`: the live view fed by watches, and sync-loop detection;
- `reconcile`: per application, when to sync, what to heal and what to report;
- `runtime` and `cli`: the agent process and its flags.
"""
