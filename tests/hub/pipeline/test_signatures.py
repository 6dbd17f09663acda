"""Signed commits: where an environment requires signatures, an unsigned commit is refused with a status
saying why and the environment stays where it was; a commit signed by a trusted key goes through."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from hub.source import import_keys
from tests.hub.pipeline.conftest import deployment_yaml, kustomization

pytestmark = pytest.mark.skipif(shutil.which("gpg") is None, reason="needs the gpg binary")

FLEET = """\
apiVersion: fleetline.io/v1alpha1
kind: Fleet
metadata: {name: ml}
spec:
  environments:
    staging:
      ref: main
      signatures: {required: true, trustedKeys: ["%s"]}
  clusters:
  - {name: stg-1, region: us-west, environment: staging}
  applications:
  - name: inference
    source: {path: apps/inference}
    destination: {namespace: ml}
    syncPolicy:
      automated: {prune: true, selfHeal: true}
      syncOptions: [CreateNamespace=true]
"""


def make_key(home: Path) -> tuple[str, Path]:
    """A throwaway signing key in GNUPGHOME `home`: its fingerprint and its exported public key."""
    home.mkdir(mode=0o700)
    env = {**os.environ, "GNUPGHOME": str(home)}
    subprocess.run(["gpg", "--batch", "--passphrase", "", "--quick-gen-key", "Release <release@example.com>",
                    "ed25519", "sign", "never"], env=env, check=True, capture_output=True)
    listing = subprocess.run(["gpg", "--batch", "--with-colons", "--list-keys"], env=env, check=True,
                             capture_output=True, text=True).stdout
    fingerprint = next(line.split(":")[9] for line in listing.splitlines() if line.startswith("fpr:"))
    public = home.parent / "release.asc"
    public.write_bytes(subprocess.run(["gpg", "--batch", "--armor", "--export", fingerprint], env=env,
                                      check=True, capture_output=True).stdout)
    return fingerprint, public


def signed_commit(stack, home: Path, fingerprint: str, files: dict[str, str], message: str) -> str:
    for path, text in files.items():
        (stack.repo_dir / path).write_text(text)
        stack.repo.index.add([path])
    env = {**os.environ, "GNUPGHOME": str(home)}
    subprocess.run(["git", "-c", "gpg.program=gpg", "-c", f"user.signingkey={fingerprint}", "commit", "-S",
                    "-q", "-m", message], cwd=stack.repo_dir, env=env, check=True, capture_output=True)
    return stack.repo.head.commit.hexsha


@pytest.fixture
def signer_home(tmp_path: Path):
    """A GNUPGHOME for the throwaway key; its gpg-agent is stopped afterwards (gpg starts one per home)."""
    home = tmp_path / "signer"
    yield home
    subprocess.run(["gpgconf", "--kill", "gpg-agent"], env={**os.environ, "GNUPGHOME": str(home)},
                   capture_output=True, check=False)


async def test_an_unsigned_commit_is_refused_and_a_trusted_signed_one_goes_through(stack_factory, tmp_path,
                                                                                   signer_home) -> None:
    fingerprint, public = make_key(signer_home)
    stack = stack_factory(["stg-1"])
    unsigned = stack.commit({"fleet.yaml": FLEET % fingerprint, "apps/inference/deployment.yaml": deployment_yaml(),
                             "apps/inference/kustomization.yaml": kustomization("v1")}, "unsigned v1")
    import_keys(stack.root / "hub" / "source" / "gnupg", [public])
    await stack.start(interval=0.5)
    refused = await stack.eventually(lambda: stack.source.describe()["refused"], message="refused")
    assert refused[0]["environment"] == "staging" and refused[0]["revision"] == unsigned
    assert "not signed" in refused[0]["reason"]
    assert stack.app_status("stg-1", "inference") is None and await stack.image("stg-1") is None
    signed = signed_commit(stack, signer_home, fingerprint,
                           {"apps/inference/kustomization.yaml": kustomization("v2")}, "signed v2")
    await stack.eventually(lambda: stack.runs("stg-1", "inference", signed), timeout=30, message="signed v2 deployed")
    assert await stack.image("stg-1") == "model-server:v2"
    assert not stack.source.describe()["refused"]
