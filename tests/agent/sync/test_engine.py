"""`SyncEngine` driven directly against a live kubesim over HTTP: every sync option and hook delete policy of
issue 5 (scope 2), with Argo CD's semantics (reference §A3): what is written, what is pruned and in which
order, what the DELETE asks for, and what the result says.

Each test runs one or two `SyncEngine.run` calls on a fresh simulated cluster; the live objects handed to the
engine are read back from the cluster, as the reconciler's inventory would hand them.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from agent.cluster import ClusterAccess, ObjectRef
from agent.diff import IgnoreRule
from agent.drift import PodCache
from agent.reconcile.livehealth import LiveHealth
from agent.sync.engine import FAILED, PRUNE_SKIPPED, PRUNED, SUCCEEDED, SYNC_FAILED, SYNCED, SyncEngine
from kubesim.cluster import ClusterOptions
from tests.agent.reconcile.conftest import deployment
from tests.agent.sync.engine_support import (
    ARGO_OPTIONS,
    NS,
    OPTIONS,
    cm,
    eventually,
    hook_job,
    in_wave,
    live_of,
    outcome,
    ref,
    spec,
    steps,
    with_annotations,
)


@pytest.fixture
def sim_options() -> ClusterOptions:
    """Fast simulated time; one GPU per node so that a larger GPU request waits forever."""
    return ClusterOptions(speed=50.0, nodes=2, gpus_per_node=1)


@pytest.fixture
async def access(sim) -> AsyncIterator[ClusterAccess]:
    cluster = ClusterAccess.from_kubeconfig(sim.kubeconfig_path)
    await cluster.start()
    try:
        yield cluster
    finally:
        await cluster.close()


@pytest.fixture
async def ns(access: ClusterAccess) -> str:
    await access.apply({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": NS}})
    return NS


@pytest.fixture
def engine(access: ClusterAccess) -> SyncEngine:
    return SyncEngine(access, LiveHealth(None), wave_timeout=20.0, poll_interval=0.02)


def rv(obj: dict) -> str:
    return obj["metadata"]["resourceVersion"]


def uid(obj: dict) -> str:
    return obj["metadata"]["uid"]


def managers(obj: dict) -> set[str]:
    return {m["manager"] for m in obj["metadata"].get("managedFields") or []}


async def hold_deletion(access: ClusterAccess, obj: dict) -> None:
    """Someone's finalizer: a delete of `obj` stays pending (deletionTimestamp set) until it is removed."""
    await access.patch(ref(obj), {"metadata": {"finalizers": ["example.com/hold"]}},
                       content_type="application/merge-patch+json", field_manager="someone")


async def replica_sets(access: ClusterAccess, app: str) -> list[dict]:
    items, _ = await access.list("apps/v1", "ReplicaSet", namespace=NS, label_selector=f"app={app}")
    return items


# ---- ApplyOutOfSyncOnly ------------------------------------------------------------------------------------


@pytest.mark.parametrize("only_out_of_sync", [True, False])
async def test_apply_out_of_sync_only_skips_objects_already_in_sync(access, ns, engine, only_out_of_sync) -> None:
    # both exist, created by another manager; `same` already matches Git, `stale` does not
    same, stale = cm("same", {"k": "v"}), cm("stale", {"k": "old"})
    for obj in (same, stale):
        await access.create(spec([obj]).desired[0], field_manager="kubectl-create")
    before = {o["metadata"]["name"]: o for o in await live_of(access, [same, stale])}
    options = ["ApplyOutOfSyncOnly=true"] if only_out_of_sync else []
    result = await engine.run(spec([same, cm("stale", {"k": "new"})], list(before.values()), options=options))
    assert result.phase == SUCCEEDED, result.message
    after = {o["metadata"]["name"]: o for o in await live_of(access, [same, stale])}
    assert after["stale"]["data"] == {"k": "new"} and rv(after["stale"]) != rv(before["stale"])
    if only_out_of_sync:
        assert rv(after["same"]) == rv(before["same"]), "an object in sync must not be written"
        assert "fleetline" not in managers(after["same"])
        assert outcome(result, "same").message == "unchanged (ApplyOutOfSyncOnly)"
        assert outcome(result, "stale").message == "configured"
    else:  # the control: an apply of the same values still takes the fields over, so it is a write
        assert rv(after["same"]) != rv(before["same"]) and "fleetline" in managers(after["same"])
        assert outcome(result, "same").message == "configured"


# ---- RespectIgnoreDifferences ------------------------------------------------------------------------------


@pytest.mark.parametrize("respect", [True, False])
async def test_respect_ignore_differences_leaves_an_ignored_field_to_its_manager(access, ns, engine,
                                                                                 respect) -> None:
    web = deployment("web", replicas=1)
    assert (await engine.run(spec([web]))).succeeded
    # an HPA-like controller scales it
    await access.patch(ref(web), {"spec": {"replicas": 3}}, content_type="application/merge-patch+json",
                       field_manager="kube-controller-manager")
    rules = [IgnoreRule(group="apps", kind="Deployment", json_pointers=("/spec/replicas",))]
    changed = with_annotations(web, {"team": "ml"})  # something else changes too, so the sync does write
    options = ["RespectIgnoreDifferences=true"] if respect else []
    result = await engine.run(spec([changed], await live_of(access, [web]), options=options, rules=rules))
    assert result.phase == SUCCEEDED, result.message
    live = await access.get(ref(web))
    assert live["metadata"]["annotations"]["team"] == "ml"
    assert live["spec"]["replicas"] == (3 if respect else 1)


# ---- Prune=false, PruneLast, prune order, propagation ------------------------------------------------------


async def test_prune_false_keeps_the_object_and_the_result_says_so(access, ns, engine) -> None:
    kept_ours = cm("kept-ours", annotations={OPTIONS: "Prune=false"})
    kept_argo = cm("kept-argo", annotations={ARGO_OPTIONS: "Prune=false"})
    first = [cm("stays"), kept_ours, kept_argo, cm("goes")]
    assert (await engine.run(spec(first))).succeeded
    result = await engine.run(spec([cm("stays")], await live_of(access, first)))
    assert result.phase == SUCCEEDED, result.message
    assert await access.get(ref(cm("goes"))) is None
    assert outcome(result, "goes").status == PRUNED
    for name in ("kept-ours", "kept-argo"):
        assert await access.get(ref(cm(name))) is not None, f"{name} has Prune=false"
        skipped = outcome(result, name)
        assert (skipped.action, skipped.status) == ("prune", PRUNE_SKIPPED)
        assert "Prune=false" in skipped.message
        assert any(name in w and "Prune=false" in w for w in result.warnings)


async def test_prune_last_prunes_after_every_apply(access, ns, engine) -> None:
    last = cm("last", annotations={OPTIONS: "PruneLast=true"})
    first = [cm("a"), in_wave(cm("b"), 1), last, cm("early")]
    assert (await engine.run(spec(first))).succeeded
    result = await engine.run(spec([cm("a"), in_wave(cm("b"), 1), in_wave(cm("c"), 2)],
                                   await live_of(access, first)))
    assert result.phase == SUCCEEDED, result.message
    assert steps(result) == ["prune ConfigMap/early", "apply ConfigMap/a", "apply ConfigMap/b", "apply ConfigMap/c",
                             "prune ConfigMap/last"]
    assert outcome(result, "last").wave == 3  # the last Sync wave + 1
    assert await access.get(ref(last)) is None


async def test_prune_last_from_the_application_options(access, ns, engine) -> None:
    first = [cm("a"), cm("old")]
    assert (await engine.run(spec(first))).succeeded
    result = await engine.run(spec([cm("a")], await live_of(access, first), options=["PruneLast=true"]))
    assert steps(result) == ["apply ConfigMap/a", "prune ConfigMap/old"]


async def test_higher_waves_are_pruned_first(access, ns, engine) -> None:
    first = [cm("keep"), in_wave(cm("w0"), 0), in_wave(cm("w1"), 1), in_wave(cm("w2"), 2)]
    assert (await engine.run(spec(first))).succeeded
    result = await engine.run(spec([cm("keep")], await live_of(access, first)))
    assert result.phase == SUCCEEDED, result.message
    prunes = [s for s in steps(result) if s.startswith("prune")]
    assert prunes == ["prune ConfigMap/w2", "prune ConfigMap/w1", "prune ConfigMap/w0"]
    assert [await access.get(ref(cm(n))) for n in ("w0", "w1", "w2")] == [None, None, None]


async def test_a_sync_does_not_finish_while_a_prune_is_pending(access, ns) -> None:
    # Argo CD waits for pruned objects to be gone ("waiting for deletion of ..."), even in a single-step sync
    engine = SyncEngine(access, LiveHealth(None), wave_timeout=1.0, poll_interval=0.02)
    first = [cm("keep"), cm("old")]
    assert (await engine.run(spec(first))).succeeded
    await hold_deletion(access, cm("old"))
    result = await engine.run(spec([cm("keep")], await live_of(access, first)))
    assert result.phase == FAILED, "the sync must not report success while a pruned object still exists"
    assert "timed out after 1s waiting for ConfigMap ml/old (" in result.message, result.message
    assert "deletion" in result.message
    assert (await access.get(ref(cm("old"))))["metadata"].get("deletionTimestamp")


async def test_a_prune_whose_deletion_never_finishes_holds_the_lower_waves(access, ns) -> None:
    engine = SyncEngine(access, LiveHealth(None), wave_timeout=1.0, poll_interval=0.02)
    first = [cm("keep"), in_wave(cm("w0"), 0), in_wave(cm("w1"), 1)]
    assert (await engine.run(spec(first))).succeeded
    await hold_deletion(access, cm("w1"))  # w1 is pruned first (the higher wave); its deletion stays pending
    result = await engine.run(spec([cm("keep")], await live_of(access, first)))
    assert result.phase == FAILED
    assert "waiting for ConfigMap ml/w1 (" in result.message and "delet" in result.message, result.message
    assert "w0" not in [r.name for r in result.resources], "a lower wave must wait until the higher one is gone"
    assert await access.get(ref(cm("w0"))) is not None


@pytest.mark.parametrize("policy", ["orphan", "background", "foreground"])
async def test_prune_propagation_policy_reaches_the_delete(access, ns, policy) -> None:
    engine = SyncEngine(access, LiveHealth(None), wave_timeout=1.0, poll_interval=0.02)
    first = [cm("keep"), deployment("web")]
    assert (await engine.run(spec(first))).succeeded
    owned = (await eventually(lambda: replica_sets(access, "web"), message="the Deployment's ReplicaSet"))[0]
    await hold_deletion(access, owned)  # once deleted, the ReplicaSet stays (deletion pending) until released
    live = await live_of(access, first)
    result = await engine.run(spec([cm("keep")], live, options=[f"PrunePropagationPolicy={policy}"]))
    assert outcome(result, "web").status == PRUNED
    rs_ref = ref(owned)
    if policy == "foreground":
        # the Deployment is deleted only after its dependents, and the ReplicaSet is held: the prune stays pending
        assert result.phase == FAILED
        assert "waiting for Deployment ml/web (" in result.message and "foregroundDeletion" in result.message
        assert (await access.get(rs_ref))["metadata"].get("deletionTimestamp")
        return
    assert result.phase == SUCCEEDED, result.message
    assert await access.get(ref(deployment("web"))) is None
    if policy == "orphan":
        # the garbage collector released the dependent before the Deployment went: no owner, not deleted
        rs = await access.get(rs_ref)
        assert not rs["metadata"].get("ownerReferences") and not rs["metadata"].get("deletionTimestamp")
    else:  # background: the Deployment goes at once, the garbage collector deletes the ReplicaSet afterwards
        async def deleting() -> bool:
            return bool((await access.get(rs_ref))["metadata"].get("deletionTimestamp"))
        await eventually(deleting, message="the garbage collector deleting the ReplicaSet")


# ---- CreateNamespace ---------------------------------------------------------------------------------------


async def test_create_namespace_creates_the_destination_namespace(access, engine) -> None:
    result = await engine.run(spec([cm("x", ns="fresh")], options=["CreateNamespace=true"], namespace="fresh"))
    assert result.phase == SUCCEEDED, result.message
    created = outcome(result, "fresh")
    assert (created.action, created.status) == ("create-namespace", SYNCED)
    assert "created" in created.message
    assert steps(result) == ["create-namespace Namespace/fresh", "apply ConfigMap/x"]
    assert await access.get(ObjectRef("v1", "Namespace", "", "fresh")) is not None
    assert await access.get(ref(cm("x", ns="fresh"))) is not None


async def test_without_create_namespace_a_missing_namespace_fails_the_sync(access, engine) -> None:
    result = await engine.run(spec([cm("x", ns="fresh")], namespace="fresh"))
    assert result.phase == FAILED
    assert "ConfigMap fresh/x" in result.message and 'namespaces "fresh" not found' in result.message
    assert result.message.count("ConfigMap fresh/x") == 1, f"the object is named once: {result.message}"
    assert outcome(result, "x").status == SYNC_FAILED
    assert await access.get(ObjectRef("v1", "Namespace", "", "fresh")) is None


# ---- Replace, Force ----------------------------------------------------------------------------------------


async def test_replace_with_force_deletes_and_recreates(access, ns, engine) -> None:
    obj = cm("cfg", {"k": "1"}, annotations={OPTIONS: "Replace=true,Force=true"})
    first = await engine.run(spec([obj]))
    assert first.succeeded and outcome(first, "cfg").message == "created"
    before = await access.get(ref(obj))
    result = await engine.run(spec([cm("cfg", {"k": "2"}, annotations={OPTIONS: "Replace=true,Force=true"})],
                                   [before]))
    assert result.phase == SUCCEEDED, result.message
    assert outcome(result, "cfg").message == "deleted and re-created (Force=true)"
    after = await access.get(ref(obj))
    assert uid(after) != uid(before) and after["data"] == {"k": "2"}


async def test_replace_without_force_updates_in_place(access, ns, engine) -> None:
    obj = cm("cfg", {"k": "1"}, annotations={OPTIONS: "Replace=true"})
    assert (await engine.run(spec([obj]))).succeeded
    before = await access.get(ref(obj))
    result = await engine.run(spec([cm("cfg", {"k": "2"}, annotations={OPTIONS: "Replace=true"})], [before]))
    assert outcome(result, "cfg").message == "replaced"
    after = await access.get(ref(obj))
    assert uid(after) == uid(before) and after["data"] == {"k": "2"}


def plain_job(name: str, image: str, *, replace: bool) -> dict:
    notes = {OPTIONS: "Replace=true"} if replace else {}
    return {"apiVersion": "batch/v1", "kind": "Job", "metadata": {"name": name, "namespace": NS, "annotations": notes},
            "spec": {"backoffLimit": 0, "template": {"spec": {"restartPolicy": "Never", "containers": [
                {"name": "main", "image": image}]}}}}


async def test_replace_falls_back_to_delete_and_create_when_an_immutable_field_changes(access, ns, engine) -> None:
    assert (await engine.run(spec([plain_job("migrate", "busybox:1.36", replace=True)]))).succeeded
    before = await access.get(ref(plain_job("migrate", "", replace=True)))
    result = await engine.run(spec([plain_job("migrate", "busybox:1.37", replace=True)], [before]))
    assert result.phase == SUCCEEDED, result.message
    assert outcome(result, "migrate").message == "deleted and re-created (an immutable field changed)"
    after = await access.get(ref(before))
    assert uid(after) != uid(before)
    assert after["spec"]["template"]["spec"]["containers"][0]["image"] == "busybox:1.37"


async def test_without_replace_a_changed_job_template_fails_with_the_servers_message(access, ns, engine) -> None:
    assert (await engine.run(spec([plain_job("migrate", "busybox:1.36", replace=False)]))).succeeded
    before = await access.get(ref(plain_job("migrate", "", replace=False)))
    result = await engine.run(spec([plain_job("migrate", "busybox:1.37", replace=False)], [before]))
    assert result.phase == FAILED
    assert "Job ml/migrate" in result.message and "field is immutable" in result.message
    assert uid(await access.get(ref(before))) == uid(before)


# ---- hooks -------------------------------------------------------------------------------------------------


async def test_hook_succeeded_policy_deletes_a_succeeded_hook(access, ns, engine) -> None:
    hook = hook_job("seed", "PreSync", delete_policy="HookSucceeded")
    result = await engine.run(spec([hook, cm("app")]))
    assert result.phase == SUCCEEDED, result.message
    assert outcome(result, "seed").hook_phase == "Succeeded"
    assert steps(result) == ["hook Job/seed", "apply ConfigMap/app"]
    assert await access.get(ref(hook)) is None


async def test_hook_failed_policy_deletes_a_failed_hook(access, ns, engine) -> None:
    hook = hook_job("check", "PostSync", fail=True, delete_policy="HookFailed")
    result = await engine.run(spec([cm("app"), hook]))
    assert result.phase == FAILED
    assert outcome(result, "check").hook_phase == "Failed"
    assert "PostSync" in result.message and "Job ml/check" in result.message
    assert await access.get(ref(hook)) is None


async def test_a_failed_hook_without_hook_failed_policy_is_kept(access, ns, engine) -> None:
    hook = hook_job("check", "PostSync", fail=True, delete_policy="HookSucceeded")
    result = await engine.run(spec([cm("app"), hook]))
    assert result.phase == FAILED
    assert await access.get(ref(hook)) is not None, "HookSucceeded must not delete a failed hook"


async def test_a_hook_is_waited_for_even_when_the_sync_has_a_single_step(access, ns, engine) -> None:
    # a Sync hook in wave 0 beside the other objects: one step, so no health wait, but hooks are always awaited
    hook = hook_job("sync-hook", "Sync", delete_policy="HookSucceeded")
    result = await engine.run(spec([cm("app"), hook]))
    assert result.phase == SUCCEEDED, result.message
    assert outcome(result, "sync-hook").hook_phase == "Succeeded"
    assert await access.get(ref(hook)) is None, "HookSucceeded deletes it once it succeeded"


async def test_a_failing_hook_fails_a_single_step_sync(access, ns, engine) -> None:
    result = await engine.run(spec([cm("app"), hook_job("sync-hook", "Sync", fail=True)]))
    assert result.phase == FAILED
    assert "Job ml/sync-hook" in result.message
    assert outcome(result, "sync-hook").hook_phase == "Failed"


async def test_before_hook_creation_keeps_the_hook_until_the_next_sync(access, ns, engine) -> None:
    hook = hook_job("seed", "PreSync")  # no policy: BeforeHookCreation
    assert (await engine.run(spec([hook, cm("app")]))).succeeded
    first = await access.get(ref(hook))
    assert first is not None and _job_complete(first), "the finished hook stays until the next sync"
    result = await engine.run(spec([hook, cm("app")], await live_of(access, [cm("app")])))
    assert result.phase == SUCCEEDED, result.message
    second = await access.get(ref(hook))
    assert second is not None and uid(second) != uid(first), "the next sync deletes and re-creates it"
    assert _job_complete(second)


def _job_complete(job: dict) -> bool:
    return any(c.get("type") == "Complete" and c.get("status") == "True"
               for c in (job.get("status") or {}).get("conditions") or [])


async def test_a_failing_presync_hook_stops_the_sync_and_runs_sync_fail_hooks(access, ns, engine) -> None:
    pre = hook_job("pre", "PreSync", fail=True)
    on_fail = hook_job("notify", "SyncFail")
    result = await engine.run(spec([pre, cm("app"), deployment("web"), on_fail]))
    assert result.phase == FAILED
    assert "PreSync" in result.message and "Job ml/pre" in result.message
    assert await access.get(ref(cm("app"))) is None and await access.get(ref(deployment("web"))) is None
    assert [s for s in steps(result) if s.startswith("apply")] == []
    assert outcome(result, "pre").hook_phase == "Failed"
    notified = outcome(result, "notify")
    assert (notified.phase, notified.hook_phase) == ("SyncFail", "Succeeded")
    assert _job_complete(await access.get(ref(on_fail)))


async def test_sync_fail_hooks_do_not_run_when_the_sync_succeeds(access, ns, engine) -> None:
    result = await engine.run(spec([hook_job("pre", "PreSync"), cm("app"), hook_job("notify", "SyncFail")]))
    assert result.phase == SUCCEEDED, result.message
    assert "notify" not in [r.name for r in result.resources]
    assert await access.get(ref(hook_job("notify", "SyncFail"))) is None


# ---- waiting for a wave ------------------------------------------------------------------------------------


async def test_a_wave_that_never_becomes_healthy_times_out_naming_what_it_waits_for(access, ns) -> None:
    pods = PodCache(access)
    await pods.start()
    engine = SyncEngine(access, LiveHealth(pods, gpu_grace_seconds=3600), wave_timeout=1.5, poll_interval=0.05)
    try:
        x = deployment("x", gpus=4)  # more GPUs than any node has: Pending, Progressing for the grace period
        result = await engine.run(spec([x, in_wave(cm("after"), 1)]))
    finally:
        await pods.close()
    assert result.phase == FAILED
    assert "timed out after 1.5s waiting for Deployment ml/x (Progressing: " in result.message
    assert "GPU" in result.message, result.message
    assert await access.get(ref(cm("after"))) is None, "the next wave must not be applied"
    assert "after" not in [r.name for r in result.resources]


# ---- apply errors ------------------------------------------------------------------------------------------


async def test_an_apply_error_fails_the_sync_with_the_servers_message(access, ns, engine) -> None:
    bad = deployment("bad")
    bad["spec"]["template"]["metadata"]["labels"] = {"app": "other"}  # does not match the selector
    result = await engine.run(spec([cm("first"), bad, in_wave(cm("later"), 1)]))
    assert result.phase == FAILED
    assert "Deployment ml/bad" in result.message
    assert "`selector` does not match template `labels`" in result.message
    assert outcome(result, "bad").status == SYNC_FAILED
    assert outcome(result, "first").status == SYNCED
    assert await access.get(ref(cm("later"))) is None and "later" not in [r.name for r in result.resources]

