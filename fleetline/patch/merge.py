"""RFC 7386 JSON merge patch, plus what all three patch engines share.

Owns `apply_merge_patch` and `create_merge_patch` (the `application/merge-patch+json` semantics: objects
merge recursively, `null` deletes a member, anything that is not an object, lists included, replaces the
target whole), and the package's base error `PatchError` and the JSON value equality `json_equal` that
the JSON patch and strategic merge patch engines reuse. Pure functions over decoded JSON values; nothing
here knows about Kubernetes kinds.
"""

from __future__ import annotations

from typing import Any

from fleetline.jsoncopy import clone


class PatchError(ValueError):
    """A patch that cannot be applied: malformed, or not applicable to the document it was given."""


def json_equal(a: Any, b: Any) -> bool:
    """Equality of decoded JSON values: unlike `==`, `true` is not `1`; `1` and `1.0` are equal numbers."""
    if isinstance(a, bool) or isinstance(b, bool):
        return isinstance(a, bool) and isinstance(b, bool) and a == b
    if isinstance(a, int | float) and isinstance(b, int | float):
        return a == b
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(json_equal(a[k], b[k]) for k in a)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(json_equal(x, y) for x, y in zip(a, b, strict=True))
    if type(a) is not type(b):
        return False
    return a == b


def apply_merge_patch(target: Any, patch: Any) -> Any:
    """Apply an RFC 7386 merge patch; returns a new value and never mutates `target` or `patch`.

    A patch that is not an object replaces the target (a list patch replaces a list whole); an object
    patch merges into the target (a non-object target counts as `{}`), where `null` deletes a member.
    """
    if not isinstance(patch, dict):
        return clone(patch)
    result = clone(target) if isinstance(target, dict) else {}
    _merge_into(result, patch)
    return result


def _merge_into(result: dict, patch: dict) -> None:
    """Merge `patch` into `result` in place; `result` is owned by the caller, `patch` is only read."""
    for key, value in patch.items():
        if value is None:
            result.pop(key, None)
        elif isinstance(value, dict):
            current = result.get(key)
            if not isinstance(current, dict):
                current = {}
                result[key] = current
            _merge_into(current, value)
        else:
            result[key] = clone(value)


def create_merge_patch(original: Any, modified: Any) -> dict:
    """A merge patch that turns `original` into `modified` (an object).

    Members missing from `modified` become `null`; changed lists and scalars are sent whole; unchanged
    members are left out. A merge patch cannot set a member to `null`, so `null` values in `modified`
    come out as deletions. Raises `PatchError` when `modified` is not an object: a merge patch that
    produces a non-object is simply that value, not a dict.
    """
    if not isinstance(modified, dict):
        raise PatchError("a merge patch can only be created towards an object, "
                         f"got {type(modified).__name__}")
    if not isinstance(original, dict):
        original = {}
    patch: dict = {}
    for key in original:
        if key not in modified:
            patch[key] = None
    for key, new in modified.items():
        if key not in original:
            patch[key] = clone(new)
            continue
        old = original[key]
        if isinstance(old, dict) and isinstance(new, dict):
            sub = create_merge_patch(old, new)
            if sub:
                patch[key] = sub
        elif not json_equal(old, new):
            patch[key] = clone(new)
    return patch
