"""fleet.yaml `applications[].rollout`: steps, their settings and defaults, `Fleet.rollout_plan` (first step
that selects a cluster wins, the implicit final step, empty steps), and every validation error."""

from __future__ import annotations

from pathlib import Path

import git

from hub.fleet import Rollout, RolloutStep, load_fleet
from hub.fleet.model import Targets
from hub.render.files import GitTreeFiles
from tests.hub.fleet.conftest import fleet_data, write_repo

PREFIX = "fleet.yaml: spec.applications[0].rollout"


def regional_fleet(rollout: object = None, targets: dict | None = None) -> dict:
    """Six clusters: staging-1 in us-west, two us-west, two us-east and one eu production clusters."""
    data = fleet_data()
    data["spec"]["clusters"] = [
        {"name": "staging-1", "region": "us-west", "environment": "staging"},
        {"name": "us-west-1", "region": "us-west", "environment": "production", "labels": {"tier": "main"}},
        {"name": "us-west-2", "region": "us-west", "environment": "production", "labels": {"tier": "canary"}},
        {"name": "us-east-1", "region": "us-east", "environment": "production"},
        {"name": "us-east-2", "region": "us-east", "environment": "production"},
        {"name": "eu-1", "region": "eu", "environment": "production"},
    ]
    application = data["spec"]["applications"][0]
    if rollout is not None:
        application["rollout"] = rollout
    if targets is not None:
        application["targets"] = targets
    return data


DOCS_ROLLOUT = {
    "steps": [
        {"name": "staging", "environments": ["staging"], "minHealthyTime": "10m"},
        {"name": "canary", "clusters": ["us-west-2"], "minHealthyTime": "30m", "progressDeadline": "15m"},
        {"name": "us-west", "regions": ["us-west"], "maxConcurrency": 1},
        {"name": "us-east", "regions": ["us-east"], "maxConcurrency": "50%", "maxFailures": 1},
    ],
    "onFailure": "rollback",
}


def test_steps_are_read_with_their_settings(load) -> None:
    app = load(regional_fleet(DOCS_ROLLOUT)).applications[0]
    staging, canary, west, east = app.rollout.steps
    assert app.rollout.on_failure == "rollback"
    assert staging == RolloutStep(name="staging", selector=Targets(environments=("staging",)),
                                  min_healthy_time="10m", min_healthy_time_seconds=600.0)
    assert (canary.selector.clusters, canary.min_healthy_time_seconds, canary.progress_deadline,
            canary.progress_deadline_seconds) == (("us-west-2",), 1800.0, "15m", 900.0)
    assert (west.max_concurrency, east.max_concurrency, east.max_failures) == (1, "50%", 1)


def test_step_defaults(load) -> None:
    [step] = load(regional_fleet({"steps": [{"regions": ["eu"]}]})).applications[0].rollout.steps
    assert (step.name, step.max_concurrency, step.min_healthy_time, step.min_healthy_time_seconds,
            step.progress_deadline, step.progress_deadline_seconds, step.max_failures) == \
        ("step-1", None, "0s", 0.0, "10m", 600.0, 0)


def test_the_plan_runs_staging_canary_regions_then_the_rest(load) -> None:
    fleet = load(regional_fleet(DOCS_ROLLOUT))
    app = fleet.applications[0]
    assert fleet.rollout_plan(app) == [["staging-1"], ["us-west-2"], ["us-west-1"], ["us-east-1", "us-east-2"],
                                       ["eu-1"]]
    names = [step.name for step, _ in fleet.rollout_steps(app)]
    assert names == ["staging", "canary", "us-west", "us-east", "(rest)"]
    implicit, _ = fleet.rollout_steps(app)[-1]
    assert implicit == RolloutStep(name="(rest)")


def test_no_rollout_is_one_step_of_every_targeted_cluster(load) -> None:
    fleet = load(regional_fleet(targets={"environments": ["production"]}))
    app = fleet.applications[0]
    assert app.rollout == Rollout()
    assert fleet.rollout_plan(app) == [["us-west-1", "us-west-2", "us-east-1", "us-east-2", "eu-1"]]
    assert [step.name for step, _ in fleet.rollout_steps(app)] == ["(all)"]
    assert load(regional_fleet({"steps": []})).applications[0].rollout == Rollout()


def test_a_cluster_runs_in_the_first_step_that_selects_it(load) -> None:
    rollout = {"steps": [{"name": "main-tier", "clusterSelector": {"matchLabels": {"tier": "main"}}},
                         {"name": "west", "regions": ["us-west"]},
                         {"name": "everything-else"}]}
    fleet = load(regional_fleet(rollout))
    assert fleet.rollout_plan(fleet.applications[0]) == [
        ["us-west-1"], ["staging-1", "us-west-2"], ["us-east-1", "us-east-2", "eu-1"]]


def test_listed_clusters_come_first_in_their_order(load) -> None:
    rollout = {"steps": [{"name": "east", "clusters": ["us-east-2", "eu-1"], "regions": ["us-east"]}]}
    fleet = load(regional_fleet(rollout))
    assert fleet.rollout_plan(fleet.applications[0])[0] == ["us-east-2", "eu-1", "us-east-1"]


def test_a_step_that_selects_no_targeted_cluster_is_kept_empty(load) -> None:
    rollout = {"steps": [{"name": "eu", "regions": ["eu"]}, {"name": "west", "regions": ["us-west"]}]}
    fleet = load(regional_fleet(rollout, targets={"regions": ["us-west"]}))
    assert fleet.rollout_plan(fleet.applications[0]) == [[], ["staging-1", "us-west-1", "us-west-2"]]


def test_step_settings_are_checked(errors) -> None:
    rollout = {"steps": [{"name": "a", "regions": ["us-west"], "maxConcurrency": 0, "minHealthyTime": "5 min",
                          "progressDeadline": "0s", "maxFailures": -1},
                         {"name": "b", "maxConcurrency": "150%", "regions": ["eu"]},
                         {"name": "c", "maxConcurrency": "3", "clusters": ["us-east-1"]},
                         {"name": "d", "maxConcurrency": 2.5, "maxFailures": "1", "progressDeadline": 600}],
               "onFailure": "rolback"}
    concurrency = 'expected a number of clusters (1 or more) or a percentage of the step such as "25%", found'
    duration = 'expected a duration such as "30s", "5m" or "1h30m" (units h, m, s, ms), found'
    assert errors(regional_fleet(rollout)) == [
        f'{PREFIX}.onFailure: expected "halt" or "rollback", found "rolback" (a string): unknown failure action '
        '(did you mean "rollback"?)',
        f"{PREFIX}.steps[0].maxConcurrency: {concurrency} 0 (an integer) (the minimum is 1)",
        f'{PREFIX}.steps[0].minHealthyTime: {duration} "5 min" (a string)',
        f'{PREFIX}.steps[0].progressDeadline: {duration} "0s" (a string): a cluster needs some time to sync; give it '
        "more than 0",
        f"{PREFIX}.steps[0].maxFailures: expected a number of failed clusters the step tolerates (0 or more), found "
        "-1 (the minimum is 0)",
        f'{PREFIX}.steps[1].maxConcurrency: {concurrency} "150%" (a string): a percentage is between 1% and 100%',
        f'{PREFIX}.steps[2].maxConcurrency: {concurrency} "3" (a string) (write a whole number of clusters without '
        "quotes)",
        f"{PREFIX}.steps[3].maxConcurrency: {concurrency} 2.5 (a number)",
        f"{PREFIX}.steps[3].progressDeadline: {duration} 600 (an integer)",
        f'{PREFIX}.steps[3].maxFailures: expected a number of failed clusters the step tolerates (0 or more), found '
        '"1" (a string)',
    ]


def test_step_shape_and_field_names_are_checked(errors) -> None:
    rollout = {"steps": ["canary", {"name": "Canary", "region": ["eu"]}], "onFaliure": "halt"}
    assert errors(regional_fleet(rollout)) == [
        f'{PREFIX}.onFaliure: unknown field "onFaliure" (did you mean "onFailure"?); expected one of: steps, '
        "onFailure",
        f'{PREFIX}.steps[0]: expected a step {{name, clusters, regions, environments, clusterSelector, '
        'maxConcurrency, minHealthyTime, progressDeadline, maxFailures}, found "canary" (a string)',
        f'{PREFIX}.steps[1].region: unknown field "region" (did you mean "regions"?); expected one of: name, regions, '
        "environments, clusterSelector, clusters, maxConcurrency, minHealthyTime, progressDeadline, maxFailures",
        f"{PREFIX}.steps[1].name: expected the step's name: a DNS-1123 label (lowercase letters, digits and '-', "
        "starting and ending with a letter or digit, at most 63 characters), found \"Canary\" (a string): not a "
        "valid name",
    ]
    assert errors(regional_fleet({"steps": {"name": "a"}})) == [
        f"{PREFIX}.steps: expected a list of steps {{name, clusters, regions, ...}}, found a mapping"]
    assert errors(regional_fleet("all-at-once")) == [
        f'{PREFIX}: expected a mapping {{steps, onFailure}}, found "all-at-once" (a string)']


def test_step_selections_name_known_clusters_regions_and_environments(errors) -> None:
    rollout = {"steps": [{"clusters": ["us-wset-2"], "regions": ["useast"], "environments": ["prod"]},
                         {"regions": [], "clusterSelector": {"matchExpressions": [{"key": "tier", "operator": "In"}]}}]}
    assert errors(regional_fleet(rollout)) == [
        f'{PREFIX}.steps[0].regions[0]: "useast" is not the region of any cluster (did you mean "us-east"?); known: '
        "eu, us-east, us-west",
        f'{PREFIX}.steps[0].environments[0]: "prod" is not an environment declared in spec.environments; known: '
        "staging, production",
        f'{PREFIX}.steps[0].clusters[0]: "us-wset-2" is not a cluster in spec.clusters (did you mean "us-west-2"?); '
        "known: staging-1, us-west-1, us-west-2, us-east-1, us-east-2, eu-1",
        f"{PREFIX}.steps[1].regions: expected a non-empty list of regions, found an empty list (which selects no "
        "cluster); remove the field to leave regions unconstrained",
        f"{PREFIX}.steps[1].clusterSelector.matchExpressions[0].values: operator In needs a non-empty list of values",
    ]


def test_listed_clusters_must_be_targeted_and_not_taken_by_an_earlier_step(errors) -> None:
    rollout = {"steps": [{"name": "west", "regions": ["us-west"]},
                         {"name": "canary", "clusters": ["us-west-2", "staging-1"]},
                         {"name": "west", "clusters": ["us-east-1"]}]}
    assert errors(regional_fleet(rollout, targets={"regions": ["us-west", "us-east"],
                                                   "environments": ["production"]})) == [
        f'{PREFIX}.steps[1].clusters[0]: cluster "us-west-2" is already released by step "west" '
        "(spec.applications[0].rollout.steps[0]); a cluster runs in the first step that selects it: remove it here, "
        "or narrow the earlier step",
        f'{PREFIX}.steps[1].clusters[1]: cluster "staging-1" is not targeted by application "inference-server"; add '
        "it to the application's targets or remove it from the step",
        f'{PREFIX}.steps[2].name: step "west" is already defined at spec.applications[0].rollout.steps[0]; step '
        "names must be unique in a rollout",
    ]


def test_a_broken_cluster_list_does_not_cascade_into_step_errors(errors) -> None:
    data = regional_fleet({"steps": [{"clusters": ["us-west-2"]}]})
    data["spec"]["clusters"][2]["region"] = "US West"
    lines = errors(data)
    assert [line.split(":")[1].strip() for line in lines] == ["spec.clusters[2].region"]


def test_rollout_is_read_from_a_commit(tmp_path: Path) -> None:
    write_repo(tmp_path, regional_fleet(DOCS_ROLLOUT))
    repository = git.Repo.init(tmp_path)
    repository.index.add(["fleet.yaml"])
    commit = repository.index.commit("rollout").hexsha
    fleet = load_fleet(GitTreeFiles(tmp_path, commit))
    assert fleet.rollout_plan(fleet.applications[0])[1] == ["us-west-2"]


def test_concurrency_of_a_step() -> None:
    assert RolloutStep(name="a").concurrency(7) == 7
    assert RolloutStep(name="a", max_concurrency=2).concurrency(7) == 2
    assert RolloutStep(name="a", max_concurrency="25%").concurrency(7) == 2  # 1.75 rounds up
    assert RolloutStep(name="a", max_concurrency="10%").concurrency(3) == 1
    assert RolloutStep(name="a", max_concurrency="100%").concurrency(3) == 3
    assert RolloutStep(name="a").concurrency(0) == 1


def documented_yaml(heading: str) -> str:
    page = (Path(__file__).resolve().parents[3] / "docs" / "fleet-yaml.md").read_text()
    return page.split(heading, 1)[1].split("```yaml\n", 1)[1].split("```", 1)[0]


def test_the_documented_rollout_example_runs_the_steps_it_describes(load) -> None:
    header = ("apiVersion: fleetline.io/v1alpha1\nkind: Fleet\nmetadata: {name: ml-platform}\nspec:\n"
              "  environments: {staging: {}, production: {production: true}}\n")
    fleet = load(header + documented_yaml("### Rollout\n"))
    app = fleet.applications[0]
    assert [(step.name, clusters) for step, clusters in fleet.rollout_steps(app)] == [
        ("staging", ["staging-1"]), ("canary", ["us-west-2"]), ("us-west", ["us-west-1", "us-west-3"]),
        ("us-east", ["us-east-1", "us-east-2"]), ("(rest)", ["eu-west-1"])]
    assert app.rollout.on_failure == "rollback"


def test_the_complete_example_has_the_rollout_and_signatures_it_describes(load) -> None:
    registry = ("apiVersion: argoproj.io/v1alpha1\nkind: Application\nmetadata: {name: model-registry}\nspec:\n"
                "  source: {path: apps/registry/eu}\n  destination: {name: eu-west-1, namespace: registry}\n")
    fleet = load(documented_yaml("## A complete example\n"), {"argocd/registry.yaml": registry})
    inference = fleet.application("inference-server", "us-east-1")
    assert fleet.rollout_plan(inference) == [["staging-us-east"], ["us-west-1"], ["us-east-1", "eu-west-1"]]
    signatures = fleet.environments["production"].signatures
    assert signatures.required and signatures.trusted_keys == ("3AFDEB234AEE18F8",
                                                               "0F1E2D3C4B5A69788796A5B4C3D2E1F00A1B2C3D")
