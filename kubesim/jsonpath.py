"""The JSONPath subset kube-apiserver evaluates for CRD `additionalPrinterColumns`.

Supported: `.field` (with `\\.` escaping a dot inside a name), `['field']`, `..field` (recursive descent),
`.*` and `[*]`, `[N]` (negative counts from the end), `[start:end]`, and filters
`[?(@.path)]` / `[?(@.path OP literal)]` with `==`, `!=`, `<`, `<=`, `>`, `>=` against a quoted string,
number, `true`, `false` or `null`. Missing keys yield no result (kube-apiserver evaluates printer
columns with AllowMissingKeys), never an error.
"""

from __future__ import annotations

import operator
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

_OPS: dict[str, Callable[[Any, Any], bool]] = {
    "==": operator.eq, "!=": operator.ne, "<=": operator.le, ">=": operator.ge,
    "<": operator.lt, ">": operator.gt,
}


class JSONPathError(ValueError):
    """The expression is outside the supported subset or malformed."""


@dataclass(frozen=True)
class _Step:
    op: str  # field | recurse | wild | index | slice | filter
    name: str = ""
    index: int = 0
    start: int | None = None
    end: int | None = None
    sub: tuple[_Step, ...] = ()
    cmp: str = ""
    literal: Any = None


@dataclass(frozen=True)
class Path:
    """A parsed expression; `find` may be called on many objects."""

    text: str
    steps: tuple[_Step, ...]

    def find(self, obj: Any) -> list[Any]:
        """Every value the expression selects in `obj`, in document order."""
        current = [obj]
        for step in self.steps:
            current = [out for value in current for out in _apply(step, value)]
        return current


def find(obj: Any, path: str) -> list[Any]:
    """Every value `path` selects in `obj`, in document order."""
    return compile_path(path).find(obj)


def compile_path(path: str) -> Path:
    """Parse `path` (`.a.b`, `{.a.b}` or `$.a.b`); raises JSONPathError outside the supported subset."""
    text = path.strip()
    if text.startswith("{") and text.endswith("}"):
        text = text[1:-1].strip()
    if text.startswith("$"):
        text = text[1:]
    if not text:
        raise JSONPathError("empty JSONPath")
    steps, pos = _parse_steps(text, 0, stop="")
    if pos != len(text):
        raise JSONPathError(f"unexpected {text[pos:]!r} in JSONPath {path!r}")
    return Path(path, steps)


def _parse_steps(text: str, pos: int, stop: str) -> tuple[tuple[_Step, ...], int]:
    steps: list[_Step] = []
    while pos < len(text) and text[pos] not in stop:
        ch = text[pos]
        if text.startswith("..", pos):
            name, pos = _read_name(text, pos + 2)
            steps.append(_Step("recurse", name=name))
        elif ch == ".":
            if text.startswith(".*", pos):
                steps.append(_Step("wild"))
                pos += 2
                continue
            name, pos = _read_name(text, pos + 1)
            steps.append(_Step("field", name=name))
        elif ch == "[":
            step, pos = _parse_bracket(text, pos + 1)
            steps.append(step)
        elif ch in " \t":
            break
        else:
            raise JSONPathError(f"unexpected {ch!r} at offset {pos} in {text!r}")
    return tuple(steps), pos


def _read_name(text: str, pos: int) -> tuple[str, int]:
    out = []
    while pos < len(text):
        ch = text[pos]
        if ch == "\\" and pos + 1 < len(text):
            out.append(text[pos + 1])
            pos += 2
            continue
        if ch in ".[ )=!<>":
            break
        out.append(ch)
        pos += 1
    if not out:
        raise JSONPathError(f"empty field name at offset {pos} in {text!r}")
    return "".join(out), pos


def _parse_bracket(text: str, pos: int) -> tuple[_Step, int]:
    close = _matching_bracket(text, pos)
    inner = text[pos:close].strip()
    after = close + 1
    if inner == "*":
        return _Step("wild"), after
    if inner and inner[0] in "'\"":
        return _Step("field", name=_unquote(inner)), after
    if inner.startswith("?(") and inner.endswith(")"):
        return _parse_filter(inner[2:-1].strip()), after
    if ":" in inner:
        start, _, end = inner.partition(":")
        end = end.split(":")[0]  # a step (third part) is not supported; ignore it like a stride of 1
        return _Step("slice", start=_int_or_none(start), end=_int_or_none(end)), after
    try:
        return _Step("index", index=int(inner)), after
    except ValueError:
        raise JSONPathError(f"unsupported subscript [{inner}] in {text!r}") from None


def _matching_bracket(text: str, pos: int) -> int:
    depth, quote = 1, ""
    for i in range(pos, len(text)):
        ch = text[i]
        if quote:
            if ch == quote:
                quote = ""
        elif ch in "'\"":
            quote = ch
        elif ch == "[":
            depth += 1
        elif ch == "]":
            depth -= 1
            if depth == 0:
                return i
    raise JSONPathError(f"unclosed [ in {text!r}")


def _parse_filter(expr: str) -> _Step:
    if not expr.startswith("@"):
        raise JSONPathError(f"filter must start with @: {expr!r}")
    sub, pos = _parse_steps(expr, 1, stop=" =!<>")
    rest = expr[pos:].strip()
    if not rest:
        return _Step("filter", sub=sub)
    for cmp in ("==", "!=", "<=", ">=", "<", ">"):
        if rest.startswith(cmp):
            return _Step("filter", sub=sub, cmp=cmp, literal=_literal(rest[len(cmp):].strip()))
    raise JSONPathError(f"unsupported filter {expr!r}")


def _literal(text: str) -> Any:
    if text and text[0] in "'\"":
        return _unquote(text)
    if text in ("true", "false"):
        return text == "true"
    if text == "null":
        return None
    try:
        return int(text)
    except ValueError:
        pass
    try:
        return float(text)
    except ValueError:
        raise JSONPathError(f"unsupported literal {text!r}") from None


def _unquote(text: str) -> str:
    if len(text) < 2 or text[-1] != text[0]:
        raise JSONPathError(f"unterminated string {text!r}")
    return text[1:-1]


def _int_or_none(text: str) -> int | None:
    text = text.strip()
    return int(text) if text else None


def _apply(step: _Step, value: Any) -> list[Any]:
    if step.op == "field":
        return [value[step.name]] if isinstance(value, dict) and step.name in value else []
    if step.op == "wild":
        if isinstance(value, dict):
            return list(value.values())
        return list(value) if isinstance(value, list) else []
    if step.op == "index":
        if isinstance(value, list) and -len(value) <= step.index < len(value):
            return [value[step.index]]
        return []
    if step.op == "slice":
        return value[step.start:step.end] if isinstance(value, list) else []
    if step.op == "recurse":
        return list(_descend(value, step.name))
    if step.op == "filter":
        items = value if isinstance(value, list) else []
        return [item for item in items if _matches(step, item)]
    raise JSONPathError(f"unknown step {step.op}")


def _descend(value: Any, name: str):
    if isinstance(value, dict):
        if name in value:
            yield value[name]
        for child in value.values():
            yield from _descend(child, name)
    elif isinstance(value, list):
        for child in value:
            yield from _descend(child, name)


def _matches(step: _Step, item: Any) -> bool:
    found = [item]
    for sub in step.sub:
        found = [out for value in found for out in _apply(sub, value)]
    if not step.cmp:
        return bool(found)
    for left in found:
        try:
            if _OPS[step.cmp](left, step.literal):
                return True
        except TypeError:
            continue
    return False
