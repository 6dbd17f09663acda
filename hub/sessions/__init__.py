"""The hub's side of the hub-agent wire: the gRPC servicer and the session registry.

Owns the per-cluster sessions agents open (`FleetHub.Connect`): authentication (hashed per-cluster tokens or
mTLS identities), version-skew checks, fencing of a second session, heartbeats, pushing desired state (latest
generation wins, chunked), de-duplicating events, and the small in-process interface the rest of the hub uses
(`SessionHub.push`, `request_sync`, `subscribe_events`, `subscribe_status`, `registry`, `revoke`). It persists
only the highest event sequence and the last pushed desired state per cluster (files in the hub's data dir).
It never imports `agent` and never renders or reads Git: desired state is handed to it.
"""
