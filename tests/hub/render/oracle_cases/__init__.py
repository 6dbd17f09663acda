"""The differential corpus: small repositories that `kubectl kustomize` and Fleetline's renderer both build.

`CASES` are the feature cases (one behaviour each, see each module), `EXAMPLE_CASES` every build directory of
the realistic ML-platform example repository. Expected outputs are never recorded: the tests run kustomize."""

from __future__ import annotations

from tests.hub.render.oracle_cases import edges, example_repo, generators, patches, references, structure, transforms
from tests.hub.render.oracle_cases.base import Case

CASES: list[Case] = [*structure.CASES, *transforms.CASES, *patches.CASES, *generators.CASES, *references.CASES,
                     *edges.CASES]
EXAMPLE_CASES: list[Case] = example_repo.EXAMPLE_CASES

__all__ = ["CASES", "EXAMPLE_CASES", "Case"]
