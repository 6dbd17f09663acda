"""Hooks: types and phases in both annotation namespaces, delete policies, Helm mapping, allowed kinds."""

from __future__ import annotations

import pytest

from agent.sync import SyncPlanError, hook_of, plan_sync
from agent.sync.hooks import runs_to_completion
from tests.agent.sync.objects import ARGO_HOOK, HOOK, WAVE, job, names, obj

DELETE_POLICY = "fleetline.io/hook-delete-policy"
ARGO_DELETE_POLICY = "argocd.argoproj.io/hook-delete-policy"


def test_an_object_without_hook_annotations_is_not_a_hook() -> None:
    assert hook_of(obj("ConfigMap", "c")) is None


def test_hook_types_from_either_annotation_and_ours_wins() -> None:
    assert hook_of(job("a", {HOOK: "PreSync"})).types == ("PreSync",)
    assert hook_of(job("b", {ARGO_HOOK: "PostSync"})).types == ("PostSync",)
    both = hook_of(job("c", {HOOK: "Sync", ARGO_HOOK: "PostSync"}))
    assert both.types == ("Sync",) and both.annotation == HOOK


def test_a_comma_list_is_trimmed_deduplicated_and_put_in_phase_order() -> None:
    hook = hook_of(job("a", {HOOK: " PostSync, PreSync ,,PostSync"}))
    assert hook.types == ("PreSync", "PostSync") and hook.phases == ("PreSync", "PostSync")


def test_unknown_hook_type_is_an_error_naming_the_object_with_a_suggestion() -> None:
    with pytest.raises(SyncPlanError) as caught:
        hook_of(job("migrate", {ARGO_HOOK: "presync,Later"}))
    problems = caught.value.problems
    assert len(problems) == 2
    assert 'Job ml/migrate: annotation argocd.argoproj.io/hook has unknown hook type "presync" (did you mean ' \
           '"PreSync"?)' in problems[0]
    assert '"Later"' in problems[1]


def test_an_empty_hook_annotation_is_an_error() -> None:
    with pytest.raises(SyncPlanError, match="Job ml/a: annotation fleetline.io/hook is empty"):
        hook_of(job("a", {HOOK: " , "}))


def test_delete_policy_defaults_to_before_hook_creation() -> None:
    hook = hook_of(job("a", {HOOK: "PreSync"}))
    assert hook.delete_policies == ("BeforeHookCreation",)
    assert hook.delete_before_creation and not hook.delete_on_success and not hook.delete_on_failure


def test_delete_policies_from_either_annotation() -> None:
    ours = hook_of(job("a", {HOOK: "PreSync", DELETE_POLICY: "HookFailed,HookSucceeded"}))
    assert ours.delete_policies == ("HookSucceeded", "HookFailed")
    assert not ours.delete_before_creation and ours.delete_on_success and ours.delete_on_failure
    theirs = hook_of(job("b", {HOOK: "PreSync", ARGO_DELETE_POLICY: "HookSucceeded"}))
    assert theirs.delete_policies == ("HookSucceeded",)
    assert hook_of(job("c", {HOOK: "PreSync", DELETE_POLICY: "HookFailed",
                             ARGO_DELETE_POLICY: "HookSucceeded"})).delete_policies == ("HookFailed",)


def test_unknown_delete_policy_is_an_error() -> None:
    with pytest.raises(SyncPlanError, match=r'Job ml/a: annotation fleetline.io/hook-delete-policy has unknown '
                                            r'delete policy "OnSuccess"'):
        hook_of(job("a", {HOOK: "PreSync", DELETE_POLICY: "OnSuccess"}))


def test_skip_alone_is_neither_applied_nor_pruned() -> None:
    hook = hook_of(obj("ConfigMap", "manual", {ARGO_HOOK: "Skip"}))
    assert hook.skip and hook.phases == ()
    plan = plan_sync([obj("ConfigMap", "manual", {ARGO_HOOK: "Skip"}), obj("ConfigMap", "c")], [], [])
    assert names(plan.tasks) == ["ConfigMap/c"] and plan.warnings == []


def test_skip_with_other_types_is_ignored_with_a_warning() -> None:
    plan = plan_sync([job("a", {HOOK: "Skip,PreSync"})], [], [])
    assert [(t.phase, t.action) for t in plan.tasks] == [("PreSync", "hook")]
    assert any("Job ml/a: hook type Skip ignored" in w for w in plan.warnings)


def test_deletion_hooks_are_left_out_of_a_sync_with_a_warning() -> None:
    plan = plan_sync([job("cleanup", {HOOK: "PreDelete"}), obj("ConfigMap", "c")], [], [])
    assert names(plan.tasks) == ["ConfigMap/c"]
    assert any("Job ml/cleanup: left out" in w and "deleted" in w for w in plan.warnings)


def test_a_hook_in_several_phases_runs_in_each() -> None:
    plan = plan_sync([job("check", {HOOK: "PreSync,PostSync,SyncFail", WAVE: "2"}), obj("ConfigMap", "c")], [], [])
    assert [(str(s), names(s.tasks)) for s in plan.steps] == [
        ("PreSync wave 2", ["Job/check"]), ("Sync wave 0", ["ConfigMap/c"]), ("PostSync wave 2", ["Job/check"])]
    assert [(t.phase, t.wave) for t in plan.sync_fail_hooks] == [("SyncFail", 2)]
    assert all(t.hook is not None and t.action == "hook" for t in plan.sync_fail_hooks + plan.steps[0].tasks)


def test_a_sync_hook_shares_the_step_of_its_wave() -> None:
    plan = plan_sync([obj("Pod", "canary", {HOOK: "Sync"}), obj("ConfigMap", "c")], [], [])
    assert [(str(s), names(s.tasks)) for s in plan.steps] == [("Sync wave 0", ["ConfigMap/c", "Pod/canary"])]
    assert [t.action for t in plan.tasks] == ["apply", "hook"]


@pytest.mark.parametrize("api, kind, runs", [("v1", "ServiceAccount", False), ("apps/v1", "Deployment", False),
                                             ("example.com/v1", "Job", False), ("batch/v1", "Job", True),
                                             ("v1", "Pod", True)])
def test_any_kind_may_be_a_hook_and_jobs_and_pods_run_to_completion(api: str, kind: str, runs: bool) -> None:
    hook_obj = obj(kind, "x", {HOOK: "PreSync"}, api=api)
    plan = plan_sync([hook_obj], [], [])
    assert [(t.phase, t.action) for t in plan.tasks] == [("PreSync", "hook")]
    assert runs_to_completion(hook_obj) is runs


def test_jobs_and_pods_are_accepted_as_hooks() -> None:
    plan = plan_sync([job("j", {HOOK: "PreSync"}), obj("Pod", "p", {ARGO_HOOK: "PreSync"})], [], [])
    assert names(plan.tasks) == ["Pod/p", "Job/j"]


# --- Helm hooks ----------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("events, types", [
    ("pre-install", ("PreSync",)), ("pre-upgrade", ("PreSync",)), ("post-install", ("PostSync",)),
    ("post-upgrade", ("PostSync",)), ("pre-install,post-install", ("PreSync", "PostSync")),
    ("pre-delete", ("PreDelete",)), ("post-delete", ("PostDelete",)),
])
def test_helm_hook_events_map_onto_hook_types(events: str, types: tuple[str, ...]) -> None:
    hook = hook_of(job("h", {"helm.sh/hook": events}))
    assert hook.types == types and hook.annotation == "helm.sh/hook"


def test_helm_crd_install_alone_is_not_a_hook() -> None:
    assert hook_of(obj("CustomResourceDefinition", "x", {"helm.sh/hook": "crd-install"}, namespace=None)) is None


def test_our_hook_annotation_replaces_helms() -> None:
    assert hook_of(job("h", {"helm.sh/hook": "pre-install", ARGO_HOOK: "PostSync"})).types == ("PostSync",)


def test_helm_delete_policies_and_weight() -> None:
    manifest = job("h", {"helm.sh/hook": "pre-upgrade", "helm.sh/hook-weight": "-3",
                         "helm.sh/hook-delete-policy": "hook-succeeded,before-hook-creation"})
    hook = hook_of(manifest)
    assert hook.delete_policies == ("BeforeHookCreation", "HookSucceeded")
    plan = plan_sync([manifest], [], [])
    assert [(t.phase, t.wave) for t in plan.tasks] == [("PreSync", -3)]
    combined = hook_of(job("c", {"helm.sh/hook": "pre-upgrade", "helm.sh/hook-delete-policy": "hook-failed",
                                 DELETE_POLICY: "HookSucceeded"}))
    assert combined.delete_policies == ("HookSucceeded", "HookFailed")  # Argo CD adds Helm's to its own


def test_unknown_helm_delete_policy_is_an_error() -> None:
    with pytest.raises(SyncPlanError, match="helm.sh/hook-delete-policy has unknown delete policy"):
        hook_of(job("h", {"helm.sh/hook": "pre-install", "helm.sh/hook-delete-policy": "always"}))


def test_helm_test_hooks_are_left_out_with_a_warning() -> None:
    test_pod = obj("Pod", "chart-test-connection", {"helm.sh/hook": "test"})
    hook = hook_of(test_pod)
    assert hook.phases == () and hook.unsupported == ("test",)
    plan = plan_sync([test_pod, obj("ConfigMap", "c")], [], [])
    assert names(plan.tasks) == ["ConfigMap/c"]
    assert any("Pod ml/chart-test-connection: left out: Helm hook test" in w for w in plan.warnings)


def test_a_helm_hook_on_another_kind_is_applied_in_its_phase() -> None:
    plan = plan_sync([obj("ServiceAccount", "migrator", {"helm.sh/hook": "pre-install"})], [], [])
    assert [(t.phase, t.action, str(t)) for t in plan.tasks] == [("PreSync", "hook", "ServiceAccount ml/migrator")]
