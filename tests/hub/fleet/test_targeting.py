"""Which clusters an application targets, and the source path filled for each of them."""

from __future__ import annotations

import pytest

from hub.fleet.model import Cluster, FrozenMap, SyncWindow
from hub.fleet.targeting import TemplateError, fill_template, template_placeholders
from tests.hub.fleet.conftest import fleet_data


def targeted(fleet, app_name: str) -> list[str]:
    return [cluster.name for cluster, app in fleet.assignments() if app.name == app_name]


def with_targets(targets: dict | None) -> dict:
    data = fleet_data()
    if targets is not None:
        data["spec"]["applications"][0]["targets"] = targets
    return data


def test_no_targets_means_every_cluster(load) -> None:
    assert targeted(load(with_targets(None)), "inference-server") == ["us-east-1", "us-west-1", "eu-1", "staging-1"]


def test_targets_by_region(load) -> None:
    assert targeted(load(with_targets({"regions": ["us-east"]})), "inference-server") == ["us-east-1", "staging-1"]


def test_targets_by_environment(load) -> None:
    assert targeted(load(with_targets({"environments": ["staging"]})), "inference-server") == ["staging-1"]


def test_criteria_are_and_ed(load) -> None:
    fleet = load(with_targets({"regions": ["us-east"], "environments": ["production"]}))
    assert targeted(fleet, "inference-server") == ["us-east-1"]


@pytest.mark.parametrize(("selector", "expected"), [
    ({"matchLabels": {"gpu": "a100"}}, ["us-east-1"]),
    ({"matchExpressions": [{"key": "gpu", "operator": "In", "values": ["a100", "h100"]}]}, ["us-east-1", "us-west-1"]),
    ({"matchExpressions": [{"key": "gpu", "operator": "NotIn", "values": ["t4"]}]}, ["us-east-1", "us-west-1", "eu-1"]),
    ({"matchExpressions": [{"key": "gpu", "operator": "Exists"}]}, ["us-east-1", "us-west-1", "staging-1"]),
    ({"matchExpressions": [{"key": "gpu", "operator": "DoesNotExist"}]}, ["eu-1"]),
    ({"matchLabels": {"gpu": "t4"}, "matchExpressions": [{"key": "gpu", "operator": "Exists"}]}, ["staging-1"]),
    ({}, ["us-east-1", "us-west-1", "eu-1", "staging-1"]),
])
def test_targets_by_cluster_selector(load, selector: dict, expected: list[str]) -> None:
    assert targeted(load(with_targets({"clusterSelector": selector})), "inference-server") == expected


def test_explicit_clusters_alone(load) -> None:
    assert targeted(load(with_targets({"clusters": ["eu-1", "us-west-1"]})), "inference-server") == \
        ["us-west-1", "eu-1"]


def test_explicit_clusters_add_to_criteria(load) -> None:
    fleet = load(with_targets({"environments": ["staging"], "clusters": ["eu-1"]}))
    assert targeted(fleet, "inference-server") == ["eu-1", "staging-1"]


def test_source_path_template_is_filled_per_cluster(load) -> None:
    data = fleet_data()
    data["spec"]["applications"][0]["source"]["path"] = \
        "apps/{region}/{environment}/{name}/{cluster}/{labels.gpu}/./x/"
    data["spec"]["applications"][0]["targets"] = {"clusters": ["us-east-1", "staging-1"]}
    fleet = load(data)
    app = fleet.applications[0]
    assert app.source_path_for(fleet.cluster("us-east-1")) == "apps/us-east/production/us-east-1/us-east-1/a100/x"
    assert app.source_path_for(fleet.cluster("staging-1")) == "apps/us-east/staging/staging-1/staging-1/t4/x"


def test_path_override_wins_for_its_cluster(load) -> None:
    data = fleet_data()
    data["spec"]["applications"][0]["source"]["pathOverrides"] = {"eu-1": "apps/inference-server/overlays/eu-1/"}
    fleet = load(data)
    app = fleet.applications[0]
    assert app.source_path_for(fleet.cluster("eu-1")) == "apps/inference-server/overlays/eu-1"
    assert app.source_path_for(fleet.cluster("us-west-1")) == "apps/inference-server/overlays/us-west"


def test_helm_chart_and_value_files_are_templates(load) -> None:
    data = fleet_data()
    data["spec"]["applications"].append({"name": "gpu-operator", "source": {"helm": {
        "chart": "charts/gpu-operator", "valueFiles": ["values-{environment}.yaml", "../shared/{region}.yaml"],
        "values": {"driver": {"version": "550"}}}}})
    fleet = load(data)
    gpu = fleet.application("gpu-operator", "eu-1")
    eu = fleet.cluster("eu-1")
    assert gpu.source_path_for(eu) == "charts/gpu-operator"
    assert gpu.value_files_for(eu) == ("charts/gpu-operator/values-production.yaml", "charts/shared/eu.yaml")
    assert gpu.source.helm.values == {"driver": {"version": "550"}}
    assert gpu.source.helm.release_name == "gpu-operator"
    gpu.source.helm.values["driver"] = "mutated"  # a copy: the record stays as loaded
    assert gpu.source.helm.values == {"driver": {"version": "550"}}
    assert fleet.applications[0].value_files_for(eu) == ()


def test_applications_for_a_cluster_in_definition_order(load) -> None:
    data = fleet_data()
    data["spec"]["applications"].insert(0, {"name": "model-registry", "source": {"path": "apps/registry"},
                                            "targets": {"regions": ["eu"]}})
    fleet = load(data)
    assert [a.name for a in fleet.applications_for("eu-1")] == ["model-registry", "inference-server"]
    assert [a.name for a in fleet.applications_for(fleet.cluster("us-east-1"))] == ["inference-server"]
    with pytest.raises(KeyError, match="no application 'model-registry' targets cluster 'us-east-1'"):
        fleet.application("model-registry", "us-east-1")


def test_unknown_cluster_lookup_suggests_a_name(load) -> None:
    fleet = load(fleet_data())
    with pytest.raises(KeyError, match="no cluster 'eu1' in fleet.yaml \\(did you mean 'eu-1'\\?\\)"):
        fleet.cluster("eu1")
    assert fleet.environment_for("eu-1").name == "production"
    assert fleet.environment_for("staging-1").ref == "main"


def test_template_functions_directly() -> None:
    cluster = Cluster("c1", "eu", "prod", FrozenMap({"example.com/zone": "b"}))
    assert template_placeholders("a/{region}/{labels.example.com/zone}") == ["region", "labels.example.com/zone"]
    assert fill_template("a/{labels.example.com/zone}", cluster) == "a/b"
    with pytest.raises(TemplateError, match="cluster 'c1' has no label 'gpu'"):
        fill_template("{labels.gpu}", cluster)
    with pytest.raises(TemplateError, match="unknown placeholder {}"):
        template_placeholders("a/{}")
    with pytest.raises(TemplateError, match="unknown placeholder {labels.}"):
        template_placeholders("a/{labels.}")


@pytest.mark.parametrize(("globs", "and_operator", "subject", "expected"), [
    ({}, False, ("web", "eu-1", "apps"), True),
    ({"applications": ["web*"]}, False, ("web-api", "eu-1", "apps"), True),
    ({"applications": ["web*"]}, False, ("db", "eu-1", "apps"), False),
    ({"applications": ["web*"], "clusters": ["eu-*"]}, False, ("db", "eu-1", "apps"), True),
    ({"applications": ["web*"], "clusters": ["eu-*"]}, True, ("db", "eu-1", "apps"), False),
    ({"applications": ["web*"], "clusters": ["eu-*"]}, True, ("web", "eu-1", "apps"), True),
    ({"namespaces": ["kube-*"]}, False, ("web", "eu-1", "apps"), False),
])
def test_sync_window_matching(globs: dict, and_operator: bool, subject: tuple, expected: bool) -> None:
    window = SyncWindow(kind="deny", schedule="* * * * *", duration="1h", duration_seconds=3600,
                        and_operator=and_operator, **{k: tuple(v) for k, v in globs.items()})
    assert window.matches(*subject) is expected


def test_sync_windows_for_an_application(load) -> None:
    data = fleet_data()
    data["spec"]["environments"]["production"]["syncWindows"] = [
        {"kind": "deny", "schedule": "0 22 * * 5", "duration": "60h", "manualSync": True},
        {"kind": "allow", "schedule": "0 9 * * 1-5", "duration": "8h", "clusters": ["us-*"],
         "timeZone": "America/New_York"},
    ]
    fleet = load(data)
    app = fleet.applications[0]
    assert [w.kind for w in fleet.sync_windows_for(app, "eu-1")] == ["deny"]
    assert [w.kind for w in fleet.sync_windows_for(app, "us-east-1")] == ["deny", "allow"]
    assert fleet.sync_windows_for(app, "staging-1") == []
