"""The Fleetline agent: the spoke.

Dials out to the hub, applies desired state with server-side apply, prunes, self-heals and reports
drift and health. It never imports `hub` or `kubesim`. (Empty until the reconciler issue.)
"""
