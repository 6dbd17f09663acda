"""RFC 6902 JSON patch (`application/json-patch+json`) with RFC 6901 JSON Pointers.

Owns `apply_json_patch`: the six operations (add, remove, replace, move, copy, test), pointer parsing
(`~1` is `/`, `~0` is `~`, `-` appends to a list, list indexes are canonical decimals) and the
all-or-nothing rule (the operations run on a private copy, so a failure leaves nothing half applied).
A failed `test` raises `PatchTestFailed` (kubesim answers 422); every other problem raises `PatchError`
naming the operation index, its path and the reason.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from fleetline.jsoncopy import clone
from fleetline.patch.merge import PatchError, json_equal

_INDEX = re.compile(r"0|[1-9][0-9]*")
_OPS = ("add", "remove", "replace", "move", "copy", "test")
_MISSING = object()


class PatchTestFailed(PatchError):
    """A `test` operation found a different value (or nothing) at its path."""


@dataclass(frozen=True)
class _Op:
    """One validated operation: its position in the patch, name, parsed pointers and value."""

    index: int
    op: str
    path: str
    tokens: tuple[str, ...]
    from_path: str | None = None
    from_tokens: tuple[str, ...] = ()
    value: Any = None

    def error(self, reason: str, cls: type[PatchError] = PatchError) -> PatchError:
        where = f"operation {self.index} ({self.op} {self.path!r}"
        if self.from_path is not None:
            where += f" from {self.from_path!r}"
        return cls(f"{where}): {reason}")


def parse_pointer(pointer: str) -> tuple[str, ...]:
    """Split an RFC 6901 JSON Pointer into unescaped reference tokens; `""` is the whole document."""
    if not isinstance(pointer, str):
        raise PatchError(f"a JSON pointer must be a string, got {type(pointer).__name__}")
    if pointer == "":
        return ()
    if not pointer.startswith("/"):
        raise PatchError(f"JSON pointer {pointer!r} must be empty or start with '/'")
    tokens = []
    for raw in pointer[1:].split("/"):
        if re.search(r"~(?![01])", raw):
            raise PatchError(f"JSON pointer {pointer!r} has an invalid escape "
                             "('~' must be followed by 0 or 1)")
        tokens.append(raw.replace("~1", "/").replace("~0", "~"))
    return tuple(tokens)


def apply_json_patch(doc: Any, operations: list) -> Any:
    """Apply RFC 6902 `operations` to `doc`; returns a new document and never mutates the inputs."""
    ops = _validate(operations)
    result = clone(doc)
    for op in ops:
        result = _APPLY[op.op](result, op)
    return result


def _validate(operations: Any) -> list[_Op]:
    if not isinstance(operations, list):
        raise PatchError(f"a JSON patch must be a list of operations, got {type(operations).__name__}")
    ops = []
    for index, raw in enumerate(operations):
        if not isinstance(raw, dict):
            raise PatchError(f"operation {index}: must be an object, got {type(raw).__name__}")
        name = raw.get("op")
        if name not in _OPS:
            shown = "missing" if name is None else repr(name)
            raise PatchError(f"operation {index}: 'op' is {shown}; expected one of {', '.join(_OPS)}")
        if "path" not in raw:
            raise PatchError(f"operation {index} ({name}): missing 'path'")
        path = raw["path"]
        try:
            tokens = parse_pointer(path)
        except PatchError as exc:
            raise PatchError(f"operation {index} ({name}): 'path': {exc}") from None
        from_path, from_tokens = None, ()
        if name in ("move", "copy"):
            if "from" not in raw:
                raise PatchError(f"operation {index} ({name} {path!r}): missing 'from'")
            from_path = raw["from"]
            try:
                from_tokens = parse_pointer(from_path)
            except PatchError as exc:
                raise PatchError(f"operation {index} ({name} {path!r}): 'from': {exc}") from None
        if name in ("add", "replace", "test") and "value" not in raw:
            raise PatchError(f"operation {index} ({name} {path!r}): missing 'value'")
        ops.append(_Op(index, name, path, tokens, from_path, from_tokens, raw.get("value")))
    return ops


def _list_index(op: _Op, container: list, token: str, *, for_insert: bool) -> int:
    """The list position `token` names; `-` (append) and `len` are only valid where inserting."""
    if token == "-":
        if for_insert:
            return len(container)
        raise op.error("'-' (the end of the list) names no existing element")
    if not _INDEX.fullmatch(token):
        raise op.error(f"{token!r} is not a list index")
    index = int(token)
    limit = len(container) if for_insert else len(container) - 1
    if index > limit:
        raise op.error(f"index {index} is out of range for a list of {len(container)}")
    return index


def _resolve(doc: Any, op: _Op, tokens: tuple[str, ...]) -> Any:
    """The value at `tokens`, or raise naming the first missing step."""
    node = doc
    for depth, token in enumerate(tokens):
        if isinstance(node, dict):
            if token not in node:
                raise op.error(f"{_pointer(tokens[: depth + 1])!r} does not exist")
            node = node[token]
        elif isinstance(node, list):
            node = node[_list_index(op, node, token, for_insert=False)]
        else:
            raise op.error(f"{_pointer(tokens[:depth])!r} is a {_kind(node)}, not an object or a list")
    return node


def _pointer(tokens: tuple[str, ...]) -> str:
    return "".join("/" + t.replace("~", "~0").replace("/", "~1") for t in tokens)


def _kind(value: Any) -> str:
    return "null" if value is None else type(value).__name__


def _add(doc: Any, op: _Op, tokens: tuple[str, ...], value: Any) -> Any:
    if not tokens:
        return value
    parent = _resolve(doc, op, tokens[:-1])
    last = tokens[-1]
    if isinstance(parent, dict):
        parent[last] = value
    elif isinstance(parent, list):
        parent.insert(_list_index(op, parent, last, for_insert=True), value)
    else:
        raise op.error(f"cannot add to a {_kind(parent)} at {_pointer(tokens[:-1])!r}")
    return doc


def _remove(doc: Any, op: _Op, tokens: tuple[str, ...]) -> tuple[Any, Any]:
    """Remove the value at `tokens`; returns (document, removed value)."""
    if not tokens:
        raise op.error("cannot remove the whole document")
    parent = _resolve(doc, op, tokens[:-1])
    last = tokens[-1]
    if isinstance(parent, dict):
        if last not in parent:
            raise op.error(f"{_pointer(tokens)!r} does not exist")
        return doc, parent.pop(last)
    if isinstance(parent, list):
        return doc, parent.pop(_list_index(op, parent, last, for_insert=False))
    raise op.error(f"{_pointer(tokens[:-1])!r} is a {_kind(parent)}, not an object or a list")


def _op_add(doc: Any, op: _Op) -> Any:
    return _add(doc, op, op.tokens, clone(op.value))


def _op_remove(doc: Any, op: _Op) -> Any:
    return _remove(doc, op, op.tokens)[0]


def _op_replace(doc: Any, op: _Op) -> Any:
    value = clone(op.value)
    if not op.tokens:
        return value
    parent = _resolve(doc, op, op.tokens[:-1])
    last = op.tokens[-1]
    if isinstance(parent, dict):
        if last not in parent:
            raise op.error(f"{op.path!r} does not exist")
        parent[last] = value
    elif isinstance(parent, list):
        parent[_list_index(op, parent, last, for_insert=False)] = value
    else:
        raise op.error(f"{_pointer(op.tokens[:-1])!r} is a {_kind(parent)}, not an object or a list")
    return doc


def _op_move(doc: Any, op: _Op) -> Any:
    if op.tokens[: len(op.from_tokens)] == op.from_tokens and op.tokens != op.from_tokens:
        raise op.error("cannot move a value into one of its own children")
    if op.tokens == op.from_tokens:
        _resolve(doc, op, op.from_tokens)
        return doc
    doc, value = _remove(doc, op, op.from_tokens)
    return _add(doc, op, op.tokens, value)


def _op_copy(doc: Any, op: _Op) -> Any:
    value = clone(_resolve(doc, op, op.from_tokens))
    return _add(doc, op, op.tokens, value)


def _op_test(doc: Any, op: _Op) -> Any:
    try:
        actual = _resolve(doc, op, op.tokens)
    except PatchError as exc:
        raise PatchTestFailed(str(exc)) from None
    if not json_equal(actual, op.value):
        # values stay out of the message: they may be Secret data
        raise op.error(f"the value there ({_kind(actual)}) differs from the test's value", PatchTestFailed)
    return doc


_APPLY = {
    "add": _op_add,
    "remove": _op_remove,
    "replace": _op_replace,
    "move": _op_move,
    "copy": _op_copy,
    "test": _op_test,
}
