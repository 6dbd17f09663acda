"""Sync order: waves, Argo CD's kind order, the sort key, dependency bubbling, steps and prune placement."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from agent.sync import KIND_ORDER, SyncOptions, SyncPlanError, SyncTask, plan_sync, sort_tasks, wave_of
from agent.sync.order import APPLY, PRUNE, kind_rank
from kubesim.cluster import ClusterOptions
from tests.agent.sync.objects import ARGO_OPTIONS, ARGO_WAVE, HOOK, OPTIONS, WAVE, job, names, obj
from tests.kubesim.conftest import ClusterThread


def task(manifest: dict, phase: str = "Sync", wave: int = 0, action: str = APPLY) -> SyncTask:
    return SyncTask(manifest, phase, wave, action, SyncOptions())


# --- waves -------------------------------------------------------------------------------------------------------

def test_wave_defaults_to_zero() -> None:
    assert wave_of(obj("ConfigMap", "c")) == 0


def test_wave_from_either_annotation_and_ours_wins() -> None:
    assert wave_of(obj("ConfigMap", "c", {WAVE: "3"})) == 3
    assert wave_of(obj("ConfigMap", "c", {ARGO_WAVE: "-2"})) == -2
    assert wave_of(obj("ConfigMap", "c", {WAVE: "5", ARGO_WAVE: "1"})) == 5


def test_wave_falls_back_to_helm_hook_weight() -> None:
    assert wave_of(obj("Job", "j", {"helm.sh/hook-weight": "-5"})) == -5
    assert wave_of(obj("Job", "j", {"helm.sh/hook-weight": "-5", ARGO_WAVE: "2"})) == 2


@pytest.mark.parametrize("value", ["one", "1.5", " 1", "", "1e3"])
def test_a_wave_that_is_not_an_integer_is_an_error_naming_object_and_value(value: str) -> None:
    with pytest.raises(SyncPlanError) as caught:
        wave_of(obj("Deployment", "inference", {WAVE: value}, api="apps/v1"))
    message = str(caught.value)
    assert "Deployment ml/inference" in message and f'"{value}"' in message and WAVE in message


def test_a_wave_that_is_not_a_string_is_an_error() -> None:
    manifest = obj("ConfigMap", "c")
    manifest["metadata"]["annotations"] = {WAVE: 1}
    with pytest.raises(SyncPlanError, match=r'ConfigMap ml/c: annotation fleetline.io/sync-wave must be a string'):
        wave_of(manifest)


# --- kind order and the sort key ----------------------------------------------------------------------------------

def test_kind_order_is_argo_cds_list() -> None:
    assert KIND_ORDER[:14] == ("Namespace", "NetworkPolicy", "ResourceQuota", "LimitRange", "PodSecurityPolicy",
                               "PodDisruptionBudget", "ServiceAccount", "Secret", "SecretList", "ConfigMap",
                               "StorageClass", "PersistentVolume", "PersistentVolumeClaim",
                               "CustomResourceDefinition")
    assert KIND_ORDER[-3:] == ("IngressClass", "Ingress", "APIService")
    assert len(KIND_ORDER) == 35
    assert kind_rank("Namespace") == -35 and kind_rank("APIService") == -1
    assert kind_rank("InferenceService") == 0


def test_sort_by_phase_then_wave_then_kind_then_name() -> None:
    tasks = [
        task(obj("Deployment", "b", api="apps/v1"), wave=0),
        task(obj("Deployment", "a", api="apps/v1"), wave=0),
        task(obj("ConfigMap", "z"), wave=0),
        task(obj("Service", "s"), wave=-1),
        task(job("post"), phase="PostSync", wave=-10),
        task(job("pre"), phase="PreSync", wave=10),
        task(obj("InferenceService", "a", api="serving.example.com/v1"), wave=0),
        task(obj("Namespace", "other", namespace=None), wave=0),
    ]
    assert names(sort_tasks(tasks)) == ["Job/pre", "Service/s", "Namespace/other", "ConfigMap/z", "Deployment/a",
                                        "Deployment/b", "InferenceService/a", "Job/post"]


def test_unknown_kinds_sort_by_name_only_as_in_argo_cd() -> None:
    tasks = [task(obj("Zebra", "b", api="x.io/v1")), task(obj("Apple", "c", api="x.io/v1")),
             task(obj("Zebra", "a", api="x.io/v1"))]
    assert names(sort_tasks(tasks)) == ["Zebra/a", "Zebra/b", "Apple/c"]


def test_namespace_bubbles_ahead_of_the_first_object_in_it_with_that_wave() -> None:
    tasks = [task(obj("ConfigMap", "config", namespace="team"), wave=-1),
             task(obj("Namespace", "team", namespace=None), wave=2)]
    ordered = sort_tasks(tasks)
    assert names(ordered) == ["Namespace/team", "ConfigMap/config"]
    assert ordered[0].wave == -1


def test_crd_bubbles_ahead_of_its_custom_resources() -> None:
    crd = obj("CustomResourceDefinition", "models.ml.example.com", namespace=None, api="apiextensions.k8s.io/v1")
    crd["spec"] = {"group": "ml.example.com", "names": {"kind": "Model"}}
    tasks = [task(crd, wave=5), task(obj("Model", "bert", api="ml.example.com/v1"), wave=0),
             task(obj("Other", "o", api="other.example.com/v1"), wave=0)]
    ordered = sort_tasks(tasks)
    assert names(ordered) == ["CustomResourceDefinition/models.ml.example.com", "Model/bert", "Other/o"]
    assert ordered[0].wave == 0


def test_prune_tasks_do_not_pull_a_namespace_forward() -> None:
    tasks = [task(obj("ConfigMap", "old", namespace="team"), wave=-1, action=PRUNE),
             task(obj("Namespace", "team", namespace=None), wave=2)]
    ordered = sort_tasks(tasks)
    assert names(ordered) == ["ConfigMap/old", "Namespace/team"] and ordered[1].wave == 2


# --- plans ---------------------------------------------------------------------------------------------------------

def three_wave_app() -> list[dict]:
    """The issue's acceptance application: ConfigMap in wave 0, Deployment in wave 1, a PostSync Job, and a
    SyncFail hook."""
    return [
        obj("Deployment", "inference", {WAVE: "1"}, api="apps/v1"),
        job("smoke-test", {HOOK: "PostSync"}),
        obj("ConfigMap", "inference-config", {ARGO_WAVE: "0"}),
        job("page-oncall", {"argocd.argoproj.io/hook": "SyncFail"}),
    ]


def test_the_three_wave_application() -> None:
    plan = plan_sync(three_wave_app(), [], [])
    assert [str(step) for step in plan.steps] == ["Sync wave 0", "Sync wave 1", "PostSync wave 0"]
    assert [names(step.tasks) for step in plan.steps] == [["ConfigMap/inference-config"], ["Deployment/inference"],
                                                         ["Job/smoke-test"]]
    assert [t.action for t in plan.tasks] == ["apply", "apply", "hook"]
    assert names(plan.sync_fail_hooks) == ["Job/page-oncall"]
    assert plan.sync_fail_hooks[0].phase == "SyncFail"
    assert plan.multi_step and plan.warnings == [] and plan.kept == []


def test_a_single_wave_plan_is_not_multi_step_but_a_sync_fail_hook_makes_it_so() -> None:
    plain = [obj("ConfigMap", "c"), obj("Deployment", "d", api="apps/v1")]
    assert not plan_sync(plain, [], []).multi_step
    assert plan_sync(plain + [job("on-fail", {HOOK: "SyncFail"})], [], []).multi_step  # as Argo CD's multiStep()


def test_prune_waves_are_mirrored_and_share_steps_with_applies() -> None:
    desired = [obj("ConfigMap", "keep", {WAVE: "0"}), obj("Deployment", "web", {WAVE: "2"}, api="apps/v1")]
    prune = [obj("Service", "old-0", {WAVE: "0"}), obj("Deployment", "old-1", {WAVE: "1"}, api="apps/v1"),
             obj("Job", "old-5", {WAVE: "5"}, api="batch/v1")]
    plan = plan_sync(desired, prune, [])
    placed = {t.name: (t.wave, t.action) for t in plan.tasks}
    assert placed["old-5"] == (0, "prune") and placed["old-1"] == (1, "prune") and placed["old-0"] == (5, "prune")
    assert [(str(s), names(s.prunes), names(s.applies)) for s in plan.steps] == [
        ("Sync wave 0", ["Job/old-5"], ["ConfigMap/keep"]),
        ("Sync wave 1", ["Deployment/old-1"], []),
        ("Sync wave 2", [], ["Deployment/web"]),
        ("Sync wave 5", ["Service/old-0"], []),
    ]


def test_prune_last_moves_prunes_after_the_last_sync_wave() -> None:
    desired = [obj("ConfigMap", "c", {WAVE: "3"})]
    prune = [obj("Service", "old"), obj("Secret", "old-secret", {OPTIONS: "PruneLast=true"})]
    plan = plan_sync(desired, prune, [])
    assert [(str(s), names(s.tasks)) for s in plan.steps] == [
        ("Sync wave 0", ["Service/old"]), ("Sync wave 3", ["ConfigMap/c"]), ("Sync wave 4", ["Secret/old-secret"])]
    everything_last = plan_sync(desired, prune, ["PruneLast=true"])
    assert [(str(s), names(s.tasks)) for s in everything_last.steps] == [
        ("Sync wave 3", ["ConfigMap/c"]), ("Sync wave 4", ["Secret/old-secret", "Service/old"])]


def test_prune_last_wave_is_at_least_one_even_with_negative_waves() -> None:
    plan = plan_sync([obj("ConfigMap", "c", {WAVE: "-3"})], [obj("Service", "old")], ["PruneLast=true"])
    assert [(t.name, t.wave) for t in plan.tasks] == [("c", -3), ("old", 1)]


def test_prune_false_objects_are_kept_and_reported() -> None:
    keep = obj("PersistentVolumeClaim", "weights", {ARGO_OPTIONS: "Prune=false"})
    confirm = obj("Secret", "creds", {OPTIONS: "Prune=confirm"})
    plan = plan_sync([obj("ConfigMap", "c")], [keep, confirm, obj("Service", "old")], [])
    assert [t.name for t in plan.tasks if t.action == PRUNE] == ["old"]
    assert plan.kept == [keep, confirm]
    assert any("PersistentVolumeClaim ml/weights: not pruned (Prune=false)" in w for w in plan.warnings)
    assert any("Secret ml/creds: not pruned (Prune=confirm" in w for w in plan.warnings)


def test_application_prune_false_keeps_everything_and_an_object_can_opt_back_in() -> None:
    plan = plan_sync([], [obj("Service", "a"), obj("Service", "b", {OPTIONS: "Prune=true"})], ["Prune=false"])
    assert [t.name for t in plan.tasks] == ["b"] and [k["metadata"]["name"] for k in plan.kept] == ["a"]


def test_live_hooks_are_never_pruned() -> None:
    plan = plan_sync([], [job("old-migration", {HOOK: "PreSync"}), obj("Pod", "skipped", {HOOK: "Skip"}),
                          obj("Service", "old")], [])
    assert names(plan.tasks) == ["Service/old"] and plan.kept == []


def test_create_namespace_adds_a_presync_namespace_unless_the_desired_state_has_it() -> None:
    plan = plan_sync([obj("ConfigMap", "c")], [], ["CreateNamespace=true"], namespace="ml")
    first = plan.steps[0]
    assert (str(first), names(first.tasks), first.tasks[0].action) == ("PreSync wave 0", ["Namespace/ml"],
                                                                        "create-namespace")
    assert first.tasks[0].obj == {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "ml"}}
    declared = plan_sync([obj("Namespace", "ml", namespace=None), obj("ConfigMap", "c")], [],
                         ["CreateNamespace=true"], namespace="ml")
    assert [t.action for t in declared.tasks] == ["apply", "apply"]
    assert not plan_sync([obj("ConfigMap", "c")], [], [], namespace="ml").multi_step


def test_create_namespace_without_a_namespace_is_a_warning() -> None:
    plan = plan_sync([obj("ConfigMap", "c")], [], ["CreateNamespace=true"])
    assert names(plan.tasks) == ["ConfigMap/c"]
    assert any("CreateNamespace=true" in w and "no destination namespace" in w for w in plan.warnings)


def test_every_problem_is_reported_at_once() -> None:
    desired = [obj("ConfigMap", "a", {WAVE: "x"}), obj("ConfigMap", "b", {OPTIONS: "Prune"}),
               {"apiVersion": "v1", "metadata": {"name": "nokind"}}, obj("ConfigMap", "c"), obj("ConfigMap", "c"),
               obj("ConfigMap", "d", {WAVE: "y", OPTIONS: "Replace=maybe"})]
    with pytest.raises(SyncPlanError) as caught:
        plan_sync(desired, [obj("Service", "old", {ARGO_WAVE: "later"})], ["Replace=yes"])
    problems = caught.value.problems
    assert len(problems) == 8, problems
    expected = ["syncPolicy.syncOptions", "ConfigMap ml/a", "ConfigMap ml/b", "nokind", "ConfigMap ml/c: appears twice",
                "live Service ml/old"]
    for text in expected:
        assert any(text in p for p in problems), (text, problems)
    assert sum("ConfigMap ml/d" in p for p in problems) == 2


# --- live objects, as the API server returns them -----------------------------------------------------------------

@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ClusterThread]:
    options = ClusterOptions(speed=20.0, nodes=1, kubeconfig_dir=tmp_path_factory.mktemp("kubeconfigs"))
    sim = ClusterThread("sync-order", options)
    try:
        yield sim
    finally:
        sim.stop()


def test_live_objects_from_kubesim_plan_as_assumed(cluster: ClusterThread) -> None:
    """Objects read back over HTTP (with status, managedFields and server defaults) keep the annotations the
    planner reads, and a live Job is recognised as a hook."""
    from kubernetes import client as k8s

    manifests = [
        obj("ConfigMap", "old-config", {WAVE: "0"}, namespace="default"),
        obj("Service", "old-service", {ARGO_WAVE: "2"}, namespace="default"),
        obj("ConfigMap", "weights-index", {OPTIONS: "Prune=false"}, namespace="default"),
        obj("ConfigMap", "last", {ARGO_OPTIONS: "PruneLast=true"}, namespace="default"),
        obj("Job", "old-migration", {HOOK: "PreSync"}, namespace="default", api="batch/v1"),
    ]
    manifests[1]["spec"] = {"ports": [{"port": 80}]}
    manifests[4]["spec"] = {"template": {"spec": {"restartPolicy": "Never",
                                                  "containers": [{"name": "m", "image": "busybox"}]}}}
    with k8s.ApiClient(cluster.configuration()) as api:
        core, batch = k8s.CoreV1Api(api), k8s.BatchV1Api(api)
        core.create_namespaced_config_map("default", manifests[0])
        core.create_namespaced_service("default", manifests[1])
        core.create_namespaced_config_map("default", manifests[2])
        core.create_namespaced_config_map("default", manifests[3])
        batch.create_namespaced_job("default", manifests[4])
        read = [core.read_namespaced_config_map("old-config", "default"),
                core.read_namespaced_service("old-service", "default"),
                core.read_namespaced_config_map("weights-index", "default"),
                core.read_namespaced_config_map("last", "default"),
                batch.read_namespaced_job("old-migration", "default")]
        live = [api.sanitize_for_serialization(o) for o in read]
    assert all(o["metadata"].get("resourceVersion") for o in live)
    plan = plan_sync([obj("Deployment", "web", {WAVE: "1"}, namespace="default", api="apps/v1")], live, [])
    placed = {t.name: (t.action, t.wave) for t in plan.tasks}
    assert placed == {"old-service": ("prune", 0), "web": ("apply", 1), "old-config": ("prune", 2),
                      "last": ("prune", 3)}
    assert [k["metadata"]["name"] for k in plan.kept] == ["weights-index"]
