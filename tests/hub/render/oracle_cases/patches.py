"""Cases for patches: `patches` (strategic merge and JSON 6902, inline and from files, with targets),
`patchesStrategicMerge`, `patchesJson6902`, and `$patch` directives."""

from __future__ import annotations

from tests.hub.render.oracle_cases.base import Case, deployment, service, text

CASES: list[Case] = []


def _add(name: str, files: dict[str, str], path: str = "", about: str = "") -> None:
    CASES.append(Case(name, files, path, about))


_FLEET = (
    deployment("web-frontend", "ghcr.io/acme/web:1.0.0", labels="tier: web") + "---\n"
    + deployment("web-backend", "ghcr.io/acme/api:1.0.0", labels="tier: api") + "---\n"
    + deployment("inference-gpu", "ghcr.io/acme/inference:1.0.0", labels="tier: gpu") + "---\n"
    + deployment("inference-cpu", "ghcr.io/acme/inference:1.0.0", labels="tier: cpu") + "---\n"
    + service("web-frontend") + "---\n"
    + text("""
        apiVersion: apps/v1
        kind: StatefulSet
        metadata:
          name: web-cache
          labels:
            tier: web
          annotations:
            fleetline.io/patchable: "true"
        spec:
          serviceName: web-cache
          selector:
            matchLabels:
              app: web-cache
          template:
            metadata:
              labels:
                app: web-cache
            spec:
              containers:
              - name: redis
                image: redis:7.2
        ---
        apiVersion: batch/v1
        kind: Job
        metadata:
          name: web-migrate
          annotations:
            fleetline.io/patchable: "true"
        spec:
          template:
            spec:
              restartPolicy: Never
              containers:
              - name: migrate
                image: ghcr.io/acme/api:1.0.0
        """))


def _deployment_labelled(name: str, tier: str, extra: str = "") -> str:
    return text(f"""
        apiVersion: apps/v1
        kind: Deployment
        metadata:
          name: {name}
          labels:
            tier: {tier}
        """) + extra


_add("patches_strategic_merge_inline", {
    "kustomization.yaml": text("""
        resources:
        - fleet.yaml
        patches:
        - patch: |-
            apiVersion: apps/v1
            kind: Deployment
            metadata:
              name: web-frontend
            spec:
              replicas: 3
              template:
                spec:
                  containers:
                  - name: web-frontend
                    resources:
                      limits:
                        memory: 256Mi
                    env:
                    - name: FEATURE_X
                      value: "on"
                  - name: log-shipper
                    image: fluent/fluent-bit:3.0
        - target:
            kind: Deployment
            labelSelector: tier in (gpu,cpu)
          patch: |-
            apiVersion: apps/v1
            kind: Deployment
            metadata:
              name: ignored-when-target-given
            spec:
              template:
                metadata:
                  annotations:
                    prometheus.io/scrape: "true"
        """),
    "fleet.yaml": _FLEET,
}, about="inline SMP: target from the patch's own id; with a target, the patch's name is ignored and every "
         "selected object is patched; containers merged by name, new ones appended")

_add("patches_json6902_inline_ops_succeed", {
    "kustomization.yaml": text("""
        resources:
        - fleet.yaml
        patches:
        - target:
            kind: Deployment
            name: inference-.*
          patch: |-
            - op: test
              path: /spec/replicas
              value: 1
            - op: add
              path: /spec/template/spec/containers/0/args
              value: ["--max-batch", "32"]
            - op: add
              path: /spec/template/spec/containers/0/args/-
              value: --verbose
            - op: add
              path: /spec/template/spec/containers/0/args/0
              value: serve
            - op: replace
              path: /spec/replicas
              value: 2
            - op: add
              path: /metadata/annotations
              value: {}
            - op: copy
              from: /metadata/labels/tier
              path: /metadata/annotations/copied-tier
            - op: move
              from: /spec/template/spec/containers/0/ports
              path: /spec/template/spec/containers/0/ports-moved-out
            - op: remove
              path: /spec/template/spec/containers/0/ports-moved-out
            - op: add
              path: /metadata/labels/app.kubernetes.io~1component
              value: predictor
        - target:
            name: web-.*
          patch: |-
            - op: add
              path: /metadata/annotations
              value:
                matched-by: name-regex
        """),
    "fleet.yaml": _FLEET,
}, about="JSON 6902 add/remove/replace/move/copy/test, `-` append, `~1` escapes; a target with only a name "
         "regex selects every kind whose name matches")

_add("patches_from_files", {
    "kustomization.yaml": text("""
        resources:
        - fleet.yaml
        patches:
        - path: patches/frontend-resources.yaml
        - path: patches/gpu-tolerations.yaml
          target:
            kind: Deployment
            name: inference-gpu
        - path: patches/cache.json
          target:
            group: apps
            kind: StatefulSet
            name: web-cache
        - path: patches/smp-many.yaml
          target:
            labelSelector: tier=web
        """),
    "fleet.yaml": _FLEET,
    "patches/frontend-resources.yaml": text("""
        apiVersion: apps/v1
        kind: Deployment
        metadata:
          name: web-frontend
        spec:
          template:
            spec:
              containers:
              - name: web-frontend
                resources:
                  requests:
                    cpu: 250m
        """),
    "patches/gpu-tolerations.yaml": text("""
        - op: add
          path: /spec/template/spec/tolerations
          value:
          - key: nvidia.com/gpu
            operator: Exists
            effect: NoSchedule
        - op: add
          path: /spec/template/spec/containers/0/resources
          value:
            limits:
              nvidia.com/gpu: 1
        """),
    "patches/cache.json": '[{"op": "replace", "path": "/spec/template/spec/containers/0/image", "value": "redis:7.4"},'
                          ' {"op": "add", "path": "/spec/replicas", "value": 3}]\n',
    "patches/smp-many.yaml": text("""
        apiVersion: apps/v1
        kind: Deployment
        metadata:
          name: any
          annotations:
            owner: web-team
        """),
}, about="patches from files: SMP YAML, JSON 6902 as YAML and as JSON, an SMP applied to every label match "
         "(including a StatefulSet and a Service, whatever the patch's own kind)")

_add("patches_target_selectors", {
    "kustomization.yaml": text("""
        resources:
        - fleet.yaml
        - other-namespace.yaml
        patches:
        - target:
            group: apps
            version: v1
            kind: StatefulSet
          patch: |-
            - op: add
              path: /metadata/labels/selected-by
              value: group-version-kind
        - target:
            namespace: batch-jobs
          patch: |-
            kind: Any
            metadata:
              name: any
              labels:
                selected-by: namespace
        - target:
            labelSelector: tier notin (web,api),!canary
          patch: |-
            - op: add
              path: /metadata/annotations
              value:
                selected-by: label-selector-set-based
        - target:
            annotationSelector: fleetline.io/patchable=true
          patch: |-
            kind: Any
            metadata:
              name: any
              labels:
                patchable: "yes"
        - target:
            kind: Deployment
            name: web-frontend|inference-cpu
          patch: |-
            apiVersion: apps/v1
            kind: Deployment
            metadata:
              name: not-used
            spec:
              revisionHistoryLimit: 2
        - target:
            version: v1
            kind: Service
          patch: |-
            - op: add
              path: /spec/type
              value: NodePort
        """),
    "fleet.yaml": _FLEET,
    "other-namespace.yaml": text("""
        apiVersion: batch/v1
        kind: Job
        metadata:
          name: web-migrate
          namespace: batch-jobs
        spec:
          template:
            spec:
              restartPolicy: Never
              containers:
              - name: migrate
                image: ghcr.io/acme/api:1.0.0
        ---
        apiVersion: apps/v1
        kind: Deployment
        metadata:
          name: canary-gpu
          namespace: batch-jobs
          labels:
            tier: gpu
            canary: "true"
        spec:
          selector:
            matchLabels:
              app: canary-gpu
          template:
            metadata:
              labels:
                app: canary-gpu
            spec:
              containers:
              - name: c
                image: ghcr.io/acme/inference:1.1.0-rc1
        """),
}, about="targets by group+version+kind, namespace, set-based labelSelector, annotationSelector, name alternation, "
         "version+kind")

_add("patches_strategic_merge_field", {
    "kustomization.yaml": text("""
        resources:
        - fleet.yaml
        patchesStrategicMerge:
        - patches/backend.yaml
        - |-
          apiVersion: apps/v1
          kind: StatefulSet
          metadata:
            name: web-cache
          spec:
            replicas: 2
            template:
              spec:
                containers:
                - name: redis
                  args: ["--maxmemory", "2gb"]
        """),
    "fleet.yaml": _FLEET,
    "patches/backend.yaml": text("""
        apiVersion: apps/v1
        kind: Deployment
        metadata:
          name: web-backend
        spec:
          strategy:
            type: RollingUpdate
            rollingUpdate:
              maxSurge: 0
              maxUnavailable: 1
          template:
            spec:
              containers:
              - name: web-backend
                ports:
                - containerPort: 9090
                  name: metrics
        ---
        apiVersion: v1
        kind: Service
        metadata:
          name: web-frontend
        spec:
          ports:
          - name: metrics
            port: 9090
            targetPort: 9090
        """),
}, about="patchesStrategicMerge from a multi-document file and as an inline string; ports merged by key")

_add("patches_json6902_field", {
    "kustomization.yaml": text("""
        resources:
        - fleet.yaml
        - other.yaml
        patchesJson6902:
        - target:
            group: apps
            version: v1
            kind: Deployment
            name: web-backend
          path: patches/backend.yaml
        - target:
            version: v1
            kind: Service
            name: web-frontend
          patch: |-
            - op: replace
              path: /spec/ports/0/port
              value: 8443
        - target:
            group: batch
            version: v1
            kind: Job
            name: web-migrate
            namespace: jobs
          patch: |-
            - op: add
              path: /spec/backoffLimit
              value: 1
        """),
    "fleet.yaml": _FLEET,
    "other.yaml": text("""
        apiVersion: batch/v1
        kind: Job
        metadata:
          name: web-migrate
          namespace: jobs
        spec:
          template:
            spec:
              restartPolicy: Never
              containers:
              - name: migrate
                image: ghcr.io/acme/api:1.0.0
        """),
    "patches/backend.yaml": text("""
        - op: add
          path: /spec/template/spec/containers/0/env
          value:
          - name: DB_POOL
            value: "20"
        """),
}, about="patchesJson6902 with path and inline patch; a namespaced target picks one of two same-named Jobs")

_add("patch_delete_whole_objects", {
    "base/kustomization.yaml": "resources:\n- fleet.yaml\n",
    "base/fleet.yaml": _FLEET,
    "overlay/kustomization.yaml": text("""
        resources:
        - ../base
        patches:
        - patch: |-
            $patch: delete
            apiVersion: apps/v1
            kind: Deployment
            metadata:
              name: inference-cpu
        - target:
            annotationSelector: fleetline.io/patchable=true
            kind: Job
          patch: |-
            $patch: delete
            apiVersion: batch/v1
            kind: Job
            metadata:
              name: whatever
        patchesStrategicMerge:
        - delete-cache.yaml
        """),
    "overlay/delete-cache.yaml": text("""
        apiVersion: apps/v1
        kind: StatefulSet
        metadata:
          name: web-cache
        $patch: delete
        """),
}, "overlay", about="`$patch: delete` removes objects: inline, through a target, and in patchesStrategicMerge")

_add("patch_directives_in_lists_and_maps", {
    "kustomization.yaml": text("""
        resources:
        - app.yaml
        patches:
        - patch: |-
            apiVersion: apps/v1
            kind: Deployment
            metadata:
              name: trainer
              labels:
                remove-me: null
            spec:
              template:
                spec:
                  containers:
                  - name: metrics-sidecar
                    $patch: delete
                  - name: trainer
                    env:
                    - name: OLD_FLAG
                      $patch: delete
                    - name: NEW_FLAG
                      value: "1"
                    resources:
                      $patch: replace
                      limits:
                        cpu: "4"
                  volumes:
                  - name: scratch
                    $patch: delete
                  tolerations:
                  - key: dedicated
                    operator: Equal
                    value: training
                    effect: NoSchedule
        """),
    "app.yaml": text("""
        apiVersion: apps/v1
        kind: Deployment
        metadata:
          name: trainer
          labels:
            app: trainer
            remove-me: "true"
        spec:
          selector:
            matchLabels:
              app: trainer
          template:
            metadata:
              labels:
                app: trainer
            spec:
              tolerations:
              - key: nvidia.com/gpu
                operator: Exists
              containers:
              - name: trainer
                image: ghcr.io/acme/trainer:5.1.0
                env:
                - name: OLD_FLAG
                  value: "0"
                - name: KEEP
                  value: kept
                resources:
                  requests:
                    cpu: "2"
                    memory: 8Gi
                  limits:
                    cpu: "2"
              - name: metrics-sidecar
                image: prom/statsd-exporter:v0.26.1
              volumes:
              - name: scratch
                emptyDir: {}
              - name: models
                persistentVolumeClaim:
                  claimName: models
        """),
}, about="`$patch: delete` of list items (container, env var, volume), `$patch: replace` of a map, null removes a "
         "key, tolerations (no merge key) replaced")

_add("patches_options_allow_name_and_kind_change", {
    "kustomization.yaml": text("""
        resources:
        - fleet.yaml
        patches:
        - target:
            kind: Deployment
            name: web-backend
          options:
            allowNameChange: true
          patch: |-
            apiVersion: apps/v1
            kind: Deployment
            metadata:
              name: api-server
        - target:
            kind: StatefulSet
            name: web-cache
          options:
            allowKindChange: true
          patch: |-
            - op: replace
              path: /kind
              value: Deployment
            - op: remove
              path: /spec/serviceName
        """),
    "fleet.yaml": _FLEET,
}, about="options allowNameChange / allowKindChange let a patch rename an object or change its kind")

_add("patch_custom_resource_merge", {
    "kustomization.yaml": text("""
        resources:
        - model.yaml
        patches:
        - patch: |-
            apiVersion: serving.kserve.io/v1beta1
            kind: InferenceService
            metadata:
              name: sentiment
            spec:
              predictor:
                minReplicas: 2
                model:
                  storageUri: s3://models/sentiment/v7
                tolerations:
                - key: nvidia.com/gpu
                  operator: Exists
        """),
    "model.yaml": text("""
        apiVersion: serving.kserve.io/v1beta1
        kind: InferenceService
        metadata:
          name: sentiment
        spec:
          predictor:
            minReplicas: 1
            model:
              modelFormat:
                name: pytorch
              storageUri: s3://models/sentiment/v6
            tolerations:
            - key: dedicated
              operator: Equal
              value: inference
        """),
}, about="a strategic merge patch on a kind with no schema merges maps and replaces lists")

_add("patch_after_namespace_and_prefix_in_base", {
    "base/kustomization.yaml": "namespace: serving\nnamePrefix: ml-\nresources:\n- app.yaml\n",
    "base/app.yaml": deployment("router", "ghcr.io/acme/router:2.2.0"),
    "overlay/kustomization.yaml": text("""
        resources:
        - ../base
        patches:
        - patch: |-
            apiVersion: apps/v1
            kind: Deployment
            metadata:
              name: ml-router
              namespace: serving
            spec:
              replicas: 5
        - target:
            kind: Deployment
            name: ml-router
            namespace: serving
          patch: |-
            - op: add
              path: /spec/template/spec/priorityClassName
              value: high
        """),
}, "overlay", about="an overlay patches a base object by its current (prefixed, namespaced) name")
