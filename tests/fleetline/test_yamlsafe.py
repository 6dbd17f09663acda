"""Safe YAML: typed like kustomize's kyaml (YAML 1.2), bounded against bombs, errors naming the file."""

from __future__ import annotations

import pytest

from fleetline import yamlsafe
from fleetline.yamlsafe import YamlError, load_all, load_one


def test_scalars_resolve_like_kyaml() -> None:
    doc = load_one(b"a: yes\nb: 0123\nc: 1_000\nd: 2001-12-14\ne: .5\nf: True\ng: ~\nh: 0x1f\ni: on\nj: 0o17\n", "x")
    assert doc == {"a": "yes", "b": 83, "c": 1000, "d": "2001-12-14", "e": 0.5, "f": True, "g": None, "h": 31,
                   "i": "on", "j": 15}


def test_streams_skip_empty_documents() -> None:
    assert load_all("---\n---\nkind: A\n---\n# nothing\n---\nkind: B\n", "s.yaml") == [{"kind": "A"}, {"kind": "B"}]


def test_alias_bomb_is_refused() -> None:
    lines = ["a: &a [x,x,x,x,x,x,x,x,x]"]
    for prev, name in zip("abcdefg", "bcdefgh", strict=True):
        lines.append(f"{name}: &{name} [" + ",".join([f"*{prev}"] * 9) + "]")
    with pytest.raises(YamlError, match="bomb.yaml: document contains excessive aliasing"):
        load_all("\n".join(lines), "bomb.yaml")


def test_size_and_depth_limits(monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(YamlError, match="deep.yaml: document nests deeper than"):
        load_all("[" * (yamlsafe.MAX_DEPTH + 5) + "]" * (yamlsafe.MAX_DEPTH + 5), "deep.yaml")
    monkeypatch.setattr(yamlsafe, "MAX_DOCUMENT_BYTES", 100)
    with pytest.raises(YamlError, match="big.yaml: file is 101 bytes, over the limit of 100 bytes"):
        load_all(b"x" * 101, "big.yaml")


def test_syntax_error_names_file_and_line() -> None:
    with pytest.raises(YamlError) as caught:
        load_all(b"a: 1\nb: [1,\nc: 2", "bad.yaml")
    assert str(caught.value).startswith("bad.yaml:4: invalid YAML: while parsing a flow sequence")
    assert caught.value.line == 4
    with pytest.raises(YamlError, match="one YAML document, found 2"):
        load_one("a: 1\n---\nb: 2\n", "two.yaml")
    with pytest.raises(YamlError, match="not UTF-8"):
        load_all(b"a: \xff\xfe", "bin.yaml")
