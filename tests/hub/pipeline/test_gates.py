"""Production gates: a manual-sync application stays OutOfSync, its diff visible, until the required number of
distinct approvers approved the revision; a deny window blocks it with a message naming the window."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from tests.hub.pipeline.conftest import deployment_yaml, kustomization

FLEET = """\
apiVersion: fleetline.io/v1alpha1
kind: Fleet
metadata: {name: ml}
spec:
  environments:
    prod:
      ref: main
      production: true
      sync: manual
      approvals: {required: 2}
%s
  clusters:
  - {name: euw1, region: eu, environment: prod}
  applications:
  - name: inference
    source: {path: apps/inference}
    destination: {namespace: ml}
    syncPolicy:
      automated: {prune: true, selfHeal: true}
      syncOptions: [CreateNamespace=true]
"""


def freeze() -> str:
    """A deny window that started at the top of the current hour (Berlin time) and lasts two hours."""
    hour = datetime.now(ZoneInfo("Europe/Berlin")).hour
    return f"""\
      syncWindows:
      - {{kind: deny, schedule: "0 {hour} * * *", duration: 2h, timeZone: Europe/Berlin, description: release freeze}}
"""


def repo_files(tag: str, windows: str = "") -> dict[str, str]:
    return {"fleet.yaml": FLEET % windows, "apps/inference/deployment.yaml": deployment_yaml(),
            "apps/inference/kustomization.yaml": kustomization(tag)}


def pending(stack) -> list[dict]:
    return stack.source.describe()["pending_approvals"]


async def test_a_manual_application_waits_for_its_distinct_approvers(stack_factory) -> None:
    stack = stack_factory(["euw1"])
    first = stack.commit(repo_files("v1"), "v1")
    await stack.start(interval=0.5)
    await stack.eventually(lambda: pending(stack), message="v1 pending approval")
    await stack.pipeline.approve("prod", "inference", first, "alice")
    await stack.pipeline.approve("prod", "inference", first, "bob")
    await stack.eventually(lambda: stack.runs("euw1", "inference", first), timeout=30, message="v1 approved and synced")

    second = stack.commit({"apps/inference/kustomization.yaml": kustomization("v2")}, "model v2")
    status = await stack.eventually(
        lambda: (s := stack.app_status("euw1", "inference")) is not None and s.revision == second
        and s.sync_status == "OutOfSync" and s, message="v2 OutOfSync")
    assert any("image" in line for line in status.drift.fields), f"the diff is visible: {status.drift}"
    assert await stack.image("euw1") == "model-server:v1"
    state = await stack.pipeline.approve("prod", "inference", second, "alice")
    state = await stack.pipeline.approve("prod", "inference", second, "Alice")  # the same person again
    assert (state.approvers, state.satisfied) == (["alice"], False)
    [entry] = pending(stack)
    assert (entry["revision"], entry["approvers"], entry["required"]) == (second, ["alice"], 2)
    assert await stack.image("euw1") == "model-server:v1", "one approver is not enough"
    await stack.pipeline.approve("prod", "inference", second, "bob")
    await stack.eventually(lambda: stack.runs("euw1", "inference", second), timeout=30, message="v2 synced")
    assert await stack.image("euw1") == "model-server:v2"
    assert not pending(stack)


async def test_a_deny_window_blocks_an_approved_sync_naming_the_window(stack_factory) -> None:
    stack = stack_factory(["euw1"])
    first = stack.commit(repo_files("v1", freeze()), "v1")
    await stack.start(interval=0.5)
    await stack.eventually(lambda: pending(stack), message="v1 pending approval")
    await stack.pipeline.approve("prod", "inference", first, "alice")
    await stack.pipeline.approve("prod", "inference", first, "bob")
    [entry] = await stack.eventually(lambda: [p for p in pending(stack) if p["held"]], message="held by the window")
    assert "blocked by deny window 'release freeze'" in entry["held"] and "until" in entry["held"]
    await stack.eventually(lambda: (s := stack.app_status("euw1", "inference")) is not None
                           and s.sync_status == "OutOfSync", message="OutOfSync reported")
    assert await stack.image("euw1") is None, "nothing applied during the freeze"
