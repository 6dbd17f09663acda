"""The operator command line's side of the hub's REST API: an HTTP client of `/api/v1` and the `fleetline`
commands built on it (status, diff, sync, approve, rollout, history, rollback, promote, and API-backed audit).

Owns only talking to a running hub over HTTP and presenting its answers (tables, JSON, exit codes). It never
reads the hub's store, Git repository or sessions directly, and never imports `agent`.
"""
