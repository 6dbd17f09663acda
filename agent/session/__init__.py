"""The agent's end of the hub-agent wire (issue 4).

Owns the gRPC client session to the hub (`client.AgentSession`), the durable local cache of the last desired
state (`cache.DesiredStateCache`) and the event outbox kept until the hub acknowledges it (`outbox.Outbox`).
It never imports `hub`; it knows the hub only through `fleetline.wire` and `fleetline.protocol`, and it writes
nothing to a cluster: the desired state is handed to a callback (the reconciler, from issue 5).
"""
