"""JSON 6902 patches the way kustomize applies them (the `evanphx/json-patch` v4.12 library it embeds).

`fleetline.patch.apply_json_patch` follows RFC 6902 strictly (it serves kubesim's PATCH endpoint); kustomize's
library is looser, and kustomize users rely on the difference:

- `replace` of a missing map key adds it; only a missing parent fails ("doc is missing path");
- list indexes may be negative (`-1` is the last item; for `add`, `-1` appends like `-`) and may carry a sign
  or leading zeros (`01`);
- a null value counts as missing while walking a path; `add` without `value` adds null;
- the error texts are the library's ("replace operation does not apply: doc is missing path: /a/b").

Also owns `parse_operations`, kustomize's reading of a patch text: JSON when it starts with `[`, else YAML
(first document only) typed as YAML 1.1 (sigs.k8s.io/yaml), so that an unquoted `y` or `yes` there is a
boolean. The patched document is round-tripped through JSON as kustomize does (integral floats become
integers).
"""

from __future__ import annotations

import json
import re
from typing import Any

from fleetline.jsoncopy import clone
from fleetline.yamlsafe import YamlError, iter_documents

_INT = re.compile(r"[+-]?[0-9]+")


class JsonPatchError(ValueError):
    """An operation that cannot be applied; the message is the one kustomize prints."""


def parse_operations(text: str, source: str) -> list:
    """The operations of a JSON 6902 patch text; ValueError when it is not one.

    Like kustomize: JSON (strictly) when the text starts with `[`, else YAML whose first document must be
    a list of operation mappings."""
    if text == "":
        raise ValueError("empty json patch operations")
    if text[0] == "[":
        try:
            value = json.loads(text)
        except json.JSONDecodeError as exc:
            raise ValueError(f"not valid JSON: {exc}") from exc
    else:
        try:
            value = next(iter_documents(text, source, yaml11=True), None)
        except YamlError as exc:
            raise ValueError(str(exc)) from exc
    if value is None:
        return []
    if not isinstance(value, list) or not all(op is None or isinstance(op, dict) for op in value):
        raise ValueError("a JSON 6902 patch is a list of operations")
    return [op if op is not None else {} for op in value]


def apply_operations(doc: dict, operations: list) -> dict:
    """Apply `operations` to a copy of `doc` with kustomize's JSON patch semantics."""
    root: Any = _normalise(clone(doc))
    for op in operations:
        kind = op.get("op")
        kind = kind if isinstance(kind, str) else "unknown"
        handler = _HANDLERS.get(kind)
        if handler is None:
            raise JsonPatchError(f"Unexpected kind: {kind}")
        root = handler(root, op)
    return _normalise(root)


def _normalise(value: Any) -> Any:
    """What a JSON round trip leaves: integral floats become integers."""
    if isinstance(value, dict):
        return {str(k): _normalise(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_normalise(v) for v in value]
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e21:
        return int(value)
    return value


def _path(op: dict, name: str = "path") -> str:
    value = op.get(name)
    if not isinstance(value, str):
        missing = "operation missing path field" if name == "path" else "operation, missing from field"
        raise JsonPatchError(f"{op.get('op')} operation failed to decode {name}: {missing}")
    return value


def _decode(token: str) -> str:
    return token.replace("~1", "/").replace("~0", "~")


def _index(container: list, key: str, *, inserting: bool = False) -> int:
    if not _INT.fullmatch(key):
        raise JsonPatchError(f"value was not a proper array index: '{key}'")
    index = int(key)
    size = len(container) + (1 if inserting else 0)
    if index >= size or index < -size:
        raise JsonPatchError(f"Unable to access invalid index: {index}")
    return index + size if index < 0 else index


def _get(container: Any, key: str) -> Any:
    """The value at `key`: None when missing (or null) in a map; errors for bad list indexes."""
    if isinstance(container, dict):
        return container.get(key)
    return container[_index(container, key)]


def _find(root: Any, path: str) -> tuple[Any, str]:
    """The container holding the last token of `path`, and that token; (None, "") when the path is missing."""
    parts = path.split("/")
    if len(parts) < 2:
        return None, ""
    node = root
    for part in parts[1:-1]:
        try:
            node = _get(node, _decode(part))
        except JsonPatchError:
            return None, ""
        if not isinstance(node, (dict, list)):
            return None, ""
    return node, _decode(parts[-1])


def _add_to(container: Any, key: str, value: Any) -> None:
    if isinstance(container, dict):
        container[key] = value
    elif key == "-":
        container.append(value)
    else:
        container.insert(_index(container, key, inserting=True), value)


def _remove_from(container: Any, key: str) -> Any:
    if isinstance(container, dict):
        if key not in container:
            raise JsonPatchError(f"Unable to remove nonexistent key: {key}: missing value")
        return container.pop(key)
    if not _INT.fullmatch(key):
        raise JsonPatchError(f"strconv.Atoi: parsing {key!r}: invalid syntax")
    index = int(key)
    if index >= len(container) or index < -len(container):
        raise JsonPatchError(f"Unable to access invalid index: {index}")
    return container.pop(index)


def _op_add(root: Any, op: dict) -> Any:
    path = _path(op)
    container, key = _find(root, path)
    if container is None:
        raise JsonPatchError(f'add operation does not apply: doc is missing path: "{path}": missing value')
    try:
        _add_to(container, key, clone(op.get("value")))
    except JsonPatchError as exc:
        raise JsonPatchError(f"error in add for path: '{path}': {exc}") from None
    return root


def _op_remove(root: Any, op: dict) -> Any:
    path = _path(op)
    container, key = _find(root, path)
    if container is None:
        raise JsonPatchError(f'remove operation does not apply: doc is missing path: "{path}": missing value')
    try:
        _remove_from(container, key)
    except JsonPatchError as exc:
        raise JsonPatchError(f"error in remove for path: '{path}': {exc}") from None
    return root


def _op_replace(root: Any, op: dict) -> Any:
    path = _path(op)
    if path == "":
        value = op.get("value")
        if not isinstance(value, (dict, list)):
            raise JsonPatchError("replace operation value must be object or array")
        return clone(value)
    container, key = _find(root, path)
    if container is None:
        raise JsonPatchError(f"replace operation does not apply: doc is missing path: {path}: missing value")
    if isinstance(container, dict):
        container[key] = clone(op.get("value"))
        return root
    try:
        container[_index(container, key)] = clone(op.get("value"))
    except JsonPatchError:
        raise JsonPatchError(f"replace operation does not apply: doc is missing key: {path}: missing value") from None
    return root


def _op_move(root: Any, op: dict) -> Any:
    source = _path(op, "from")
    container, key = _find(root, source)
    if container is None:
        raise JsonPatchError(f"move operation does not apply: doc is missing from path: {source}: missing value")
    try:
        value = _get(container, key)
        _remove_from(container, key)
    except JsonPatchError as exc:
        raise JsonPatchError(f"error in move for path: '{key}': {exc}") from None
    path = _path(op)
    container, key = _find(root, path)
    if container is None:
        raise JsonPatchError(f"move operation does not apply: doc is missing destination path: {path}: "
                             "missing value")
    try:
        _add_to(container, key, value)
    except JsonPatchError as exc:
        raise JsonPatchError(f"error in move for path: '{path}': {exc}") from None
    return root


def _op_copy(root: Any, op: dict) -> Any:
    source = _path(op, "from")
    container, key = _find(root, source)
    if container is None:
        raise JsonPatchError(f"copy operation does not apply: doc is missing from path: {source}: missing value")
    try:
        value = _get(container, key)
    except JsonPatchError as exc:
        raise JsonPatchError(f"error in copy for from: '{source}': {exc}") from None
    path = _path(op)
    container, key = _find(root, path)
    if container is None:
        raise JsonPatchError(f"copy operation does not apply: doc is missing destination path: {path}: "
                             "missing value")
    try:
        _add_to(container, key, clone(value))
    except JsonPatchError as exc:
        raise JsonPatchError(f"error while adding value during copy: {exc}") from None
    return root


def _op_test(root: Any, op: dict) -> Any:
    path = _path(op)
    if path == "":
        actual = root
    else:
        container, key = _find(root, path)
        if container is None:
            raise JsonPatchError(f"test operation does not apply: is missing path: {path}: missing value")
        try:
            actual = _get(container, key)
        except JsonPatchError as exc:
            raise JsonPatchError(f"error in test for path: '{path}': {exc}") from None
    expected = _normalise(op.get("value"))
    if actual is None and expected is None:
        return root
    if not _same(actual, expected):
        raise JsonPatchError(f"testing value {path} failed: test failed")
    return root


def _same(a: Any, b: Any) -> bool:
    """JSON equality (booleans are not numbers)."""
    if isinstance(a, bool) or isinstance(b, bool):
        return isinstance(a, bool) and isinstance(b, bool) and a == b
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, (dict, list)) or isinstance(b, (dict, list)):
        return False
    return type(a) is type(b) and a == b or (isinstance(a, (int, float)) and isinstance(b, (int, float))
                                              and a == b)


_HANDLERS = {"add": _op_add, "remove": _op_remove, "replace": _op_replace, "move": _op_move, "copy": _op_copy,
             "test": _op_test}
