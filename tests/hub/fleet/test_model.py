"""Defaults of the fleet definition (Argo CD's where Argo CD has one) and the records' immutability."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from hub.fleet.model import AUTOMATED_DEFAULT_RETRY, Backoff, Policies, Retry, SyncPolicy
from tests.hub.fleet.conftest import fleet_data


def test_environment_defaults(load) -> None:
    data = fleet_data()
    data["spec"]["environments"] = {"staging": None, "production": {"production": True}, "qa": {}}
    data["spec"]["clusters"].append({"name": "qa-1", "region": "eu", "environment": "qa"})
    fleet = load(data)
    staging, production = fleet.environments["staging"], fleet.environments["production"]
    assert (staging.ref, staging.production, staging.sync, staging.approvals.required, staging.sync_windows) == \
        ("HEAD", False, "automated", 0, ())
    assert (production.ref, production.production, production.sync) == ("HEAD", True, "manual")
    assert list(fleet.environments) == ["staging", "production", "qa"]


def test_production_may_opt_into_automated_sync(load) -> None:
    data = fleet_data()
    data["spec"]["environments"]["production"]["sync"] = "automated"
    assert load(data).environments["production"].sync == "automated"


def test_sync_window_defaults(load) -> None:
    data = fleet_data()
    data["spec"]["environments"]["production"]["syncWindows"] = [
        {"kind": "allow", "schedule": "@daily", "duration": "1h30m"}]
    [window] = load(data).environments["production"].sync_windows
    assert (window.time_zone, window.manual_sync, window.applications, window.clusters, window.namespaces,
            window.and_operator, window.sync_overrun, window.description) == \
        ("UTC", False, (), (), (), False, False, "")
    assert window.duration == "1h30m" and window.duration_seconds == 5400


def test_application_defaults(load) -> None:
    fleet = load(fleet_data())
    app = fleet.applications[0]
    assert app.sync_policy == SyncPolicy()
    assert app.sync_policy.automated is None and app.sync_policy.effective_retry() is None
    assert app.policies == Policies(False, False, False)
    assert app.ignore_differences == ()
    assert app.source.helm is None and dict(app.source.path_overrides) == {}
    assert str(app.origin) == "fleet.yaml spec.applications[0]"
    assert fleet.repo_url == "https://github.com/acme/fleet.git" and fleet.application_files == ()


def test_retry_backoff_defaults_are_argo_cds(load) -> None:
    data = fleet_data()
    data["spec"]["applications"][0]["syncPolicy"] = {"retry": {"limit": 3}}
    retry = load(data).applications[0].sync_policy.retry
    assert retry == Retry(limit=3, backoff=Backoff(duration="5s", factor=2, max_duration="3m",
                                                   duration_seconds=5.0, max_duration_seconds=180.0))


def test_retry_without_limit_means_no_retries_as_in_argo_cd(load) -> None:
    data = fleet_data()
    data["spec"]["applications"][0]["syncPolicy"] = {"retry": {"backoff": {"factor": 3}}}
    retry = load(data).applications[0].sync_policy.retry
    assert retry.limit == 0 and retry.backoff.factor == 3 and retry.backoff.duration == "5s"


def test_backoff_durations_accept_bare_seconds_and_go_durations(load) -> None:
    data = fleet_data()
    data["spec"]["applications"][0]["syncPolicy"] = {
        "retry": {"limit": -1, "refresh": True, "backoff": {"duration": 10, "maxDuration": "1h2m3.5s"}}}
    retry = load(data).applications[0].sync_policy.retry
    assert (retry.limit, retry.refresh) == (-1, True)
    assert (retry.backoff.duration, retry.backoff.duration_seconds) == ("10", 10.0)
    assert retry.backoff.max_duration_seconds == 3723.5
    data["spec"]["applications"][0]["syncPolicy"]["retry"]["backoff"] = {"duration": "30", "maxDuration": "500ms"}
    backoff = load(data).applications[0].sync_policy.retry.backoff
    assert (backoff.duration_seconds, backoff.max_duration_seconds) == (30.0, 0.5)


def test_automated_sync_defaults_and_the_environment_gate(load) -> None:
    data = fleet_data()
    data["spec"]["applications"][0]["syncPolicy"] = {
        "automated": {}, "syncOptions": ["CreateNamespace=true", "PrunePropagationPolicy=background"],
        "managedNamespaceMetadata": {"labels": {"team": "ml"}, "annotations": {"example.com/owner": "ml"}}}
    fleet = load(data)
    app = fleet.applications[0]
    automated = app.sync_policy.automated
    assert (automated.prune, automated.self_heal, automated.allow_empty, automated.enabled) == \
        (False, False, False, True)
    assert app.sync_policy.effective_retry() == AUTOMATED_DEFAULT_RETRY == Retry(limit=5)
    assert app.sync_policy.option("CreateNamespace") == "true"
    assert app.sync_policy.option("PrunePropagationPolicy") == "background"
    assert app.sync_policy.option("Replace") is None
    assert dict(app.sync_policy.managed_namespace_metadata.labels) == {"team": "ml"}
    assert fleet.automated_sync(app, "staging-1") is True
    assert fleet.automated_sync(app, "eu-1") is False  # production: manual by default


def test_disabled_automation_is_manual(load) -> None:
    data = fleet_data()
    data["spec"]["applications"][0]["syncPolicy"] = {"automated": {"enabled": False, "prune": True}}
    fleet = load(data)
    app = fleet.applications[0]
    assert fleet.automated_sync(app, "staging-1") is False and app.sync_policy.effective_retry() is None


def test_ignore_differences_and_policies_are_read(load) -> None:
    data = fleet_data()
    data["spec"]["applications"][0]["ignoreDifferences"] = [
        {"group": "apps", "kind": "Deployment", "name": "web", "namespace": "inference",
         "jsonPointers": ["/spec/replicas", "/metadata/annotations/a~1b"], "jqPathExpressions": [".spec.x"],
         "managedFieldsManagers": ["kube-controller-manager"]}]
    data["spec"]["applications"][0]["policies"] = {"allowMutableImageTags": True}
    app = load(data).applications[0]
    [entry] = app.ignore_differences
    assert (entry.group, entry.kind, entry.name, entry.namespace) == ("apps", "Deployment", "web", "inference")
    assert entry.json_pointers == ("/spec/replicas", "/metadata/annotations/a~1b")
    assert entry.jq_path_expressions == (".spec.x",)
    assert entry.managed_fields_managers == ("kube-controller-manager",)
    assert app.policies == Policies(allow_mutable_image_tags=True)


def test_yaml_1_2_typing_keeps_yes_a_string(errors) -> None:
    text = ("apiVersion: fleetline.io/v1alpha1\nkind: Fleet\nmetadata: {name: f}\nspec:\n"
            "  environments: {prod: {production: yes}}\n")
    assert errors(text) == ['fleet.yaml: spec.environments.prod.production: expected true or false, found "yes" '
                            "(a string) (write true or false without quotes)"]


def test_records_are_frozen_and_hashable(load) -> None:
    fleet = load(fleet_data())
    with pytest.raises(dataclasses.FrozenInstanceError):
        fleet.name = "other"  # type: ignore[misc]
    with pytest.raises(TypeError):
        fleet.cluster("eu-1").labels["x"] = "y"  # type: ignore[index]
    assert hash(fleet) == hash(load(fleet_data()))
    assert fleet == load(fleet_data())
    assert len({cluster for cluster, _ in fleet.assignments()}) == 4


def test_the_documented_example_fleet_loads_as_described(load) -> None:
    page = (Path(__file__).resolve().parents[3] / "docs" / "fleet-yaml.md").read_text()
    example = page.split("```yaml\n", 1)[1].split("```", 1)[0]
    registry = ("apiVersion: argoproj.io/v1alpha1\nkind: Application\nmetadata: {name: model-registry}\nspec:\n"
                "  source: {repoURL: 'git@github.com:acme/ml-fleet.git', path: apps/registry/eu}\n"
                "  destination: {name: eu-west-1, namespace: registry}\n")
    fleet = load(example, {"argocd/registry.yaml": registry})
    paths = {(c.name, a.name): a.source_path_for(c) for c, a in fleet.assignments()}
    assert paths == {
        ("staging-us-east", "inference-server"): "apps/inference-server/overlays/us-east",
        ("staging-us-east", "training-jobs"): "apps/training/overlays/staging",
        ("us-east-1", "inference-server"): "apps/inference-server/overlays/us-east",
        ("us-east-1", "training-jobs"): "apps/training/overlays/production",
        ("us-east-1", "gpu-operator"): "charts/gpu-operator",
        ("us-west-1", "inference-server"): "apps/inference-server/overlays/us-west",
        ("us-west-1", "training-jobs"): "apps/training/overlays/production",
        ("us-west-1", "gpu-operator"): "charts/gpu-operator",
        ("eu-west-1", "inference-server"): "apps/inference-server/overlays/eu-west-1",
        ("eu-west-1", "gpu-operator"): "charts/gpu-operator",
        ("eu-west-1", "model-registry"): "apps/registry/eu",
    }
    gpu = fleet.application("gpu-operator", "us-east-1")
    assert gpu.value_files_for(fleet.cluster("us-east-1")) == ("charts/gpu-operator/values-production.yaml",)
    assert [fleet.automated_sync(a, c) for c, a in fleet.assignments() if c.name == "staging-us-east"] == [True, True]
    assert not any(fleet.automated_sync(a, c) for c, a in fleet.assignments() if c.environment == "production")
    assert [w.kind for w in fleet.sync_windows_for(gpu, "eu-west-1")] == ["deny", "deny"]
    assert [w.kind for w in fleet.sync_windows_for(gpu, "us-east-1")] == ["deny"]
