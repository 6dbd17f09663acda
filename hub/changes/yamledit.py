"""Exact edits of YAML text: replace one scalar, or add one key to a mapping, leaving every other byte alone.

PyYAML's composer gives each node its character span in the file; an edit splices new text into that span
(or inserts a `key: value` line after a sibling's line), so comments, key order, quoting style, blank lines
and line endings stay as the user wrote them. After splicing, the file is read again and must load to
exactly the old content with only the intended values changed; anything else (an anchor shared by aliases,
a layout the splice does not understand) refuses the edit instead of writing a surprise.
(ruamel.yaml would round-trip comments too, but it is not a dependency; this touches only the bytes it must.)
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass

import yaml

from fleetline.yamlsafe import YamlError, load_all
from hub.changes.errors import PromotionError

Path = tuple[str | int, ...]  # keys and list indexes from a document's root to a value

_PLAIN = re.compile(r"^[A-Za-z][A-Za-z0-9_.=/@+-]*$")
_NOT_PLAIN = {"y", "n", "yes", "no", "on", "off", "true", "false", "null"}  # YAML 1.1 and 1.2 booleans, null


@dataclass(frozen=True)
class Edit:
    """Replace text[start:end] with `text`, which sets the value at `path` of document `document` to `value`."""

    start: int
    end: int
    text: str
    document: int
    path: Path
    value: str


def compose(text: str, source: str) -> list[yaml.Node]:
    """The node tree of every non-empty document of `text` (PromotionError naming `source` and the line)."""
    _load(text, source)  # the bounded loader's checks first (size, depth, aliases), with the line of an error
    try:
        nodes = list(yaml.compose_all(text, Loader=yaml.SafeLoader))
    except yaml.YAMLError as exc:
        raise PromotionError(f"{source}: not valid YAML ({exc}); fix the file first") from exc
    return [node for node in nodes if node is not None and node.tag != "tag:yaml.org,2002:null"]


def get(node: yaml.Node, key: str) -> tuple[yaml.Node, yaml.Node] | None:
    """The (key node, value node) of `key` in a mapping node; None when absent or `node` is no mapping."""
    if not isinstance(node, yaml.MappingNode):
        return None
    for key_node, value_node in node.value:
        if isinstance(key_node, yaml.ScalarNode) and key_node.value == key:
            return key_node, value_node
    return None


def scalar(node: yaml.Node | None) -> str | None:
    """The text of a scalar node (None for anything else)."""
    return node.value if isinstance(node, yaml.ScalarNode) else None


def items(node: yaml.Node | None) -> list[yaml.Node]:
    """The entries of a sequence node (empty for anything else)."""
    return list(node.value) if isinstance(node, yaml.SequenceNode) else []


def render_scalar(value: str, style: str | None) -> str:
    """`value` as YAML scalar text that loads back as that string, in `style` (None plain, ' or ") if it can."""
    if style is None and _PLAIN.match(value) and value.lower() not in _NOT_PLAIN \
            and yaml.safe_load(value) == value:
        return value
    if style == "'":
        return "'" + value.replace("'", "''") + "'"
    return json.dumps(value)  # a JSON string is a valid YAML double-quoted scalar


def replace_scalar(node: yaml.Node, source: str, document: int, path: Path, value: str) -> Edit:
    """An edit setting the scalar `node` (at `path`) to `value`, keeping its quoting style where possible."""
    if not isinstance(node, yaml.ScalarNode):
        raise PromotionError(f"{source}:{node.start_mark.line + 1}: {_dotted(path)} is not a single value")
    if node.style in ("|", ">"):
        raise PromotionError(f"{source}:{node.start_mark.line + 1}: {_dotted(path)} is a block scalar ({node.style}); "
                             "write it as a one-line value so that it can be changed safely")
    return Edit(node.start_mark.index, node.end_mark.index, render_scalar(value, node.style), document, path, value)


def add_key(text: str, mapping: yaml.MappingNode, after: yaml.Node, source: str, document: int, path: Path,
            value: str) -> Edit:
    """An edit adding `path[-1]: value` to `mapping`: on its own line below the key `after` (block style), or
    before the closing brace (flow style)."""
    key = str(path[-1])
    rendered = render_scalar(value, '"')
    if mapping.flow_style:
        end = mapping.end_mark.index
        if text[end - 1:end] != "}":
            raise PromotionError(f"{source}:{mapping.start_mark.line + 1}: cannot add {key} to this mapping; write "
                                 f"{key}: {rendered} into it by hand")
        return Edit(end - 1, end - 1, f", {key}: {rendered}", document, path, value)
    line_end = text.find("\n", after.end_mark.index)
    newline = "\r\n" if "\r\n" in text else "\n"
    indent = " " * _key_column(mapping)
    if line_end < 0:
        return Edit(len(text), len(text), f"{newline}{indent}{key}: {rendered}{newline}", document, path, value)
    return Edit(line_end + 1, line_end + 1, f"{indent}{key}: {rendered}{newline}", document, path, value)


def apply(text: str, edits: list[Edit], source: str) -> str:
    """`text` with `edits` spliced in, checked to load as before with only the edited values changed."""
    result = text
    for edit in sorted(edits, key=lambda e: e.start, reverse=True):
        result = result[:edit.start] + edit.text + result[edit.end:]
    expected = _load(text, source)
    for edit in edits:
        _set(expected, (edit.document, *edit.path), edit.value)
    try:
        actual = load_all(result, source, yaml11=True)
    except YamlError as exc:
        raise PromotionError(f"{source}: the edit would not leave valid YAML ({exc}); the file's layout is not "
                             "supported here: make the change by hand") from exc
    if actual != expected:
        raise PromotionError(f"{source}: the edit would change more than the intended values (is the value "
                             "anchored and aliased elsewhere?); make the change by hand")
    return result


def _load(text: str, source: str) -> list[object]:
    try:
        return load_all(text, source, yaml11=True)
    except YamlError as exc:
        raise PromotionError(f"{exc}; fix the file first") from exc


def _key_column(mapping: yaml.MappingNode) -> int:
    return mapping.value[0][0].start_mark.column if mapping.value else mapping.start_mark.column


def _set(root: object, path: tuple[str | int, ...], value: str) -> None:
    node = root
    for step in path[:-1]:
        node = node[step]  # type: ignore[index]
    node[path[-1]] = value  # type: ignore[index]


def _dotted(path: Path) -> str:
    return "".join(f"[{step}]" if isinstance(step, int) else f".{step}" for step in path).lstrip(".")
