"""fleet.yaml validation: one test per class of error, each asserting the file, field path, what was found
and what was expected; and that every error of a file is reported at once."""

from __future__ import annotations

from pathlib import Path

import git
import pytest

from hub.fleet import FleetError, load_fleet
from hub.render.errors import RenderError
from hub.render.files import GitTreeFiles
from tests.hub.fleet.conftest import fleet_data, write_repo


def app(data: dict, index: int = 0) -> dict:
    return data["spec"]["applications"][index]


# --- the file itself -------------------------------------------------------------------------------------


def test_missing_fleet_file_names_the_fix(errors) -> None:
    [line] = errors(None, {"README.md": "hello"})
    assert line.startswith("fleet.yaml: not found at the repository root of ")
    assert "apiVersion: fleetline.io/v1alpha1, kind: Fleet" in line


def test_invalid_yaml_names_the_line(errors) -> None:
    [line] = errors("apiVersion: fleetline.io/v1alpha1\nkind: Fleet\nspec: [unclosed\n")
    assert line.startswith("fleet.yaml: invalid YAML: ")
    assert line.endswith("(line 4)") or "(line 3)" in line


def test_two_documents_are_refused(errors) -> None:
    [line] = errors("kind: Fleet\n---\nkind: Fleet\n")
    assert line == "fleet.yaml: expected one YAML document, found 2"


def test_top_level_must_be_a_mapping(errors) -> None:
    [line] = errors("- just\n- a list\n")
    assert line == ("fleet.yaml: expected a Fleet document (apiVersion: fleetline.io/v1alpha1, kind: Fleet), "
                    "found a list")


def test_wrong_api_version_and_kind(errors) -> None:
    data = fleet_data()
    data["apiVersion"] = "fleetline.io/v1"
    data["kind"] = "Fleets"
    assert errors(data) == [
        'fleet.yaml: apiVersion: expected "fleetline.io/v1alpha1", found "fleetline.io/v1" (a string): '
        "unsupported apiVersion",
        'fleet.yaml: kind: expected "Fleet", found "Fleets" (a string): wrong kind',
    ]


def test_missing_name_and_spec(errors) -> None:
    lines = errors({"apiVersion": "fleetline.io/v1alpha1", "kind": "Fleet"})
    assert lines[0].startswith("fleet.yaml: metadata.name: missing required field; expected the fleet's name: "
                               "a DNS-1123 label")
    assert lines[1] == ("fleet.yaml: spec: missing required field; expected a mapping with clusters, environments "
                        "and applications")


def test_unknown_fields_suggest_the_close_name(errors) -> None:
    data = fleet_data()
    data["spec"]["aplications"] = data["spec"].pop("applications")
    data["spec"]["clusters"][1]["regoin"] = data["spec"]["clusters"][1].pop("region")
    lines = errors(data)
    assert ('fleet.yaml: spec.aplications: unknown field "aplications" (did you mean "applications"?); expected one '
            "of: repoURL, clusters, environments, applications, applicationFiles") in lines
    assert ('fleet.yaml: spec.clusters[1].regoin: unknown field "regoin" (did you mean "region"?); expected one of: '
            "name, region, environment, labels") in lines


def test_all_errors_of_the_file_are_reported_together(errors, load) -> None:
    data = fleet_data()
    data["spec"]["clusters"][0]["name"] = "US_East"
    data["spec"]["environments"]["staging"]["sync"] = "auto"
    app(data)["syncPolicy"] = {"retry": {"limit": "five"}}
    with pytest.raises(FleetError) as caught:
        load(data)
    assert len(caught.value.errors) == 3
    assert isinstance(caught.value, RenderError) and caught.value.file == "fleet.yaml"
    assert caught.value.field == "spec.environments.staging.sync"  # the first error's place
    assert [e.field for e in caught.value.errors] == [
        "spec.environments.staging.sync", "spec.clusters[0].name", "spec.applications[0].syncPolicy.retry.limit"]
    assert str(caught.value).count("\n") == 2


# --- clusters --------------------------------------------------------------------------------------------


def test_cluster_name_must_be_a_dns_label(errors) -> None:
    data = fleet_data()
    data["spec"]["clusters"][0]["name"] = "US_East"
    assert errors(data) == [
        "fleet.yaml: spec.clusters[0].name: expected the cluster's name: a DNS-1123 label (lowercase letters, digits "
        "and '-', starting and ending with a letter or digit, at most 63 characters), found \"US_East\" (a string): "
        "not a valid name"]


def test_cluster_region_is_required(errors) -> None:
    data = fleet_data()
    del data["spec"]["clusters"][2]["region"]
    [line] = errors(data)
    assert line.startswith("fleet.yaml: spec.clusters[2].region: missing required field; expected the cluster's "
                           'region (e.g. "us-east")')


def test_cluster_labels_must_be_strings_with_valid_keys(errors) -> None:
    data = fleet_data()
    data["spec"]["clusters"][0]["labels"] = {"gpu": True, "bad key": "x", "example.com/zone": "a", "v": "-x-"}
    assert errors(data) == [
        "fleet.yaml: spec.clusters[0].labels.gpu: expected a string, found true (a boolean) (quote it)",
        'fleet.yaml: spec.clusters[0].labels["bad key"]: invalid key "bad key": the name must be at most 63 '
        "letters, digits, '-', '_' or '.', starting and ending with a letter or digit",
        'fleet.yaml: spec.clusters[0].labels.v: invalid value "-x-" (a string): a label value is at most 63 '
        "letters, digits, '-', '_' or '.', starting and ending with a letter or digit",
    ]


def test_cluster_environment_must_be_declared(errors) -> None:
    data = fleet_data()
    data["spec"]["clusters"][0]["environment"] = "prodution"
    assert errors(data) == [
        'fleet.yaml: spec.clusters[0].environment: environment "prodution" is not declared in spec.environments '
        '(did you mean "production"?); declared: staging, production']


def test_duplicate_cluster_names(errors) -> None:
    data = fleet_data()
    data["spec"]["clusters"][3]["name"] = "eu-1"
    assert errors(data) == ['fleet.yaml: spec.clusters[3].name: cluster "eu-1" is already defined at '
                            "spec.clusters[2]; cluster names must be unique"]


def test_a_broken_cluster_does_not_cascade_into_reference_errors(errors) -> None:
    data = fleet_data()
    data["spec"]["clusters"][2]["region"] = "EU"  # invalid: the cluster is dropped
    app(data)["targets"] = {"regions": ["eu"], "clusters": ["eu-1"]}
    lines = errors(data)
    assert len(lines) == 1 and lines[0].startswith("fleet.yaml: spec.clusters[2].region: ")


# --- environments ----------------------------------------------------------------------------------------


def test_environment_fields_are_typed(errors) -> None:
    data = fleet_data()
    data["spec"]["environments"] = {
        "staging": {"ref": "main branch", "sync": "auto"},
        "production": {"production": "yes", "approvals": {"required": -1}, "sinkWindows": []},
    }
    assert errors(data) == [
        'fleet.yaml: spec.environments.staging.ref: expected the Git branch, tag or commit the environment tracks, '
        'found "main branch" (a string): a Git ref has no spaces',
        'fleet.yaml: spec.environments.staging.sync: expected "automated" or "manual", found "auto" (a string): '
        "unknown sync mode",
        'fleet.yaml: spec.environments.production.sinkWindows: unknown field "sinkWindows" (did you mean '
        '"syncWindows"?); expected one of: ref, production, sync, approvals, syncWindows, signatures',
        'fleet.yaml: spec.environments.production.production: expected true or false, found "yes" (a string) '
        "(write true or false without quotes)",
        "fleet.yaml: spec.environments.production.approvals.required: expected a number of approvals (0 or more), "
        "found -1 (the minimum is 0)",
    ]


def test_environments_must_be_a_mapping(errors) -> None:
    data = fleet_data()
    data["spec"]["environments"] = ["staging", "production"]
    lines = errors(data)
    assert lines[0] == ("fleet.yaml: spec.environments: expected a mapping from environment name to settings such "
                        "as {staging: {ref: main}}, found a list")


def window(**fields: object) -> dict:
    return {"kind": "deny", "schedule": "0 22 * * 5", "duration": "60h", **fields}


@pytest.mark.parametrize(("fields", "message"), [
    ({"kind": "block"}, 'kind: expected "allow" or "deny", found "block" (a string): unknown window kind'),
    ({"schedule": "0 22 * *"}, 'schedule: expected a 5-field cron schedule "minute hour day-of-month month '
                               'day-of-week" such as "0 22 * * 1-5", found "0 22 * *" (a string): found 4 fields, '
                               "expected 5"),
    ({"schedule": "0 24 * * *"}, "schedule: expected a 5-field cron schedule \"minute hour day-of-month month "
                                 "day-of-week\" such as \"0 22 * * 1-5\", found \"0 24 * * *\" (a string): hour field "
                                 "'24': '24' is outside 0-23"),
    ({"schedule": "0 9 * * FRI-MON"}, "day of week field 'FRI-MON': range 'FRI-MON' runs backwards"),
    ({"schedule": "*/0 * * * *"}, "minute field '*/0': a step must be at least 1"),
    ({"schedule": "@fortnightly"}, "unknown descriptor; expected one of @yearly, @annually"),
    ({"duration": "1 hour"}, 'duration: expected a duration such as "30s", "5m" or "1h30m" (units h, m, s, ms), '
                             'found "1 hour" (a string)'),
    ({"duration": "0s"}, "duration: expected a duration such as \"30s\", \"5m\" or \"1h30m\" (units h, m, s, ms), "
                         "found \"0s\" (a string): a window must last longer than 0"),
    ({"duration": None}, 'duration: missing required field; expected a duration such as "30s"'),
    ({"timeZone": "Mars/Base"}, 'timeZone: expected an IANA time zone such as "UTC" or "Europe/Paris", found '
                                '"Mars/Base" (a string): unknown time zone'),
    ({"manualsync": True}, 'manualsync: unknown field "manualsync" (did you mean "manualSync"?)'),
    ({"clusters": "eu-*"}, 'clusters: expected a list of glob patterns such as "eu-*", found "eu-*" (a string)'),
])
def test_sync_window_errors(errors, fields: dict, message: str) -> None:
    data = fleet_data()
    entry = window(**fields)
    for key in [k for k, v in entry.items() if v is None]:
        del entry[key]
    data["spec"]["environments"]["production"]["syncWindows"] = [entry]
    [line] = errors(data)
    assert line.startswith("fleet.yaml: spec.environments.production.syncWindows[0].")
    assert message in line


# --- applications: source --------------------------------------------------------------------------------


def test_source_is_required(errors) -> None:
    data = fleet_data()
    del app(data)["source"]
    assert errors(data) == ["fleet.yaml: spec.applications[0].source: missing required field; expected "
                            "{path: TEMPLATE} (kustomize) or {helm: {chart: PATH}}"]


@pytest.mark.parametrize(("source", "found"), [
    ({"path": "apps/x", "helm": {"chart": "charts/x"}}, "both"),
    ({"pathOverrides": {"eu-1": "apps/x"}}, "neither"),
])
def test_source_needs_exactly_one_of_path_and_helm(errors, source: dict, found: str) -> None:
    data = fleet_data()
    app(data)["source"] = source
    assert errors(data) == [f"fleet.yaml: spec.applications[0].source: expected exactly one of path (a kustomize "
                            f"directory template) or helm (a chart), found {found}"]


def test_unknown_placeholder_is_a_load_error(errors) -> None:
    data = fleet_data()
    app(data)["source"]["path"] = "apps/{app}/overlays/{region}"
    assert errors(data) == [
        "fleet.yaml: spec.applications[0].source.path: unknown placeholder {app}; expected one of {name}, {cluster}, "
        '{region}, {environment}, {labels.KEY} (found "apps/{app}/overlays/{region}" (a string))']


def test_unbalanced_brace_is_a_load_error(errors) -> None:
    data = fleet_data()
    app(data)["source"]["path"] = "apps/x/{region"
    [line] = errors(data)
    assert line.startswith("fleet.yaml: spec.applications[0].source.path: unbalanced '{' or '}'")


def test_label_placeholder_must_fill_for_every_targeted_cluster(errors) -> None:
    data = fleet_data()
    app(data)["source"]["path"] = "apps/gpu/{labels.gpu}"
    assert errors(data) == [
        "fleet.yaml: spec.applications[0].source.path: cluster 'eu-1' has no label 'gpu' (used by {labels.gpu}); add "
        'the label to the cluster, narrow targets, or add a pathOverride (template "apps/gpu/{labels.gpu}" (a '
        "string))"]


def test_label_placeholder_is_fine_when_untargeted_clusters_lack_the_label(load) -> None:
    data = fleet_data()
    app(data)["source"]["path"] = "apps/gpu/{labels.gpu}"
    app(data)["targets"] = {"clusterSelector": {"matchExpressions": [{"key": "gpu", "operator": "Exists"}]}}
    fleet = load(data)
    assert [c.name for c, _ in fleet.assignments()] == ["us-east-1", "us-west-1", "staging-1"]


@pytest.mark.parametrize(("path", "message"), [
    ("../other-repo/{region}", "path '../other-repo/us-east' leaves the repository; keep paths inside the "
                               'repository (template "../other-repo/{region}" (a string))'),
    ("/srv/apps/{region}", "path '/srv/apps/us-east' is absolute; write it relative to the repository root "
                           '(template "/srv/apps/{region}" (a string))'),
])
def test_source_path_must_stay_in_the_repository(errors, path: str, message: str) -> None:
    data = fleet_data()
    app(data)["source"]["path"] = path
    [line] = errors(data)
    assert line == f"fleet.yaml: spec.applications[0].source.path: {message}"


def test_path_overrides_name_targeted_clusters(errors) -> None:
    data = fleet_data()
    app(data)["targets"] = {"regions": ["us-east", "us-west"]}
    app(data)["source"]["pathOverrides"] = {"eu-2": "apps/x", "eu-1": "apps/y", "us-east-1": "../z"}
    assert errors(data) == [
        'fleet.yaml: spec.applications[0].source.pathOverrides.eu-2: "eu-2" is not a cluster in spec.clusters (did '
        'you mean "eu-1"?)',
        'fleet.yaml: spec.applications[0].source.pathOverrides.eu-1: cluster "eu-1" is not targeted by application '
        '"inference-server"; add it to targets or remove the override',
        "fleet.yaml: spec.applications[0].source.pathOverrides.us-east-1: path '../z' leaves the repository; keep "
        "paths inside the repository",
    ]


def test_helm_source_errors(errors) -> None:
    data = fleet_data()
    app(data)["source"] = {"helm": {"chart": "charts/{chart}", "valueFiles": ["values-{env}.yaml"],
                                    "values": ["a"], "releaseName": "Web", "repo": "x"}}
    lines = errors(data)
    assert lines[0] == ('fleet.yaml: spec.applications[0].source.helm.repo: unknown field "repo"; expected one of: '
                        "chart, valueFiles, values, releaseName")
    assert lines[1].startswith("fleet.yaml: spec.applications[0].source.helm.chart: unknown placeholder {chart}")
    assert lines[2].startswith("fleet.yaml: spec.applications[0].source.helm.valueFiles[0]: unknown placeholder {env}")
    assert lines[3] == ("fleet.yaml: spec.applications[0].source.helm.values: expected a mapping of Helm values, "
                        "found a list")
    assert lines[4].startswith('fleet.yaml: spec.applications[0].source.helm.releaseName: expected a Helm release '
                               'name: a DNS-1123 label')


# --- applications: targets -------------------------------------------------------------------------------


def test_targets_name_known_regions_environments_and_clusters(errors) -> None:
    data = fleet_data()
    app(data)["targets"] = {"regions": ["useast"], "environments": ["prod"], "clusters": ["eu1"]}
    assert errors(data) == [
        'fleet.yaml: spec.applications[0].targets.regions[0]: "useast" is not the region of any cluster (did you mean '
        '"us-east"?); known: eu, us-east, us-west',
        'fleet.yaml: spec.applications[0].targets.environments[0]: "prod" is not an environment declared in '
        "spec.environments; known: staging, production",
        'fleet.yaml: spec.applications[0].targets.clusters[0]: "eu1" is not a cluster in spec.clusters (did you mean '
        '"eu-1"?); known: us-east-1, us-west-1, eu-1, staging-1',
    ]


def test_empty_target_list_is_refused(errors) -> None:
    data = fleet_data()
    app(data)["targets"] = {"regions": []}
    assert errors(data) == [
        "fleet.yaml: spec.applications[0].targets.regions: expected a non-empty list of regions, found an empty list "
        "(which targets no cluster); remove the field to leave regions unconstrained"]


def test_cluster_selector_errors(errors) -> None:
    data = fleet_data()
    app(data)["targets"] = {"clusterSelector": {
        "matchLabels": {"gpu": 1},
        "matchExpressions": [{"key": "gpu", "operator": "Existz"}, {"key": "gpu", "operator": "In"},
                             {"key": "gpu", "operator": "Exists", "values": ["a100"]},
                             {"key": "-bad", "operator": "Exists"}]}}
    assert errors(data) == [
        "fleet.yaml: spec.applications[0].targets.clusterSelector.matchLabels.gpu: expected a string, found 1 (an "
        "integer) (quote it)",
        "fleet.yaml: spec.applications[0].targets.clusterSelector.matchExpressions[0].operator: expected one of In, "
        'NotIn, Exists, DoesNotExist, found "Existz" (a string): unknown operator',
        "fleet.yaml: spec.applications[0].targets.clusterSelector.matchExpressions[1].values: operator In needs a "
        "non-empty list of values",
        "fleet.yaml: spec.applications[0].targets.clusterSelector.matchExpressions[2].values: operator Exists takes "
        "no values; remove them",
        "fleet.yaml: spec.applications[0].targets.clusterSelector.matchExpressions[3].key: expected a label key, "
        "found \"-bad\" (a string): the name must be at most 63 letters, digits, '-', '_' or '.', starting and "
        "ending with a letter or digit",
    ]


# --- applications: sync policy, ignoreDifferences, policies ----------------------------------------------


def test_automated_must_be_a_mapping_of_booleans(errors) -> None:
    data = fleet_data()
    app(data)["syncPolicy"] = {"automated": True}
    assert errors(data) == ["fleet.yaml: spec.applications[0].syncPolicy.automated: expected a mapping such as "
                            "{prune: true, selfHeal: true} ({} for plain automated sync), found true (a boolean)"]
    app(data)["syncPolicy"] = {"automated": {"prune": "true", "selfheal": True}}
    assert errors(data) == [
        'fleet.yaml: spec.applications[0].syncPolicy.automated.selfheal: unknown field "selfheal" (did you mean '
        '"selfHeal"?); expected one of: prune, selfHeal, allowEmpty, enabled',
        'fleet.yaml: spec.applications[0].syncPolicy.automated.prune: expected true or false, found "true" (a '
        "string) (write true or false without quotes)",
    ]


def test_sync_options_are_validated(errors) -> None:
    data = fleet_data()
    app(data)["syncPolicy"] = {"syncOptions": ["CreateNamespace=yes", "ServerSideApply", "Prun=false",
                                               "PruneLast=true", "PruneLast=false", 3]}
    assert errors(data) == [
        'fleet.yaml: spec.applications[0].syncPolicy.syncOptions[0]: invalid value "yes" for sync option '
        "CreateNamespace; expected CreateNamespace=true or CreateNamespace=false",
        'fleet.yaml: spec.applications[0].syncPolicy.syncOptions[1]: expected a "Name=value" string such as '
        '"CreateNamespace=true", found "ServerSideApply" (a string)',
        'fleet.yaml: spec.applications[0].syncPolicy.syncOptions[2]: unknown sync option "Prun" (did you mean '
        '"Prune"?); expected one of: CreateNamespace, Prune, PruneLast, Replace, ServerSideApply, ApplyOutOfSyncOnly, '
        "RespectIgnoreDifferences, Validate, FailOnSharedResource, PrunePropagationPolicy",
        "fleet.yaml: spec.applications[0].syncPolicy.syncOptions[4]: sync option PruneLast is set twice "
        "(PruneLast=true and PruneLast=false); keep one",
        'fleet.yaml: spec.applications[0].syncPolicy.syncOptions[5]: expected a "Name=value" string such as '
        '"CreateNamespace=true", found 3 (an integer)',
    ]


def test_retry_is_validated(errors) -> None:
    data = fleet_data()
    app(data)["syncPolicy"] = {"retry": {"limit": -2, "backoff": {"duration": "5 seconds", "factor": 1.5,
                                                                  "maxDuration": "3mins"}}}
    assert errors(data) == [
        "fleet.yaml: spec.applications[0].syncPolicy.retry.limit: expected a number of retries (-1 for unlimited), "
        "found -2 (the minimum is -1)",
        'fleet.yaml: spec.applications[0].syncPolicy.retry.backoff.duration: expected a duration such as "30s", "5m" '
        'or "1h30m" (units h, m, s, ms) or a number of seconds, found "5 seconds" (a string)',
        'fleet.yaml: spec.applications[0].syncPolicy.retry.backoff.maxDuration: expected a duration such as "30s", '
        '"5m" or "1h30m" (units h, m, s, ms) or a number of seconds, found "3mins" (a string)',
        "fleet.yaml: spec.applications[0].syncPolicy.retry.backoff.factor: expected an integer multiplier of at least "
        "1, found 1.5 (a number)",
    ]


def test_ignore_differences_are_validated(errors) -> None:
    data = fleet_data()
    app(data)["ignoreDifferences"] = [
        {"group": "apps", "kind": "Deployment", "jsonPointers": ["spec/replicas", "/spec/~2x"]},
        {"kind": "Service"},
        {"group": "apps", "jqPathExpressions": [".spec.replicas"]},
    ]
    assert errors(data) == [
        'fleet.yaml: spec.applications[0].ignoreDifferences[0].jsonPointers[0]: expected a JSON pointer such as '
        '"/spec/replicas", found "spec/replicas" (a string): a JSON pointer (RFC 6901) starts with \'/\' and escapes '
        "'~' as ~0 and '/' as ~1",
        'fleet.yaml: spec.applications[0].ignoreDifferences[0].jsonPointers[1]: expected a JSON pointer such as '
        '"/spec/replicas", found "/spec/~2x" (a string): a JSON pointer (RFC 6901) starts with \'/\' and escapes '
        "'~' as ~0 and '/' as ~1",
        "fleet.yaml: spec.applications[0].ignoreDifferences[1]: ignores nothing: expected at least one of "
        "jsonPointers, jqPathExpressions or managedFieldsManagers",
        'fleet.yaml: spec.applications[0].ignoreDifferences[2].kind: missing required field; expected a kind such as '
        '"Deployment"',
    ]


def test_policies_are_booleans_with_known_names(errors) -> None:
    data = fleet_data()
    app(data)["policies"] = {"allowPlainSecret": True, "allowUnboundedGpu": "yes"}
    assert errors(data) == [
        'fleet.yaml: spec.applications[0].policies.allowPlainSecret: unknown field "allowPlainSecret" (did you mean '
        '"allowPlainSecrets"?); expected one of: allowPlainSecrets, allowMutableImageTags, allowUnboundedGpu',
        'fleet.yaml: spec.applications[0].policies.allowUnboundedGpu: expected true or false, found "yes" (a string) '
        "(write true or false without quotes)",
    ]


def test_destination_namespace_must_be_a_dns_label(errors) -> None:
    data = fleet_data()
    app(data)["destination"] = {"namespace": "Inference", "server": "x"}
    lines = errors(data)
    assert lines[0] == ('fleet.yaml: spec.applications[0].destination.server: unknown field "server"; expected one '
                        "of: namespace")
    assert lines[1].startswith('fleet.yaml: spec.applications[0].destination.namespace: expected a namespace: a '
                               'DNS-1123 label')


# --- duplicates and application files --------------------------------------------------------------------


def test_same_application_name_on_one_cluster_names_both_places(errors) -> None:
    data = fleet_data()
    data["spec"]["applications"].append({"name": "inference-server", "source": {"path": "apps/other"},
                                         "targets": {"regions": ["eu", "us-west"]}})
    assert errors(data) == [
        'fleet.yaml: spec.applications[1]: application "inference-server" is also defined at fleet.yaml '
        "spec.applications[0], and both target cluster(s) eu-1, us-west-1; an application name must be unique on "
        "a cluster"]


def test_same_application_name_on_disjoint_clusters_is_fine(load) -> None:
    data = fleet_data()
    app(data)["targets"] = {"regions": ["us-east", "us-west"]}
    data["spec"]["applications"].append({"name": "inference-server", "source": {"path": "apps/eu-inference"},
                                         "targets": {"regions": ["eu"]}})
    fleet = load(data)
    assert fleet.application("inference-server", "eu-1").source_path_for(fleet.cluster("eu-1")) == \
        "apps/eu-inference"
    assert fleet.application("inference-server", "us-west-1").source_path_for(fleet.cluster("us-west-1")) == \
        "apps/inference-server/overlays/us-west"


def test_application_files_must_exist_inside_the_repository(errors) -> None:
    data = fleet_data()
    data["spec"]["applicationFiles"] = ["argocd/missing.yaml", "../outside", "empty-dir", 7]
    lines = errors(data, {"empty-dir/README.md": "no yaml here"})
    assert lines == [
        'fleet.yaml: spec.applicationFiles[1]: expected a file or directory inside the repository, relative to its '
        'root, found "../outside" (a string)',
        "fleet.yaml: spec.applicationFiles[3]: expected a file or directory path relative to the repository root, "
        "found 7 (an integer)",
        'fleet.yaml: spec.applicationFiles[0]: "argocd/missing.yaml" does not exist in the repository; expected a '
        "file or directory of Argo CD Application documents",
        'fleet.yaml: spec.applicationFiles[2]: directory "empty-dir" holds no .yaml or .yml files; expected Argo CD '
        "Application documents",
    ]


def test_loads_from_a_git_commit_tree(tmp_path: Path) -> None:
    data = fleet_data()
    write_repo(tmp_path, data)
    repository = git.Repo.init(tmp_path)
    repository.index.add(["fleet.yaml"])
    first = repository.index.commit("fleet").hexsha
    app(data)["targets"] = {"regions": ["eu"]}
    write_repo(tmp_path, data)
    repository.index.add(["fleet.yaml"])
    repository.index.commit("eu only")
    assert len(load_fleet(GitTreeFiles(tmp_path, first)).assignments()) == 4
    assert [c.name for c, _ in load_fleet(GitTreeFiles(tmp_path, "HEAD")).assignments()] == ["eu-1"]
