"""The package boundaries of DESIGN.md: agent never imports hub, hub never imports agent, kubesim neither."""

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
FORBIDDEN = {"agent": {"hub", "kubesim"}, "hub": {"agent", "kubesim"}, "kubesim": {"hub", "agent"},
             "fleetline": {"hub", "agent"}}
# The `fleetline` command is the composition root: it registers the hub's, the agent's and kubesim's
# subcommands, so it alone may import them (lazily, inside build_parser).
ENTRY_POINT = ROOT / "fleetline" / "cli.py"


def imported_top_level_names(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(), filename=str(path))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module.split(".")[0])
    return names


@pytest.mark.parametrize("package", sorted(FORBIDDEN))
def test_package_imports_respect_boundaries(package: str) -> None:
    files = sorted((ROOT / package).rglob("*.py"))
    assert files, f"package {package} has no modules"
    offenders = []
    for path in files:
        if path == ENTRY_POINT:
            continue
        bad = imported_top_level_names(path) & FORBIDDEN[package]
        if bad:
            offenders.append(f"{path.relative_to(ROOT)} imports {sorted(bad)}")
    assert not offenders, "\n".join(offenders)


@pytest.mark.parametrize("package", sorted(FORBIDDEN))
def test_every_package_says_what_it_owns(package: str) -> None:
    module = __import__(package)
    assert module.__doc__ and len(module.__doc__.split()) > 10
