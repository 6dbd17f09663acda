"""The Fleetline hub: the control plane.

Reads Git, renders each cluster's desired state, plans rollouts, pushes desired state to agents over
gRPC, and keeps the audit chain. It never imports `agent` or `kubesim`. Landed so far: `fleet` (fleet.yaml),
`render` (the kustomize-compatible engine, Helm charts), `plan` (desired state per cluster, policies,
change impact) and `sessions` (the gRPC servicer, identity, delivery).
"""
