"""The Dockerfile the charts' image is built from, checked without a container engine: what its build stage copies
installs (with the dashboard's assets) and runs `fleetline`; the image runs the charts' command as the charts'
user. A package added to the project but not copied, or a chart user the image does not use, fails here."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]
DOCKERFILE = ROOT / "Dockerfile"


def instructions() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) of the Dockerfile, continuation lines joined, comments dropped."""
    text = re.sub(r"\\\n\s*", " ", DOCKERFILE.read_text())
    return [(line.split(None, 1)[0].upper(), line.split(None, 1)[1]) for line in text.splitlines()
            if line.strip() and not line.lstrip().startswith("#")]


def build_stage_copies() -> list[str]:
    sources: list[str] = []
    for name, args in instructions():
        if name == "FROM" and sources:
            break  # the final stage: copies from the build stage only
        if name == "COPY" and "--from" not in args:
            sources.extend(args.split()[:-1])
    return sources


def test_every_package_the_project_ships_is_copied() -> None:
    copied = set(build_stage_copies())
    patterns = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"]["find"]
    packages = {p.removesuffix("*") for p in patterns["include"]}
    assert packages <= copied, f"the Dockerfile does not copy {sorted(packages - copied)}"
    assert {"pyproject.toml", "README.md"} <= copied
    assert all((ROOT / source).exists() for source in copied)


def test_what_the_build_stage_copies_installs_and_runs(tmp_path: Path) -> None:
    context = tmp_path / "context"
    context.mkdir()
    for source in build_stage_copies():
        target = context / source
        if (ROOT / source).is_dir():
            shutil.copytree(ROOT / source, target, ignore=shutil.ignore_patterns("__pycache__", "*.egg-info"))
        else:
            shutil.copy2(ROOT / source, target)
    prefix = tmp_path / "install"
    subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--no-build-isolation",
                    f"--target={prefix}", str(context)], check=True, capture_output=True, timeout=240)
    assert (prefix / "hub" / "dashboard" / "static" / "index.html").is_file(), "the dashboard's assets"
    env = {**os.environ, "PYTHONPATH": str(prefix)}
    for command in (["hub", "--help"], ["agent", "--help"]):
        done = subprocess.run([sys.executable, "-c", "import sys; from fleetline.cli import main; sys.exit(main())",
                               *command], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=60)
        assert done.returncode == 0, done.stderr
    located = subprocess.run([sys.executable, "-c", "import hub; print(hub.__file__)"], cwd=tmp_path, env=env,
                             capture_output=True, text=True, timeout=60)
    assert located.stdout.startswith(str(prefix)), "the installed copy ran, not the checkout"


def test_the_image_runs_the_charts_command_as_the_charts_user() -> None:
    final = instructions()
    final = final[max(i for i, (name, _) in enumerate(final) if name == "FROM"):]
    user = next(args for name, args in final if name == "USER")
    entrypoint = next(args for name, args in final if name == "ENTRYPOINT")
    assert "git" in next(args for name, args in final if name == "RUN"), "the hub needs git"
    for chart in ("fleetline-hub", "fleetline-agent"):
        values = yaml.safe_load((ROOT / "charts" / chart / "values.yaml").read_text())
        security = values["podSecurityContext"] if "podSecurityContext" in values else values["securityContext"]
        assert user == f"{security['runAsUser']}:{security['runAsGroup']}", chart
        deployment = (ROOT / "charts" / chart / "templates" / "deployment.yaml").read_text()
        assert "command: [fleetline]" in deployment and entrypoint == '["fleetline"]', chart
