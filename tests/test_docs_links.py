"""Every relative link and image in the README, docs/ and the example repository's README points to a file that
exists inside the repository: a renamed doc or a screenshot left out of docs/images/ fails here, not in a
reader's browser."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DOCUMENTS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md")), ROOT / "overlays-example" / "README.md",
             *sorted((ROOT / "charts").glob("*/README.md"))]
LINK = re.compile(r"!?\[[^\]]*\]\(([^)\s]+)\)")


def relative_targets(text: str) -> list[str]:
    """The link targets of `text` that name files of this repository (no URL, no bare anchor)."""
    targets = []
    for target in LINK.findall(text):
        if re.match(r"^[a-z][a-z0-9+.-]*:", target) or target.startswith("#"):
            continue
        targets.append(target.split("#", 1)[0])
    return targets


def test_the_link_pattern_finds_images_and_links_but_not_urls() -> None:
    text = "![shot](images/a.png) see [api](api.md#auth), [site](https://x.example) and [top](#top)"
    assert relative_targets(text) == ["images/a.png", "api.md"]


@pytest.mark.parametrize("document", DOCUMENTS, ids=lambda p: str(p.relative_to(ROOT)))
def test_every_relative_link_points_to_a_file(document: Path) -> None:
    assert document.is_file(), f"{document} is missing"
    targets = relative_targets(document.read_text(encoding="utf-8"))
    outside = [t for t in targets if not (document.parent / t).resolve().is_relative_to(ROOT)]
    assert not outside, f"{document.relative_to(ROOT)} links outside the repository (a reader's clone lacks them): " \
                        f"{outside}"
    missing = [target for target in targets if not (document.parent / target).exists()]
    assert not missing, f"{document.relative_to(ROOT)} links to files that do not exist: {missing}"
