"""Realistic desired and live objects for the diff tests.

The live shapes are what kubesim returned over HTTP for the desired ones after a server-side apply by
`fleetline` and a `kubectl set image` (strategic-merge PATCH with fieldManager kubectl-set): server defaults,
status, managedFields in FieldsV1. Every call returns fresh copies that tests may modify.
"""

from __future__ import annotations

from typing import Any

T0 = "2026-11-28T00:36:30Z"
T1 = "2026-11-28T00:36:32Z"


def desired_deployment() -> dict[str, Any]:
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {
            "name": "inference",
            "namespace": "ml",
            "labels": {"app": "inference", "fleetline.io/app": "serving"},
            "annotations": {"fleetline.io/tracking-id": "serving:apps/Deployment:ml/inference"},
        },
        "spec": {
            "replicas": 3,
            "selector": {"matchLabels": {"app": "inference"}},
            "template": {
                "metadata": {"labels": {"app": "inference"}},
                "spec": {
                    "containers": [{
                        "name": "server",
                        "image": "registry.example.com/inference:1.4.2",
                        "args": ["--port=8080", "--model=/models/llm"],
                        "ports": [{"containerPort": 8080, "name": "http"}],
                        "env": [{"name": "MODEL", "value": "llm"}, {"name": "THREADS", "value": "4"}],
                        "resources": {"limits": {"cpu": "1000m", "memory": "1Gi", "nvidia.com/gpu": 1},
                                      "requests": {"cpu": "0.5", "memory": "512Mi"}},
                        "volumeMounts": [{"name": "models", "mountPath": "/models"}],
                    }],
                    "volumes": [{"name": "models", "emptyDir": {}}],
                    "tolerations": [{"key": "nvidia.com/gpu", "operator": "Exists", "effect": "NoSchedule"}],
                    "nodeSelector": {"accelerator": "a100"},
                },
            },
        },
    }


def _fleetline_fields() -> dict[str, Any]:
    return {
        "f:metadata": {
            "f:annotations": {"f:fleetline.io/tracking-id": {}},
            "f:labels": {"f:app": {}, "f:fleetline.io/app": {}},
        },
        "f:spec": {
            "f:replicas": {},
            "f:selector": {},
            "f:template": {
                "f:metadata": {"f:labels": {"f:app": {}}},
                "f:spec": {
                    "f:containers": {
                        'k:{"name":"server"}': {
                            ".": {},
                            "f:args": {},
                            "f:env": {
                                'k:{"name":"MODEL"}': {".": {}, "f:name": {}, "f:value": {}},
                                'k:{"name":"THREADS"}': {".": {}, "f:name": {}, "f:value": {}},
                            },
                            "f:name": {},
                            "f:ports": {
                                'k:{"containerPort":8080,"protocol":"TCP"}': {
                                    ".": {}, "f:containerPort": {}, "f:name": {},
                                },
                            },
                            "f:resources": {
                                "f:limits": {"f:cpu": {}, "f:memory": {}, "f:nvidia.com/gpu": {}},
                                "f:requests": {"f:cpu": {}, "f:memory": {}},
                            },
                            "f:volumeMounts": {'k:{"mountPath":"/models"}': {".": {}, "f:mountPath": {}, "f:name": {}}},
                        },
                    },
                    "f:nodeSelector": {},
                    "f:tolerations": {},
                    "f:volumes": {'k:{"name":"models"}': {".": {}, "f:emptyDir": {}, "f:name": {}}},
                },
            },
        },
    }


def live_deployment(*, image_by_kubectl: bool = True) -> dict[str, Any]:
    """The live object: the desired one as the server stores it, defaults and status added; with
    `image_by_kubectl`, `kubectl set image` changed the image to 1.5.0 after our apply (and owns it)."""
    fleetline_fields = _fleetline_fields()
    container_fields = fleetline_fields["f:spec"]["f:template"]["f:spec"]["f:containers"]['k:{"name":"server"}']
    managed = [{"manager": "fleetline", "operation": "Apply", "apiVersion": "apps/v1", "time": T0,
                "fieldsType": "FieldsV1", "fieldsV1": fleetline_fields}]
    if image_by_kubectl:
        managed.append({"manager": "kubectl-set", "operation": "Update", "apiVersion": "apps/v1", "time": T1,
                        "fieldsType": "FieldsV1", "fieldsV1": {"f:spec": {"f:template": {"f:spec": {"f:containers": {
                            'k:{"name":"server"}': {"f:image": {}}}}}}}})
    else:
        container_fields["f:image"] = {}
    managed.append({"manager": "kube-controller-manager", "operation": "Update", "apiVersion": "apps/v1",
                    "time": T1, "fieldsType": "FieldsV1", "subresource": "status",
                    "fieldsV1": {"f:status": {"f:replicas": {}, "f:observedGeneration": {}}}})
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {
            "name": "inference",
            "namespace": "ml",
            "uid": "7c93c76e-2a6c-4665-8ce1-935186247402",
            "resourceVersion": "34",
            "generation": 2,
            "creationTimestamp": T0,
            "labels": {"app": "inference", "fleetline.io/app": "serving"},
            "annotations": {"fleetline.io/tracking-id": "serving:apps/Deployment:ml/inference",
                            "deployment.kubernetes.io/revision": "2"},
            "managedFields": managed,
        },
        "spec": {
            "replicas": 3,
            "selector": {"matchLabels": {"app": "inference"}},
            "template": {
                "metadata": {"labels": {"app": "inference"}},
                "spec": {
                    "containers": [{
                        "name": "server",
                        "image": "registry.example.com/inference:1.5.0" if image_by_kubectl
                        else "registry.example.com/inference:1.4.2",
                        "args": ["--port=8080", "--model=/models/llm"],
                        "ports": [{"containerPort": 8080, "name": "http", "protocol": "TCP"}],
                        "env": [{"name": "MODEL", "value": "llm"}, {"name": "THREADS", "value": "4"}],
                        "resources": {"limits": {"cpu": "1", "memory": "1024Mi", "nvidia.com/gpu": "1"},
                                      "requests": {"cpu": "500m", "memory": "512Mi"}},
                        "volumeMounts": [{"name": "models", "mountPath": "/models"}],
                        "imagePullPolicy": "IfNotPresent",
                        "terminationMessagePath": "/dev/termination-log",
                        "terminationMessagePolicy": "File",
                    }],
                    "volumes": [{"name": "models", "emptyDir": {}}],
                    "tolerations": [{"key": "nvidia.com/gpu", "operator": "Exists", "effect": "NoSchedule"}],
                    "nodeSelector": {"accelerator": "a100"},
                    "restartPolicy": "Always",
                    "dnsPolicy": "ClusterFirst",
                    "schedulerName": "default-scheduler",
                    "terminationGracePeriodSeconds": 30,
                    "securityContext": {},
                },
            },
            "revisionHistoryLimit": 10,
            "progressDeadlineSeconds": 600,
            "strategy": {"type": "RollingUpdate", "rollingUpdate": {"maxSurge": "25%", "maxUnavailable": "25%"}},
        },
        "status": {
            "observedGeneration": 2,
            "replicas": 3,
            "updatedReplicas": 3,
            "availableReplicas": 3,
            "conditions": [{"type": "Available", "status": "True", "reason": "MinimumReplicasAvailable"}],
        },
    }


def in_sync_live() -> dict[str, Any]:
    """The live object with nobody but us having written the declared fields."""
    return live_deployment(image_by_kubectl=False)


def hpa_scaled(live: dict, replicas: int = 7) -> dict:
    """The HPA changed replicas through the scale subresource: it now owns /spec/replicas."""
    live["spec"]["replicas"] = replicas
    fields = live["metadata"]["managedFields"][0]["fieldsV1"]["f:spec"]
    del fields["f:replicas"]
    live["metadata"]["managedFields"].append({
        "manager": "kube-controller-manager", "operation": "Update", "apiVersion": "apps/v1", "time": T1,
        "subresource": "scale", "fieldsType": "FieldsV1", "fieldsV1": {"f:spec": {"f:replicas": {}}}})
    return live


def sidecar() -> dict[str, Any]:
    """The container kubesim's (and any mesh's) injecting webhook adds to a pod template."""
    return {"name": "mesh-proxy", "image": "kubesim/mesh-proxy:1.0", "ports": [{"containerPort": 15001,
                                                                             "protocol": "TCP"}]}


def containers(obj: dict) -> list[dict]:
    return obj["spec"]["template"]["spec"]["containers"]
