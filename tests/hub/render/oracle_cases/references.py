"""Cases for name-reference rewriting (ConfigMap, Secret, Service, ServiceAccount, Role, PVC, ...) and replacements."""

from __future__ import annotations

from tests.hub.render.oracle_cases.base import Case, deployment, service, text

CASES: list[Case] = []


def _add(name: str, files: dict[str, str | bytes], path: str = "", about: str = "") -> None:
    CASES.append(Case(name, files, path, about))


_add("name_references_configmaps_and_secrets", {
    "kustomization.yaml": text("""
        namePrefix: ml-
        resources:
        - workloads.yaml
        configMapGenerator:
        - name: settings
          literals:
          - A=1
        - name: extra
          literals:
          - B=2
        secretGenerator:
        - name: creds
          literals:
          - password=hunter2
        - name: pull-secret
          type: kubernetes.io/dockerconfigjson
          literals:
          - .dockerconfigjson={"auths":{}}
        """),
    "workloads.yaml": text("""
        apiVersion: apps/v1
        kind: Deployment
        metadata:
          name: server
        spec:
          selector:
            matchLabels:
              app: server
          template:
            metadata:
              labels:
                app: server
            spec:
              imagePullSecrets:
              - name: pull-secret
              initContainers:
              - name: init
                image: busybox:1.36
                envFrom:
                - configMapRef:
                    name: extra
              containers:
              - name: server
                image: ghcr.io/acme/server:1.0.0
                env:
                - name: A
                  valueFrom:
                    configMapKeyRef:
                      name: settings
                      key: A
                - name: PASSWORD
                  valueFrom:
                    secretKeyRef:
                      name: creds
                      key: password
                - name: UNMANAGED
                  valueFrom:
                    configMapKeyRef:
                      name: not-in-this-build
                      key: x
                envFrom:
                - secretRef:
                    name: creds
                - configMapRef:
                    name: settings
              volumes:
              - name: settings
                configMap:
                  name: settings
              - name: creds
                secret:
                  secretName: creds
              - name: bundle
                projected:
                  sources:
                  - configMap:
                      name: extra
                  - secret:
                      name: creds
                  - serviceAccountToken:
                      path: token
        ---
        apiVersion: batch/v1
        kind: CronJob
        metadata:
          name: report
        spec:
          schedule: "0 * * * *"
          jobTemplate:
            spec:
              template:
                spec:
                  restartPolicy: OnFailure
                  imagePullSecrets:
                  - name: pull-secret
                  containers:
                  - name: report
                    image: ghcr.io/acme/report:1.0.0
                    envFrom:
                    - configMapRef:
                        name: settings
                  volumes:
                  - name: creds
                    secret:
                      secretName: creds
        ---
        apiVersion: v1
        kind: Pod
        metadata:
          name: debug
        spec:
          containers:
          - name: debug
            image: busybox:1.36
            env:
            - name: B
              valueFrom:
                configMapKeyRef:
                  name: extra
                  key: B
        ---
        apiVersion: v1
        kind: ServiceAccount
        metadata:
          name: puller
        imagePullSecrets:
        - name: pull-secret
        """),
}, about="ConfigMap and Secret references in volumes, env valueFrom, envFrom, projected volumes and "
         "imagePullSecrets (Deployment, CronJob, Pod, ServiceAccount) follow prefix + hash; unknown names untouched")

_add("name_references_services_hpa_statefulset", {
    "base/kustomization.yaml": "resources:\n- app.yaml\n",
    "base/app.yaml": deployment("gateway") + "---\n" + service("gateway") + "---\n" + service("vector-db") + text("""
        ---
        apiVersion: apps/v1
        kind: StatefulSet
        metadata:
          name: vector-db
        spec:
          serviceName: vector-db
          selector:
            matchLabels:
              app: vector-db
          template:
            metadata:
              labels:
                app: vector-db
            spec:
              containers:
              - name: db
                image: qdrant/qdrant:v1.9.2
        ---
        apiVersion: autoscaling/v2
        kind: HorizontalPodAutoscaler
        metadata:
          name: gateway
        spec:
          scaleTargetRef:
            apiVersion: apps/v1
            kind: Deployment
            name: gateway
          minReplicas: 2
          maxReplicas: 10
          metrics:
          - type: Resource
            resource:
              name: cpu
              target:
                type: Utilization
                averageUtilization: 70
        ---
        apiVersion: autoscaling/v2
        kind: HorizontalPodAutoscaler
        metadata:
          name: vector-db
        spec:
          scaleTargetRef:
            apiVersion: apps/v1
            kind: StatefulSet
            name: vector-db
          minReplicas: 1
          maxReplicas: 3
        ---
        apiVersion: networking.k8s.io/v1
        kind: Ingress
        metadata:
          name: gateway
        spec:
          ingressClassName: nginx
          defaultBackend:
            service:
              name: gateway
              port:
                number: 80
          tls:
          - hosts: [api.example.com]
            secretName: gateway-tls
          rules:
          - host: api.example.com
            http:
              paths:
              - path: /v1
                pathType: Prefix
                backend:
                  service:
                    name: gateway
                    port:
                      name: http
              - path: /search
                pathType: Prefix
                backend:
                  service:
                    name: vector-db
                    port:
                      number: 6333
              - path: /external
                pathType: Prefix
                backend:
                  service:
                    name: external-service
                    port:
                      number: 80
        """),
    "overlay/kustomization.yaml": text("""
        resources:
        - ../base
        namePrefix: prod-
        nameSuffix: -eu
        namespace: serving
        secretGenerator:
        - name: gateway-tls
          type: kubernetes.io/tls
          literals:
          - tls.crt=cert
          - tls.key=key
        """),
}, "overlay", about="Service names in Ingress backends (rules and default), Secret in Ingress tls, HPA "
                    "scaleTargetRef (Deployment and StatefulSet), StatefulSet serviceName")

_add("name_references_rbac_pvc_priority", {
    "base/kustomization.yaml": "resources:\n- rbac.yaml\n- app.yaml\n",
    "base/rbac.yaml": text("""
        apiVersion: v1
        kind: ServiceAccount
        metadata:
          name: pipeline
        ---
        apiVersion: rbac.authorization.k8s.io/v1
        kind: Role
        metadata:
          name: pipeline-editor
        rules:
        - apiGroups: [""]
          resources: [configmaps]
          verbs: [get, update]
        ---
        apiVersion: rbac.authorization.k8s.io/v1
        kind: RoleBinding
        metadata:
          name: pipeline-editor
        roleRef:
          apiGroup: rbac.authorization.k8s.io
          kind: Role
          name: pipeline-editor
        subjects:
        - kind: ServiceAccount
          name: pipeline
        ---
        apiVersion: rbac.authorization.k8s.io/v1
        kind: ClusterRole
        metadata:
          name: pipeline-viewer
        rules:
        - apiGroups: [""]
          resources: [pods]
          verbs: [list]
        ---
        apiVersion: rbac.authorization.k8s.io/v1
        kind: RoleBinding
        metadata:
          name: pipeline-viewer-local
        roleRef:
          apiGroup: rbac.authorization.k8s.io
          kind: ClusterRole
          name: pipeline-viewer
        subjects:
        - kind: ServiceAccount
          name: pipeline
        ---
        apiVersion: rbac.authorization.k8s.io/v1
        kind: ClusterRoleBinding
        metadata:
          name: pipeline-viewer
        roleRef:
          apiGroup: rbac.authorization.k8s.io
          kind: ClusterRole
          name: pipeline-viewer
        subjects:
        - kind: ServiceAccount
          name: pipeline
          namespace: default
        - kind: ServiceAccount
          name: cluster-admin-bot
          namespace: kube-system
        """),
    "base/app.yaml": text("""
        apiVersion: v1
        kind: PersistentVolumeClaim
        metadata:
          name: datasets
        spec:
          accessModes: [ReadWriteMany]
          storageClassName: shared-fs
          resources:
            requests:
              storage: 500Gi
        ---
        apiVersion: storage.k8s.io/v1
        kind: StorageClass
        metadata:
          name: shared-fs
        provisioner: efs.csi.aws.com
        ---
        apiVersion: scheduling.k8s.io/v1
        kind: PriorityClass
        metadata:
          name: pipeline-high
        value: 10000
        ---
        apiVersion: batch/v1
        kind: Job
        metadata:
          name: preprocess
        spec:
          template:
            spec:
              serviceAccountName: pipeline
              priorityClassName: pipeline-high
              restartPolicy: Never
              containers:
              - name: preprocess
                image: ghcr.io/acme/preprocess:0.7.0
                volumeMounts:
                - name: data
                  mountPath: /data
              volumes:
              - name: data
                persistentVolumeClaim:
                  claimName: datasets
        """),
    "overlay/kustomization.yaml": text("""
        resources:
        - ../base
        namePrefix: team-a-
        namespace: team-a
        """),
}, "overlay", about="ServiceAccount (subjects with namespace, serviceAccountName), Role and ClusterRole in roleRef, "
                    "PVC claimName, StorageClass and PriorityClass names follow prefix and namespace")

_REPLACEMENT_APP = deployment("inference", "ghcr.io/acme/inference:3.2.1") + "---\n" + service("inference") + text("""
    ---
    apiVersion: v1
    kind: ConfigMap
    metadata:
      name: endpoints
    data:
      INFERENCE_HOST: placeholder
      INFERENCE_URL: http://placeholder:80/v1
      IMAGE_TAG: unknown
    ---
    apiVersion: networking.k8s.io/v1
    kind: Ingress
    metadata:
      name: inference
      annotations:
        owner: ml-platform
    spec:
      rules:
      - host: inference.example.com
        http:
          paths:
          - path: /
            pathType: Prefix
            backend:
              service:
                name: inference
                port:
                  number: 80
    ---
    apiVersion: batch/v1
    kind: Job
    metadata:
      name: smoke-test
    spec:
      template:
        spec:
          restartPolicy: Never
          containers:
          - name: smoke
            image: curlimages/curl:8.7.1
            args: ["http://placeholder/healthz"]
    """)

_add("replacements_inline", {
    "kustomization.yaml": text("""
        resources:
        - app.yaml
        replacements:
        - source:
            kind: Service
            name: inference
            fieldPath: metadata.name
          targets:
          - select:
              kind: ConfigMap
              name: endpoints
            fieldPaths:
            - data.INFERENCE_HOST
          - select:
              kind: ConfigMap
            fieldPaths:
            - data.INFERENCE_URL
            options:
              delimiter: /
              index: 2
          - select:
              kind: Job
            fieldPaths:
            - spec.template.spec.containers.[name=smoke].args.0
            options:
              delimiter: /
              index: 2
        - source:
            kind: Deployment
            name: inference
            fieldPath: spec.template.spec.containers.0.image
            options:
              delimiter: ":"
              index: 1
          targets:
          - select:
              kind: ConfigMap
            fieldPaths:
            - data.IMAGE_TAG
          - select:
              kind: Deployment
            fieldPaths:
            - spec.template.metadata.annotations.version
            options:
              create: true
        - source:
            kind: Ingress
            fieldPath: metadata.annotations.owner
          targets:
          - select:
              name: inference
            reject:
            - kind: Ingress
            - kind: Deployment
            fieldPaths:
            - metadata.labels.owner
            options:
              create: true
        """),
    "app.yaml": _REPLACEMENT_APP,
}, about="replacements: source fieldPath and options, targets with select/reject, delimiter+index, create, "
         "list selection by [name=...]")

_add("replacements_from_file_and_generated_source", {
    "base/kustomization.yaml": text("""
        resources:
        - app.yaml
        configMapGenerator:
        - name: build-info
          literals:
          - GIT_SHA=9f2c1ab
          - REGISTRY=registry.example.com
        """),
    "base/app.yaml": _REPLACEMENT_APP,
    "overlay/kustomization.yaml": text("""
        resources:
        - ../base
        namePrefix: stg-
        replacements:
        - path: replacements/host.yaml
        - path: replacements/build.yaml
        """),
    "overlay/replacements/host.yaml": text("""
        source:
          kind: Service
          fieldPath: metadata.name
        targets:
        - select:
            kind: ConfigMap
            name: endpoints
          fieldPaths:
          - data.INFERENCE_HOST
        - select:
            kind: Ingress
          fieldPaths:
          - spec.rules.0.host
          options:
            delimiter: .
            index: 0
        """),
    "overlay/replacements/build.yaml": text("""
        source:
          kind: ConfigMap
          name: build-info
          fieldPath: data.GIT_SHA
        targets:
        - select:
            kind: Deployment
          fieldPaths:
          - metadata.annotations.git-sha
          - spec.template.metadata.labels.git-sha
          options:
            create: true
        """),
}, "overlay", about="replacements from files in an overlay: the source is a prefixed Service and a generated "
                    "ConfigMap (selected by its current name); several field paths per target")

_add("name_references_respect_namespaces", {
    "team-a/kustomization.yaml": text("""
        namespace: team-a
        resources:
        - app.yaml
        configMapGenerator:
        - name: model-settings
          literals:
          - MODEL=llama
        """),
    "team-a/app.yaml": deployment("chat", extra_spec="""
        volumes:
        - name: settings
          configMap:
            name: model-settings
        """),
    "team-b/kustomization.yaml": text("""
        namespace: team-b
        resources:
        - app.yaml
        configMapGenerator:
        - name: model-settings
          literals:
          - MODEL=mistral
        """),
    "team-b/app.yaml": deployment("chat", extra_spec="""
        volumes:
        - name: settings
          configMap:
            name: model-settings
        """),
    "kustomization.yaml": "resources:\n- team-a\n- team-b\nnameSuffix: -v1\n",
}, about="same-named generated ConfigMaps in two namespaces: each Deployment gets its own namespace's hashed name")
