"""`fleetline demo`: the whole product on one machine, for a newcomer and for CI.

Owns the demo's composition only: a working copy of `overlays-example/` in `DIR/repo` with a post-commit hook
that sends the hub a signed push webhook (`workdir`, `hook`), the CA and per-cluster certificates, kubesim
clusters, the hub and one agent per cluster started as processes of the real `fleetline` commands
(`processes`, `stack`), waiting for the fleet to be Synced and Healthy (`progress`), the printed tour (`tour`)
and its non-interactive run, `fleetline demo --check` (`check`). It runs the agent and kubesim as separate
processes and never imports them. `hook` must stay importable with the standard library alone: Git runs it on
every commit.
"""
