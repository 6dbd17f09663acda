"""Sync options: parsing application and object options, merging, warnings and errors."""

from __future__ import annotations

import pytest

from agent.sync import SyncOptions, SyncPlanError, app_options, merged, options_of, plan_sync
from tests.agent.sync.objects import ARGO_OPTIONS, OPTIONS, job, obj


def test_defaults_are_argo_cds() -> None:
    options, warnings = app_options([])
    assert options == SyncOptions() and warnings == []
    assert options.prune == "true" and not options.prune_last and not options.replace
    assert options.prune_propagation_policy == "foreground" and options.validate and options.server_side_apply


def test_application_options_are_parsed() -> None:
    options, warnings = app_options(["CreateNamespace=true", "PruneLast=true", "ApplyOutOfSyncOnly=true",
                                     "RespectIgnoreDifferences=true", "ServerSideApply=true", "Replace=true",
                                     "PrunePropagationPolicy=background", "Validate=false", "Prune=confirm"])
    assert warnings == []
    assert (options.create_namespace, options.prune_last, options.apply_out_of_sync_only,
            options.respect_ignore_differences, options.server_side_apply, options.replace) == (True,) * 6
    assert options.prune_propagation_policy == "background" and not options.validate and options.prune == "confirm"
    assert options.entries() == ["CreateNamespace=true", "Prune=confirm", "PruneLast=true", "Replace=true",
                                 "ServerSideApply=true", "ApplyOutOfSyncOnly=true", "RespectIgnoreDifferences=true",
                                 "Validate=false", "PrunePropagationPolicy=background"]


def test_unknown_options_are_warnings_with_a_suggestion() -> None:
    options, warnings = app_options(["prunelast=true", "Turbo=true"])
    assert options == SyncOptions()
    assert warnings == ['syncPolicy.syncOptions: unknown sync option "prunelast=true" (did you mean "PruneLast"?); '
                        "ignored", 'syncPolicy.syncOptions: unknown sync option "Turbo=true"; ignored']


@pytest.mark.parametrize("entry, expected", [
    ("Prune", 'sync option "Prune" is malformed: expected Name=value'),
    ("=true", 'sync option "=true" is malformed'),
    ("Prune=no", 'sync option "Prune=no" has an invalid value; expected Prune=true or Prune=false or Prune=confirm'),
    ("PrunePropagationPolicy=Foreground", "expected PrunePropagationPolicy=foreground or"),
    ("Replace=True", "expected Replace=true or Replace=false"),
])
def test_malformed_options_are_errors(entry: str, expected: str) -> None:
    with pytest.raises(SyncPlanError) as caught:
        app_options([entry])
    assert str(caught.value).startswith("syncPolicy.syncOptions: ") and expected in str(caught.value)


def test_an_option_set_twice_differently_is_an_error_but_a_repeat_is_not() -> None:
    with pytest.raises(SyncPlanError, match=r"sync option Replace is set twice \(Replace=true and Replace=false\)"):
        app_options(["Replace=true", "Replace=false"])
    assert app_options(["Replace=true", "Replace=true"])[0].replace


def test_object_options_from_either_annotation_and_ours_wins() -> None:
    assert options_of(obj("Job", "j", {ARGO_OPTIONS: "Replace=true, Force=true"}))[0].force
    ours, _ = options_of(obj("Job", "j", {OPTIONS: "Prune=false", ARGO_OPTIONS: "Replace=true"}))
    assert ours.prune == "false" and not ours.replace and ours.explicit == {"Prune"}


def test_malformed_object_option_names_the_object_and_annotation() -> None:
    with pytest.raises(SyncPlanError) as caught:
        options_of(obj("Deployment", "inference", {ARGO_OPTIONS: "Prune=false,Replace"}, api="apps/v1"))
    assert str(caught.value) == ('Deployment ml/inference: annotation argocd.argoproj.io/sync-options: sync option '
                                 '"Replace" is malformed: expected Name=value, e.g. "Prune=false"')


def test_application_only_options_on_an_object_are_ignored_with_a_warning() -> None:
    options, warnings = options_of(obj("ConfigMap", "c", {OPTIONS: "CreateNamespace=true,PruneLast=true"}))
    assert not options.create_namespace and options.prune_last and options.explicit == {"PruneLast"}
    assert warnings == ["ConfigMap ml/c: annotation fleetline.io/sync-options: sync option CreateNamespace=true only "
                        "applies to a whole application; set it in the application's syncPolicy.syncOptions "
                        "(ignored here)"]


def test_server_side_apply_false_is_ignored_with_a_warning() -> None:
    options, warnings = options_of(obj("ConfigMap", "c", {OPTIONS: "ServerSideApply=false"}))
    assert options.server_side_apply and len(warnings) == 1 and "always applies server-side" in warnings[0]


def test_helm_resource_policy_keep_means_delete_false_not_prune_false() -> None:
    options, _ = options_of(obj("CustomResourceDefinition", "x", {"helm.sh/resource-policy": "keep"}, namespace=None))
    assert options.delete == "false" and options.prune == "true"
    explicit, _ = options_of(obj("ConfigMap", "c", {"helm.sh/resource-policy": "keep", OPTIONS: "Delete=confirm"}))
    assert explicit.delete == "confirm"


def test_object_options_override_the_applications() -> None:
    app, _ = app_options(["Replace=true", "PruneLast=true", "PrunePropagationPolicy=orphan"])
    own, _ = options_of(obj("Deployment", "d", {OPTIONS: "Replace=false,Prune=false"}, api="apps/v1"))
    effective = merged(app, own)
    assert not effective.replace and effective.prune == "false" and effective.prune_last
    assert effective.prune_propagation_policy == "orphan"
    assert effective.explicit == {"Replace", "PruneLast", "PrunePropagationPolicy", "Prune"}
    assert merged(app, SyncOptions()) == app


def test_plan_tasks_carry_their_effective_options_and_warnings() -> None:
    plan = plan_sync([job("train", {OPTIONS: "Replace=true"}), obj("ConfigMap", "c", {OPTIONS: "Frobnicate=true"})],
                     [], ["ServerSideApply=true", "RespectIgnoreDifferences=true"])
    by_name = {t.name: t.options for t in plan.tasks}
    assert by_name["train"].replace and by_name["train"].respect_ignore_differences
    assert not by_name["c"].replace and by_name["c"].respect_ignore_differences
    assert plan.warnings == ['ConfigMap ml/c: annotation fleetline.io/sync-options: unknown sync option '
                             '"Frobnicate=true"; ignored']


def test_annotations_set_in_both_namespaces_differently_are_reported() -> None:
    plan = plan_sync([obj("ConfigMap", "c", {OPTIONS: "Replace=true", ARGO_OPTIONS: "Replace=false"})], [], [])
    assert plan.tasks[0].options.replace
    assert plan.warnings == ['ConfigMap ml/c: both fleetline.io/sync-options ("Replace=true") and '
                             'argocd.argoproj.io/sync-options ("Replace=false") are set; using '
                             'fleetline.io/sync-options']
