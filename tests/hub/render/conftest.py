"""Shared fixtures for the renderer's tests: writing a repository tree, and `kubectl kustomize` as the oracle.

The oracle is the real `kubectl kustomize` (kustomize v5.5.0 on the machine image); where kubectl is not on
PATH, the tests that need it skip with a printed reason. `corpus` builds every differential case with kustomize
once per session, in parallel, so the whole corpus costs about one second of kubectl time.
"""

from __future__ import annotations

import difflib
import json
import shutil
import subprocess
from collections.abc import Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml

from fleetline.yamlsafe import load_all
from tests.hub.render.oracle_cases import CASES, EXAMPLE_CASES, Case

KUBECTL = shutil.which("kubectl")
NO_KUBECTL = "kubectl is not on PATH: the differential tests need `kubectl kustomize` (kustomize v5.5.0) as oracle"
KUSTOMIZE_TIMEOUT = 60  # seconds per `kubectl kustomize` call; a build takes ~0.13 s


def write_tree(root: Path, files: Mapping[str, str | bytes]) -> Path:
    """Write `files` (repository-relative POSIX path -> text or bytes) under `root`; returns `root`."""
    for rel, body in files.items():
        target = root.joinpath(*rel.split("/"))
        target.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(body, bytes):
            target.write_bytes(body)
        else:
            target.write_text(body, encoding="utf-8")
    return root


@dataclass(frozen=True)
class OracleResult:
    """One `kubectl kustomize DIR` run: exit status, raw streams and, when it succeeded, the parsed documents."""

    directory: Path
    returncode: int
    stdout: str
    stderr: str

    @property
    def ok(self) -> bool:
        return self.returncode == 0

    @property
    def docs(self) -> list[object]:
        if not self.ok:
            raise AssertionError(f"kubectl kustomize {self.directory} failed (exit {self.returncode}):\n{self.stderr}")
        return load_all(self.stdout, "kubectl kustomize")


def run_kustomize(directory: Path) -> OracleResult:
    """Run `kubectl kustomize DIR` (the caller has checked that kubectl exists)."""
    assert KUBECTL is not None, NO_KUBECTL
    proc = subprocess.run([KUBECTL, "kustomize", str(directory)], capture_output=True, text=True,
                          timeout=KUSTOMIZE_TIMEOUT, check=False)
    return OracleResult(directory, proc.returncode, proc.stdout, proc.stderr)


def require_kubectl() -> None:
    """Skip the calling test, printing why, when kubectl is missing."""
    if KUBECTL is None:
        print(NO_KUBECTL)
        pytest.skip(NO_KUBECTL)


class Oracle:
    """`kubectl kustomize` for tests: `build(dir)` returns the parsed documents (failing the test when kustomize
    fails); `run(dir)` returns the whole OracleResult, for cases where kustomize is expected to fail."""

    def run(self, directory: Path) -> OracleResult:
        return run_kustomize(directory)

    def build(self, directory: Path) -> list[object]:
        return run_kustomize(directory).docs


@pytest.fixture
def kustomize_oracle() -> Oracle:
    """The real `kubectl kustomize`; skips (with a printed reason) when kubectl is not on PATH."""
    require_kubectl()
    return Oracle()


def fleetline_render(root: Path, path: str = "") -> list[dict]:
    """Fleetline's output for the kustomization at `path` inside the repository rooted at `root`.

    The repository root is the build root for `render_directory`; a build below the root goes through the
    `Builder` over the same repository, so that overlays may reach bases elsewhere in it, as they do in Git."""
    from hub.render.build import Builder, render_directory

    if not path:
        return render_directory(str(root))
    from hub.render.files import DirectoryFiles

    return [resource.obj for resource in Builder(DirectoryFiles(root)).build(path)]


# ------------------------------------------------------------------------------------------------ comparing


def _canonical(doc: object) -> str:
    """Type-exact identity of a document (True != 1, 1 != 1.0, "1" != 1), independent of map key order."""
    return json.dumps(doc, sort_keys=True, ensure_ascii=False, allow_nan=True)


def _describe(doc: object) -> str:
    if isinstance(doc, dict):
        meta = doc.get("metadata") if isinstance(doc.get("metadata"), dict) else {}
        where = f"{meta.get('namespace')}/" if meta.get("namespace") else ""
        return f"{doc.get('apiVersion')} {doc.get('kind')} {where}{meta.get('name')}"
    return repr(doc)[:80]


def _dump(docs: Iterable[object]) -> list[str]:
    try:
        text = yaml.safe_dump_all(list(docs), sort_keys=True, default_flow_style=False, allow_unicode=True)
    except yaml.YAMLError:
        text = "\n".join(json.dumps(doc, sort_keys=True, indent=1, default=repr) for doc in docs)
    return text.splitlines(keepends=True)


def assert_same_output(expected: list[object], actual: list[object], label: str) -> None:
    """Fail with a readable report unless `actual` equals kustomize's `expected` output exactly: the same
    objects in the same order with the same field values (types included) and list orders."""
    if [_canonical(d) for d in expected] == [_canonical(d) for d in actual]:
        return
    lines = [f"Fleetline's output differs from kubectl kustomize for {label}",
             f"  kustomize: {len(expected)} objects, fleetline: {len(actual)} objects"]
    expected_ids = [_describe(d) for d in expected]
    actual_ids = [_describe(d) for d in actual]
    if expected_ids != actual_ids:
        lines.append("  objects (order matters):")
        lines += ["    " + line.rstrip("\n") for line in difflib.unified_diff(
            [i + "\n" for i in expected_ids], [i + "\n" for i in actual_ids], "kustomize", "fleetline", n=50)]
    lines.append("  documents (keys sorted):")
    lines += ["    " + line.rstrip("\n") for line in difflib.unified_diff(
        _dump(expected), _dump(actual), "kubectl kustomize", "fleetline", n=4)]
    pytest.fail("\n".join(lines), pytrace=False)


# ------------------------------------------------------------------------------------------------ the corpus


@dataclass(frozen=True)
class PreparedCase:
    """A case written to disk (the repository at `root`) with kustomize's result for its build directory."""

    case: Case
    root: Path
    oracle: OracleResult


def prepare_corpus(base: Path, cases: Iterable[Case], workers: int = 8) -> dict[str, PreparedCase]:
    """Write each case's repository once (cases sharing one `files` dict share a tree) and build every case
    with kubectl kustomize in parallel."""
    cases = list(cases)
    roots: dict[int, Path] = {}
    for case in cases:
        if id(case.files) not in roots:
            roots[id(case.files)] = write_tree(base / f"repo{len(roots):03d}", case.files)

    def build(case: Case) -> OracleResult:
        root = roots[id(case.files)]
        return run_kustomize(root.joinpath(*case.path.split("/")) if case.path else root)

    with ThreadPoolExecutor(max_workers=workers) as pool:
        results = list(pool.map(build, cases))
    return {case.name: PreparedCase(case, roots[id(case.files)], result)
            for case, result in zip(cases, results, strict=True)}


@pytest.fixture(scope="session")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> dict[str, PreparedCase]:
    """Every differential case (features and example repository), written out and built by kustomize."""
    require_kubectl()
    return prepare_corpus(tmp_path_factory.mktemp("oracle-corpus"), [*CASES, *EXAMPLE_CASES])
