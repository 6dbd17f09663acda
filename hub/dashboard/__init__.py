"""The hub's web dashboard (issue 8): plain HTML, CSS and JavaScript ES modules in `static/`, no build step.

Owns the page and its assets only: `routes.dashboard_routes()` serves `/` (the page) and `/ui/<file>` (its
scripts, styles and icons) without a token, since the page holds no data; everything the page shows it reads
from the REST API (`/api/v1/...`) and its event stream with the user's API token. It never imports the rest of
the hub: `hub.api.app.build_app` mounts these routes beside the API's.
"""

from hub.dashboard.routes import PUBLIC_PATHS, dashboard_routes

__all__ = ["PUBLIC_PATHS", "dashboard_routes"]
