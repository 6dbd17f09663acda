"""The notification templates: a tiny `{field}` formatter over a fixed set of fields (not Jinja, not str.format).

A template is text with placeholders such as `{application}`; `{{` and `}}` stand for literal braces. Only the
names in `FIELDS` may appear, which `Template.parse` checks when the configuration is loaded, so that a typo is
an error at start-up naming the file and the field, never a blank in a message sent at 3 a.m. Rendering cannot
fail: every field has a value (possibly empty), and there are no attributes, indexes or format specs.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from hub.fleet.reader import did_you_mean

FIELDS = ("trigger", "title", "cluster", "region", "environment", "application", "revision", "revision_short",
          "message", "url", "time")
"""Every field a template may name; `title` is the rendered title (usable in the text only)."""

_TOKEN = re.compile(r"\{\{|\}\}|\{([^{}]*)\}|[{}]")


class TemplateError(ValueError):
    """A template that names an unknown field or has an unmatched brace; the message says how to fix it."""


@dataclass(frozen=True)
class Template:
    """A parsed template: literal text and field names, alternating (`parts[1::2]` are the field names)."""

    source: str
    parts: tuple[str, ...]

    @classmethod
    def parse(cls, text: str, fields: tuple[str, ...] = FIELDS) -> Template:
        """Parse `text`; TemplateError for an unknown field or an unmatched `{` or `}`."""
        parts: list[str] = []
        literal: list[str] = []
        position = 0
        for match in _TOKEN.finditer(text):
            literal.append(text[position:match.start()])
            position = match.end()
            token = match.group(0)
            if token in ("{{", "}}"):
                literal.append(token[0])
                continue
            name = match.group(1)
            if name is None:
                raise TemplateError(f'unmatched "{token}" at character {match.start() + 1}; write "{token}{token}" '
                                    "for a literal brace")
            if name.strip() not in fields:
                raise TemplateError(f'unknown field "{{{name}}}"{did_you_mean(name.strip(), fields)}; the fields are: '
                                    + ", ".join(fields))
            parts.extend(("".join(literal), name.strip()))
            literal = []
        literal.append(text[position:])
        parts.append("".join(literal))
        return cls(text, tuple(parts))

    @property
    def fields(self) -> tuple[str, ...]:
        return self.parts[1::2]

    def render(self, values: Mapping[str, str], escape: Callable[[str], str] | None = None) -> str:
        """The text with each field replaced by its value ("" when missing), passed through `escape` if given
        (the Slack sink escapes the values, not the template's own markup)."""
        out = []
        for index, part in enumerate(self.parts):
            if index % 2 == 0:
                out.append(part)
            else:
                value = values.get(part, "")
                out.append(escape(value) if escape is not None else value)
        return "".join(out)
