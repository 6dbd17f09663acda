"""Browser tests of the dashboard (issue 8): Debian's Chromium driven by playwright's async API, against a real hub.

Fixtures:
- `browser`: Chromium launched from `/usr/bin/chromium` (playwright never downloads a browser here), one per
  test; skipped with a reason when Chromium or the `playwright` package is missing (`make test` installs both).
- `page_errors`: a list that collects the console errors and uncaught exceptions of every page opened by
  `browser_page` / `open_page` (tests decide whether to assert on it: a hub restart logs refused connections).
- `browser_page`: a page in a fresh context (its own sessionStorage) at 1280x800.
- `open_page(width=1280, height=800)`: more pages, each in its own context (a viewer beside an operator, a
  phone-width screen at 390x844).
- `screenshot(page, name)`: saves `tests/dashboard/screenshots/<name>.png` (gitignored) and returns its path.
- `three_regions`: a real hub (session server + `start_operator`: store, pipeline, recorder, REST API on an
  ephemeral loopback port), a real Git repository, and real agents on kubesim clusters `us-east-1` (us-east,
  prod), `us-west-2` (us-west, prod, the canary), `eu-west-1` (eu, prod) and `staging-1` (us-west, staging),
  converged (every application Synced and Healthy at the first commit) before the test starts. See
  `ThreeRegions` for its helpers and `FLEET` for the fleet.

`login(page, url, token)` fills the login form by the dashboard's stable `data-testid`s.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import subprocess
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest

from agent.cluster import ClusterAccess
from agent.reconcile import Settings
from agent.runtime import Agent
from hub.operator.server import start_operator
from hub.sessions.server import start_hub
from kubesim.cluster import ClusterOptions
from tests.hub.operator.conftest import OperatorStack
from tests.hub.pipeline.conftest import deployment_yaml, kustomization
from tests.kubesim.conftest import ClusterThread

CHROMIUM = Path("/usr/bin/chromium")
# Debian's Chromium, headless, without the background traffic and services a test has no use for.
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
SCREENSHOTS = Path(__file__).resolve().parent / "screenshots"
DESKTOP = {"width": 1280, "height": 800}

# cluster -> (region, environment)
CLUSTERS = {"us-east-1": ("us-east", "prod"), "us-west-2": ("us-west", "prod"), "eu-west-1": ("eu", "prod"),
            "staging-1": ("us-west", "staging")}
REGIONS = ("eu", "us-east", "us-west")
PROD = ("us-west-2", "us-east-1", "eu-west-1")  # in rollout order
# The rollout's soak and deadline: short for tests. A crash-looping image halts at once (Degraded); the deadline
# only fires for a cluster that never settles, and leaves a test time to approve a release before it does.
MIN_HEALTHY = "1s"
PROGRESS_DEADLINE = "60s"

# staging syncs by itself and self-heals; prod waits for one approval (manual sync) and rolls out
# staging -> us-west-2 (canary) -> us-east -> eu, halting on a failure. model-registry (staging only) is
# automated without selfHeal: a drift on it stays OutOfSync, for the diff view.
FLEET = f"""\
apiVersion: fleetline.io/v1alpha1
kind: Fleet
metadata: {{name: ml-platform}}
spec:
  environments:
    staging: {{ref: main, sync: automated}}
    prod: {{ref: main, production: true, sync: manual, approvals: {{required: 1}}}}
  clusters:
  - {{name: staging-1, region: us-west, environment: staging}}
  - {{name: us-west-2, region: us-west, environment: prod}}
  - {{name: us-east-1, region: us-east, environment: prod}}
  - {{name: eu-west-1, region: eu, environment: prod}}
  applications:
  - name: inference
    source: {{path: apps/inference}}
    destination: {{namespace: ml}}
    syncPolicy:
      automated: {{prune: true, selfHeal: true}}
      syncOptions: [CreateNamespace=true]
    rollout:
      onFailure: halt
      steps:
      - {{name: staging, environments: [staging], minHealthyTime: {MIN_HEALTHY}, progressDeadline: {PROGRESS_DEADLINE}}}
      - {{name: canary, clusters: [us-west-2], minHealthyTime: {MIN_HEALTHY}, progressDeadline: {PROGRESS_DEADLINE}}}
      - {{name: us-east, regions: [us-east], minHealthyTime: {MIN_HEALTHY}, progressDeadline: {PROGRESS_DEADLINE}}}
      - {{name: eu, regions: [eu], progressDeadline: {PROGRESS_DEADLINE}}}
  - name: model-registry
    source: {{path: apps/model-registry}}
    destination: {{namespace: registry}}
    targets: {{environments: [staging]}}
    syncPolicy:
      automated: {{prune: true}}
      syncOptions: [CreateNamespace=true]
"""

REGISTRY_DEPLOYMENT = """\
apiVersion: apps/v1
kind: Deployment
metadata: {name: model-registry}
spec:
  replicas: 1
  selector: {matchLabels: {app: model-registry}}
  template:
    metadata: {labels: {app: model-registry}}
    spec:
      containers:
      - {name: registry, image: "registry-server:1.0"}
"""


def repo_files(tag: str = "v1") -> dict[str, str]:
    """The whole repository at image tag `tag` of inference (`model-server:<tag>`; a tag ending in `-crash`
    crash-loops in kubesim)."""
    return {"fleet.yaml": FLEET, "apps/inference/deployment.yaml": deployment_yaml(),
            "apps/inference/kustomization.yaml": kustomization(tag),
            "apps/model-registry/deployment.yaml": REGISTRY_DEPLOYMENT}


# ---- the browser -------------------------------------------------------------------------------------------------

def _playwright() -> Any:
    if not CHROMIUM.exists():
        pytest.skip(f"{CHROMIUM} not found: install Debian's chromium package (apt-get install chromium "
                    "chromium-driver; `make test` does it)")
    try:
        from playwright.async_api import async_playwright
    except ImportError:
        pytest.skip("the playwright package is not installed: pip install -e '.[dev]'")
    return async_playwright


@pytest.fixture
async def browser() -> AsyncIterator[Any]:
    """Chromium from /usr/bin/chromium, headless, with a fresh profile (playwright's default)."""
    async_playwright = _playwright()
    async with async_playwright() as playwright:
        launched = await playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS,
                                                    headless=True)
        try:
            yield launched
        finally:
            await launched.close()


@pytest.fixture
def page_errors() -> list[str]:
    """Console errors and uncaught exceptions of the pages the test opened, as 'console: ...'/'pageerror: ...'."""
    return []


@pytest.fixture
async def open_page(browser: Any, page_errors: list[str]) -> AsyncIterator[Callable[..., Awaitable[Any]]]:
    """`await open_page(width=1280, height=800)`: a page in a new browser context (own storage)."""
    contexts: list[Any] = []

    async def make(width: int = DESKTOP["width"], height: int = DESKTOP["height"]) -> Any:
        context = await browser.new_context(viewport={"width": width, "height": height})
        contexts.append(context)
        page = await context.new_page()

        def console(message: Any) -> None:
            if message.type == "error":
                page_errors.append(f"console: {message.text}")

        page.on("console", console)
        page.on("pageerror", lambda error: page_errors.append(f"pageerror: {error}"))
        return page

    yield make
    for context in contexts:
        with contextlib.suppress(Exception):
            await context.close()


@pytest.fixture
async def browser_page(open_page: Callable[..., Awaitable[Any]]) -> Any:
    """A page at 1280x800 in a fresh context."""
    return await open_page()


async def save_screenshot(page: Any, name: str, *, full_page: bool = False) -> Path:
    """Save the page as tests/dashboard/screenshots/<name>.png (the lead picks some for docs/images/)."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    await page.screenshot(path=str(path), full_page=full_page)
    return path


@pytest.fixture
def screenshot() -> Callable[..., Awaitable[Path]]:
    """`await screenshot(page, "name")`, see `save_screenshot`."""
    return save_screenshot


async def login(page: Any, url: str, token: str) -> None:
    """Open the dashboard at `url` and log in with `token` through its form (data-testid login-token,
    login-submit); returns once the fleet navigation is shown."""
    await page.goto(url + "/")
    await page.get_by_test_id("login-token").fill(token)
    await page.get_by_test_id("login-submit").click()
    await page.get_by_test_id("nav-fleet").wait_for(state="visible", timeout=10_000)


# ---- the fleet -----------------------------------------------------------------------------------------------------

class DashboardStack(OperatorStack):
    """`OperatorStack` whose hub (session server + operator side) can stop and start again on the same ports and
    data directory, with agents that redial quickly (backoff capped at 1 s) and regions known to them."""

    grpc_port = 0
    http_port = 0
    poll_interval = 2.0

    async def start(self, *, interval: float = 2.0, settings: Settings | None = None) -> None:  # type: ignore[override]
        self.poll_interval = interval
        for name in self.cluster_names:
            self.sims[name] = ClusterThread(name, ClusterOptions(speed=20.0, nodes=1,
                                                                 kubeconfig_dir=self.root / "kubeconfigs"))
        await self.start_hub()
        for name in self.cluster_names:
            agent = Agent(ClusterAccess.from_kubeconfig(self.sims[name].kubeconfig_path),
                          f"127.0.0.1:{self.grpc_port}", name, CLUSTERS[name][0], self.root / "agents" / name,
                          insecure=True, settings=settings or Settings(wave_timeout=30.0), status_interval=0.05,
                          unsettled_refresh=0.5, reconnect_base=0.2, reconnect_cap=1.0)
            self.agents[name] = agent
            self._agent_tasks.append(asyncio.create_task(agent.run()))
            checker = ClusterAccess.from_kubeconfig(self.sims[name].kubeconfig_path)
            await checker.start()
            self.accesses[name] = checker

    async def start_hub(self) -> None:
        """Start the session server and the operator side (on the ports of the last run, if any)."""
        self.hub = await start_hub(f"127.0.0.1:{self.grpc_port}", self.root / "hub", insecure=True,
                                   heartbeat_interval=1.0, fsync=False)
        self.grpc_port = self.hub.port
        self.operator = await start_operator(self.hub, self.root / "hub", str(self.repo_dir),
                                             http_port=self.http_port, poll_interval=self.poll_interval,
                                             webhook_secret=b"webhook-secret", fsync=False, tick=0.2,
                                             config=self.config)
        self.http_port = self.operator.port
        self.pipeline = self.operator.pipeline
        self.source = self.operator.source
        self.api_url = f"http://127.0.0.1:{self.http_port}"
        self.webhook_url = f"{self.api_url}/api/v1/webhooks/git"

    async def stop_hub(self) -> None:
        """Stop the operator side and the session server; agents and clusters keep running."""
        if self.operator is not None:
            await self.operator.stop()
            self.operator = None
            self.source = None
            self.pipeline = None
        if self.hub is not None:
            await self.hub.stop(0.2)
            self.hub = None


class ThreeRegions:
    """The `three_regions` fixture's handle: see the module docstring. Attributes:

    - `url`: the hub's HTTP root (`http://127.0.0.1:PORT`), the same across `restart_hub()`;
    - `tokens`: API tokens by name: `admin`, `operator` (every region), `eu-operator` (operator scoped to eu),
      `viewer`;
    - `revision`: the commit every cluster runs once the fixture is ready (updated by nothing else);
    - `stack`: the underlying `DashboardStack` (hub, pipeline, source, agents, sims, accesses).
    """

    clusters = CLUSTERS
    regions = REGIONS

    def __init__(self, stack: DashboardStack) -> None:
        self.stack = stack
        self.tokens: dict[str, str] = {}
        self.revision = ""

    @property
    def url(self) -> str:
        return self.stack.api_url

    async def commit(self, files: dict[str, str | None], message: str) -> str:
        """Commit `files` (path -> text, None deletes) to main and tell the hub by its webhook; the commit's SHA."""
        sha = self.stack.commit(files, message)
        status = await self.stack.webhook({"ref": "refs/heads/main", "after": sha})
        assert status == 202, f"the hub's webhook answered {status} for {sha}"
        return sha

    async def commit_image(self, tag: str, message: str = "") -> str:
        """Commit inference's image tag `tag` (`model-server:<tag>`; `v2-crash` crash-loops)."""
        return await self.commit({"apps/inference/kustomization.yaml": kustomization(tag)},
                                 message or f"inference: model-server {tag}")

    async def kubectl(self, cluster: str, *args: str, check: bool = True,
                      timeout: float = 30.0) -> subprocess.CompletedProcess:
        """Run the real kubectl against `cluster`'s kubesim (its kubeconfig); skips the test without kubectl.
        With `check`, a non-zero exit fails the test with kubectl's stderr."""
        binary = shutil.which("kubectl")
        if binary is None:
            pytest.skip("kubectl is not on PATH")
        env = {**os.environ, "KUBECONFIG": str(self.stack.sims[cluster].kubeconfig_path)}
        result = await asyncio.to_thread(subprocess.run, [binary, *args], env=env, capture_output=True, text=True,
                                         timeout=timeout)
        if check and result.returncode != 0:
            raise AssertionError(f"kubectl {' '.join(args)} on {cluster} exited {result.returncode}: "
                                 f"{result.stderr.strip()}")
        return result

    async def wait_for(self, predicate: Callable[[], Any], timeout: float = 20.0, message: str = "condition",
                       interval: float = 0.1) -> Any:
        """Poll `predicate` (sync or async) until it returns something truthy, and return that; fail the test
        with `message` after `timeout` seconds."""
        deadline = time.monotonic() + timeout
        while True:
            value = predicate()
            if asyncio.iscoroutine(value):
                value = await value
            if value:
                return value
            if time.monotonic() > deadline:
                raise AssertionError(f"timed out after {timeout}s waiting for {message} (last value: {value!r})")
            await asyncio.sleep(interval)

    async def api(self, method: str, path: str, token: str | None = None,
                  body: dict | None = None) -> tuple[int, Any]:
        """Call the REST API (`token` defaults to the admin's); (status, JSON body)."""
        return await self.stack.api(method, path, self.tokens["admin"] if token is None else token, body)

    async def fleet(self) -> dict[str, dict]:
        """The clusters of `GET /api/v1/fleet` by name (as the admin sees them)."""
        status, body = await self.api("GET", "/api/v1/fleet")
        assert status == 200, body
        return {c["name"]: c for region in body["regions"] for c in region["clusters"]}

    async def converged(self, revision: str | None = None, application: str = "inference") -> bool:
        """Every cluster connected and every application Synced and Healthy, `application` at `revision` when
        given (a commit moves only the applications it changes), by the API."""
        clusters = await self.fleet()
        if set(clusters) != set(CLUSTERS):
            return False
        for cluster in clusters.values():
            apps = cluster["applications"]
            if not cluster["connected"] or not apps:
                return False
            if any((a["sync_status"], a["health"]) != ("Synced", "Healthy") for a in apps):
                return False
            if revision is not None and any(a["revision"] != revision for a in apps if a["name"] == application):
                return False
        return True

    async def pending(self, revision: str) -> list[dict]:
        """The pending approvals of `revision` (`GET /api/v1/approvals`)."""
        status, body = await self.api("GET", "/api/v1/approvals")
        assert status == 200, body
        return [p for p in body["pending"] if p["revision"] == revision]

    async def approve(self, revision: str, token: str | None = None, region: str | None = None,
                      application: str = "inference") -> tuple[int, Any]:
        """Approve `revision` of `application` in prod (POST /api/v1/approvals)."""
        body = {"environment": "prod", "application": application, "revision": revision}
        if region is not None:
            body["region"] = region
        return await self.api("POST", "/api/v1/approvals", token, body)

    async def stop_hub(self) -> None:
        """Stop the hub (operator side and session server); clusters and agents keep running."""
        await self.stack.stop_hub()

    async def start_hub(self) -> None:
        """Start the hub again on the same HTTP and gRPC ports and data directory."""
        await self.stack.start_hub()

    async def restart_hub(self) -> None:
        """`stop_hub()` then `start_hub()`: `url` stays the same, so an open page can reconnect."""
        await self.stop_hub()
        await self.start_hub()


@pytest.fixture
async def three_regions(tmp_path: Path) -> AsyncIterator[ThreeRegions]:
    """The fleet of FLEET, converged at its first commit; see the module docstring and `ThreeRegions`."""
    stack = DashboardStack(tmp_path, list(CLUSTERS))
    fixture = ThreeRegions(stack)
    try:
        fixture.revision = stack.commit(repo_files("v1"), "inference: model-server v1")
        await stack.start()
        fixture.tokens = {"admin": stack.token("admin", "admin"), "operator": stack.token("operator", "operator"),
                          "eu-operator": stack.token("eu-operator", "operator", regions=("eu",)),
                          "viewer": stack.token("viewer", "viewer")}
        # prod's first release waits for an approval; one for the whole environment lets every step through
        await fixture.wait_for(lambda: fixture.pending(fixture.revision), timeout=30,
                               message="prod's first release pending approval")
        status, body = await fixture.approve(fixture.revision)
        assert status == 200 and body["satisfied"], body
        await fixture.wait_for(lambda: fixture.converged(fixture.revision), timeout=60,
                               message="every cluster Synced and Healthy at the first commit")
        yield fixture
    finally:
        await stack.stop()
