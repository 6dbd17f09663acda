"""The fleet definition: which clusters exist, which applications each one runs, and under which policies.

Owns reading `fleet.yaml` at the repository root (clusters, environments, applications) and the Argo CD
`Application` documents it lists, validating them with errors that name the file, the field path, what was
found and what was expected, into frozen dataclasses (`hub.fleet.model`). Answers "which applications does
cluster X run, from which source path, with which sync policy, in which rollout step, from commits signed by
whom"; it renders nothing (that is `hub.render`) and runs no rollout (that is `hub.rollout`). Reads files
only through `hub.render.files.RepoFiles`.
"""

from hub.fleet.load import FLEET_FILE, FleetError, load_fleet
from hub.fleet.model import (
    Application,
    Cluster,
    Environment,
    Fleet,
    HelmSource,
    Policies,
    Rollout,
    RolloutStep,
    Signatures,
    SyncPolicy,
    SyncWindow,
    Targets,
)

__all__ = [
    "FLEET_FILE", "Application", "Cluster", "Environment", "Fleet", "FleetError", "HelmSource", "Policies",
    "Rollout", "RolloutStep", "Signatures", "SyncPolicy", "SyncWindow", "Targets", "load_fleet",
]
