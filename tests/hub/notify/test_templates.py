"""The `{field}` template formatter: fields, literal braces, and errors that say how to fix the template."""

from __future__ import annotations

import pytest

from hub.notify.templates import FIELDS, Template, TemplateError


def test_renders_fields_and_literal_braces() -> None:
    template = Template.parse("{application} on {cluster}: {{not a field}} {message}")
    assert template.fields == ("application", "cluster", "message")
    text = template.render({"application": "inference", "cluster": "eu-1", "message": "boom"})
    assert text == "inference on eu-1: {not a field} boom"


def test_missing_values_render_empty_and_escape_applies_to_values_only() -> None:
    template = Template.parse("*{message}* <{url}|x>")
    assert template.render({"message": "a<b"}, escape=lambda v: v.replace("<", "&lt;")) == "*a&lt;b* <|x>"


def test_unknown_field_names_the_closest_one_and_lists_the_fields() -> None:
    with pytest.raises(TemplateError) as caught:
        Template.parse("sync of {aplication} failed")
    message = str(caught.value)
    assert 'unknown field "{aplication}"' in message and 'did you mean "application"' in message
    assert all(name in message for name in FIELDS)


@pytest.mark.parametrize("text", ["{cluster.__class__}", "{cluster!r}", "{cluster:>10}", "{0}", "{}"])
def test_no_attribute_access_conversions_or_format_specs(text: str) -> None:
    with pytest.raises(TemplateError, match="unknown field"):
        Template.parse(text)


@pytest.mark.parametrize("text,brace", [("a { b", "{"), ("a } b", "}"), ("{cluster", "{")])
def test_unmatched_brace_says_how_to_write_a_literal_one(text: str, brace: str) -> None:
    with pytest.raises(TemplateError, match=f'unmatched "\\{brace}".*write "\\{brace}\\{brace}"'):
        Template.parse(text)


def test_restricted_field_set() -> None:
    with pytest.raises(TemplateError, match='unknown field "{title}"'):
        Template.parse("{title}", tuple(f for f in FIELDS if f != "title"))
