"""Cases for corners where a re-implementation is easy to get subtly wrong: sort tie-breaks, non-ASCII data in
hashes, patches on generated objects, kyaml's strategic-merge quirks, webhooks behind a prefix."""

from __future__ import annotations

from tests.hub.render.oracle_cases.base import Case, deployment, text

CASES: list[Case] = []


def _add(name: str, files: dict[str, str | bytes], path: str = "", about: str = "") -> None:
    CASES.append(Case(name, files, path, about))


def _cm(name: str, namespace: str = "") -> str:
    ns = f"  namespace: {namespace}\n" if namespace else ""
    return f"apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {name}\n{ns}data:\n  k: v\n"


_add("order_ties_by_namespace_and_name", {
    "kustomization.yaml": "resources:\n- many.yaml\n",
    "many.yaml": "---\n".join([
        _cm("zeta", "alpha"), _cm("alpha", "zeta"), _cm("beta"), _cm("alpha", "alpha"), _cm("Beta", "alpha"),
        _cm("gamma", "default"),
        "apiVersion: example.com/v1\nkind: Widget\nmetadata:\n  name: b\n",
        "apiVersion: example.com/v2\nkind: Widget\nmetadata:\n  name: a\n",
        "apiVersion: other.example.com/v1\nkind: Widget\nmetadata:\n  name: a\n",
        "apiVersion: example.com/v1\nkind: Gadget\nmetadata:\n  name: z\n",
    ]),
}, about="legacy order among objects of one kind (namespace, name, case) and among unknown kinds and groups")

_add("non_ascii_data_and_hash", {
    "kustomization.yaml": text("""
        configMapGenerator:
        - name: prompts
          literals:
          - GREETING=Grüß Gott — 你好 👋
          files:
          - system-prompt.txt
        - name: keys-sorted-bytewise
          literals:
          - b=1
          - B=2
          - _u=3
          - a.b=4
          - A-B=5
        """),
    "system-prompt.txt": "Réponds en français.\nAntworte auf Deutsch.\n",
}, about="UTF-8 values keep their characters and feed the hash; generated keys are sorted bytewise")

_add("patch_on_generated_configmap_changes_hash", {
    "base/kustomization.yaml": text("""
        resources:
        - app.yaml
        configMapGenerator:
        - name: limits
          literals:
          - MAX_TOKENS=2048
        """),
    "base/app.yaml": deployment("llm", extra_spec="""
        volumes:
        - name: limits
          configMap:
            name: limits
        """),
    "overlay/kustomization.yaml": text("""
        resources:
        - ../base
        namePrefix: big-
        patches:
        - patch: |-
            apiVersion: v1
            kind: ConfigMap
            metadata:
              name: limits
            data:
              MAX_TOKENS: "8192"
        - target:
            kind: ConfigMap
            name: limits
          patch: |-
            - op: add
              path: /data/TEMPERATURE
              value: "0.2"
        """),
}, "overlay", about="patches on a generated ConfigMap (addressed by its generator name) change the data the hash "
                    "is computed from")

_add("smp_quirks_strategy_and_ports", {
    "kustomization.yaml": text("""
        resources:
        - dns.yaml
        patches:
        - patch: |-
            apiVersion: apps/v1
            kind: Deployment
            metadata:
              name: dns
            spec:
              strategy:
                type: Recreate
              template:
                spec:
                  containers:
                  - name: dns
                    ports:
                    - containerPort: 53
                      protocol: UDP
                      name: dns-udp-renamed
                    - containerPort: 9153
                      name: metrics
                    args:
                    - -conf
                    - /etc/coredns/Corefile
        """),
    "dns.yaml": text("""
        apiVersion: apps/v1
        kind: Deployment
        metadata:
          name: dns
        spec:
          strategy:
            type: RollingUpdate
            rollingUpdate:
              maxUnavailable: 1
          selector:
            matchLabels:
              app: dns
          template:
            metadata:
              labels:
                app: dns
            spec:
              containers:
              - name: dns
                image: coredns/coredns:1.11.1
                args: ["-conf", "/etc/Corefile"]
                ports:
                - containerPort: 53
                  protocol: UDP
                  name: dns
                - containerPort: 53
                  protocol: TCP
                  name: dns-tcp
        """),
}, about="kustomize's strategic merge: strategy without retainKeys, ports keyed by containerPort (+protocol), "
         "args replaced")

_add("webhooks_and_apiservice_behind_prefix", {
    "kustomization.yaml": text("""
        namePrefix: fl-
        namespace: policy
        resources:
        - webhook.yaml
        """),
    "webhook.yaml": deployment("policy-server", "ghcr.io/acme/policy:0.9.0") + text("""
        ---
        apiVersion: v1
        kind: Service
        metadata:
          name: policy-server
        spec:
          selector:
            app: policy-server
          ports:
          - port: 443
            targetPort: 8443
        ---
        apiVersion: admissionregistration.k8s.io/v1
        kind: ValidatingWebhookConfiguration
        metadata:
          name: policy
        webhooks:
        - name: validate.policy.example.com
          admissionReviewVersions: [v1]
          sideEffects: None
          clientConfig:
            service:
              name: policy-server
              namespace: default
              path: /validate
        - name: external.policy.example.com
          admissionReviewVersions: [v1]
          sideEffects: None
          clientConfig:
            url: https://policy.example.com/validate
        ---
        apiVersion: apiregistration.k8s.io/v1
        kind: APIService
        metadata:
          name: v1.policy.example.com
        spec:
          group: policy.example.com
          version: v1
          groupPriorityMinimum: 1000
          versionPriority: 15
          service:
            name: policy-server
            namespace: default
        """),
}, about="webhook and APIService service references follow the Service's prefix and namespace; a url webhook is "
         "left alone")

_add("replacements_into_keyed_list_items", {
    "kustomization.yaml": text("""
        resources:
        - app.yaml
        replacements:
        - source:
            kind: ConfigMap
            name: versions
            fieldPath: data.MODEL_VERSION
          targets:
          - select:
              kind: Deployment
            fieldPaths:
            - spec.template.spec.containers.[name=server].env.[name=MODEL_VERSION].value
            - spec.template.spec.containers.[name=server].env.[name=MODEL_URI].value
            options:
              delimiter: /
              index: 4
        - source:
            kind: ConfigMap
            name: versions
            fieldPath: data.REPLICAS
          targets:
          - select:
              kind: Deployment
              name: serve
            fieldPaths:
            - spec.replicas
        """),
    "app.yaml": text("""
        apiVersion: v1
        kind: ConfigMap
        metadata:
          name: versions
        data:
          MODEL_VERSION: v42
          REPLICAS: "3"
        ---
        apiVersion: apps/v1
        kind: Deployment
        metadata:
          name: serve
        spec:
          replicas: 1
          selector:
            matchLabels:
              app: serve
          template:
            metadata:
              labels:
                app: serve
            spec:
              containers:
              - name: server
                image: ghcr.io/acme/serve:1.0.0
                env:
                - name: MODEL_VERSION
                  value: unset
                - name: MODEL_URI
                  value: s3://models/chat/v1/weights
              - name: sidecar
                image: busybox:1.36
        """),
}, about="replacement targets inside keyed list items ([name=...]), delimiter index into a URI, and a string "
         "source replacing an integer field")

_add("anchors_merge_keys_nulls_and_empties", {
    "kustomization.yaml": "resources:\n- app.yaml\n",
    "app.yaml": text("""
        apiVersion: apps/v1
        kind: Deployment
        metadata:
          name: anchors
          annotations:
            empty: ""
        spec:
          paused: false
          strategy: {}
          selector:
            matchLabels: &labels
              app: anchors
          template:
            metadata:
              labels: *labels
              annotations: ~
            spec:
              terminationGracePeriodSeconds: null
              containers:
              - &first
                name: a
                image: busybox:1.36
                args: []
                resources:
                  limits:
                    cpu: 1.5
              - <<: *first
                name: b
        """),
}, about="anchors, aliases and merge keys are expanded; explicit nulls, empty maps and lists are kept")

_add("numbers_normalised_like_kustomize", {
    "kustomization.yaml": "resources:\n- tuning.yaml\n",
    "tuning.yaml": text("""
        apiVersion: ml.example.com/v1
        kind: TuningJob
        metadata:
          name: sweep
        spec:
          replicas: 0x3
          minReadySeconds: 010
          progressDeadlineSeconds: 1e3
          cpu: 1.0
          learningRate: 2.50
          epsilon: 1e-3
          tokens: 1.5e10
          unsigned: 12345678901234567890
          negativeZero: -0.0
          half: .5
          underscored: 1_000
          plus: +12
          octal: 0o17
          binary: 0b101
          huge: 100000000000000000000000.0
          beyondFloat: 9007199254740993
          three: 3.0e0
          tenth: 0.1
          precise: 123456789.123456789
        """),
}, about="kustomize round-trips numbers through JSON: integral floats (1.0, 1e3) become integers, hex/octal/"
         "binary are decoded; other floats keep Go's shortest form")

_add("crlf_line_endings_and_bom", {
    "kustomization.yaml": "resources:\r\n- app.yaml\r\nconfigMapGenerator:\r\n- name: env\r\n"
                          "  envs:\r\n  - win.env\r\n",
    "app.yaml": "\ufeffapiVersion: v1\r\nkind: ConfigMap\r\nmetadata:\r\n  name: bom\r\ndata:\r\n  k: |\r\n"
                "    line1\r\n    line2\r\n",
    "win.env": "A=1\r\nB=two words\r\n",
}, about="files saved on Windows (CRLF, a UTF-8 byte-order mark) read as kustomize reads them")

_add("nested_components_and_secret_replace", {
    "base/kustomization.yaml": "resources:\n- app.yaml\nsecretGenerator:\n- name: s\n  literals:\n  - A=1\n  - B=2\n",
    "base/app.yaml": deployment("app", extra_spec="""
        volumes:
        - name: s
          secret:
            secretName: s
        """),
    "comp/outer/kustomization.yaml": text("""
        apiVersion: kustomize.config.k8s.io/v1alpha1
        kind: Component
        components:
        - ../inner
        commonLabels:
          outer: "true"
        """),
    "comp/inner/kustomization.yaml": text("""
        apiVersion: kustomize.config.k8s.io/v1alpha1
        kind: Component
        secretGenerator:
        - name: s
          behavior: replace
          literals:
          - C=3
        patches:
        - patch: '[{"op": "add", "path": "/spec/minReadySeconds", "value": 5}]'
          target:
            kind: Deployment
        """),
    "overlay/kustomization.yaml": "resources:\n- ../base\ncomponents:\n- ../comp/outer\n",
}, "overlay", about="a component including another component; secretGenerator behavior replace; an inline JSON patch")

_add("label_selectors_overridden_and_created", {
    "kustomization.yaml": text("""
        resources:
        - app.yaml
        commonLabels:
          app: overridden
        labels:
        - pairs:
            track: stable
          includeSelectors: true
        """),
    "app.yaml": deployment("web") + "---\n" + text("""
        apiVersion: v1
        kind: Service
        metadata:
          name: web
        spec:
          selector:
            app: web
          ports:
          - port: 80
        ---
        apiVersion: v1
        kind: Service
        metadata:
          name: external
        spec:
          type: ExternalName
          externalName: example.com
        ---
        apiVersion: batch/v1
        kind: Job
        metadata:
          name: once
        spec:
          template:
            spec:
              restartPolicy: Never
              containers:
              - name: c
                image: busybox:1.36
        """),
}, about="commonLabels override an existing selector value; selectors are created on Services (even ExternalName) "
         "but not on Jobs")

_add("awkward_strings_printed_back", {
    "kustomization.yaml": text("""
        resources:
        - cm.yaml
        patchesJson6902:
        - target:
            version: v1
            kind: ConfigMap
            name: strings
          patch: '[{"op": "add", "path": "/data/added", "value": "x"}]'
        """),
    "cm.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: strings\ndata:\n  long: " + "word " * 60 + "end\n"
               "  colon: 'a: b'\n  hash: 'a #b'\n  star: '*x'\n  tab: \"a\\tb\"\n  multi: \"a\\nb\\n\"\n"
               "  trailing: \"a \"\n  leading: \" a\"\n  dash: \"- x\"\n  quote: \"it's\"\n  percent: \"%d\"\n",
}, about="long lines, colons, hashes, leading `*`/`-`, tabs, newlines and spaces survive (and print) unchanged")
