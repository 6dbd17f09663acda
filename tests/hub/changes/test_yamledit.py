"""Exact YAML edits: only the intended bytes change, and anything riskier is refused."""

from __future__ import annotations

import pytest
import yaml

from hub.changes.errors import PromotionError
from hub.changes.yamledit import add_key, apply, compose, get, items, render_scalar, replace_scalar


@pytest.mark.parametrize(("value", "style", "text"), [
    ("v2", None, "v2"), ("resnet-50", None, "resnet-50"), ("1.5.0", None, '"1.5.0"'), ("1.10", None, '"1.10"'),
    ("yes", None, '"yes"'), ("n", None, '"n"'), ("null", None, '"null"'), ("2024-01-01", None, '"2024-01-01"'),
    ("a: b", None, '"a: b"'), ("v2", '"', '"v2"'), ("it's", "'", "'it''s'"), ("x#y", None, '"x#y"'),
])
def test_scalars_load_back_as_the_string_in_the_original_style_where_possible(value: str, style: str | None,
                                                                             text: str) -> None:
    assert render_scalar(value, style) == text
    assert yaml.safe_load(f"k: {text}") == {"k": value}


def test_replacing_and_adding_keep_comments_order_and_flow_style() -> None:
    text = ("# images\r\nimages:   # list\r\n- name: a   # first\r\n  newTag: '1.0'  # old\r\n"
            "- {name: b, newName: c}\r\n- name: d\r\n  newName: e\r\n")
    top = compose(text, "k.yaml")[0]
    entries = items(get(top, "images")[1])
    edits = [replace_scalar(get(entries[0], "newTag")[1], "k.yaml", 0, ("images", 0, "newTag"), "2.0"),
             add_key(text, entries[1], entries[1].value[-1][1], "k.yaml", 0, ("images", 1, "newTag"), "3"),
             add_key(text, entries[2], entries[2].value[-1][1], "k.yaml", 0, ("images", 2, "newTag"), "v4")]
    assert apply(text, edits, "k.yaml") == (
        "# images\r\nimages:   # list\r\n- name: a   # first\r\n  newTag: '2.0'  # old\r\n"
        '- {name: b, newName: c, newTag: "3"}\r\n- name: d\r\n  newName: e\r\n  newTag: "v4"\r\n')


def test_a_value_shared_through_an_anchor_is_refused() -> None:
    text = "a: &tag v1\nb: *tag\n"
    node = get(compose(text, "f.yaml")[0], "a")[1]
    with pytest.raises(PromotionError, match="^f.yaml: the edit would .*make the change by hand"):
        apply(text, [replace_scalar(node, "f.yaml", 0, ("a",), "v2")], "f.yaml")
    text = "a: v1\nb: v1\n"
    node = get(compose(text, "f.yaml")[0], "a")[1]
    edit = replace_scalar(node, "f.yaml", 0, ("a",), "v2")
    with pytest.raises(PromotionError, match="^f.yaml: the edit would change more than the intended values"):
        apply(text, [edit, replace_scalar(node, "f.yaml", 0, ("b",), "v1")], "f.yaml")


def test_block_scalars_and_invalid_yaml_are_refused_naming_the_file() -> None:
    text = "a: |\n  v1\n"
    with pytest.raises(PromotionError, match="f.yaml:1: a is a block scalar"):
        replace_scalar(get(compose(text, "f.yaml")[0], "a")[1], "f.yaml", 0, ("a",), "v2")
    with pytest.raises(PromotionError, match="f.yaml"):
        compose("a: [\n", "f.yaml")
