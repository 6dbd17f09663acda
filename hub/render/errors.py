"""The one error type of rendering: what went wrong, in which file, at which field, and how to fix it."""

from __future__ import annotations


class RenderError(Exception):
    """A repository that cannot be rendered as written.

    `file` is the repository-relative path of the file at fault (a kustomization, a manifest, fleet.yaml),
    `field` the dotted path inside it (`patches[2].target.kind`), `message` what was found and what was
    expected. str() gives `file: field: message`, the form users see.
    """

    def __init__(self, file: str, message: str, field: str = "") -> None:
        self.file = file
        self.field = field
        self.message = message
        super().__init__(self.describe())

    def describe(self) -> str:
        parts = [p for p in (self.file, self.field) if p]
        return ": ".join([*parts, self.message])


def describe_value(value: object) -> str:
    """A value as error messages show it: `the string 'x'`, `the number 3`, `the boolean true`, `a list`,
    `a mapping`, `null`."""
    if isinstance(value, bool):
        return f"the boolean {str(value).lower()}"
    if isinstance(value, int | float):
        return f"the number {value!r}"
    if isinstance(value, str):
        return f"the string {value!r}"
    if value is None:
        return "null"
    return {"dict": "a mapping", "list": "a list"}.get(type(value).__name__, type(value).__name__)
