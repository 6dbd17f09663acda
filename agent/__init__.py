"""The Fleetline agent: the spoke.

Dials out to the hub, applies desired state with server-side apply, prunes, self-heals and reports
drift and health. It never imports `hub` or `kubesim`. Landed so far: `session` (the gRPC client, the
desired-state cache and the event outbox on local disk); the reconciler comes with its issue.
"""
