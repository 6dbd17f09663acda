"""Argo CD Application documents listed in fleet.yaml become applications of exactly their destination cluster."""

from __future__ import annotations

import pytest

from hub.fleet.argocd import normalise_repo_url
from hub.fleet.model import Automated, IgnoreDifference, Targets
from tests.hub.fleet.conftest import fleet_data

APPLICATION = """\
apiVersion: argoproj.io/v1alpha1
kind: Application
metadata:
  name: model-registry
  namespace: argocd
  finalizers: [resources-finalizer.argocd.argoproj.io]
spec:
  project: default
  source:
    repoURL: git@github.com:acme/fleet.git
    targetRevision: release
    path: apps/model-registry/overlays/eu
  destination:
    name: eu-1
    namespace: registry
  syncPolicy:
    automated: {prune: true, selfHeal: true}
    syncOptions: [CreateNamespace=true, ServerSideApply=true]
    retry:
      limit: 5
      backoff: {duration: 5s, factor: 2, maxDuration: 3m0s}
  ignoreDifferences:
    - group: apps
      kind: Deployment
      jsonPointers: [/spec/replicas]
"""


def fleet_with_files(paths: list[str] | None = None) -> dict:
    data = fleet_data()
    data["spec"]["applicationFiles"] = paths or ["argocd"]
    return data


def test_an_application_document_becomes_a_single_cluster_application(load) -> None:
    fleet = load(fleet_with_files(), {"argocd/registry.yaml": APPLICATION})
    registry = fleet.application("model-registry", "eu-1")
    assert registry.targets == Targets(clusters=("eu-1",))
    assert [c.name for c, a in fleet.assignments() if a is registry] == ["eu-1"]
    assert registry.source_path_for(fleet.cluster("eu-1")) == "apps/model-registry/overlays/eu"
    assert registry.destination.namespace == "registry"
    assert registry.sync_policy.automated == Automated(prune=True, self_heal=True)
    assert registry.sync_policy.sync_options == ("CreateNamespace=true", "ServerSideApply=true")
    retry = registry.sync_policy.retry
    assert (retry.limit, retry.backoff.duration_seconds, retry.backoff.factor) == (5, 5.0, 2)
    assert (retry.backoff.max_duration, retry.backoff.max_duration_seconds) == ("3m0s", 180.0)
    assert registry.ignore_differences == (IgnoreDifference(kind="Deployment", group="apps",
                                                            json_pointers=("/spec/replicas",)),)
    assert str(registry.origin) == "argocd/registry.yaml metadata.name"
    assert fleet.application_files == ("argocd",)
    assert [a.name for a in fleet.applications_for("eu-1")] == ["inference-server", "model-registry"]


def test_directories_are_read_flat_and_files_may_hold_several_documents(load) -> None:
    second = APPLICATION.replace("model-registry", "feature-store").replace("eu-1", "us-east-1")
    files = {"argocd/a.yaml": APPLICATION + "---\n" + second,
             "argocd/b.yml": APPLICATION.replace("model-registry", "notebooks"),
             "argocd/README.md": "not read", "argocd/nested/c.yaml": "not: read"}
    fleet = load(fleet_with_files(), files)
    assert [a.name for a in fleet.applications[1:]] == ["model-registry", "feature-store", "notebooks"]
    assert str(fleet.applications[2].origin) == "argocd/a.yaml metadata.name (document 2)"
    assert fleet.application("feature-store", "us-east-1").source_path_for(fleet.cluster("us-east-1")) == \
        "apps/feature-store/overlays/eu"


def test_a_single_file_may_be_listed(load) -> None:
    fleet = load(fleet_with_files(["argocd/registry.yaml"]), {"argocd/registry.yaml": APPLICATION})
    assert fleet.applications[-1].name == "model-registry"


@pytest.mark.parametrize("revision", ["HEAD", "release", '""'])
def test_target_revision_may_be_head_or_the_environment_ref(load, revision: str) -> None:
    fleet = load(fleet_with_files(), {"argocd/a.yaml": APPLICATION.replace("targetRevision: release",
                                                                           f"targetRevision: {revision}")})
    assert fleet.applications[-1].name == "model-registry"


def test_helm_source_from_the_helm_block(load) -> None:
    doc = APPLICATION.replace("    path: apps/model-registry/overlays/eu\n", """\
    path: charts/registry
    helm:
      releaseName: registry
      valueFiles: [values-prod.yaml, ../common/values.yaml]
      values: |
        replicas: 2
        image: {tag: "1.0"}
""")
    fleet = load(fleet_with_files(), {"argocd/a.yaml": doc})
    registry = fleet.applications[-1]
    eu = fleet.cluster("eu-1")
    assert registry.source.helm is not None and registry.source.helm.release_name == "registry"
    assert registry.source_path_for(eu) == "charts/registry"
    assert registry.value_files_for(eu) == ("charts/registry/values-prod.yaml", "charts/common/values.yaml")
    assert registry.source.helm.values == {"replicas": 2, "image": {"tag": "1.0"}}


def test_values_object_replaces_values_as_in_argo_cd(load) -> None:
    doc = APPLICATION.replace("    path: apps/model-registry/overlays/eu\n", """\
    path: charts/registry
    helm:
      values: "replicas: 2"
      valuesObject: {image: {tag: "2.0"}}
""")
    fleet = load(fleet_with_files(), {"argocd/a.yaml": doc})
    assert fleet.applications[-1].source.helm.values == {"image": {"tag": "2.0"}}


def test_a_chart_is_detected_by_its_chart_yaml(load) -> None:
    doc = APPLICATION.replace("apps/model-registry/overlays/eu", "charts/registry")
    fleet = load(fleet_with_files(), {"argocd/a.yaml": doc, "charts/registry/Chart.yaml": "name: registry\n"})
    helm = fleet.applications[-1].source.helm
    assert helm is not None and helm.chart == "charts/registry" and helm.value_files == () and helm.values == {}
    assert helm.release_name == "model-registry"


def test_repository_urls_compare_in_their_usual_spellings() -> None:
    same = ["https://github.com/acme/fleet.git", "https://github.com/acme/fleet", "git@github.com:acme/fleet.git",
            "ssh://git@github.com:22/acme/fleet.git", "https://GitHub.com/acme/fleet/"]
    assert {normalise_repo_url(url) for url in same} == {"github.com/acme/fleet"}
    assert normalise_repo_url("https://github.com/acme/other") != normalise_repo_url(same[0])


def error_lines(errors, doc: str, data: dict | None = None, extra: dict | None = None) -> list[str]:
    return errors(data or fleet_with_files(), {"argocd/a.yaml": doc, **(extra or {})})


def test_destination_server_is_refused(errors) -> None:
    doc = APPLICATION.replace("    name: eu-1\n", "    server: https://kubernetes.default.svc\n")
    assert error_lines(errors, doc) == [
        'argocd/a.yaml: spec.destination.server: Application "model-registry": destination.server '
        '"https://kubernetes.default.svc" (a string) is not supported: Fleetline names clusters, it does not dial '
        "API servers; set spec.destination.name to a cluster of fleet.yaml instead"]


def test_unknown_destination_cluster_is_refused(errors) -> None:
    doc = APPLICATION.replace("name: eu-1", "name: eu-01")
    assert error_lines(errors, doc) == [
        'argocd/a.yaml: spec.destination.name: Application "model-registry": "eu-01" is not a cluster of fleet.yaml '
        '(did you mean "eu-1"?); clusters: us-east-1, us-west-1, eu-1, staging-1']


def test_missing_destination_name_is_refused(errors) -> None:
    doc = APPLICATION.replace("    name: eu-1\n", "")
    assert error_lines(errors, doc) == [
        'argocd/a.yaml: spec.destination.name: Application "model-registry": missing required field; expected the '
        "name of a cluster in fleet.yaml"]


def test_another_repository_is_refused(errors) -> None:
    doc = APPLICATION.replace("git@github.com:acme/fleet.git", "https://github.com/acme/charts.git")
    assert error_lines(errors, doc) == [
        'argocd/a.yaml: spec.source.repoURL: Application "model-registry": "https://github.com/acme/charts.git" is a '
        'different repository than fleet.yaml spec.repoURL "https://github.com/acme/fleet.git"; Fleetline renders '
        "only the fleet's own repository: vendor the other repository's manifests here, or manage it with its own "
        "fleet"]


def test_repo_url_needs_the_fleet_repo_url(errors) -> None:
    data = fleet_with_files()
    del data["spec"]["repoURL"]
    assert error_lines(errors, APPLICATION, data) == [
        'argocd/a.yaml: spec.source.repoURL: Application "model-registry": repoURL "git@github.com:acme/fleet.git" '
        "cannot be checked: fleet.yaml has no spec.repoURL; set spec.repoURL to this repository's URL "
        "(Applications may only render this repository)"]


def test_a_revision_other_than_the_environment_ref_is_refused(errors) -> None:
    doc = APPLICATION.replace("targetRevision: release", "targetRevision: v1.4.0")
    assert error_lines(errors, doc) == [
        'argocd/a.yaml: spec.source.targetRevision: Application "model-registry": "v1.4.0" differs from "release", '
        'the ref environment "production" (of cluster "eu-1") tracks; Fleetline renders every application of an '
        "environment at the environment's ref: remove targetRevision or change spec.environments.production.ref in "
        "fleet.yaml"]


@pytest.mark.parametrize(("insert", "field", "message"), [
    ("    chart: registry\n", "spec.source.chart", "charts from a Helm repository are not supported: vendor the "
                                                   "chart into this repository and point spec.source.path at it"),
    ("    kustomize: {namePrefix: x-}\n", "spec.source.kustomize", "spec.source.kustomize overrides are not "
                                                                   "supported: write them in the kustomization at "
                                                                   "spec.source.path"),
    ("    directory: {recurse: true}\n", "spec.source.directory", "spec.source.directory options are not supported"),
    ("    plugin: {name: cmp}\n", "spec.source.plugin", "config management plugins are not supported"),
    ("    helm: {parameters: [{name: a, value: b}]}\n", "spec.source.helm.parameters",
     "Argo CD's helm.parameters is not supported by Fleetline; set values with valuesObject instead"),
    ("    helm: {skipCrds: true}\n", "spec.source.helm.skipCrds",
     "Argo CD's helm.skipCrds is not supported by Fleetline; remove it"),
    ("    helm: {valueFiles: [https://example.com/v.yaml]}\n", "spec.source.helm.valueFiles[0]",
     "remote resource 'https://example.com/v.yaml' is not supported"),
    ("    helm: {values: '[1, 2]'}\n", "spec.source.helm.values",
     "expected YAML holding a mapping of values, found a list"),
    ("    helm: {values: 'a: [1'}\n", "spec.source.helm.values", "invalid YAML in the values string"),
])
def test_unsupported_source_features_are_named(errors, insert: str, field: str, message: str) -> None:
    doc = APPLICATION.replace("    path: apps/model-registry/overlays/eu\n",
                              "    path: apps/model-registry/overlays/eu\n" + insert)
    [line] = error_lines(errors, doc)
    assert line.startswith(f'argocd/a.yaml: {field}: Application "model-registry": {message}')


@pytest.mark.parametrize(("path", "message"), [
    ("/srv/registry", "absolute path '/srv/registry' is not allowed: use a path relative to the repository root"),
    ("../registry", "path '../registry' leaves the repository"),
    ("apps/{region}", 'found "apps/{region}" (a string): braces are not allowed in Argo CD paths'),
])
def test_source_path_must_be_a_literal_path_inside_the_repository(errors, path: str, message: str) -> None:
    doc = APPLICATION.replace("apps/model-registry/overlays/eu", f'"{path}"')
    [line] = error_lines(errors, doc)
    assert line.startswith(f'argocd/a.yaml: spec.source.path: Application "model-registry": {message}')


def test_multiple_sources_are_refused(errors) -> None:
    doc = APPLICATION.replace("  source:\n", "  sources: []\n  source:\n")
    assert error_lines(errors, doc) == ['argocd/a.yaml: spec.sources: Application "model-registry": multi-source '
                                        "applications are not supported; use a single spec.source"]


def test_only_application_documents_are_read(errors) -> None:
    project = "apiVersion: argoproj.io/v1alpha1\nkind: AppProject\nmetadata: {name: ml}\nspec: {}\n"
    assert error_lines(errors, APPLICATION + "---\n" + project) == [
        'argocd/a.yaml: kind: Application "ml" (document 2): expected "Application" (list only Application documents '
        "in spec.applicationFiles; ApplicationSets and AppProjects are not read), found \"AppProject\" (a string): "
        "not an Application"]


def test_syncpolicy_errors_use_argo_field_paths(errors) -> None:
    doc = APPLICATION.replace("factor: 2", "factor: two").replace("CreateNamespace=true", "CreateNamespace=True")
    assert sorted(error_lines(errors, doc)) == [
        'argocd/a.yaml: spec.syncPolicy.retry.backoff.factor: Application "model-registry": expected an integer '
        'multiplier of at least 1, found "two" (a string)',
        'argocd/a.yaml: spec.syncPolicy.syncOptions[0]: Application "model-registry": invalid value "True" for sync '
        "option CreateNamespace; expected CreateNamespace=true or CreateNamespace=false",
    ]


def test_invalid_yaml_in_an_application_file(errors) -> None:
    [line] = error_lines(errors, "kind: [Application\n")
    assert line.startswith("argocd/a.yaml: invalid YAML: ")


def test_same_name_on_the_same_cluster_as_a_fleet_application_names_both_places(errors) -> None:
    doc = APPLICATION.replace("model-registry", "inference-server")
    assert error_lines(errors, doc) == [
        'argocd/a.yaml: metadata.name: application "inference-server" is also defined at fleet.yaml '
        "spec.applications[0], and both target cluster(s) eu-1; an application name must be unique on a cluster"]


def test_same_name_on_different_clusters_is_fine(load) -> None:
    data = fleet_with_files()
    other = APPLICATION.replace("eu-1", "us-west-1")
    fleet = load(data, {"argocd/a.yaml": APPLICATION + "---\n" + other})
    assert [c.name for c, a in fleet.assignments() if a.name == "model-registry"] == ["us-west-1", "eu-1"]


def test_fleet_errors_come_before_application_file_errors(errors) -> None:
    data = fleet_with_files()
    data["spec"]["clusters"][0]["labels"] = {"gpu": 1}
    lines = error_lines(errors, APPLICATION.replace("eu-1", "nowhere"), data)
    assert lines == ["fleet.yaml: spec.clusters[0].labels.gpu: expected a string, found 1 (an integer) (quote it)"]
    # the broken cluster list means "nowhere" is not reported: it could be the cluster that failed to load
