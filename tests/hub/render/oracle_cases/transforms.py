"""Cases for the built-in transformers: namespace, name prefix/suffix, labels, annotations, images, replicas."""

from __future__ import annotations

from tests.hub.render.oracle_cases.base import Case, deployment, service, text

CASES: list[Case] = []


def _add(name: str, files: dict[str, str], path: str = "", about: str = "") -> None:
    CASES.append(Case(name, files, path, about))


_RBAC = text("""
    apiVersion: v1
    kind: ServiceAccount
    metadata:
      name: trainer
    ---
    apiVersion: rbac.authorization.k8s.io/v1
    kind: Role
    metadata:
      name: job-runner
    rules:
    - apiGroups: [batch]
      resources: [jobs]
      verbs: [create, get, list]
    ---
    apiVersion: rbac.authorization.k8s.io/v1
    kind: RoleBinding
    metadata:
      name: trainer-runs-jobs
    roleRef:
      apiGroup: rbac.authorization.k8s.io
      kind: Role
      name: job-runner
    subjects:
    - kind: ServiceAccount
      name: trainer
    - kind: ServiceAccount
      name: default
    - kind: ServiceAccount
      name: ci-bot
      namespace: ci
    - kind: User
      name: alice@example.com
      apiGroup: rbac.authorization.k8s.io
    ---
    apiVersion: rbac.authorization.k8s.io/v1
    kind: ClusterRole
    metadata:
      name: node-reader
    rules:
    - apiGroups: [""]
      resources: [nodes]
      verbs: [get, list]
    ---
    apiVersion: rbac.authorization.k8s.io/v1
    kind: ClusterRoleBinding
    metadata:
      name: trainer-reads-nodes
    roleRef:
      apiGroup: rbac.authorization.k8s.io
      kind: ClusterRole
      name: node-reader
    subjects:
    - kind: ServiceAccount
      name: trainer
      namespace: somewhere-else
    - kind: ServiceAccount
      name: default
    - kind: Group
      name: system:authenticated
      apiGroup: rbac.authorization.k8s.io
    """)

_add("namespace_cluster_scoped_kinds_and_subjects", {
    "kustomization.yaml": text("""
        namespace: training
        resources:
        - namespace.yaml
        - rbac.yaml
        - workloads.yaml
        - cluster.yaml
        """),
    "namespace.yaml": text("""
        apiVersion: v1
        kind: Namespace
        metadata:
          name: placeholder
          labels:
            istio-injection: enabled
        """),
    "rbac.yaml": _RBAC,
    "workloads.yaml": deployment("webhook", "ghcr.io/acme/admission:0.4.0") + "---\n" + service("webhook", 443, 9443)
    + text("""
        ---
        apiVersion: v1
        kind: ConfigMap
        metadata:
          name: pinned
          namespace: legacy
        data:
          note: an explicit namespace is overridden too
        """),
    "cluster.yaml": text("""
        apiVersion: admissionregistration.k8s.io/v1
        kind: MutatingWebhookConfiguration
        metadata:
          name: inject-defaults
        webhooks:
        - name: defaults.training.example.com
          admissionReviewVersions: [v1]
          sideEffects: None
          clientConfig:
            service:
              name: webhook
              namespace: default
              path: /mutate
        ---
        apiVersion: scheduling.k8s.io/v1
        kind: PriorityClass
        metadata:
          name: training-batch
        value: 100
        ---
        apiVersion: storage.k8s.io/v1
        kind: StorageClass
        metadata:
          name: scratch-nvme
        provisioner: local.csi.example.com
        ---
        apiVersion: apiregistration.k8s.io/v1
        kind: APIService
        metadata:
          name: v1beta1.metrics.training.example.com
        spec:
          group: metrics.training.example.com
          version: v1beta1
          groupPriorityMinimum: 100
          versionPriority: 100
          service:
            name: webhook
            namespace: default
        """),
}, about="namespace: namespaced kinds only; Namespace renamed; binding subjects (default, known ServiceAccounts);"
         " webhook and APIService service references")

_add("namespace_overridden_by_overlay", {
    "base/kustomization.yaml": "namespace: base-ns\nresources:\n- rbac.yaml\n- app.yaml\n",
    "base/rbac.yaml": _RBAC,
    "base/app.yaml": deployment("trainer-ui", extra_spec="serviceAccountName: trainer\n"),
    "overlay/kustomization.yaml": "namespace: prod-training\nresources:\n- ../base\n",
}, "overlay", about="an overlay's namespace replaces the base's, subjects of known ServiceAccounts follow")

_add("name_prefix_suffix_several_levels", {
    "base/kustomization.yaml": text("""
        namePrefix: base-
        resources:
        - app.yaml
        - rbac.yaml
        - cluster.yaml
        configMapGenerator:
        - name: app-env
          literals:
          - MODE=serve
        """),
    "base/app.yaml": deployment("app", extra_spec="""
        serviceAccountName: trainer
        volumes:
        - name: env
          configMap:
            name: app-env
        - name: data
          persistentVolumeClaim:
            claimName: app-data
        """) + "---\n" + service("app") + text("""
        ---
        apiVersion: v1
        kind: PersistentVolumeClaim
        metadata:
          name: app-data
        spec:
          accessModes: [ReadWriteOnce]
          resources:
            requests:
              storage: 10Gi
        """),
    "base/rbac.yaml": _RBAC,
    "base/cluster.yaml": text("""
        apiVersion: v1
        kind: Namespace
        metadata:
          name: app-system
        ---
        apiVersion: apiextensions.k8s.io/v1
        kind: CustomResourceDefinition
        metadata:
          name: widgets.example.com
        spec:
          group: example.com
          names:
            kind: Widget
            plural: widgets
          scope: Namespaced
          versions:
          - name: v1
            served: true
            storage: true
            schema:
              openAPIV3Schema:
                type: object
        """),
    "mid/kustomization.yaml": "nameSuffix: -mid\nresources:\n- ../base\n",
    "top/kustomization.yaml": "namePrefix: top-\nnameSuffix: -v2\nresources:\n- ../mid\n",
}, "top", about="prefixes and suffixes stack outermost-first; references (ServiceAccount, Role, ClusterRole, "
                 "ConfigMap, PVC) follow; CRDs and Namespaces keep their names")

_add("common_labels_all_workload_kinds", {
    "kustomization.yaml": text("""
        commonLabels:
          app.kubernetes.io/part-of: ml-platform
          team: research
        resources:
        - workloads.yaml
        """),
    "workloads.yaml": deployment("serve", extra_spec="""
        affinity:
          podAntiAffinity:
            preferredDuringSchedulingIgnoredDuringExecution:
            - weight: 100
              podAffinityTerm:
                topologyKey: kubernetes.io/hostname
                labelSelector:
                  matchLabels:
                    app: serve
        topologySpreadConstraints:
        - maxSkew: 1
          topologyKey: topology.kubernetes.io/zone
          whenUnsatisfiable: ScheduleAnyway
          labelSelector:
            matchLabels:
              app: serve
        """) + "---\n" + service("serve") + text("""
        ---
        apiVersion: apps/v1
        kind: StatefulSet
        metadata:
          name: feature-store
        spec:
          serviceName: feature-store
          selector:
            matchLabels:
              app: feature-store
          template:
            metadata:
              labels:
                app: feature-store
            spec:
              containers:
              - name: store
                image: redis:7.2
          volumeClaimTemplates:
          - metadata:
              name: data
            spec:
              accessModes: [ReadWriteOnce]
              resources:
                requests:
                  storage: 50Gi
        ---
        apiVersion: apps/v1
        kind: DaemonSet
        metadata:
          name: dcgm-exporter
        spec:
          selector:
            matchLabels:
              app: dcgm-exporter
          template:
            metadata:
              labels:
                app: dcgm-exporter
            spec:
              containers:
              - name: exporter
                image: nvcr.io/nvidia/k8s/dcgm-exporter:3.3.5-3.4.0-ubuntu22.04
        ---
        apiVersion: batch/v1
        kind: Job
        metadata:
          name: warmup
        spec:
          template:
            spec:
              restartPolicy: Never
              containers:
              - name: warmup
                image: curlimages/curl:8.7.1
        ---
        apiVersion: batch/v1
        kind: CronJob
        metadata:
          name: nightly-train
        spec:
          schedule: "0 2 * * *"
          jobTemplate:
            spec:
              template:
                spec:
                  restartPolicy: OnFailure
                  containers:
                  - name: train
                    image: ghcr.io/acme/trainer:5.1.0
        ---
        apiVersion: policy/v1
        kind: PodDisruptionBudget
        metadata:
          name: serve
        spec:
          maxUnavailable: 1
          selector:
            matchLabels:
              app: serve
        ---
        apiVersion: networking.k8s.io/v1
        kind: NetworkPolicy
        metadata:
          name: serve-ingress
        spec:
          podSelector:
            matchLabels:
              app: serve
          ingress:
          - from:
            - podSelector:
                matchLabels:
                  app: gateway
        ---
        apiVersion: v1
        kind: Service
        metadata:
          name: headless-no-selector
        spec:
          clusterIP: None
          ports:
          - port: 6379
        """),
}, about="commonLabels reach metadata, selectors (created where kustomize creates them) and pod templates")

_LABEL_APP = deployment("ranker", "ghcr.io/acme/ranker:1.4.0") + "---\n" + service("ranker") + text("""
    ---
    apiVersion: batch/v1
    kind: CronJob
    metadata:
      name: reindex
    spec:
      schedule: "*/30 * * * *"
      jobTemplate:
        spec:
          template:
            spec:
              restartPolicy: OnFailure
              containers:
              - name: reindex
                image: ghcr.io/acme/ranker:1.4.0
    ---
    apiVersion: example.com/v1
    kind: SearchIndex
    metadata:
      name: products
    spec:
      shards: 3
      podLabels: {}
    """)

_add("labels_include_selectors_and_templates", {
    "kustomization.yaml": text("""
        resources:
        - app.yaml
        labels:
        - pairs:
            owner: search-team
        - pairs:
            app.kubernetes.io/version: "1.4"
          includeTemplates: true
        - pairs:
            env: prod
          includeSelectors: true
        - pairs:
            cost-center: "4711"
          fields:
          - path: spec/podLabels
            kind: SearchIndex
            create: true
        """),
    "app.yaml": _LABEL_APP,
}, about="labels: metadata only by default; includeTemplates adds templates; includeSelectors adds selectors and "
         "templates; custom fields")

_add("labels_include_selectors_false_explicit", {
    "kustomization.yaml": text("""
        resources:
        - app.yaml
        labels:
        - pairs:
            tier: backend
          includeSelectors: false
          includeTemplates: false
        commonLabels:
          managed-by: fleetline
        """),
    "app.yaml": _LABEL_APP,
}, about="explicit false flags, combined with commonLabels in the same kustomization")

_add("common_annotations_workloads", {
    "kustomization.yaml": text("""
        resources:
        - app.yaml
        commonAnnotations:
          fleetline.io/owner: ml-platform
          note: "contains: a colon, and 'quotes'"
          empty: ""
        """),
    "app.yaml": _LABEL_APP + text("""
        ---
        apiVersion: batch/v1
        kind: Job
        metadata:
          name: migrate
          annotations:
            existing: kept
        spec:
          template:
            metadata:
              annotations:
                sidecar.istio.io/inject: "false"
            spec:
              restartPolicy: Never
              containers:
              - name: migrate
                image: ghcr.io/acme/ranker-migrate:1.4.0
        """),
}, about="commonAnnotations on metadata and on pod templates of workloads (CronJob: both jobTemplate levels)")

_add("images_every_workload_kind", {
    "kustomization.yaml": text("""
        resources:
        - workloads.yaml
        images:
        - name: ghcr.io/acme/inference
          newTag: 2.0.1
        - name: busybox
          newName: registry.internal.example.com/mirror/busybox
        - name: ghcr.io/acme/trainer
          newName: registry.internal.example.com/acme/trainer
          newTag: "2024.06"
        - name: python
          digest: sha256:0a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8f9
        - name: redis
          newTag: "7.2"
        """),
    "workloads.yaml": text("""
        apiVersion: apps/v1
        kind: Deployment
        metadata:
          name: inference
        spec:
          selector:
            matchLabels:
              app: inference
          template:
            metadata:
              labels:
                app: inference
            spec:
              initContainers:
              - name: fetch-model
                image: busybox:1.36
              - name: check
                image: python:3.12-slim
              containers:
              - name: server
                image: ghcr.io/acme/inference:2.0.0
              - name: sidecar
                image: busybox
        ---
        apiVersion: batch/v1
        kind: CronJob
        metadata:
          name: retrain
        spec:
          schedule: "@daily"
          jobTemplate:
            spec:
              template:
                spec:
                  restartPolicy: OnFailure
                  initContainers:
                  - name: prepare
                    image: busybox:1.35
                  containers:
                  - name: train
                    image: ghcr.io/acme/trainer:5.1.0
        ---
        apiVersion: v1
        kind: Pod
        metadata:
          name: debug
        spec:
          initContainers:
          - name: init
            image: python
          containers:
          - name: shell
            image: busybox:latest
        ---
        apiVersion: apps/v1
        kind: StatefulSet
        metadata:
          name: cache
        spec:
          serviceName: cache
          selector:
            matchLabels:
              app: cache
          template:
            metadata:
              labels:
                app: cache
            spec:
              containers:
              - name: redis
                image: redis:6
        ---
        apiVersion: apps/v1
        kind: DaemonSet
        metadata:
          name: node-agent
        spec:
          selector:
            matchLabels:
              app: node-agent
          template:
            metadata:
              labels:
                app: node-agent
            spec:
              initContainers:
              - name: sysctl
                image: busybox:1.36
              containers:
              - name: agent
                image: ghcr.io/acme/trainer:5.1.0
        ---
        apiVersion: batch/v1
        kind: Job
        metadata:
          name: evaluate
        spec:
          template:
            spec:
              restartPolicy: Never
              containers:
              - name: eval
                image: python:3.11
        ---
        apiVersion: ml.example.com/v1
        kind: TrainingRun
        metadata:
          name: custom-with-containers
        spec:
          worker:
            template:
              containers:
              - name: worker
                image: ghcr.io/acme/trainer:5.0.0
        """),
}, about="images: newTag, newName, both, digest; containers and initContainers of Deployment, CronJob, Pod, "
         "StatefulSet, DaemonSet, Job, and a custom resource")

_add("images_registry_port_and_digest", {
    "kustomization.yaml": text("""
        resources:
        - pods.yaml
        images:
        - name: localhost:5000/ml/feature-store
          newTag: v2
        - name: registry.example.com:8443/team/embedder
          newName: registry.eu.example.com:443/team/embedder
        - name: quay.io/prometheus/node-exporter
          newTag: v1.8.0
        - name: docker.io/library/postgres
          digest: sha256:feedfacefeedfacefeedfacefeedfacefeedfacefeedfacefeedfacefeedface
        - name: nginx
          newName: nginx-unprivileged
          newTag: 1.27-alpine
        """),
    "pods.yaml": text(f"""
        apiVersion: apps/v1
        kind: Deployment
        metadata:
          name: features
        spec:
          selector:
            matchLabels:
              app: features
          template:
            metadata:
              labels:
                app: features
            spec:
              containers:
              - name: store
                image: localhost:5000/ml/feature-store:v1
              - name: embedder
                image: registry.example.com:8443/team/embedder:0.3
              - name: exporter
                image: quay.io/prometheus/node-exporter@sha256:{"1" * 64}
              - name: db
                image: docker.io/library/postgres:16.3
              - name: proxy
                image: nginx:1.25@sha256:2222222222222222222222222222222222222222222222222222222222222222
              - name: unrelated
                image: localhost:5000/ml/feature-store-ui:v1
        """),
}, about="registry hosts with ports, images pinned by digest, tag+digest, and a name that only shares a prefix")

_add("replicas_deployments_and_statefulsets", {
    "base/kustomization.yaml": "resources:\n- app.yaml\n",
    "base/app.yaml": deployment("api") + text("""
        ---
        apiVersion: apps/v1
        kind: StatefulSet
        metadata:
          name: queue
        spec:
          replicas: 1
          serviceName: queue
          selector:
            matchLabels:
              app: queue
          template:
            metadata:
              labels:
                app: queue
            spec:
              containers:
              - name: queue
                image: rabbitmq:3.13
        ---
        apiVersion: apps/v1
        kind: Deployment
        metadata:
          name: worker
        spec:
          selector:
            matchLabels:
              app: worker
          template:
            metadata:
              labels:
                app: worker
            spec:
              containers:
              - name: worker
                image: ghcr.io/acme/worker:1.0.0
        """),
    "overlay/kustomization.yaml": text("""
        namePrefix: prod-
        resources:
        - ../base
        replicas:
        - name: api
          count: 6
        - name: queue
          count: 3
        - name: prod-worker
          count: 0
        """),
}, "overlay", about="replicas by original and by current name; a missing spec.replicas is created; count 0 kept")

_add("namespace_on_custom_resources_of_unknown_scope", {
    "kustomization.yaml": "namespace: cert-manager\nresources:\n- issuers.yaml\n",
    "issuers.yaml": text("""
        apiVersion: cert-manager.io/v1
        kind: ClusterIssuer
        metadata:
          name: letsencrypt
        spec:
          acme:
            server: https://acme-v02.api.letsencrypt.org/directory
            privateKeySecretRef:
              name: letsencrypt-account
        ---
        apiVersion: cert-manager.io/v1
        kind: Issuer
        metadata:
          name: internal-ca
        spec:
          ca:
            secretName: internal-ca
        ---
        apiVersion: v1
        kind: PersistentVolume
        metadata:
          name: models-nfs
        spec:
          capacity:
            storage: 1Ti
          accessModes: [ReadOnlyMany]
          nfs:
            server: nfs.example.com
            path: /models
        """),
}, about="kinds kustomize does not know are treated as namespaced (even a ClusterIssuer); PersistentVolume is not")

# kyaml inserts one YAML node at every label (annotation) field a transformer creates in an object; a later
# in-place write to any of them changes all of them, across kustomization levels.
_SHARED_BASE = {
    "base/kustomization.yaml": text("""
        resources:
        - app.yaml
        commonLabels:
          team: a
        commonAnnotations:
          note: x
        """),
    "base/app.yaml": deployment("web"),
    "labels-only/kustomization.yaml": text("""
        resources:
        - ../base
        labels:
        - pairs:
            team: b
        """),
    "patched/kustomization.yaml": text("""
        resources:
        - ../base
        patches:
        - patch: |
            apiVersion: apps/v1
            kind: Deployment
            metadata:
              name: web
              labels:
                team: b
              annotations:
                note: "y"
        """),
    "json-patched/kustomization.yaml": text("""
        resources:
        - ../base
        patches:
        - target: {kind: Deployment}
          patch: |
            - op: replace
              path: /metadata/labels/team
              value: b
        """),
    "replaced/kustomization.yaml": text("""
        resources:
        - ../base
        configMapGenerator:
        - name: c
          literals: [v=b]
        replacements:
        - source: {kind: ConfigMap, name: c, fieldPath: data.v}
          targets:
          - select: {kind: Deployment}
            fieldPaths: [metadata.labels.team]
        """),
}

_add("shared_label_node_labels_rewrite_selector", _SHARED_BASE, "labels-only",
     about="a metadata-only `labels` pair over a base's commonLabels also changes the selector and template")
_add("shared_label_node_strategic_merge_patch", _SHARED_BASE, "patched",
     about="patching a commonLabels/commonAnnotations value in metadata changes it in selector and template")
_add("shared_label_node_json_patch_does_not_share", _SHARED_BASE, "json-patched",
     about="a JSON 6902 patch changes only the field it names (kustomize patches the object's JSON)")
_add("shared_label_node_replacement", _SHARED_BASE, "replaced",
     about="a replacement into a shared label value changes its selector and template twins")

_add("shared_label_node_from_include_selectors", {
    "base/kustomization.yaml": "resources:\n- sts.yaml\n",
    "base/sts.yaml": text("""
        apiVersion: apps/v1
        kind: StatefulSet
        metadata:
          name: web
        spec:
          selector:
            matchLabels:
              app: web
          template:
            metadata:
              labels:
                app: web
        """),
    "overlay/kustomization.yaml": text("""
        resources:
        - ../base
        labels:
        - pairs:
            tier: a
          includeSelectors: true
        """),
    "top/kustomization.yaml": text("""
        resources:
        - ../overlay
        labels:
        - pairs:
            tier: web
            app: b
          includeTemplates: true
        """),
}, "top", about="only the pair an overlay created in selector and template is shared; the base's `app` is not")
