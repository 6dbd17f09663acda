"""Fleetline's shared core.

Owns what hub, agent and kubesim all need: object identity and canonical hashing, safe YAML loading,
the patch engines (JSON merge patch, JSON patch, strategic merge patch) and the built-in kinds' list
semantics they share, and the `fleetline` command line. It imports none of `hub`, `agent` or `kubesim`
at module level (the CLI loads subcommands lazily).
"""

__version__ = "0.1.0"
