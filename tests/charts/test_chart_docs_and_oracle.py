"""The charts' metadata and documentation stay true: Chart.yaml versions follow the package version, each README's
values table lists exactly the keys of values.yaml with their defaults; and where the official helm binary is
available (FLEETLINE_HELM, as `make test` fetches it), `helm template` and `helm lint --strict` agree with the
in-process engine."""

from __future__ import annotations

import json
import re
import subprocess
import tomllib
from pathlib import Path

import pytest
import yaml

from fleetline.yamlsafe import load_all
from tests.charts.conftest import AGENT, HUB, ROOT, agent_values, helm_binary, hub_values, render

CHARTS = [AGENT, HUB]
# keys whose children the README describes as a whole (their defaults are in values.yaml)
OPAQUE = {"resources", "podSecurityContext", "securityContext", "livenessProbe", "readinessProbe"}
ROW = re.compile(r"^\| `(?P<key>[^`]+)` \| (?P<default>.+?) \| (?P<description>.+) \|$")


def value_keys(values: dict, prefix: str = "") -> dict[str, object]:
    """Dotted key -> default for every leaf of values.yaml (an empty map, a list and OPAQUE keys are leaves)."""
    out: dict[str, object] = {}
    for key, value in values.items():
        path = f"{prefix}{key}"
        if isinstance(value, dict) and value and path not in OPAQUE:
            out.update(value_keys(value, path + "."))
        else:
            out[path] = value
    return out


def default_cell(value: object) -> str:
    text = json.dumps(value, separators=(", ", ": "))
    return f"`{text}`" if len(text) <= 60 else "see values.yaml"


def readme_rows(chart: Path) -> dict[str, tuple[str, str]]:
    rows: dict[str, tuple[str, str]] = {}
    for line in (chart / "README.md").read_text().splitlines():
        if match := ROW.match(line):
            assert match["key"] not in rows, f"{chart.name}/README.md lists {match['key']} twice"
            rows[match["key"]] = (match["default"], match["description"])
    return rows


@pytest.mark.parametrize("chart", CHARTS, ids=lambda c: c.name)
def test_readme_values_table_lists_every_key_with_its_default(chart: Path) -> None:
    keys = value_keys(yaml.safe_load((chart / "values.yaml").read_text()))
    rows = readme_rows(chart)
    missing = [k for k in keys if k not in rows]
    assert not missing, f"{chart.name}/README.md: add rows for " + ", ".join(missing) + "; e.g.\n" + "\n".join(
        f"| `{k}` | {default_cell(keys[k])} | ... |" for k in missing)
    unknown = [k for k in rows if k not in keys]
    assert not unknown, f"{chart.name}/README.md lists keys values.yaml does not have: {unknown}"
    for key, (default, description) in rows.items():
        assert default == default_cell(keys[key]), f"{chart.name}/README.md `{key}`: default should read " \
                                                   f"{default_cell(keys[key])}, not {default}"
        assert description.strip() not in ("", "TODO"), f"{chart.name}/README.md `{key}` has no description"


@pytest.mark.parametrize("chart", CHARTS, ids=lambda c: c.name)
def test_every_schema_property_is_a_values_key(chart: Path) -> None:
    """values.schema.json rejects unknown keys, so it must know every key values.yaml sets."""
    schema = json.loads((chart / "values.schema.json").read_text())
    values = yaml.safe_load((chart / "values.yaml").read_text())
    assert set(values) <= set(schema["properties"]), set(values) - set(schema["properties"])
    assert set(schema["properties"]) - set(values) <= {"global"}, "every schema key has a default in values.yaml"


@pytest.mark.parametrize("chart", CHARTS, ids=lambda c: c.name)
def test_chart_versions_follow_the_package_version(chart: Path) -> None:
    package = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["version"]
    meta = yaml.safe_load((chart / "Chart.yaml").read_text())
    assert meta["apiVersion"] == "v2"
    assert meta["version"] == package and meta["appVersion"] == package, \
        f"{chart.name}/Chart.yaml: set version and appVersion to {package} (pyproject.toml)"


# -- the official helm binary as the oracle ---------------------------------------------------------------------

CASES = {
    "agent-required": (AGENT, lambda p: agent_values(p)),
    "agent-namespaced-token": (AGENT, lambda p: agent_values(
        p, rbac={"namespaces": ["inference", "training"]}, cache={"persistence": {"enabled": True}},
        credentials={"method": "token", "token": "t0ken", "ca": p.ca}, extraArgs=["--gpu-grace=900"])),
    "hub-required": (HUB, lambda p: hub_values(p)),
    "hub-everything": (HUB, lambda p: hub_values(
        p, adminToken={"value": "0123456789abcdef0123"}, webhook={"secret": "w"}, config="notifications: {}\n",
        agentAuth={"tokens": True}, repo={"url": "https://git.example.com/f.git", "credentials": {"token": "x"},
                                          "trustedKeys": ["-----BEGIN PGP PUBLIC KEY BLOCK-----\nk\n"]})),
}


@pytest.fixture(scope="module")
def helm_cli() -> str:
    binary = helm_binary()
    if binary is None:
        pytest.skip("no official helm binary (set FLEETLINE_HELM, or `make test` fetches one): "
                    "the charts are still rendered and linted by Helm's engine in the other tests")
    return binary


def run_helm(helm_cli: str, tmp_path: Path, *args: str) -> subprocess.CompletedProcess:
    env = {"HELM_CACHE_HOME": str(tmp_path), "HELM_CONFIG_HOME": str(tmp_path), "HELM_DATA_HOME": str(tmp_path),
           "PATH": "/usr/bin:/bin"}
    return subprocess.run([helm_cli, *args], capture_output=True, text=True, env=env, timeout=60)


@pytest.mark.parametrize("case", CASES)
def test_helm_template_renders_what_the_engine_renders(helm_cli: str, tmp_path: Path, pki, case: str) -> None:
    chart, values = CASES[case]
    values_file = tmp_path / "values.json"
    values_file.write_text(json.dumps(values(pki)))
    result = run_helm(helm_cli, tmp_path, "template", "fleetline", str(chart), "--namespace", "fleetline",
                      "-f", str(values_file))
    assert result.returncode == 0, result.stderr
    theirs = [obj for obj in load_all(result.stdout, "helm template") if obj]
    ours = render(chart, values(pki))
    key = lambda o: (o["kind"], o["metadata"].get("namespace", ""), o["metadata"]["name"])  # noqa: E731
    assert sorted(theirs, key=key) == sorted(ours, key=key)


@pytest.mark.parametrize("case", CASES)
def test_helm_lint_strict_passes(helm_cli: str, tmp_path: Path, pki, case: str) -> None:
    chart, values = CASES[case]
    values_file = tmp_path / "values.json"
    values_file.write_text(json.dumps(values(pki)))
    result = run_helm(helm_cli, tmp_path, "lint", "--strict", str(chart), "-f", str(values_file))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 chart(s) failed" in result.stdout


def test_helm_template_refuses_missing_required_values(helm_cli: str, tmp_path: Path) -> None:
    result = run_helm(helm_cli, tmp_path, "template", "fleetline", str(AGENT))
    assert result.returncode != 0
    assert "at '/hub/address'" in result.stderr and "at '/cluster/name'" in result.stderr
