"""Name-reference rewriting against kubectl kustomize: every referrer of kustomize's table, namespaces, bases
with their own prefixes, RBAC subjects, ambiguity; plus unit checks of the matching rules.

Each oracle case is built by kustomize and by the small build of `test_generators` (generators, simulated
namespace / prefix / suffix, hash suffixes, then `fix_name_references`), and the objects are compared.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from hub.render.errors import RenderError
from hub.render.nameref_table import NAME_REFERENCES
from hub.render.namerefs import fix_name_references
from hub.render.resource import Resource
from tests.hub.render.conftest import Oracle, write_tree
from tests.hub.render.test_generators import assert_same_objects, ours

POD_SPEC = """
      serviceAccountName: sa
      priorityClassName: high
      imagePullSecrets: [{name: pull}]
      initContainers:
      - name: init
        image: busybox
        env:
        - name: A
          valueFrom: {configMapKeyRef: {name: cfg, key: a}}
        envFrom: [{secretRef: {name: creds}}]
      containers:
      - name: app
        image: nginx
        env:
        - name: B
          valueFrom: {secretKeyRef: {name: creds, key: b}}
        - name: C
          valueFrom: {configMapKeyRef: {name: not-ours, key: c}}
        envFrom: [{configMapRef: {name: cfg}}, {secretRef: {name: creds, optional: true}}]
      volumes:
      - name: v1
        configMap: {name: cfg}
      - name: v2
        secret: {secretName: creds}
      - name: v3
        projected:
          sources:
          - configMap: {name: cfg}
          - secret: {name: creds}
      - name: v4
        persistentVolumeClaim: {claimName: data}
"""

WORKLOADS = f"""
apiVersion: apps/v1
kind: Deployment
metadata: {{name: web}}
spec:
  template:
    spec:{POD_SPEC}
---
apiVersion: apps/v1
kind: StatefulSet
metadata: {{name: db}}
spec:
  serviceName: svc
  volumeClaimTemplates:
  - metadata: {{name: data}}
    spec: {{storageClassName: fast}}
  template:
    spec:{POD_SPEC}
---
apiVersion: apps/v1
kind: DaemonSet
metadata: {{name: agent}}
spec:
  template:
    spec:{POD_SPEC}
---
apiVersion: batch/v1
kind: Job
metadata: {{name: once}}
spec:
  template:
    spec:{POD_SPEC}
---
apiVersion: batch/v1
kind: CronJob
metadata: {{name: nightly}}
spec:
  jobTemplate:
    spec:
      template:
        spec:{POD_SPEC.replace(chr(10) + "      ", chr(10) + "          ")}
---
apiVersion: v1
kind: Pod
metadata: {{name: pod}}
spec:{POD_SPEC.replace(chr(10) + "      ", chr(10) + "  ")}
"""

REFERRALS = """
apiVersion: v1
kind: ConfigMap
metadata: {name: cfg}
data: {a: "1"}
---
apiVersion: v1
kind: Secret
metadata: {name: creds}
stringData: {b: "2"}
---
apiVersion: v1
kind: Secret
metadata: {name: pull}
type: kubernetes.io/dockerconfigjson
data: {.dockerconfigjson: e30=}
---
apiVersion: v1
kind: Secret
metadata: {name: tls}
---
apiVersion: v1
kind: ServiceAccount
metadata: {name: sa}
imagePullSecrets: [{name: pull}]
---
apiVersion: v1
kind: PersistentVolumeClaim
metadata: {name: data}
spec: {storageClassName: fast, volumeName: vol}
---
apiVersion: v1
kind: PersistentVolume
metadata: {name: vol}
spec: {storageClassName: fast, azureFile: {secretName: creds}}
---
apiVersion: storage.k8s.io/v1
kind: StorageClass
metadata: {name: fast}
provisioner: x
parameters: {secretName: creds}
---
apiVersion: scheduling.k8s.io/v1
kind: PriorityClass
metadata: {name: high}
value: 1000
---
apiVersion: v1
kind: Service
metadata: {name: svc}
spec: {ports: [{port: 80}]}
---
apiVersion: networking.k8s.io/v1
kind: IngressClass
metadata: {name: nginx}
spec: {controller: k8s.io/ingress-nginx}
---
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata:
  name: ing
  annotations:
    nginx.ingress.kubernetes.io/auth-secret: creds
    ingress.kubernetes.io/auth-secret: creds
    nginx.ingress.kubernetes.io/fastcgi-params-configmap: cfg
spec:
  ingressClassName: nginx
  defaultBackend: {service: {name: svc, port: {number: 80}}}
  tls: [{secretName: tls, hosts: [a.example.com]}]
  rules:
  - http:
      paths:
      - path: /
        pathType: Prefix
        backend: {service: {name: svc, port: {number: 80}}}
---
apiVersion: autoscaling/v2
kind: HorizontalPodAutoscaler
metadata: {name: web}
spec:
  scaleTargetRef: {apiVersion: apps/v1, kind: Deployment, name: web}
  minReplicas: 1
  maxReplicas: 3
---
apiVersion: autoscaling/v2
kind: HorizontalPodAutoscaler
metadata: {name: db}
spec:
  scaleTargetRef: {apiVersion: apps/v1, kind: StatefulSet, name: db}
  maxReplicas: 3
---
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata: {name: reader}
rules:
- apiGroups: [""]
  resources: [configmaps, secrets]
  resourceNames: [cfg, creds, unrelated]
  verbs: [get]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: read}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: Role, name: reader}
subjects:
- {kind: ServiceAccount, name: sa}
- {kind: User, name: sa}
- {kind: ServiceAccount, name: sa, namespace: other}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {name: admin-ish}
rules: [{apiGroups: [""], resources: [persistentvolumes], resourceNames: [vol], verbs: [get]}]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: {name: admin-ish}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: admin-ish}
subjects: [{kind: ServiceAccount, name: sa, namespace: apps}]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: to-cluster-role}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: admin-ish}
subjects: [{kind: ServiceAccount, name: sa}]
---
apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingWebhookConfiguration
metadata: {name: hook}
webhooks:
- name: check.example.com
  clientConfig: {service: {name: svc, namespace: apps, path: /check}}
  admissionReviewVersions: [v1]
  sideEffects: None
---
apiVersion: apiregistration.k8s.io/v1
kind: APIService
metadata: {name: v1.metrics.example.com}
spec:
  group: metrics.example.com
  version: v1
  service: {name: svc, namespace: apps}
  groupPriorityMinimum: 100
  versionPriority: 10
---
apiVersion: v1
kind: PodTemplate
metadata: {name: tmpl}
template:
  spec:
    containers: [{name: c, image: x, envFrom: [{configMapRef: {name: cfg}}]}]
    volumes: [{name: v, secret: {secretName: creds}}]
"""


def test_every_referrer_with_prefix_suffix_and_namespace(tmp_path: Path, kustomize_oracle: Oracle) -> None:
    root = write_tree(tmp_path, {
        "kustomization.yaml": "namespace: apps\nnamePrefix: pre-\nnameSuffix: -suf\n"
                              "resources: [workloads.yaml, referrals.yaml]\n",
        "workloads.yaml": WORKLOADS,
        "referrals.yaml": REFERRALS,
    })
    expected = kustomize_oracle.build(root)
    actual = ours(root)
    assert_same_objects(expected, actual)
    deployment = next(d for d in actual if d["kind"] == "Deployment")
    assert deployment["spec"]["template"]["spec"]["volumes"][0]["configMap"]["name"] == "pre-cfg-suf"


def test_generated_names_reach_their_referrers(tmp_path: Path, kustomize_oracle: Oracle) -> None:
    root = write_tree(tmp_path, {
        "kustomization.yaml": """
namePrefix: app-
resources: [workloads.yaml]
configMapGenerator:
- name: cfg
  literals: [a=1]
secretGenerator:
- name: creds
  literals: [b=2]
- name: pull
  type: kubernetes.io/dockerconfigjson
  literals: ['.dockerconfigjson={}']
""",
        "workloads.yaml": WORKLOADS,
    })
    assert_same_objects(kustomize_oracle.build(root), ours(root))


def test_overlay_over_bases_with_their_own_prefixes(tmp_path: Path, kustomize_oracle: Oracle) -> None:
    """Two bases each have a ConfigMap `cfg`; each base's Deployment must keep pointing at its own."""
    base = {
        "kustomization.yaml": "resources: [app.yaml]\nconfigMapGenerator:\n- name: cfg\n  literals: [k=v]\n",
        "app.yaml": """
apiVersion: apps/v1
kind: Deployment
metadata: {name: app}
spec:
  template:
    spec:
      containers: [{name: c, image: x, envFrom: [{configMapRef: {name: cfg}}]}]
""",
    }
    tree: dict[str, str | bytes] = {}
    for name, prefix in (("one", "a-"), ("two", "b-")):
        for rel, body in base.items():
            tree[f"{name}/{rel}"] = body.replace("k=v", f"k={name}") if rel.startswith("kust") else body
        tree[f"{name}/kustomization.yaml"] += f"namePrefix: {prefix}\n"
    tree["overlay/kustomization.yaml"] = "namePrefix: top-\nresources: [../one, ../two]\n"
    root = write_tree(tmp_path, tree)
    expected = kustomize_oracle.build(root / "overlay")
    actual = ours(root, "overlay")
    assert_same_objects(expected, actual)
    refs = {d["metadata"]["name"]: d["spec"]["template"]["spec"]["containers"][0]["envFrom"][0]["configMapRef"]["name"]
            for d in actual if d["kind"] == "Deployment"}
    assert refs["top-a-app"].startswith("top-a-cfg-") and refs["top-b-app"].startswith("top-b-cfg-")


def test_references_stay_inside_their_namespace(tmp_path: Path, kustomize_oracle: Oracle) -> None:
    tree = {
        "overlay/kustomization.yaml": "namePrefix: x-\nresources: [../red, ../blue]\n",
    }
    for team in ("red", "blue"):
        tree[f"{team}/kustomization.yaml"] = (f"namespace: {team}\nresources: [app.yaml]\n"
                                              f"configMapGenerator:\n- name: cfg\n  literals: [team={team}]\n")
        tree[f"{team}/app.yaml"] = """
apiVersion: v1
kind: Pod
metadata: {name: app}
spec:
  containers: [{name: c, image: x}]
  volumes: [{name: v, configMap: {name: cfg}}]
"""
    root = write_tree(tmp_path, tree)
    assert_same_objects(kustomize_oracle.build(root / "overlay"), ours(root, "overlay"))


def test_service_account_subjects_get_their_namespace(tmp_path: Path, kustomize_oracle: Oracle) -> None:
    """A namespace change alone (same name) still writes the namespace into RoleBinding subjects."""
    root = write_tree(tmp_path, {
        "kustomization.yaml": "namespace: ns\nresources: [rbac.yaml]\n",
        "rbac.yaml": """
apiVersion: v1
kind: ServiceAccount
metadata: {name: sa, namespace: ns}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: rb, namespace: ns}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: Role, name: r}
subjects: [{kind: ServiceAccount, name: sa}]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: {name: crb}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: view}
subjects: [{kind: ServiceAccount, name: sa, namespace: elsewhere}, {kind: Group, name: devs}]
""",
    })
    expected = kustomize_oracle.build(root)
    actual = ours(root)
    assert_same_objects(expected, actual)
    binding = next(d for d in actual if d["kind"] == "RoleBinding")
    assert binding["subjects"] == [{"kind": "ServiceAccount", "name": "sa", "namespace": "ns"}]


def test_ambiguous_reference_is_an_error_like_kustomize(tmp_path: Path, kustomize_oracle: Oracle) -> None:
    """A ClusterRole sees every namespace: two generated `cfg` (different content, so different names) in two
    namespaces, with the same (no) prefixes, cannot be told apart."""
    tree = {"overlay/kustomization.yaml": "resources: [../one, ../two, role.yaml]\n",
            "overlay/role.yaml": "apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRole\nmetadata: {name: r}\n"
                                 "rules: [{apiGroups: [''], resources: [configmaps], resourceNames: [cfg], "
                                 "verbs: [get]}]\n"}
    for name in ("one", "two"):
        tree[f"{name}/kustomization.yaml"] = (f"namespace: {name}\n"
                                              f"configMapGenerator:\n- name: cfg\n  literals: [k={name}]\n")
    root = write_tree(tmp_path, tree)
    result = kustomize_oracle.run(root / "overlay")
    assert not result.ok and "found multiple possible referrals" in result.stderr
    with pytest.raises(RenderError) as info:
        ours(root, "overlay")
    assert info.value.file == "overlay/role.yaml"
    assert info.value.field == "rules.resourceNames"
    assert "'cfg' could refer to several renamed objects" in info.value.message
    assert "one/kustomization.yaml" in info.value.message and "two/kustomization.yaml" in info.value.message


def test_same_name_from_bases_with_other_prefixes_is_left_alone(tmp_path: Path, kustomize_oracle: Oracle) -> None:
    tree = {"overlay/kustomization.yaml": "resources: [../one, ../two, app.yaml]\n",
            "overlay/app.yaml": "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  containers: []\n"
                                "  volumes: [{name: v, configMap: {name: cfg}}]\n"}
    for name in ("one", "two"):
        tree[f"{name}/kustomization.yaml"] = f"namePrefix: {name}-\nresources: [cm.yaml]\n"
        tree[f"{name}/cm.yaml"] = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: cfg}\n"
    root = write_tree(tmp_path, tree)
    actual = ours(root, "overlay")
    assert_same_objects(kustomize_oracle.build(root / "overlay"), actual)
    pod = next(d for d in actual if d["kind"] == "Pod")
    assert pod["spec"]["volumes"][0]["configMap"]["name"] == "cfg"


# ------------------------------------------------------------------------------------------ unit checks


def _res(kind: str, name: str, api_version: str = "v1", origin: str = "r.yaml", **fields: object) -> Resource:
    return Resource(obj={"apiVersion": api_version, "kind": kind, "metadata": {"name": name}, **fields},
                    origin=origin)


def test_current_names_do_not_count_only_previous_ones() -> None:
    renamed = _res("ConfigMap", "cfg")
    renamed.rename(name="new-cfg")
    literal = _res("ConfigMap", "cfg-2")  # never renamed: not a candidate even for its own name
    pod = _res("Pod", "p", spec={"volumes": [{"name": "a", "configMap": {"name": "cfg"}},
                                             {"name": "b", "configMap": {"name": "cfg-2"}},
                                             {"name": "c", "configMap": {"name": "new-cfg"}}]})
    fix_name_references([renamed, literal, pod])
    assert [v["configMap"]["name"] for v in pod.obj["spec"]["volumes"]] == ["new-cfg", "cfg-2", "new-cfg"]


def test_referral_kind_and_role_ref_kind_must_match() -> None:
    secret = _res("Secret", "x")
    secret.rename(name="s-x")
    role = _res("Role", "x", "rbac.authorization.k8s.io/v1")
    role.rename(name="r-x")
    cluster_role = _res("ClusterRole", "x", "rbac.authorization.k8s.io/v1")
    cluster_role.rename(name="c-x")
    pod = _res("Pod", "p", spec={"volumes": [{"name": "v", "configMap": {"name": "x"}}]})
    binding = _res("RoleBinding", "b", "rbac.authorization.k8s.io/v1",
                   roleRef={"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "x"})
    fix_name_references([secret, role, cluster_role, pod, binding])
    assert pod.obj["spec"]["volumes"][0]["configMap"]["name"] == "x"  # no ConfigMap was renamed
    assert binding.obj["roleRef"]["name"] == "c-x"


def test_mapping_without_a_name_is_an_error() -> None:
    sa = _res("ServiceAccount", "sa")
    sa.rename(name="p-sa")
    binding = _res("RoleBinding", "b", "rbac.authorization.k8s.io/v1", subjects=[{"kind": "ServiceAccount"}])
    with pytest.raises(RenderError) as info:
        fix_name_references([sa, binding])
    assert info.value.field == "subjects" and "expected a mapping with a 'name' field" in info.value.message


def test_scalar_in_the_middle_of_a_path_is_an_error() -> None:
    cm = _res("ConfigMap", "cfg")
    cm.rename(name="p-cfg")
    deployment = _res("Deployment", "d", "apps/v1", spec={"template": "oops"})
    with pytest.raises(RenderError) as info:
        fix_name_references([cm, deployment])
    assert info.value.file == "r.yaml" and "expected a mapping or a list" in info.value.message


def test_table_covers_the_kinds_the_issue_names() -> None:
    assert all(spec.kind for _, specs in NAME_REFERENCES for spec in specs)  # namerefs indexes by referrer kind
    referrals = {gvk.kind for gvk, _ in NAME_REFERENCES}
    assert {"ConfigMap", "Secret", "Service", "ServiceAccount", "Role", "ClusterRole", "Deployment",
            "StatefulSet", "PersistentVolumeClaim", "PriorityClass"} <= referrals
    cron = [spec.path for gvk, specs in NAME_REFERENCES if gvk.kind == "ConfigMap" for spec in specs
            if spec.kind == "CronJob"]
    assert "spec/jobTemplate/spec/template/spec/volumes/projected/sources/configMap/name" in cron
