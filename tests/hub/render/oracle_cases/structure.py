"""Cases for the shape of a build: resources, bases, overlays, components, output order and YAML reading."""

from __future__ import annotations

from tests.hub.render.oracle_cases.base import Case, deployment, service, text

CASES: list[Case] = []


def _add(name: str, files: dict[str, str], path: str = "", about: str = "") -> None:
    CASES.append(Case(name, files, path, about))


_add("resources_files_and_directories", {
    "kustomization.yaml": text("""
        resources:
        - namespace.yaml
        - app
        - config/settings.yaml
        """),
    "namespace.yaml": text("""
        apiVersion: v1
        kind: Namespace
        metadata:
          name: ml-serving
        """),
    "app/kustomization.yaml": text("""
        resources:
        - deployment.yaml
        - service.yaml
        """),
    "app/deployment.yaml": deployment("inference", "ghcr.io/acme/inference:2.3.1"),
    "app/service.yaml": service("inference"),
    "config/settings.yaml": text("""
        apiVersion: v1
        kind: ConfigMap
        metadata:
          name: settings
        data:
          LOG_LEVEL: info
        """),
}, about="a file, a directory holding a kustomization, and a file in a subdirectory, in declaration order")

_add("multi_document_file_with_empty_documents", {
    "kustomization.yaml": "resources:\n- all.yaml\n",
    "all.yaml": text("""
        ---
        # leading separator and a comment-only document
        ---
        apiVersion: v1
        kind: ServiceAccount
        metadata:
          name: trainer
        ---
        ---

        ---
        apiVersion: v1
        kind: ConfigMap
        metadata:
          name: trainer-defaults
        data:
          EPOCHS: "10"
        ...
        ---
        apiVersion: v1
        kind: Secret
        metadata:
          name: trainer-token
        type: Opaque
        stringData:
          token: not-a-real-token
        ---
        """),
}, about="empty documents, comment-only documents and `...` end markers are skipped")

_add("kind_list_expansion", {
    "kustomization.yaml": "resources:\n- list.yaml\n- deploy.yaml\n",
    "list.yaml": text("""
        apiVersion: v1
        kind: List
        items:
        - apiVersion: v1
          kind: ConfigMap
          metadata:
            name: from-list-a
          data:
            a: "1"
        - apiVersion: v1
          kind: Service
          metadata:
            name: from-list-svc
          spec:
            selector:
              app: web
            ports:
            - port: 80
        """),
    "deploy.yaml": deployment("web"),
}, about="a `kind: List` document is replaced by its items")

_add("local_config_excluded", {
    "kustomization.yaml": text("""
        resources:
        - app.yaml
        - values.yaml
        namePrefix: dev-
        """),
    "app.yaml": deployment("api"),
    "values.yaml": text("""
        apiVersion: v1
        kind: ConfigMap
        metadata:
          name: build-values
          annotations:
            config.kubernetes.io/local-config: "true"
        data:
          region: us-east
        """),
}, about="objects annotated config.kubernetes.io/local-config are dropped from the output")

_NESTED = {
    "base/kustomization.yaml": text("""
        resources:
        - deployment.yaml
        - service.yaml
        configMapGenerator:
        - name: inference-config
          literals:
          - MODEL=resnet50
          - BATCH_SIZE=8
        """),
    "base/deployment.yaml": deployment("inference", "ghcr.io/acme/inference:1.0.0", extra_spec="""
        volumes:
        - name: config
          configMap:
            name: inference-config
        """),
    "base/service.yaml": service("inference"),
    "regions/us-east/kustomization.yaml": text("""
        resources:
        - ../../base
        namePrefix: use1-
        commonLabels:
          region: us-east
        images:
        - name: ghcr.io/acme/inference
          newTag: 1.1.0
        configMapGenerator:
        - name: inference-config
          behavior: merge
          literals:
          - BATCH_SIZE=16
          - REGION=us-east
        """),
    "clusters/use1-prod-1/kustomization.yaml": text("""
        resources:
        - ../../regions/us-east
        namespace: inference
        nameSuffix: -p1
        commonAnnotations:
          fleetline.io/cluster: use1-prod-1
        replicas:
        - name: use1-inference
          count: 4
        patches:
        - patch: |-
            apiVersion: apps/v1
            kind: Deployment
            metadata:
              name: use1-inference
            spec:
              template:
                spec:
                  nodeSelector:
                    node.kubernetes.io/instance-type: g5.2xlarge
        """),
}
_add("nested_overlays_three_levels", _NESTED, "clusters/use1-prod-1",
     "base -> region -> cluster: prefixes, suffixes, generator merge, hash and name references across levels")
_add("nested_overlays_region_level", _NESTED, "regions/us-east", "the middle level built on its own")

_add("bases_field", {
    "base/kustomization.yaml": "resources:\n- deployment.yaml\n",
    "base/deployment.yaml": deployment("registry", "ghcr.io/acme/model-registry:0.9.2"),
    "overlay/kustomization.yaml": text("""
        bases:
        - ../base
        resources:
        - service.yaml
        namePrefix: staging-
        """),
    "overlay/service.yaml": service("registry"),
}, "overlay", "the deprecated `bases` field is accumulated before `resources`")

_COMPONENTS = {
    "base/kustomization.yaml": text("""
        resources:
        - deployment.yaml
        configMapGenerator:
        - name: runtime
          literals:
          - ACCELERATOR=cpu
        """),
    "base/deployment.yaml": deployment("predictor", "ghcr.io/acme/predictor:3.0.0", extra_spec="""
        volumes:
        - name: runtime
          configMap:
            name: runtime
        """),
    "components/gpu/kustomization.yaml": text("""
        apiVersion: kustomize.config.k8s.io/v1alpha1
        kind: Component
        resources:
        - priorityclass.yaml
        configMapGenerator:
        - name: runtime
          behavior: merge
          literals:
          - ACCELERATOR=nvidia
        patches:
        - target:
            kind: Deployment
          patch: |-
            - op: add
              path: /spec/template/spec/tolerations
              value:
              - key: nvidia.com/gpu
                operator: Exists
                effect: NoSchedule
        images:
        - name: ghcr.io/acme/predictor
          newTag: 3.0.0-cuda12
        """),
    "components/gpu/priorityclass.yaml": text("""
        apiVersion: scheduling.k8s.io/v1
        kind: PriorityClass
        metadata:
          name: gpu-inference
        value: 100000
        globalDefault: false
        """),
    "components/debug/kustomization.yaml": text("""
        apiVersion: kustomize.config.k8s.io/v1alpha1
        kind: Component
        patches:
        - patch: |-
            apiVersion: apps/v1
            kind: Deployment
            metadata:
              name: predictor
            spec:
              template:
                spec:
                  containers:
                  - name: predictor
                    env:
                    - name: DEBUG
                      value: "true"
        """),
    "overlays/gpu-east/kustomization.yaml": text("""
        resources:
        - ../../base
        components:
        - ../../components/gpu
        namePrefix: east-
        namespace: ml-east
        """),
    "overlays/gpu-west/kustomization.yaml": text("""
        resources:
        - ../../base
        components:
        - ../../components/gpu
        - ../../components/debug
        nameSuffix: -west
        commonLabels:
          region: us-west
        """),
}
_add("component_shared_overlay_east", _COMPONENTS, "overlays/gpu-east",
     "a component's resources, generator merge, patch and images, then the overlay's prefix and namespace")
_add("component_shared_overlay_west", _COMPONENTS, "overlays/gpu-west",
     "the same component in a second overlay, with a second component applied after it")

_add("kustomization_file_names", {
    "kustomization.yaml": "resources:\n- a\n- b\n",
    "a/kustomization.yml": "resources:\n- cm.yaml\nnamePrefix: a-\n",
    "a/cm.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: settings\ndata:\n  k: v\n",
    "b/Kustomization": "resources:\n- cm.yaml\nnamePrefix: b-\n",
    "b/cm.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: settings\ndata:\n  k: w\n",
}, about="kustomization.yml and Kustomization are recognised")

_MANY_KINDS = {
    "kustomization.yaml": text("""
        resources:
        - workloads.yaml
        - rbac.yaml
        - cluster.yaml
        - custom.yaml
        """),
    "workloads.yaml": text("""
        apiVersion: autoscaling/v2
        kind: HorizontalPodAutoscaler
        metadata:
          name: api
        spec:
          scaleTargetRef:
            apiVersion: apps/v1
            kind: Deployment
            name: api
          minReplicas: 2
          maxReplicas: 5
        ---
        apiVersion: networking.k8s.io/v1
        kind: Ingress
        metadata:
          name: api
        spec:
          rules:
          - host: api.example.com
            http:
              paths:
              - path: /
                pathType: Prefix
                backend:
                  service:
                    name: api
                    port:
                      number: 80
        ---
        apiVersion: policy/v1
        kind: PodDisruptionBudget
        metadata:
          name: api
        spec:
          minAvailable: 1
          selector:
            matchLabels:
              app: api
        ---
        apiVersion: batch/v1
        kind: CronJob
        metadata:
          name: cleanup
        spec:
          schedule: "0 3 * * *"
          jobTemplate:
            spec:
              template:
                spec:
                  restartPolicy: OnFailure
                  containers:
                  - name: cleanup
                    image: busybox:1.36
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
                image: redis:7.2
        ---
        """) + deployment("api") + "---\n" + service("api") + text("""
        ---
        apiVersion: v1
        kind: Secret
        metadata:
          name: api-tls
        type: kubernetes.io/tls
        stringData:
          tls.crt: cert
          tls.key: key
        ---
        apiVersion: v1
        kind: ConfigMap
        metadata:
          name: api
        data:
          k: v
        ---
        apiVersion: v1
        kind: ConfigMap
        metadata:
          name: aaa-listed-second
        data:
          k: v
        ---
        apiVersion: v1
        kind: PersistentVolumeClaim
        metadata:
          name: scratch
        spec:
          accessModes: [ReadWriteOnce]
          resources:
            requests:
              storage: 1Gi
        ---
        apiVersion: v1
        kind: LimitRange
        metadata:
          name: defaults
        spec:
          limits:
          - type: Container
            default:
              cpu: 500m
        ---
        apiVersion: v1
        kind: ResourceQuota
        metadata:
          name: quota
        spec:
          hard:
            pods: "50"
        """),
    "rbac.yaml": text("""
        apiVersion: rbac.authorization.k8s.io/v1
        kind: RoleBinding
        metadata:
          name: api
        roleRef:
          apiGroup: rbac.authorization.k8s.io
          kind: Role
          name: api
        subjects:
        - kind: ServiceAccount
          name: api
        ---
        apiVersion: rbac.authorization.k8s.io/v1
        kind: Role
        metadata:
          name: api
        rules:
        - apiGroups: [""]
          resources: [configmaps]
          verbs: [get]
        ---
        apiVersion: rbac.authorization.k8s.io/v1
        kind: ClusterRoleBinding
        metadata:
          name: api-reader
        roleRef:
          apiGroup: rbac.authorization.k8s.io
          kind: ClusterRole
          name: api-reader
        subjects:
        - kind: ServiceAccount
          name: api
          namespace: default
        ---
        apiVersion: rbac.authorization.k8s.io/v1
        kind: ClusterRole
        metadata:
          name: api-reader
        rules:
        - apiGroups: [""]
          resources: [nodes]
          verbs: [list]
        ---
        apiVersion: v1
        kind: ServiceAccount
        metadata:
          name: api
        """),
    "cluster.yaml": text("""
        apiVersion: admissionregistration.k8s.io/v1
        kind: ValidatingWebhookConfiguration
        metadata:
          name: api-validate
        webhooks:
        - name: validate.api.example.com
          admissionReviewVersions: [v1]
          sideEffects: None
          clientConfig:
            service:
              name: api
              namespace: default
              path: /validate
        ---
        apiVersion: admissionregistration.k8s.io/v1
        kind: MutatingWebhookConfiguration
        metadata:
          name: api-mutate
        webhooks:
        - name: mutate.api.example.com
          admissionReviewVersions: [v1]
          sideEffects: None
          clientConfig:
            service:
              name: api
              namespace: default
              path: /mutate
        ---
        apiVersion: scheduling.k8s.io/v1
        kind: PriorityClass
        metadata:
          name: high
        value: 1000
        ---
        apiVersion: storage.k8s.io/v1
        kind: StorageClass
        metadata:
          name: fast
        provisioner: ebs.csi.aws.com
        ---
        apiVersion: apiextensions.k8s.io/v1
        kind: CustomResourceDefinition
        metadata:
          name: models.ml.example.com
        spec:
          group: ml.example.com
          names:
            kind: Model
            plural: models
          scope: Namespaced
          versions:
          - name: v1
            served: true
            storage: true
            schema:
              openAPIV3Schema:
                type: object
                x-kubernetes-preserve-unknown-fields: true
        ---
        apiVersion: v1
        kind: Namespace
        metadata:
          name: serving
        """),
    "custom.yaml": text("""
        apiVersion: ml.example.com/v1
        kind: Model
        metadata:
          name: resnet
        spec:
          uri: s3://models/resnet50
        ---
        apiVersion: monitoring.coreos.com/v1
        kind: ServiceMonitor
        metadata:
          name: api
        spec:
          selector:
            matchLabels:
              app: api
          endpoints:
          - port: http
        ---
        apiVersion: ml.example.com/v1
        kind: Dataset
        metadata:
          name: imagenet
        spec:
          uri: s3://datasets/imagenet
        """),
}
_add("output_order_many_kinds", _MANY_KINDS,
     about="kustomize's legacy order: Namespace, CRD, ServiceAccount, RBAC, ConfigMap, Secret, Service, ..., "
           "webhooks last; unknown kinds between, by kind then name")

_add("sort_options_fifo", dict(_MANY_KINDS, **{"kustomization.yaml": text("""
        resources:
        - workloads.yaml
        - rbac.yaml
        - cluster.yaml
        - custom.yaml
        sortOptions:
          order: fifo
        """)}), about="sortOptions order fifo keeps declaration order")

_add("sort_options_legacy_custom", dict(_MANY_KINDS, **{"kustomization.yaml": text("""
        resources:
        - workloads.yaml
        - rbac.yaml
        - cluster.yaml
        - custom.yaml
        sortOptions:
          order: legacy
          legacySortOptions:
            orderFirst:
            - CustomResourceDefinition
            - Namespace
            - PriorityClass
            orderLast:
            - HorizontalPodAutoscaler
            - ValidatingWebhookConfiguration
        """)}), about="legacySortOptions orderFirst / orderLast replace the built-in kind lists")

_add("yaml_scalars_kept_as_strings", {
    "kustomization.yaml": text("""
        resources:
        - config.yaml
        commonLabels:
          tier: "01"
        configMapGenerator:
        - name: flags
          literals:
          - ENABLED=yes
          - OCTAL=0123
          - VERSION=1.0
          - EMPTY=
          - QUOTED="on"
        """),
    "config.yaml": text("""
        apiVersion: v1
        kind: ConfigMap
        metadata:
          name: scalars
          annotations:
            build-date: 2024-05-01
        data:
          answer: "yes"
          plain_yes: yes
          plain_no: no
          on: off
          zip: "0123"
          version: "1.0"
          when: "2024-01-02T03:04:05Z"
          tilde: "~"
          nulls: "null"
          multiline: |
            line one
            line two
        """),
}, about="yes/no/on/off, leading zeros, versions and timestamps stay strings; generator literals too")

_add("gpu_inference_deployment", {
    "kustomization.yaml": text("""
        resources:
        - inference.yaml
        namespace: gpu-serving
        images:
        - name: nvcr.io/nvidia/tritonserver
          newTag: 24.05-py3
        """),
    "inference.yaml": text("""
        apiVersion: apps/v1
        kind: Deployment
        metadata:
          name: triton
          labels:
            app: triton
        spec:
          replicas: 2
          selector:
            matchLabels:
              app: triton
          template:
            metadata:
              labels:
                app: triton
            spec:
              runtimeClassName: nvidia
              nodeSelector:
                nvidia.com/gpu.product: NVIDIA-A100-SXM4-80GB
              tolerations:
              - key: nvidia.com/gpu
                operator: Exists
                effect: NoSchedule
              containers:
              - name: triton
                image: nvcr.io/nvidia/tritonserver:24.01-py3
                args: ["tritonserver", "--model-repository=s3://models"]
                resources:
                  requests:
                    cpu: "8"
                    memory: 64Gi
                    nvidia.com/gpu: 2
                  limits:
                    memory: 64Gi
                    nvidia.com/gpu: 2
                volumeMounts:
                - name: shm
                  mountPath: /dev/shm
              volumes:
              - name: shm
                emptyDir:
                  medium: Memory
                  sizeLimit: 16Gi
        """),
}, about="extended resources (nvidia.com/gpu) keep their integer quantities; runtimeClass and tolerations kept")

_add("crd_and_custom_resources_namespaced", {
    "kustomization.yaml": text("""
        resources:
        - crd.yaml
        - monitors.yaml
        namespace: monitoring
        namePrefix: ml-
        commonLabels:
          team: ml-platform
        """),
    "crd.yaml": text("""
        apiVersion: apiextensions.k8s.io/v1
        kind: CustomResourceDefinition
        metadata:
          name: gpumonitors.monitoring.example.com
        spec:
          group: monitoring.example.com
          names:
            kind: GPUMonitor
            plural: gpumonitors
          scope: Namespaced
          versions:
          - name: v1alpha1
            served: true
            storage: true
            schema:
              openAPIV3Schema:
                type: object
                x-kubernetes-preserve-unknown-fields: true
        """),
    "monitors.yaml": text("""
        apiVersion: monitoring.example.com/v1alpha1
        kind: GPUMonitor
        metadata:
          name: dcgm
        spec:
          scrapeInterval: 15s
          selector:
            matchLabels:
              app: triton
        """),
}, about="custom resources get namespace, prefix and labels; a CRD keeps its name (no prefix) and namespace")
