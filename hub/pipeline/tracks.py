"""One environment's view of the repository: the revision its ref points at, rendered for its clusters.

An `EnvironmentTrack` owns a `FleetRenderer` (so moving from one revision to the next re-renders only what the
commit touched) and turns a revision into a `Rendering`: the application bundles of every (cluster,
application) pair of the environment's clusters that rendered, and the errors of those that did not. A
fleet.yaml that cannot be read fails the whole revision for the environment (`Rendering.error`); nothing is
raised, so a bad commit never stops the hub.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass, field

from fleetline.wire import fleet_pb2
from hub.fleet.load import FleetError
from hub.fleet.model import Fleet
from hub.plan.bundle import bundle
from hub.plan.desired import Renderer
from hub.plan.fleetrender import FleetRenderer
from hub.plan.impact import Pair
from hub.render.errors import RenderError

log = logging.getLogger(__name__)


@dataclass
class Rendering:
    """An environment at one revision: bundles of the pairs that rendered, errors of those that did not."""

    environment: str
    revision: str
    fleet: Fleet | None
    bundles: dict[Pair, fleet_pb2.ApplicationBundle] = field(default_factory=dict)
    errors: dict[Pair, list[str]] = field(default_factory=dict)
    error: str = ""  # the whole revision failed (fleet.yaml unreadable, the commit unknown)


class EnvironmentTrack:
    """Renders one environment's clusters revision after revision."""

    def __init__(self, environment: str, repo_path: str | os.PathLike[str], renderer: Renderer | None = None) -> None:
        self.environment = environment
        self.renderer = FleetRenderer(repo_path, renderer=renderer,
                                      clusters=lambda cluster: cluster.environment == environment)

    def render(self, revision: str) -> Rendering:
        """The environment at `revision` (a commit sha); see the module docstring."""
        try:
            state, _ = self.renderer.advance(revision)
        except FleetError as exc:
            self.renderer.current = None  # the next good revision renders in full
            return Rendering(self.environment, revision, None, error=str(exc))
        except (RenderError, ValueError, KeyError, OSError) as exc:
            self.renderer.current = None
            return Rendering(self.environment, revision, None, error=f"revision {revision[:12]} cannot be read: {exc}")
        fleet = state.fleet
        result = Rendering(self.environment, state.revision, fleet)
        for pair, app_state in sorted(state.states.items()):
            if not app_state.ok:
                result.errors[pair] = list(app_state.errors)
                continue
            application = fleet.application(pair.app, pair.cluster)
            entry = bundle(fleet, application, app_state)
            entry.revision = state.revision
            result.bundles[pair] = entry
        return result
