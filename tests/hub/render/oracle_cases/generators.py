"""Cases for ConfigMap/Secret generators: sources, behaviors, options, namespaces and hash suffixes."""

from __future__ import annotations

from tests.hub.render.oracle_cases.base import Case, deployment, text

CASES: list[Case] = []


def _add(name: str, files: dict[str, str | bytes], path: str = "", about: str = "") -> None:
    CASES.append(Case(name, files, path, about))


_add("configmap_generator_literals_files_envs", {
    "kustomization.yaml": text("""
        configMapGenerator:
        - name: serving-config
          literals:
          - MODEL_NAME=resnet50
          - THRESHOLDS=a=1,b=2
          - SPACED= padded value
          files:
          - config/serving.properties
          - logging.yaml=config/log-config.yaml
        - name: runtime-env
          envs:
          - env/common.env
          - env/gpu.env
        - name: mixed
          literals:
          - ZED=last
          - ALPHA=first
          files:
          - config/serving.properties
        """),
    "config/serving.properties": "max_batch_size=32\nworkers=4\n",
    "config/log-config.yaml": text("""
        version: 1
        root:
          level: INFO
        """),
    "env/common.env": text("""
        # shared settings
        LOG_FORMAT=json

        OMP_NUM_THREADS=8
        QUOTED="kept with quotes"
        EQUALS=x=y
        """),
    "env/gpu.env": "CUDA_VISIBLE_DEVICES=0,1\nNCCL_DEBUG=WARN\n",
}, about="literals (values containing `=`), files (default and explicit keys), several env files, "
         "keys sorted, hash suffixes")

_add("secret_generator_types", {
    "kustomization.yaml": text("""
        secretGenerator:
        - name: registry-credentials
          type: kubernetes.io/dockerconfigjson
          files:
          - .dockerconfigjson=secrets/dockerconfig.json
        - name: serving-tls
          type: kubernetes.io/tls
          files:
          - tls.crt=secrets/tls.crt
          - tls.key=secrets/tls.key
        - name: model-store
          literals:
          - AWS_ACCESS_KEY_ID=AKIAEXAMPLE
          - AWS_SECRET_ACCESS_KEY=not/a+real=secret
          envs:
          - secrets/extra.env
        """),
    "secrets/dockerconfig.json": '{"auths":{"registry.example.com":{"auth":"dXNlcjpwYXNz"}}}\n',
    "secrets/tls.crt": "-----BEGIN CERTIFICATE-----\nMIIBfake\n-----END CERTIFICATE-----\n",
    "secrets/tls.key": "-----BEGIN PRIVATE KEY-----\nMIIEfake\n-----END PRIVATE KEY-----\n",
    "secrets/extra.env": "BUCKET=models-prod\n",
}, about="secretGenerator: base64 data, secret types, literals + envs together, hash suffixes")

_add("configmap_generator_binary_file", {
    "kustomization.yaml": text("""
        configMapGenerator:
        - name: assets
          files:
          - logo.png
          - labels.txt
        """),
    "logo.png": b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01"
                b"\x08\x06\x00\x00\x00\x1f\x15\xc4\x89",
    "labels.txt": "cat\ndog\n",
}, about="a file that is not UTF-8 goes to binaryData (base64), text to data")

_BEHAVIOR_BASE = {
    "base/kustomization.yaml": text("""
        resources:
        - app.yaml
        configMapGenerator:
        - name: app-settings
          literals:
          - LOG_LEVEL=info
          - CACHE_TTL=60
        - name: feature-flags
          literals:
          - NEW_UI=false
          - BETA=false
        secretGenerator:
        - name: app-secrets
          literals:
          - DB_PASSWORD=base-password
        """),
    "base/app.yaml": deployment("app", extra_spec="""
        volumes:
        - name: settings
          configMap:
            name: app-settings
        - name: flags
          configMap:
            name: feature-flags
        - name: secrets
          secret:
            secretName: app-secrets
        """),
}

_add("generator_behavior_merge_replace_create", dict(_BEHAVIOR_BASE, **{
    "overlay/kustomization.yaml": text("""
        resources:
        - ../base
        namePrefix: prod-
        configMapGenerator:
        - name: app-settings
          behavior: merge
          literals:
          - LOG_LEVEL=warn
          - REGION=eu-west-1
        - name: feature-flags
          behavior: replace
          literals:
          - NEW_UI=true
        - name: overlay-only
          behavior: create
          literals:
          - CREATED=here
        secretGenerator:
        - name: app-secrets
          behavior: merge
          literals:
          - DB_USER=prod
        """),
}), "overlay", about="merge adds and overrides keys, replace swaps the data, create adds; references follow the "
                     "new hashed names")

_add("generator_behavior_merge_with_options", dict(_BEHAVIOR_BASE, **{
    "overlay/kustomization.yaml": text("""
        resources:
        - ../base
        configMapGenerator:
        - name: app-settings
          behavior: merge
          literals:
          - LOG_LEVEL=debug
          options:
            labels:
              merged: "true"
            annotations:
              merged-by: overlay
        """),
}), "overlay", about="a merge also merges the generator's labels and annotations")

_add("generator_options_global", {
    "kustomization.yaml": text("""
        resources:
        - app.yaml
        generatorOptions:
          disableNameSuffixHash: true
          immutable: true
          labels:
            generated-by: kustomize
          annotations:
            note: generated
        configMapGenerator:
        - name: plain
          literals:
          - A=1
        secretGenerator:
        - name: plain-secret
          literals:
          - TOKEN=abc
        """),
    "app.yaml": deployment("consumer", extra_spec="""
        volumes:
        - name: plain
          configMap:
            name: plain
        """),
}, about="generatorOptions: no hash suffix, immutable, labels and annotations on every generated object")

_add("generator_options_per_generator", {
    "kustomization.yaml": text("""
        generatorOptions:
          labels:
            scope: global
          annotations:
            from: global
        configMapGenerator:
        - name: hashed
          literals:
          - A=1
        - name: unhashed
          literals:
          - B=2
          options:
            disableNameSuffixHash: true
            labels:
              scope: local
              extra: "yes"
        - name: frozen
          literals:
          - C=3
          options:
            immutable: true
            annotations:
              from: local
        secretGenerator:
        - name: typed
          type: example.com/custom
          literals:
          - K=v
          options:
            disableNameSuffixHash: true
        """),
}, about="per-generator options override the global generatorOptions key by key")

_add("generated_names_across_levels", {
    "base/kustomization.yaml": text("""
        resources:
        - app.yaml
        configMapGenerator:
        - name: model-config
          literals:
          - MODEL=bert
        """),
    "base/app.yaml": deployment("encoder", extra_spec="""
        volumes:
        - name: config
          configMap:
            name: model-config
        """),
    "region/kustomization.yaml": text("""
        resources:
        - ../base
        namePrefix: eu-
        configMapGenerator:
        - name: model-config
          behavior: merge
          literals:
          - REGION=eu
        """),
    "cluster/kustomization.yaml": text("""
        resources:
        - ../region
        namespace: eu-prod
        nameSuffix: -c1
        configMapGenerator:
        - name: eu-model-config
          behavior: merge
          literals:
          - CLUSTER=c1
        - name: cluster-local
          literals:
          - ONLY=here
        """),
}, "cluster", about="an overlay merges into a generated ConfigMap by its prefixed name; the hash is computed "
                    "once, over the final data, after prefix and suffix")

_add("generator_namespace_field", {
    "base/kustomization.yaml": text("""
        resources:
        - app.yaml
        configMapGenerator:
        - name: proxy-config
          namespace: ingress
          literals:
          - TIMEOUT=30s
        """),
    "base/app.yaml": text("""
        apiVersion: apps/v1
        kind: Deployment
        metadata:
          name: proxy
          namespace: ingress
        spec:
          selector:
            matchLabels:
              app: proxy
          template:
            metadata:
              labels:
                app: proxy
            spec:
              containers:
              - name: proxy
                image: envoyproxy/envoy:v1.30.1
                envFrom:
                - configMapRef:
                    name: proxy-config
        """),
    "overlay/kustomization.yaml": text("""
        resources:
        - ../base
        configMapGenerator:
        - name: proxy-config
          namespace: ingress
          behavior: merge
          literals:
          - TIMEOUT=60s
        """),
}, "overlay", about="a generator with its own namespace; an overlay merges into it by name and namespace")
