"""Typed, error-collecting access to the plain YAML values of fleet.yaml and Argo CD Application documents.

A `Reader` belongs to one file. Every accessor checks one value, and on a mismatch records a `RenderError`
naming the file, the field path (`spec.applications[2].syncPolicy.retry.backoff.duration`), what was found
and what was expected, then returns a fallback so that reading goes on and every error of the file is
reported at once. Also the shared syntax checks: DNS-1123 names, label keys and values, Go durations,
Git ref names.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Callable, Sequence

from hub.render.errors import RenderError

DNS_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
_DNS_SUBDOMAIN = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")
_LABEL_NAME = re.compile(r"^[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$")
_GO_DURATION = re.compile(r"^(?:(?:\d+(?:\.\d*)?|\.\d+)(?:ns|us|µs|μs|ms|s|m|h))+$")
_DURATION_PART = re.compile(r"(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|μs|ms|s|m|h)")
_UNIT_SECONDS = {"ns": 1e-9, "us": 1e-6, "µs": 1e-6, "μs": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0, "h": 3600.0}
_SIMPLE_KEY = re.compile(r"^[A-Za-z0-9_-]+$")

DNS_LABEL_EXPECTED = ("a DNS-1123 label (lowercase letters, digits and '-', starting and ending with a letter or "
                      "digit, at most 63 characters)")
GO_DURATION_EXPECTED = "a duration such as \"30s\", \"5m\" or \"1h30m\" (units h, m, s, ms)"


def describe(value: object) -> str:
    """A short, user-facing description of a YAML value: `"eu" (a string)`, `3 (an integer)`, `a list`."""
    if value is None:
        return "nothing (null)"
    if isinstance(value, bool):
        return f"{str(value).lower()} (a boolean)"
    if isinstance(value, int):
        return f"{value} (an integer)"
    if isinstance(value, float):
        return f"{value} (a number)"
    if isinstance(value, str):
        shown = value if len(value) <= 80 else value[:77] + "..."
        return f'"{shown}" (a string)'
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    return type(value).__name__


def did_you_mean(word: str, choices: Sequence[str]) -> str:
    """` (did you mean "x"?)` for the closest choice, or "" when none is close."""
    close = difflib.get_close_matches(word, list(choices), n=1)
    return f' (did you mean "{close[0]}"?)' if close else ""


def child(parent: str, key: str) -> str:
    """The field path of `key` below `parent`: `spec.clusters`, or `labels["example.com/gpu"]`."""
    if _SIMPLE_KEY.match(key):
        return f"{parent}.{key}" if parent else key
    return f'{parent}["{key}"]'


def item(parent: str, index: int) -> str:
    return f"{parent}[{index}]"


def parse_go_duration(text: str) -> float | None:
    """Seconds of a Go duration ("1h30m", "500ms", "0"), or None when `text` is not one (negative durations
    are refused)."""
    if text == "0":
        return 0.0
    if not _GO_DURATION.match(text):
        return None
    return sum(float(number) * _UNIT_SECONDS[unit] for number, unit in _DURATION_PART.findall(text))


def label_key_problem(key: str) -> str | None:
    """Why `key` is not a valid Kubernetes label key (`[prefix/]name`), or None when it is."""
    prefix, slash, name = key.rpartition("/")
    if slash and (not prefix or len(prefix) > 253 or not _DNS_SUBDOMAIN.match(prefix)):
        return "the prefix before '/' must be a DNS subdomain such as example.com"
    if not name or len(name) > 63 or not _LABEL_NAME.match(name):
        return ("the name must be at most 63 letters, digits, '-', '_' or '.', starting and ending with a "
                "letter or digit")
    return None


def label_value_problem(value: str) -> str | None:
    """Why `value` is not a valid Kubernetes label value, or None when it is."""
    if value == "" or (len(value) <= 63 and _LABEL_NAME.match(value)):
        return None
    return "a label value is at most 63 letters, digits, '-', '_' or '.', starting and ending with a letter or digit"


def git_ref_problem(ref: str) -> str | None:
    """Why `ref` cannot name a branch, tag or commit, or None when it can."""
    if not ref or ref != ref.strip() or any(ch.isspace() for ch in ref):
        return "a Git ref has no spaces"
    if ref.startswith(("-", "/")) or ref.endswith(("/", ".", ".lock")) or ".." in ref or "@{" in ref or "//" in ref:
        return "not a valid Git ref name"
    if any(ch in ref for ch in "~^:?*[\\") or any(ord(ch) < 32 or ord(ch) == 127 for ch in ref):
        return "a Git ref may not contain ~ ^ : ? * [ \\ or control characters"
    return None


class Reader:
    """Reads values of one file, collecting every error instead of stopping at the first. `context` prefixes
    every message (which document of a multi-document file it is about)."""

    def __init__(self, file: str, context: str = "") -> None:
        self.file = file
        self.context = context
        self.errors: list[RenderError] = []

    def error(self, field: str, message: str) -> None:
        self.errors.append(RenderError(self.file, f"{self.context}{message}", field))

    def fields(self, raw: object, field: str, allowed: Sequence[str], what: str = "a mapping") -> dict | None:
        """`raw` as a dict whose unknown keys are reported (with did-you-mean); None (error recorded) when it
        is not a mapping. A null value reads as an empty mapping."""
        if raw is None:
            return {}
        if not isinstance(raw, dict):
            self.error(field, f"expected {what}, found {describe(raw)}")
            return None
        for key in raw:
            if key not in allowed:
                self.error(child(field, key), f'unknown field "{key}"{did_you_mean(key, allowed)}; expected one '
                                              f"of: {', '.join(allowed)}")
        return raw

    def string(self, value: object, field: str, expected: str = "a string", *, required: bool = False,
               default: str = "", check: Callable[[str], str | None] | None = None) -> str:
        """A string (`default` when absent); `check` returns why a string is unacceptable, or None."""
        if value is None:
            if required:
                self.error(field, f"missing required field; expected {expected}")
            return default
        if not isinstance(value, str):
            self.error(field, f"expected {expected}, found {describe(value)}")
            return default
        if required and not value:
            self.error(field, f"expected {expected}, found an empty string")
            return default
        problem = check(value) if check is not None else None
        if problem is not None:
            self.error(field, f"expected {expected}, found {describe(value)}: {problem}")
            return default
        return value

    def name(self, value: object, field: str, what: str, *, required: bool = True) -> str:
        """A DNS-1123 label such as a cluster or application name."""
        def check(text: str) -> str | None:
            return None if len(text) <= 63 and DNS_LABEL.match(text) else "not a valid name"
        return self.string(value, field, f"{what}: {DNS_LABEL_EXPECTED}", required=required, check=check)

    def boolean(self, value: object, field: str, default: bool = False) -> bool:
        if value is None:
            return default
        if not isinstance(value, bool):
            hint = " (write true or false without quotes)" if isinstance(value, str) else ""
            self.error(field, f"expected true or false, found {describe(value)}{hint}")
            return default
        return value

    def integer(self, value: object, field: str, default: int, *, minimum: int | None = None,
                expected: str = "an integer") -> int:
        if value is None:
            return default
        if isinstance(value, bool) or not isinstance(value, int):
            self.error(field, f"expected {expected}, found {describe(value)}")
            return default
        if minimum is not None and value < minimum:
            self.error(field, f"expected {expected}, found {value} (the minimum is {minimum})")
            return default
        return value

    def items(self, value: object, field: str, expected: str = "a list") -> list[tuple[str, object]]:
        """(field path, element) pairs of a list; [] (error recorded unless absent) otherwise."""
        if value is None:
            return []
        if not isinstance(value, list):
            self.error(field, f"expected {expected}, found {describe(value)}")
            return []
        return [(item(field, index), element) for index, element in enumerate(value)]

    def string_list(self, value: object, field: str, expected: str = "a list of strings", *,
                    element: str = "a non-empty string", check: Callable[[str], str | None] | None = None
                    ) -> tuple[str, ...] | None:
        """A list of non-empty strings (each described by `element`), None when absent."""
        if value is None:
            return None
        result = []
        for path, entry in self.items(value, field, expected):
            text = self.string(entry, path, element, required=True, check=check)
            if text:
                result.append(text)
        return tuple(result)

    def string_map(self, value: object, field: str, expected: str = "a mapping of strings to strings", *,
                   key_check: Callable[[str], str | None] | None = None,
                   value_check: Callable[[str], str | None] | None = None) -> dict[str, str]:
        """A mapping of strings to strings (numbers and booleans must be quoted, as in Kubernetes labels)."""
        if value is None:
            return {}
        if not isinstance(value, dict):
            self.error(field, f"expected {expected}, found {describe(value)}")
            return {}
        result = {}
        for key, element in value.items():
            path = child(field, key)
            problem = key_check(key) if key_check is not None else None
            if problem is not None:
                self.error(path, f'invalid key "{key}": {problem}')
                continue
            if not isinstance(element, str):
                hint = " (quote it)" if isinstance(element, bool | int | float) else ""
                self.error(path, f"expected a string, found {describe(element)}{hint}")
                continue
            problem = value_check(element) if value_check is not None else None
            if problem is not None:
                self.error(path, f"invalid value {describe(element)}: {problem}")
                continue
            result[key] = element
        return result

    def duration(self, value: object, field: str, default: str, *, bare_seconds: bool = False
                 ) -> tuple[str, float | None]:
        """A Go duration as (text, seconds); with `bare_seconds` a bare number means seconds, as Argo CD's
        retry backoff reads it. Seconds are None when absent or invalid (error recorded when invalid)."""
        if value is None:
            return default, None
        expected = GO_DURATION_EXPECTED + (" or a number of seconds" if bare_seconds else "")
        if bare_seconds and isinstance(value, int) and not isinstance(value, bool):
            if value < 0:
                self.error(field, f"expected {expected}, found {describe(value)}: negative")
                return default, None
            return str(value), float(value)
        if not isinstance(value, str):
            self.error(field, f"expected {expected}, found {describe(value)}")
            return default, None
        if bare_seconds and value.isdigit():
            return value, float(value)
        seconds = parse_go_duration(value)
        if seconds is None:
            self.error(field, f"expected {expected}, found {describe(value)}")
            return default, None
        return value, seconds
