"""The fleet definition: which clusters exist, which applications each one runs, and under which policies.

Owns reading `fleet.yaml` at the repository root (clusters, environments, applications) and the Argo CD
`Application` documents it lists, validating them with errors that name the file, the field path, what was
found and what was expected, into frozen dataclasses (`hub.fleet.model`). Answers "which applications does
cluster X run, from which source path, with which sync policy"; it renders nothing (that is `hub.render`)
and decides no rollout (that is `hub.plan`). Reads files only through `hub.render.files.RepoFiles`.
"""

from hub.fleet.load import FLEET_FILE, FleetError, load_fleet
from hub.fleet.model import (
    Application,
    Cluster,
    Environment,
    Fleet,
    HelmSource,
    Policies,
    SyncPolicy,
    SyncWindow,
    Targets,
)

__all__ = [
    "FLEET_FILE", "Application", "Cluster", "Environment", "Fleet", "FleetError", "HelmSource", "Policies",
    "SyncPolicy", "SyncWindow", "Targets", "load_fleet",
]
