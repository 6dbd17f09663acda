"""The rendered-output policies: plain Secrets, mutable image tags in production, GPU requests without limits."""

from __future__ import annotations

import pytest

from hub.fleet.model import Policies
from hub.plan.policies import ERROR, WARNING, check, mutable_tag

NONE = Policies()


def deployment(image: str, resources: dict | None = None, kind: str = "Deployment") -> dict:
    container = {"name": "server", "image": image, **({"resources": resources} if resources else {})}
    pod = {"containers": [container]}
    if kind == "Pod":
        return {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p", "namespace": "ml"}, "spec": pod}
    if kind == "CronJob":
        return {"apiVersion": "batch/v1", "kind": "CronJob", "metadata": {"name": "train"},
                "spec": {"jobTemplate": {"spec": {"template": {"spec": pod}}}}}
    return {"apiVersion": "apps/v1", "kind": kind, "metadata": {"name": "inference", "namespace": "ml"},
            "spec": {"template": {"spec": pod}}}


def secret(**fields: object) -> dict:
    return {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "token"}, **fields}


def test_plain_secret_with_data_is_refused_with_the_fix() -> None:
    [finding] = check([secret(data={"token": "c2VjcmV0"})], production=False, opt_outs=NONE)
    assert (finding.policy, finding.severity, finding.object) == ("plain-secret", ERROR, "Secret/token")
    assert "SealedSecret" in finding.message and "allowPlainSecrets" in finding.message


@pytest.mark.parametrize("obj", [
    secret(),  # no data at all (e.g. filled by a controller)
    secret(data={"token": "ENC[AES256_GCM,data:abc]"}, sops={"version": "3.8.1"}),
    {"apiVersion": "bitnami.com/v1alpha1", "kind": "SealedSecret", "metadata": {"name": "t"},
     "spec": {"encryptedData": {"token": "AgB..."}}},
    {"apiVersion": "external-secrets.io/v1beta1", "kind": "ExternalSecret", "metadata": {"name": "t"},
     "spec": {"data": [{"secretKey": "token"}]}},
])
def test_encrypted_or_external_secrets_pass(obj: dict) -> None:
    assert check([obj], production=True, opt_outs=NONE) == []


def test_plain_secret_opt_out() -> None:
    assert check([secret(stringData={"a": "b"})], False, Policies(allow_plain_secrets=True)) == []


@pytest.mark.parametrize(("image", "reason"), [
    ("nginx", "no tag"), ("nginx:latest", "the tag latest"), ("registry:5000/team/model", "no tag"),
    ("registry:5000/team/model:latest", "the tag latest"), ("nginx:1.27", None),
    ("registry:5000/team/model", "no tag"), ("nginx@sha256:" + "a" * 64, None), ("nginx:latest@sha256:ab", None),
])
def test_mutable_tag_reasons(image: str, reason: str | None) -> None:
    assert mutable_tag(image) == reason


@pytest.mark.parametrize("kind", ["Deployment", "StatefulSet", "DaemonSet", "Job", "Pod", "CronJob"])
def test_latest_image_refused_in_production_only(kind: str) -> None:
    objects = [deployment("ghcr.io/acme/inference:latest", kind=kind)]
    [finding] = check(objects, production=True, opt_outs=NONE)
    assert finding.policy == "mutable-image-tag" and "ghcr.io/acme/inference:latest" in finding.message
    assert check(objects, production=False, opt_outs=NONE) == []
    assert check(objects, production=True, opt_outs=Policies(allow_mutable_image_tags=True)) == []


def test_gpu_request_without_matching_limit_is_a_warning() -> None:
    objects = [deployment("acme/inference:2.1", {"requests": {"nvidia.com/gpu": 2}}),
               deployment("acme/inference:2.1", {"requests": {"nvidia.com/gpu": 2}, "limits": {"nvidia.com/gpu": 1}}),
               deployment("acme/inference:2.1", {"requests": {"nvidia.com/gpu": 2}, "limits": {"nvidia.com/gpu": 2}}),
               deployment("acme/inference:2.1", {"limits": {"nvidia.com/gpu": 1}})]
    findings = check(objects, production=True, opt_outs=NONE)
    assert [(f.policy, f.severity) for f in findings] == [("gpu-limits", WARNING)] * 2
    assert "no limit" in findings[0].message and "limit 1" in findings[1].message
    assert check(objects, True, Policies(allow_unbounded_gpu=True)) == []
