"""The Fleetline hub: the control plane.

Reads Git, renders each cluster's desired state, plans rollouts, pushes desired state to agents over
gRPC, and keeps the audit chain. It never imports `agent` or `kubesim`. Packages: `fleet` (fleet.yaml),
`render` (the kustomize-compatible engine, Helm charts), `plan` (desired state per cluster, policies,
change impact), `sessions` (the gRPC servicer, identity, delivery), `source` (the Git mirror, watcher,
webhooks, signatures), `pipeline` (commit to clusters: rendering per environment, rollouts, gates),
`rollout` (the rollout state machine), `gates` (sync windows, approvals), `changes` (rollback and promotion
as commits), `store` (SQLite and the hash-chained audit log, reports), `api` (the REST API, tokens),
`client` (the operator CLI), `notify` (notifications), `metrics` (Argo CD-named fleet metrics) and
`operator` (the composition of the operator side and the API's view of the running hub).
"""
