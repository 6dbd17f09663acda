"""`diff`, `history`, `approve`, `approvals`, `rollout`, `rollback`, `promote`: what each sends, what it prints,
and the exit code of each kind of answer."""

from __future__ import annotations

import json

import pytest

from tests.hub.client.fakehub import FakeHubApi, app_summary, cluster_summary
from tests.hub.client.harness import run_cli

DIFF = "/api/v1/clusters/eu-1/applications/inference-server/diff"
FIELDS = [
    {"object": "Deployment/ml/inference", "path": "spec.replicas", "desired": 3, "live": 5, "manager": "kubectl-edit"},
    {"object": "Deployment/ml/inference", "path": "spec.template.spec.containers[0].image", "desired": "infer:1.4",
     "live": "infer:1.3", "manager": ""},
    {"object": "ConfigMap/ml/model-config", "path": "data.EXTRA", "desired": None, "live": "x", "manager": "helm"},
]


def test_diff_of_one_application(hub: FakeHubApi) -> None:
    hub.on("GET", DIFF, (200, {"fields": FIELDS, "as_of": "2026-03-01T10:00:00Z"}))
    result = run_cli(hub, "diff", "eu-1", "inference-server")
    assert result.code == 1, "differences exit 1, like diff(1)"
    assert result.out.splitlines() == [
        "eu-1/inference-server: 3 fields differ (as of 2026-03-01 10:00:00Z)",
        "  Deployment/ml/inference",
        "    spec.replicas: 3 -> 5   (changed by kubectl-edit)",
        '    spec.template.spec.containers[0].image: "infer:1.4" -> "infer:1.3"',
        "  ConfigMap/ml/model-config",
        '    data.EXTRA: (absent) -> "x"   (changed by helm)',
    ]
    assert json.loads(run_cli(hub, "diff", "eu-1", "inference-server", "-o", "json").out)["fields"] == FIELDS


def test_diff_of_every_application_of_a_cluster(hub: FakeHubApi) -> None:
    hub.on("GET", "/api/v1/clusters/eu-1", (200, cluster_summary("eu-1", "eu", "prod", [
        app_summary("inference-server"), app_summary("model-registry")])))
    hub.on("GET", DIFF, (200, {"fields": [], "as_of": None}))
    hub.on("GET", "/api/v1/clusters/eu-1/applications/model-registry/diff", (200, {"fields": [], "as_of": None}))
    result = run_cli(hub, "diff", "eu-1")
    assert result.code == 0
    assert result.out == "eu-1/inference-server: no differences\neu-1/model-registry: no differences\n"
    assert set(json.loads(run_cli(hub, "diff", "eu-1", "-o", "json").out)["applications"]) == {
        "inference-server", "model-registry"}


def test_diff_of_an_unknown_application_exits_1_with_the_hubs_message(hub: FakeHubApi) -> None:
    result = run_cli(hub, "diff", "eu-1", "nope")
    assert result.code == 1
    assert "no route GET /api/v1/clusters/eu-1/applications/nope/diff" in result.err


def test_history(hub: FakeHubApi) -> None:
    hub.on("GET", "/api/v1/clusters/eu-1/applications/inference-server/history", (200, {"entries": [
        {"revision": "4f2a9c1" + "e" * 33, "generation": 8, "pushed_at": "2026-03-01T10:00:00Z",
         "author": "Ana <ana@example.com>", "subject": "inference: v1.4", "result": "Succeeded",
         "finished_at": "2026-03-01T10:01:30Z"},
        {"revision": "1" * 40, "generation": 7, "pushed_at": "2026-02-28T09:00:00Z", "author": "Bo <bo@example.com>",
         "subject": "inference: v1.3", "result": None, "finished_at": None}]}))
    result = run_cli(hub, "history", "eu-1", "inference-server")
    assert result.code == 0
    assert result.out.splitlines() == [
        "REVISION  GENERATION  PUSHED                RESULT     FINISHED              AUTHOR                 SUBJECT",
        "4f2a9c1   8           2026-03-01 10:00:00Z  Succeeded  2026-03-01 10:01:30Z  Ana <ana@example.com>  "
        "inference: v1.4",
        "1111111   7           2026-02-28 09:00:00Z  -          -                     Bo <bo@example.com>    "
        "inference: v1.3",
    ]


def test_approve_sends_the_region_and_says_what_is_missing(hub: FakeHubApi) -> None:
    hub.on("POST", "/api/v1/approvals", (200, {"approvers": ["ana"], "required": 2, "satisfied": False}))
    result = run_cli(hub, "approve", "prod", "inference-server", "4f2a9c1", "--region", "eu")
    assert result.code == 0
    assert hub.calls("POST", "/api/v1/approvals")[0].body == {
        "environment": "prod", "application": "inference-server", "revision": "4f2a9c1", "region": "eu"}
    assert result.out == ("approved 4f2a9c1 of inference-server in prod (eu): 1 of 2 approvals (ana); waiting for 1 "
                          "more\n")
    hub.on("POST", "/api/v1/approvals", (200, {"approvers": ["ana", "bo"], "required": 2, "satisfied": True}))
    assert run_cli(hub, "approve", "prod", "inference-server", "4f2a9c1").out.endswith("the sync follows\n")
    assert "region" not in hub.calls("POST", "/api/v1/approvals")[1].body


def test_an_out_of_scope_approval_exits_3_with_the_reason(hub: FakeHubApi) -> None:
    hub.on("POST", "/api/v1/approvals", (403, {"error": "token eu-ops is scoped to regions [eu]: us-east is out of "
                                                        "scope", "reason": "out_of_scope"}))
    result = run_cli(hub, "approve", "prod", "inference-server", "4f2a9c1", "--region", "us-east")
    assert result.code == 3
    assert result.err.startswith("error: token eu-ops is scoped to regions [eu]: us-east is out of scope "
                                 "[POST /api/v1/approvals: HTTP 403 out_of_scope]")


def test_approvals_pending(hub: FakeHubApi) -> None:
    hub.on("GET", "/api/v1/approvals", (200, {"pending": [
        {"environment": "prod", "region": "eu", "cluster": "eu-1", "application": "inference-server",
         "revision": "4f2a9c1" + "e" * 33, "approvers": ["ana"], "required": 2, "held": ""},
        {"environment": "prod", "region": "us-east", "cluster": "us-east-1", "application": "inference-server",
         "revision": "4f2a9c1" + "e" * 33, "approvers": [], "required": 1, "held": "sync window closed"}]}))
    result = run_cli(hub, "approvals", "--region", "eu")
    assert result.out.splitlines() == [
        "ENVIRONMENT  REGION  CLUSTER  APP               REVISION  APPROVALS  HELD",
        "prod         eu      eu-1     inference-server  4f2a9c1   1/2 (ana)  -"]
    assert len(json.loads(run_cli(hub, "approvals", "-o", "json").out)["pending"]) == 2


ROLLOUTS = {"rollouts": [
    {"environment": "prod", "application": "inference-server", "revision": "4f2a9c1" + "e" * 33,
     "previous_revision": "1" * 40, "phase": "Halted", "step": 1, "waiting_on": "a resume, or a newer revision",
     "halted_reason": "step 2: eu-2 Degraded", "released": ["eu-1", "eu-2"], "rolled_back": ["eu-2"],
     "steps": [["eu-1"], ["eu-2", "eu-3"]]},
    {"environment": "staging", "application": "model-registry", "revision": "2" * 40, "previous_revision": "",
     "phase": "Succeeded", "step": 1, "waiting_on": "", "halted_reason": "", "released": ["st-1"],
     "rolled_back": [], "steps": [["st-1"]]}]}


def test_rollout_status(hub: FakeHubApi) -> None:
    hub.on("GET", "/api/v1/rollouts", (200, ROLLOUTS))
    result = run_cli(hub, "rollout", "status")
    assert result.code == 1, "a halted rollout"
    assert result.out.splitlines() == [
        "ENVIRONMENT  APP               REVISION  PREVIOUS  PHASE      STEP  WAITING ON",
        "prod         inference-server  4f2a9c1   1111111   Halted     2/2   a resume, or a newer revision",
        "staging      model-registry    2222222   -         Succeeded  1/1   -",
        "prod/inference-server halted: step 2: eu-2 Degraded",
        "prod/inference-server rolled back on: eu-2"]
    assert run_cli(hub, "rollout", "status", "model-registry").code == 0
    missing = run_cli(hub, "rollout", "status", "nope")
    assert (missing.code, missing.out) == (1, "no rollouts of nope\n")


def test_rollout_resume_finds_the_environment_or_asks_for_it(hub: FakeHubApi) -> None:
    hub.on("GET", "/api/v1/rollouts", (200, ROLLOUTS))
    hub.on("POST", "/api/v1/rollouts/prod/inference-server/resume", (200, {"phase": "Progressing"}))
    result = run_cli(hub, "rollout", "resume", "inference-server")
    assert (result.code, result.out) == (0, "resumed the rollout of inference-server in prod: phase Progressing\n")
    both = {"rollouts": [*ROLLOUTS["rollouts"], {**ROLLOUTS["rollouts"][0], "environment": "staging"}]}
    hub.on("GET", "/api/v1/rollouts", (200, both))
    ambiguous = run_cli(hub, "rollout", "abort", "inference-server")
    assert ambiguous.code == 2 and "several environments (prod, staging): give --env ENV" in ambiguous.err
    hub.on("POST", "/api/v1/rollouts/staging/inference-server/abort", (200, {"phase": "Halted"}))
    assert run_cli(hub, "rollout", "abort", "inference-server", "--env", "staging").code == 0
    assert run_cli(hub, "rollout", "resume").code == 2


def test_rollback_of_a_cluster_or_an_environment(hub: FakeHubApi) -> None:
    hub.on("POST", "/api/v1/rollback", (200, {"commit": "9" * 40, "reverted": "4f2a9c1" + "e" * 33,
                                              "message": "Revert \"inference: v1.4\"\n\nreason: p99 doubled"}))
    result = run_cli(hub, "rollback", "eu-1", "inference-server", "--reason", "p99 doubled")
    assert result.code == 0
    assert result.out == ('rolled back inference-server on eu-1: commit 9999999 reverts 4f2a9c1\n'
                          '  Revert "inference: v1.4"\n')
    run_cli(hub, "rollback", "--env", "prod", "inference-server", "--reason", "bad model")
    bodies = [r.body for r in hub.calls("POST", "/api/v1/rollback")]
    assert bodies == [{"application": "inference-server", "reason": "p99 doubled", "cluster": "eu-1"},
                      {"application": "inference-server", "reason": "bad model", "environment": "prod"}]


@pytest.mark.parametrize("argv", [["eu-1", "--reason", "x"], ["--env", "prod", "eu-1", "app", "--reason", "x"],
                                  ["eu-1", "app", "--reason", " "]])
def test_rollback_usage_errors_send_nothing(hub: FakeHubApi, argv: list[str]) -> None:
    result = run_cli(hub, "rollback", *argv)
    assert result.code == 2 and result.err.startswith("error: ")
    assert not hub.calls("POST", "/api/v1/rollback")


def test_promote(hub: FakeHubApi) -> None:
    hub.on("POST", "/api/v1/promote", (200, {"commit": "8" * 40, "files": ["overlays/eu/kustomization.yaml",
                                                                           "overlays/eu/model.yaml"]}))
    result = run_cli(hub, "promote", "inference-server", "--image", "infer=v1.5", "--set", "model_version=2026-03",
                     "--env", "prod", "--overlay", "overlays/eu", "--key", "MODEL")
    assert result.code == 0, result.err
    assert hub.calls("POST", "/api/v1/promote")[0].body == {
        "environment": "prod", "overlay": "overlays/eu", "image": "infer", "tag": "v1.5", "model_version": "2026-03",
        "key": "MODEL"}
    assert result.out == ("promoted inference-server in prod: infer=v1.5, model_version 2026-03; commit 8888888 "
                          "changes overlays/eu/kustomization.yaml, overlays/eu/model.yaml\n")


@pytest.mark.parametrize(("flags", "words"), [
    (["--image", "infer", "--set", "model_version=1"], "NAME=TAG"),
    (["--image", "infer=v1", "--set", "replicas=3"], "model_version=VALUE"),
    (["--image", "infer=v1"], "--set model_version=VALUE"),
])
def test_promote_usage_errors_send_nothing(hub: FakeHubApi, flags: list[str], words: str) -> None:
    result = run_cli(hub, "promote", "inference-server", *flags, "--env", "prod", "--overlay", "overlays/eu")
    assert result.code == 2 and words in result.err
    assert not hub.calls("POST", "/api/v1/promote")


@pytest.mark.parametrize(("status", "code"), [(400, 2), (404, 1), (409, 1), (422, 2), (500, 1), (503, 4)])
def test_exit_code_of_each_error_answer(hub: FakeHubApi, status: int, code: int) -> None:
    hub.on("POST", "/api/v1/promote", (status, {"error": f"the hub says {status}", "reason": "because"}))
    result = run_cli(hub, "promote", "app", "--image", "i=t", "--set", "model_version=1", "--env", "prod", "--overlay",
                     "o")
    assert result.code == code
    assert f"error: the hub says {status} [POST /api/v1/promote: HTTP {status} because]" in result.err


def test_an_answer_that_is_not_the_api_says_so(hub: FakeHubApi) -> None:
    hub.on("GET", "/api/v1/fleet", (200, "<html>login</html>"))
    result = run_cli(hub, "status")
    assert result.code == 1
    assert "answered text/html, not the API's JSON; is --hub/FLEETLINE_HUB the hub's API address?" in result.err
