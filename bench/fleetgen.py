"""A generated fleet repository for benchmarks and scale tests: N clusters in 3 regions, M applications each.

Every application has a base (about 20 objects once generated), one overlay per region (image tag, labels,
a strategic patch, a ConfigMap merge) and one overlay per cluster (annotations, replicas, a JSON 6902 patch,
a ConfigMap merge), the shape of a real fleet repository: `apps/<app>/base`, `apps/<app>/regions/<region>`,
`apps/<app>/clusters/<cluster>`. `fleet.yaml` points each application at `apps/<app>/clusters/{name}`.
"""

from __future__ import annotations

from pathlib import Path

REGIONS = ("us-east", "us-west", "eu")


def cluster_names(count: int) -> list[tuple[str, str]]:
    """(cluster, region) pairs, spread round-robin over the regions."""
    return [(f"{REGIONS[i % 3]}-{i:04d}", REGIONS[i % 3]) for i in range(count)]


def fleet_yaml(clusters: list[tuple[str, str]], apps: list[str]) -> str:
    lines = ["apiVersion: fleetline.io/v1alpha1", "kind: Fleet", "metadata:", "  name: bench", "spec:",
             "  environments:", "    prod:", "      ref: main", "      production: true", "  clusters:"]
    for name, region in clusters:
        lines += [f"  - name: {name}", f"    region: {region}", "    environment: prod",
                  "    labels:", f"      gpu: {'a100' if region != 'us-west' else 't4'}"]
    lines.append("  applications:")
    for app in apps:
        lines += [f"  - name: {app}", "    source:", f"      path: apps/{app}/clusters/{{name}}",
                  "    destination:", f"      namespace: {app}"]
    return "\n".join(lines) + "\n"


BASE_RESOURCES = """\
apiVersion: v1
kind: ServiceAccount
metadata:
  name: {app}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata:
  name: {app}-reader
rules:
- apiGroups: [""]
  resources: [configmaps]
  verbs: [get, list, watch]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata:
  name: {app}-reader
roleRef:
  apiGroup: rbac.authorization.k8s.io
  kind: Role
  name: {app}-reader
subjects:
- kind: ServiceAccount
  name: {app}
---
apiVersion: v1
kind: ConfigMap
metadata:
  name: {app}-static
data:
  logging.yaml: |
    level: info
    format: json
---
apiVersion: v1
kind: Service
metadata:
  name: {app}
spec:
  selector:
    app: {app}
  ports:
  - name: http
    port: 80
    targetPort: 8080
---
apiVersion: v1
kind: Service
metadata:
  name: {app}-metrics
spec:
  selector:
    app: {app}
  ports:
  - name: metrics
    port: 9090
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: {app}
spec:
  replicas: 2
  selector:
    matchLabels:
      app: {app}
  template:
    metadata:
      labels:
        app: {app}
    spec:
      serviceAccountName: {app}
      containers:
      - name: server
        image: registry.example.com/ml/{app}:1.0.0
        ports:
        - containerPort: 8080
        envFrom:
        - configMapRef:
            name: {app}-settings
        resources:
          requests:
            cpu: 500m
            memory: 1Gi
          limits:
            memory: 1Gi
        volumeMounts:
        - name: static
          mountPath: /etc/static
      volumes:
      - name: static
        configMap:
          name: {app}-static
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: {app}-worker
spec:
  replicas: 1
  selector:
    matchLabels:
      app: {app}-worker
  template:
    metadata:
      labels:
        app: {app}-worker
    spec:
      containers:
      - name: worker
        image: registry.example.com/ml/{app}-worker:1.0.0
        env:
        - name: MODEL
          valueFrom:
            configMapKeyRef:
              name: {app}-settings
              key: model
---
apiVersion: apps/v1
kind: StatefulSet
metadata:
  name: {app}-cache
spec:
  serviceName: {app}
  replicas: 1
  selector:
    matchLabels:
      app: {app}-cache
  template:
    metadata:
      labels:
        app: {app}-cache
    spec:
      containers:
      - name: cache
        image: registry.example.com/ml/cache:7.2
  volumeClaimTemplates:
  - metadata:
      name: data
    spec:
      accessModes: [ReadWriteOnce]
      resources:
        requests:
          storage: 10Gi
---
apiVersion: autoscaling/v2
kind: HorizontalPodAutoscaler
metadata:
  name: {app}
spec:
  scaleTargetRef:
    apiVersion: apps/v1
    kind: Deployment
    name: {app}
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
apiVersion: policy/v1
kind: PodDisruptionBudget
metadata:
  name: {app}
spec:
  minAvailable: 1
  selector:
    matchLabels:
      app: {app}
---
apiVersion: batch/v1
kind: CronJob
metadata:
  name: {app}-retrain
spec:
  schedule: "0 3 * * *"
  jobTemplate:
    spec:
      template:
        spec:
          restartPolicy: OnFailure
          containers:
          - name: retrain
            image: registry.example.com/ml/{app}-trainer:1.0.0
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata:
  name: {app}
spec:
  podSelector:
    matchLabels:
      app: {app}
  ingress:
  - ports:
    - port: 8080
---
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata:
  name: {app}
spec:
  rules:
  - host: {app}.example.com
    http:
      paths:
      - path: /
        pathType: Prefix
        backend:
          service:
            name: {app}
            port:
              number: 80
---
apiVersion: v1
kind: PersistentVolumeClaim
metadata:
  name: {app}-models
spec:
  accessModes: [ReadWriteOnce]
  resources:
    requests:
      storage: 50Gi
---
apiVersion: v1
kind: ConfigMap
metadata:
  name: {app}-dashboards
data:
  dashboard.json: '{{"title": "{app}"}}'
---
apiVersion: v1
kind: ResourceQuota
metadata:
  name: {app}
spec:
  hard:
    requests.nvidia.com/gpu: "8"
---
apiVersion: v1
kind: ConfigMap
metadata:
  name: {app}-features
data:
  enable-batching: "yes"
  max-tokens: "4096"
---
apiVersion: v1
kind: LimitRange
metadata:
  name: {app}
spec:
  limits:
  - type: Container
    default:
      cpu: 500m
"""

BASE_KUSTOMIZATION = """\
apiVersion: kustomize.config.k8s.io/v1beta1
kind: Kustomization
commonLabels:
  app.kubernetes.io/part-of: {app}
resources:
- resources.yaml
configMapGenerator:
- name: {app}-settings
  literals:
  - model=resnet-50
  - batch=8
"""

REGION_KUSTOMIZATION = """\
apiVersion: kustomize.config.k8s.io/v1beta1
kind: Kustomization
resources:
- ../../base
labels:
- pairs:
    fleetline.io/region: {region}
images:
- name: registry.example.com/ml/{app}
  newName: {registry}/ml/{app}
  newTag: "{tag}"
configMapGenerator:
- name: {app}-settings
  behavior: merge
  literals:
  - region={region}
patches:
- path: resources.yaml
"""

REGION_PATCH = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: {app}
spec:
  template:
    spec:
      containers:
      - name: server
        resources:
          requests:
            cpu: "{cpu}"
"""

CLUSTER_KUSTOMIZATION = """\
apiVersion: kustomize.config.k8s.io/v1beta1
kind: Kustomization
resources:
- ../../regions/{region}
commonAnnotations:
  fleetline.io/cluster: {cluster}
replicas:
- name: {app}
  count: {replicas}
configMapGenerator:
- name: {app}-settings
  behavior: merge
  literals:
  - cluster={cluster}
patches:
- target:
    kind: HorizontalPodAutoscaler
    name: {app}
  patch: |-
    - op: replace
      path: /spec/maxReplicas
      value: {max_replicas}
"""

_REGISTRY = {"us-east": "us-east.registry.example.com", "us-west": "us-west.registry.example.com",
             "eu": "eu.registry.example.com"}


def write_file(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)


def region_kustomization(app: str, region: str, tag: str = "1.4.0") -> str:
    return REGION_KUSTOMIZATION.format(app=app, region=region, registry=_REGISTRY[region], tag=tag)


def write_fleet(root: Path, cluster_count: int, app_count: int) -> list[tuple[str, str, str]]:
    """Write the repository under `root`; returns the (cluster, region, app) triples it defines."""
    clusters = cluster_names(cluster_count)
    apps = [f"app-{i:02d}" for i in range(app_count)]
    write_file(root / "fleet.yaml", fleet_yaml(clusters, apps))
    pairs = []
    for app in apps:
        base = root / "apps" / app / "base"
        write_file(base / "kustomization.yaml", BASE_KUSTOMIZATION.format(app=app))
        write_file(base / "resources.yaml", BASE_RESOURCES.format(app=app))
        for index, region in enumerate(REGIONS):
            overlay = root / "apps" / app / "regions" / region
            write_file(overlay / "kustomization.yaml", region_kustomization(app, region))
            write_file(overlay / "resources.yaml", REGION_PATCH.format(app=app, cpu=index + 1))
        for number, (cluster, region) in enumerate(clusters):
            write_file(root / "apps" / app / "clusters" / cluster / "kustomization.yaml",
                       CLUSTER_KUSTOMIZATION.format(app=app, region=region, cluster=cluster,
                                                    replicas=2 + number % 3, max_replicas=10 + number % 5))
            pairs.append((cluster, region, app))
    return pairs
