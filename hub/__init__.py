"""The Fleetline hub: the control plane.

Reads Git, renders each cluster's desired state, plans rollouts, pushes desired state to agents over
gRPC, and keeps the audit chain. It never imports `agent` or `kubesim`. (Empty until the rendering issue.)
"""
