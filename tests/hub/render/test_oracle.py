"""Differential tests: Fleetline's renderer against `kubectl kustomize` (the oracle) on the same repositories.

Every case in `oracle_cases` is built by both; the parsed outputs must be equal as lists: the same objects in
the same order, the same field values (with the same YAML types) and list orders, the same generated names.
Nothing is recorded: kustomize runs at test time (all cases at once, in parallel, in the `corpus` fixture).
"""

from __future__ import annotations

import pytest

from fleetline.yamlsafe import load_all
from tests.hub.render.conftest import PreparedCase, assert_same_output, fleetline_render
from tests.hub.render.oracle_cases import CASES, EXAMPLE_CASES
from tests.hub.render.oracle_cases.example_repo import BUILD_DIRS, REGIONS


def _label(prepared: PreparedCase) -> str:
    case = prepared.case
    where = case.path or "the repository root"
    return f"case {case.name!r} (build {where} in {prepared.root}; {case.about or 'no description'})"


def test_corpus_is_large_and_well_formed() -> None:
    names = [case.name for case in [*CASES, *EXAMPLE_CASES]]
    assert len(names) == len(set(names)), "case names must be unique"
    assert len(CASES) >= 45
    for case in CASES:
        kustomization = f"{case.path}/kustomization.yaml" if case.path else "kustomization.yaml"
        spellings = (kustomization, kustomization.replace(".yaml", ".yml"),
                     kustomization.replace("kustomization.yaml", "Kustomization"))
        assert any(spelling in case.files for spelling in spellings), case.name


def test_example_repository_covers_every_region() -> None:
    for app in ("inference-server", "model-registry-config", "training-scheduler", "monitoring"):
        for region in REGIONS:
            assert f"apps/{app}/overlays/{region}" in BUILD_DIRS
    assert any("/clusters/" in directory for directory in BUILD_DIRS)


@pytest.mark.parametrize(("expected", "actual"), [
    ([{"a": "1"}], [{"a": 1}]),  # a string is not a number
    ([{"a": True}], [{"a": 1}]),  # nor is a boolean
    ([{"a": 1}], [{"a": 1.0}]),
    ([{"kind": "A"}, {"kind": "B"}], [{"kind": "B"}, {"kind": "A"}]),  # object order matters
    ([{"l": [1, 2]}], [{"l": [2, 1]}]),  # list order matters
    ([{"kind": "A"}], []),
])
def test_comparison_detects_differences(expected: list, actual: list) -> None:
    with pytest.raises(pytest.fail.Exception, match="differs from kubectl kustomize"):
        assert_same_output(expected, actual, "a hand-made pair")
    assert_same_output(expected, expected, "the same list twice")


def test_comparison_ignores_map_key_order() -> None:
    assert_same_output([{"a": 1, "b": {"c": 2, "d": 3}}], [{"b": {"d": 3, "c": 2}, "a": 1}], "reordered keys")


@pytest.mark.kubectl
@pytest.mark.parametrize("name", [case.name for case in CASES])
def test_case_is_valid_kustomize_input(corpus: dict[str, PreparedCase], name: str) -> None:
    """The corpus itself: kustomize builds every case (so an engine failure is never a bad case)."""
    result = corpus[name].oracle
    assert result.ok, f"kubectl kustomize rejected case {name!r}:\n{result.stderr}"
    assert result.docs, f"case {name!r} renders nothing"


@pytest.mark.kubectl
@pytest.mark.parametrize("name", [case.name for case in CASES])
def test_render_equals_kustomize(corpus: dict[str, PreparedCase], name: str) -> None:
    prepared = corpus[name]
    expected = prepared.oracle.docs
    actual = fleetline_render(prepared.root, prepared.case.path)
    assert_same_output(expected, actual, _label(prepared))


@pytest.mark.kubectl
@pytest.mark.parametrize("name", [case.name for case in EXAMPLE_CASES])
def test_example_repository_overlay(corpus: dict[str, PreparedCase], name: str) -> None:
    prepared = corpus[name]
    expected = prepared.oracle.docs
    actual = fleetline_render(prepared.root, prepared.case.path)
    assert_same_output(expected, actual, _label(prepared))


@pytest.mark.kubectl
@pytest.mark.parametrize("name", [case.name for case in [*CASES, *EXAMPLE_CASES]])
def test_printed_like_kubectl(corpus: dict[str, PreparedCase], name: str) -> None:
    """`fleetline render` prints the stream as `kubectl kustomize` does: the very same text."""
    from hub.render.emit import to_yaml

    prepared = corpus[name]
    printed = to_yaml(fleetline_render(prepared.root, prepared.case.path))
    if printed != prepared.oracle.stdout:
        assert_same_output(prepared.oracle.docs, load_all(printed, "fleetline render"), _label(prepared))
        expected_lines = prepared.oracle.stdout.splitlines()
        actual_lines = printed.splitlines()
        first = next((i for i, (a, b) in enumerate(zip(expected_lines, actual_lines, strict=False)) if a != b),
                     min(len(expected_lines), len(actual_lines)))
        pytest.fail(f"same objects, different text for {_label(prepared)}; first difference at line {first + 1}:\n"
                    f"  kustomize: {expected_lines[first] if first < len(expected_lines) else '<end>'!r}\n"
                    f"  fleetline: {actual_lines[first] if first < len(actual_lines) else '<end>'!r}",
                    pytrace=False)
