"""A realistic ML-platform fleet repository: four applications, each with a base and us-east / us-west / eu
overlays, per-cluster overlays for the GPU inference server, and shared components (GPU node pool, eu
compliance with the eu image mirror). `EXAMPLE_CASES` builds every overlay (and base) directory."""

from __future__ import annotations

from tests.hub.render.oracle_cases.base import Case, text

REGIONS = ("us-east", "us-west", "eu")
_REGION_SIZE = {"us-east": 6, "us-west": 3, "eu": 4}
_BUCKET = {"us-east": "s3://acme-models-use1", "us-west": "s3://acme-models-usw2", "eu": "s3://acme-models-euc1"}

FILES: dict[str, str] = {
    # ---------------------------------------------------------------- shared components
    "components/gpu-node-pool/kustomization.yaml": text("""
        apiVersion: kustomize.config.k8s.io/v1alpha1
        kind: Component
        patches:
        - target:
            kind: Deployment
            labelSelector: accelerator=nvidia
          patch: |-
            apiVersion: apps/v1
            kind: Deployment
            metadata:
              name: any
            spec:
              template:
                spec:
                  nodeSelector:
                    node-pool: gpu
                  tolerations:
                  - key: nvidia.com/gpu
                    operator: Exists
                    effect: NoSchedule
                  runtimeClassName: nvidia
        """),
    "components/eu-compliance/kustomization.yaml": text("""
        apiVersion: kustomize.config.k8s.io/v1alpha1
        kind: Component
        commonAnnotations:
          compliance.acme.io/data-residency: eu
          compliance.acme.io/gdpr: "true"
        images:
        - name: nvcr.io/nvidia/k8s/dcgm-exporter
          newName: registry.eu.acme.io/mirror/dcgm-exporter
        - name: busybox
          newName: registry.eu.acme.io/mirror/busybox
        """),
    # ---------------------------------------------------------------- inference-server
    "apps/inference-server/base/kustomization.yaml": text("""
        apiVersion: kustomize.config.k8s.io/v1beta1
        kind: Kustomization
        resources:
        - deployment.yaml
        - service.yaml
        - hpa.yaml
        - pdb.yaml
        - serviceaccount.yaml
        labels:
        - pairs:
            app.kubernetes.io/name: inference-server
            app.kubernetes.io/part-of: ml-platform
          includeSelectors: true
        configMapGenerator:
        - name: inference-config
          files:
          - config/model.properties
          literals:
          - MAX_BATCH_SIZE=16
          - LOG_LEVEL=info
        secretGenerator: []
        """),
    "apps/inference-server/base/config/model.properties": text("""
        model.name=llama-3-8b-instruct
        model.dtype=bfloat16
        server.port=8000
        """),
    "apps/inference-server/base/deployment.yaml": text("""
        apiVersion: apps/v1
        kind: Deployment
        metadata:
          name: inference-server
          labels:
            accelerator: nvidia
        spec:
          replicas: 2
          revisionHistoryLimit: 5
          strategy:
            type: RollingUpdate
            rollingUpdate:
              maxSurge: 1
              maxUnavailable: 0
          selector:
            matchLabels:
              component: server
          template:
            metadata:
              labels:
                component: server
              annotations:
                prometheus.io/scrape: "true"
                prometheus.io/port: "8000"
            spec:
              serviceAccountName: inference-server
              initContainers:
              - name: fetch-weights
                image: busybox:1.36
                command: ["sh", "-c", "echo fetching weights"]
                envFrom:
                - configMapRef:
                    name: inference-config
              containers:
              - name: server
                image: ghcr.io/acme/inference-server:2.4.0
                args: ["--config", "/etc/inference/model.properties"]
                ports:
                - name: http
                  containerPort: 8000
                env:
                - name: MAX_BATCH_SIZE
                  valueFrom:
                    configMapKeyRef:
                      name: inference-config
                      key: MAX_BATCH_SIZE
                resources:
                  requests:
                    cpu: "4"
                    memory: 32Gi
                    nvidia.com/gpu: 1
                  limits:
                    memory: 32Gi
                    nvidia.com/gpu: 1
                readinessProbe:
                  httpGet:
                    path: /health/ready
                    port: http
                  periodSeconds: 10
                volumeMounts:
                - name: config
                  mountPath: /etc/inference
              volumes:
              - name: config
                configMap:
                  name: inference-config
        """),
    "apps/inference-server/base/service.yaml": text("""
        apiVersion: v1
        kind: Service
        metadata:
          name: inference-server
        spec:
          selector:
            component: server
          ports:
          - name: http
            port: 80
            targetPort: http
        """),
    "apps/inference-server/base/hpa.yaml": text("""
        apiVersion: autoscaling/v2
        kind: HorizontalPodAutoscaler
        metadata:
          name: inference-server
        spec:
          scaleTargetRef:
            apiVersion: apps/v1
            kind: Deployment
            name: inference-server
          minReplicas: 2
          maxReplicas: 8
          metrics:
          - type: Pods
            pods:
              metric:
                name: inference_queue_depth
              target:
                type: AverageValue
                averageValue: "10"
        """),
    "apps/inference-server/base/pdb.yaml": text("""
        apiVersion: policy/v1
        kind: PodDisruptionBudget
        metadata:
          name: inference-server
        spec:
          maxUnavailable: 1
          selector:
            matchLabels:
              component: server
        """),
    "apps/inference-server/base/serviceaccount.yaml": text("""
        apiVersion: v1
        kind: ServiceAccount
        metadata:
          name: inference-server
        """),
    "apps/inference-server/clusters/use1-gpu-prod-1/kustomization.yaml": text("""
        resources:
        - ../../overlays/us-east
        nameSuffix: -a100
        replicas:
        - name: inference-server
          count: 10
        patches:
        - target:
            kind: Deployment
            name: inference-server
          patch: |-
            - op: replace
              path: /spec/template/spec/nodeSelector/node-pool
              value: gpu-a100
        - target:
            kind: HorizontalPodAutoscaler
          patch: |-
            - op: replace
              path: /spec/maxReplicas
              value: 24
        configMapGenerator:
        - name: inference-config
          behavior: merge
          literals:
          - MAX_BATCH_SIZE=64
        """),
    "apps/inference-server/clusters/eu-gpu-prod-1/kustomization.yaml": text("""
        resources:
        - ../../overlays/eu
        commonAnnotations:
          fleetline.io/cluster: eu-gpu-prod-1
        patchesStrategicMerge:
        - pin-zone.yaml
        """),
    "apps/inference-server/clusters/eu-gpu-prod-1/pin-zone.yaml": text("""
        apiVersion: apps/v1
        kind: Deployment
        metadata:
          name: inference-server
          namespace: inference
        spec:
          template:
            spec:
              affinity:
                nodeAffinity:
                  requiredDuringSchedulingIgnoredDuringExecution:
                    nodeSelectorTerms:
                    - matchExpressions:
                      - key: topology.kubernetes.io/zone
                        operator: In
                        values: [eu-central-1a, eu-central-1b]
        """),
    # ---------------------------------------------------------------- model-registry-config
    "apps/model-registry-config/base/kustomization.yaml": text("""
        resources:
        - rbac.yaml
        - external-secret.yaml
        configMapGenerator:
        - name: model-registry
          files:
          - registry.yaml
          literals:
          - REGISTRY_URL=https://models.acme.io
        generatorOptions:
          labels:
            app.kubernetes.io/name: model-registry
        """),
    "apps/model-registry-config/base/registry.yaml": text("""
        models:
        - name: llama-3-8b-instruct
          revision: "2024-05-01"
          stage: production
        - name: whisper-large-v3
          revision: "1.0"
          stage: staging
        """),
    "apps/model-registry-config/base/rbac.yaml": text("""
        apiVersion: v1
        kind: ServiceAccount
        metadata:
          name: registry-sync
        ---
        apiVersion: rbac.authorization.k8s.io/v1
        kind: Role
        metadata:
          name: registry-reader
        rules:
        - apiGroups: [""]
          resources: [configmaps]
          resourceNames: [model-registry]
          verbs: [get, watch]
        ---
        apiVersion: rbac.authorization.k8s.io/v1
        kind: RoleBinding
        metadata:
          name: registry-reader
        roleRef:
          apiGroup: rbac.authorization.k8s.io
          kind: Role
          name: registry-reader
        subjects:
        - kind: ServiceAccount
          name: registry-sync
        """),
    "apps/model-registry-config/base/external-secret.yaml": text("""
        apiVersion: external-secrets.io/v1beta1
        kind: ExternalSecret
        metadata:
          name: registry-credentials
        spec:
          refreshInterval: 1h
          secretStoreRef:
            kind: ClusterSecretStore
            name: vault
          target:
            name: registry-credentials
          data:
          - secretKey: token
            remoteRef:
              key: ml/registry
              property: token
        """),
    # ---------------------------------------------------------------- training-scheduler
    "apps/training-scheduler/base/kustomization.yaml": text("""
        namePrefix: training-
        resources:
        - cronjob.yaml
        - pvc.yaml
        - rbac.yaml
        commonLabels:
          app.kubernetes.io/name: training-scheduler
        configMapGenerator:
        - name: schedule
          envs:
          - schedule.env
        """),
    "apps/training-scheduler/base/schedule.env": text("""
        # nightly fine-tuning
        DATASET=s3://acme-datasets/feedback/latest
        EPOCHS=3
        LEARNING_RATE=0.0002
        """),
    "apps/training-scheduler/base/cronjob.yaml": text("""
        apiVersion: batch/v1
        kind: CronJob
        metadata:
          name: nightly-finetune
        spec:
          schedule: "0 1 * * *"
          timeZone: Etc/UTC
          concurrencyPolicy: Forbid
          successfulJobsHistoryLimit: 3
          jobTemplate:
            spec:
              backoffLimit: 2
              template:
                spec:
                  serviceAccountName: scheduler
                  restartPolicy: OnFailure
                  initContainers:
                  - name: stage-data
                    image: busybox:1.36
                    command: ["sh", "-c", "echo staging"]
                  containers:
                  - name: trainer
                    image: ghcr.io/acme/trainer:5.1.0
                    envFrom:
                    - configMapRef:
                        name: schedule
                    resources:
                      limits:
                        nvidia.com/gpu: 8
                    volumeMounts:
                    - name: checkpoints
                      mountPath: /checkpoints
                  volumes:
                  - name: checkpoints
                    persistentVolumeClaim:
                      claimName: checkpoints
        """),
    "apps/training-scheduler/base/pvc.yaml": text("""
        apiVersion: v1
        kind: PersistentVolumeClaim
        metadata:
          name: checkpoints
        spec:
          accessModes: [ReadWriteMany]
          resources:
            requests:
              storage: 2Ti
        """),
    "apps/training-scheduler/base/rbac.yaml": text("""
        apiVersion: v1
        kind: ServiceAccount
        metadata:
          name: scheduler
        ---
        apiVersion: rbac.authorization.k8s.io/v1
        kind: ClusterRole
        metadata:
          name: scheduler
        rules:
        - apiGroups: [batch]
          resources: [jobs]
          verbs: [create, delete, get, list, watch]
        ---
        apiVersion: rbac.authorization.k8s.io/v1
        kind: ClusterRoleBinding
        metadata:
          name: scheduler
        roleRef:
          apiGroup: rbac.authorization.k8s.io
          kind: ClusterRole
          name: scheduler
        subjects:
        - kind: ServiceAccount
          name: scheduler
          namespace: default
        """),
    # ---------------------------------------------------------------- monitoring
    "apps/monitoring/base/kustomization.yaml": text("""
        resources:
        - crd.yaml
        - gpumonitor.yaml
        - dcgm-exporter.yaml
        labels:
        - pairs:
            app.kubernetes.io/part-of: gpu-monitoring
        """),
    "apps/monitoring/base/crd.yaml": text("""
        apiVersion: apiextensions.k8s.io/v1
        kind: CustomResourceDefinition
        metadata:
          name: gpumonitors.monitoring.acme.io
        spec:
          group: monitoring.acme.io
          names:
            kind: GPUMonitor
            listKind: GPUMonitorList
            plural: gpumonitors
            singular: gpumonitor
          scope: Namespaced
          versions:
          - name: v1
            served: true
            storage: true
            schema:
              openAPIV3Schema:
                type: object
                properties:
                  spec:
                    type: object
                    properties:
                      interval:
                        type: string
                      utilizationAlertThreshold:
                        type: integer
        """),
    "apps/monitoring/base/gpumonitor.yaml": text("""
        apiVersion: monitoring.acme.io/v1
        kind: GPUMonitor
        metadata:
          name: fleet-gpus
        spec:
          interval: 30s
          utilizationAlertThreshold: 95
          exporterService: dcgm-exporter
        """),
    "apps/monitoring/base/dcgm-exporter.yaml": text("""
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
              nodeSelector:
                node-pool: gpu
              containers:
              - name: exporter
                image: nvcr.io/nvidia/k8s/dcgm-exporter:3.3.5-3.4.0-ubuntu22.04
                ports:
                - name: metrics
                  containerPort: 9400
        ---
        apiVersion: v1
        kind: Service
        metadata:
          name: dcgm-exporter
        spec:
          selector:
            app: dcgm-exporter
          ports:
          - name: metrics
            port: 9400
        """),
}


# The eu overlays pull from the eu registry mirror (the tag set just above is kept).
_EU_MIRROR = "  newName: registry.eu.acme.io/mirror/{image}\n"


def _overlays() -> None:
    for region in REGIONS:
        eu = region == "eu"
        components = ["../../../../components/gpu-node-pool"] + (["../../../../components/eu-compliance"] if eu else [])
        component_lines = "".join(f"- {c}\n" for c in components)
        FILES[f"apps/inference-server/overlays/{region}/kustomization.yaml"] = text("""
            resources:
            - ../../base
            namespace: inference
            """) + "components:\n" + component_lines + text(f"""
            commonLabels:
              topology.acme.io/region: {region}
            images:
            - name: ghcr.io/acme/inference-server
              newTag: 2.4.1
            """) + (_EU_MIRROR.format(image="inference-server") if eu else "") + text(f"""
            replicas:
            - name: inference-server
              count: {_REGION_SIZE[region]}
            configMapGenerator:
            - name: inference-config
              behavior: merge
              literals:
              - MODEL_BUCKET={_BUCKET[region]}
            """)
        registry_components = "components:\n- ../../../../components/eu-compliance\n" if eu else ""
        FILES[f"apps/model-registry-config/overlays/{region}/kustomization.yaml"] = text("""
            resources:
            - ../../base
            namespace: model-registry
            """) + registry_components + text(f"""
            configMapGenerator:
            - name: model-registry
              behavior: merge
              literals:
              - MODEL_BUCKET={_BUCKET[region]}
              - REGION={region}
            """)
        hour = {"us-east": 6, "us-west": 9, "eu": 1}[region]
        FILES[f"apps/training-scheduler/overlays/{region}/kustomization.yaml"] = text("""
            resources:
            - ../../base
            namespace: training
            """) + registry_components + text(f"""
            patches:
            - target:
                group: batch
                kind: CronJob
              patch: |-
                - op: replace
                  path: /spec/schedule
                  value: "0 {hour} * * *"
            images:
            - name: ghcr.io/acme/trainer
              newTag: 5.2.0
            """) + (_EU_MIRROR.format(image="trainer") if eu else "")
        FILES[f"apps/monitoring/overlays/{region}/kustomization.yaml"] = text("""
            resources:
            - ../../base
            namespace: monitoring
            """) + registry_components + text(f"""
            patches:
            - patch: |-
                apiVersion: monitoring.acme.io/v1
                kind: GPUMonitor
                metadata:
                  name: fleet-gpus
                spec:
                  region: {region}
            """)


_overlays()

BUILD_DIRS: list[str] = sorted(
    path.rsplit("/", 1)[0] for path in FILES
    if path.endswith("kustomization.yaml") and not path.startswith("components/"))

EXAMPLE_CASES: list[Case] = [
    Case("example:" + directory, FILES, directory, "the ML-platform example repository") for directory in BUILD_DIRS]
