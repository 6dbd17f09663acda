"""A small subset of jq path expressions, for Argo CD's `ignoreDifferences[].jqPathExpressions`.

Owns parsing and evaluating the subset below; our own parser, no jq dependency. An expression evaluates to
the paths it selects in a document (as jq's `path(EXPR)` would), which the diff then ignores.

Supported (whitespace allowed between tokens):

    .                              the document itself
    .a.b   ."key/with/dots"  .a["b"]  a field (a quoted name for keys that are not identifiers)
    .a[]   .a[]?                   every item of a list (or value of a map); `?` is accepted, never needed
    .a[2]  .a[-1]                  one item of a list
    EXPR | EXPR                    a pipe: the right side applies to every path the left side selects
    select(PATH == LITERAL)        keep the current value when the value at PATH equals LITERAL
    select(PATH != LITERAL)        ... when it does not; LITERAL is a JSON string, number, true, false or null

for example `.spec.template.spec.containers[] | select(.name == "istio-proxy")`,
`.webhooks[]?.clientConfig.caBundle`, `.spec.template.spec.containers[] | select(.name == "main") | .image`.

Anything else (functions other than select, `..`, `and`/`or`, slices, string interpolation) is refused at
parse time with a `JqError` naming the expression, the position and the supported forms. Evaluation is lenient
where jq would stop with an error: iterating or indexing something that is not a list or map selects nothing.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any, NoReturn

SUPPORTED = ('paths like .a.b, ."quoted key", .a["key"], .a[], .a[]?, .a[0], pipes with |, and '
             'select(.key == "value") or select(.key != "value")')

_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_INT = re.compile(r"-?[0-9]+")

Path = tuple[str | int, ...]


class JqError(ValueError):
    """A jq path expression outside the supported subset."""

    def __init__(self, expression: str, problem: str, position: int) -> None:
        super().__init__(f"jqPathExpression {expression!r}: {problem} at position {position}; "
                         f"supported: {SUPPORTED}")


@dataclass(frozen=True)
class _Field:
    name: str


@dataclass(frozen=True)
class _Iterate:
    pass


@dataclass(frozen=True)
class _Index:
    index: int


_Step = _Field | _Iterate | _Index


@dataclass(frozen=True)
class _Select:
    path: tuple[_Step, ...]
    equal: bool  # == (True) or != (False)
    literal: Any


_Segment = tuple[_Step, ...] | _Select


@dataclass(frozen=True)
class JqPath:
    """A parsed expression: its text and the pipe segments (paths and selects) in order."""

    text: str
    segments: tuple[_Segment, ...]

    def paths(self, document: Any) -> list[Path]:
        """The paths the expression selects in `document` (existing or not, as jq's `path()`)."""
        current: list[tuple[Path, Any]] = [((), document)]
        for segment in self.segments:
            if isinstance(segment, _Select):
                current = [(path, value) for path, value in current if _test(segment, value)]
            else:
                current = [out for path, value in current for out in _follow(segment, path, value)]
        return [path for path, _ in current]


def parse(expression: str) -> JqPath:
    """Parse `expression`; JqError when it is outside the subset."""
    parser = _Parser(expression)
    segments = [parser.segment()]
    while parser.accept("|"):
        segments.append(parser.segment())
    parser.skip_space()
    if parser.pos != len(expression):
        parser.fail(f"unexpected {expression[parser.pos]!r}")
    return JqPath(expression, tuple(segments))


class _Parser:
    def __init__(self, text: str) -> None:
        self.text = text
        self.pos = 0

    def fail(self, problem: str) -> NoReturn:
        raise JqError(self.text, problem, self.pos)

    def skip_space(self) -> None:
        while self.pos < len(self.text) and self.text[self.pos].isspace():
            self.pos += 1

    def accept(self, token: str) -> bool:
        self.skip_space()
        if self.text.startswith(token, self.pos):
            self.pos += len(token)
            return True
        return False

    def expect(self, token: str) -> None:
        if not self.accept(token):
            self.fail(f"expected {token!r}")

    def segment(self) -> _Segment:
        self.skip_space()
        if self.text.startswith("select", self.pos):
            self.pos += len("select")
            self.expect("(")
            path = self.path()
            if self.accept("=="):
                equal = True
            elif self.accept("!="):
                equal = False
            else:
                self.fail("expected == or != in select()")
            literal = self.literal()
            self.expect(")")
            return _Select(path, equal, literal)
        return self.path()

    def path(self) -> tuple[_Step, ...]:
        self.skip_space()
        if not self.text.startswith(".", self.pos):
            self.fail("expected a path starting with '.' or select(...)")
        if self.text.startswith("..", self.pos):
            self.fail("recursive descent '..' is not supported")
        self.pos += 1
        steps: list[_Step] = []
        name = self.name()
        if name is not None:
            steps.append(_Field(name))
        while True:
            if self.text.startswith(".", self.pos):
                self.pos += 1
                name = self.name()
                if name is None:
                    self.fail("expected a field name or a quoted key after '.'")
                steps.append(_Field(name))
            elif self.text.startswith("[", self.pos):
                steps.append(self.bracket())
            else:
                return tuple(steps)

    def name(self) -> str | None:
        if self.text.startswith('"', self.pos):
            value = self.json_value()
            if not isinstance(value, str):
                self.fail("expected a quoted key")
            return value
        match = _NAME.match(self.text, self.pos)
        if match is None:
            return None
        self.pos = match.end()
        return match.group()

    def bracket(self) -> _Step:
        self.pos += 1  # "["
        self.skip_space()
        if self.accept("]"):
            self.accept_optional()
            return _Iterate()
        if self.text.startswith('"', self.pos):
            key = self.json_value()
            self.expect("]")
            self.accept_optional()
            return _Field(key)
        match = _INT.match(self.text, self.pos)
        if match is None:
            self.fail("expected ], an integer index or a quoted key inside [ ]")
        self.pos = match.end()
        self.expect("]")
        self.accept_optional()
        return _Index(int(match.group()))

    def accept_optional(self) -> None:
        if self.text.startswith("?", self.pos):
            self.pos += 1

    def literal(self) -> Any:
        self.skip_space()
        return self.json_value()

    def json_value(self) -> Any:
        try:
            value, end = json.JSONDecoder().raw_decode(self.text, self.pos)
        except json.JSONDecodeError:
            self.fail("expected a JSON literal (a quoted string, a number, true, false or null)")
        if isinstance(value, dict | list):
            self.fail("only scalar literals are supported")
        self.pos = end
        return value


def _follow(steps: tuple[_Step, ...], path: Path, value: Any) -> list[tuple[Path, Any]]:
    current = [(path, value)]
    for step in steps:
        following: list[tuple[Path, Any]] = []
        for here, inner in current:
            following.extend(_step(step, here, inner))
        current = following
    return current


def _step(step: _Step, path: Path, value: Any) -> list[tuple[Path, Any]]:
    if isinstance(step, _Field):
        if isinstance(value, dict):
            return [(path + (step.name,), value.get(step.name))]
        return [(path + (step.name,), None)] if value is None else []
    if isinstance(step, _Iterate):
        if isinstance(value, list):
            return [(path + (i,), v) for i, v in enumerate(value)]
        if isinstance(value, dict):
            return [(path + (k,), v) for k, v in value.items()]
        return []
    if isinstance(value, list):
        index = step.index + len(value) if step.index < 0 else step.index
        if index < 0:
            return []
        return [(path + (index,), value[index] if index < len(value) else None)]
    return [(path + (step.index,), None)] if value is None and step.index >= 0 else []


def _test(select: _Select, value: Any) -> bool:
    found = [v for _, v in _follow(select.path, (), value)]
    if select.equal:
        return any(_same(v, select.literal) for v in found)
    return any(not _same(v, select.literal) for v in found)


def _same(left: Any, right: Any) -> bool:
    if isinstance(left, bool) or isinstance(right, bool):
        return type(left) is type(right) and left == right
    return left == right
