"""Safe YAML loading for everything read from a repository: bounded, and typed the way kustomize reads YAML.

Kustomize (kyaml, on go-yaml v3) resolves plain scalars by the YAML 1.2 core schema with go-yaml's
extensions, so `yes`, `no`, `on` and `off` stay strings, `0123` is octal and `1_000` is an integer, and
timestamps stay strings. We resolve the same way, so that a ConfigMap value `enabled: yes` stays the string
it is in kustomize's output. Documents are bounded: a size limit per file, a nesting limit, and an alias
budget (a "billion laughs" document fails instead of expanding). Every failure is a `YamlError` naming the
source and, where PyYAML knows it, the line.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterator
from dataclasses import dataclass

import yaml

MAX_DOCUMENT_BYTES = 8 * 1024 * 1024  # per file; larger manifests are refused, not truncated
MAX_DEPTH = 200  # nesting levels of one document
ALIAS_SLACK = 10_000  # nodes an alias may add beyond the file's own size before it counts as a bomb

_BASE = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class YamlError(ValueError):
    """A YAML file that cannot be read safely; `source` names the file, `line` is 1-based (0 when unknown)."""

    def __init__(self, source: str, message: str, line: int = 0) -> None:
        self.source = source
        self.line = line
        self.reason = message
        where = f"{source}:{line}" if line else source
        super().__init__(f"{where}: {message}")


class _Loader(_BASE):  # type: ignore[misc,valid-type]
    """PyYAML's safe loader with the YAML 1.2 core schema's scalar resolution (go-yaml v3's flavour)."""


_INT = re.compile(r"^[-+]?(0|[1-9][0-9_]*|0[0-7_]+|0o[0-7_]+|0x[0-9a-fA-F_]+|0b[01_]+)$")
_FLOAT = re.compile(r"^[-+]?(\.[0-9]+|[0-9][0-9_]*(\.[0-9_]*)?)([eE][-+]?[0-9]+)?$"
                    r"|^[-+]?\.(inf|Inf|INF)$|^\.(nan|NaN|NAN)$")
_BOOL = re.compile(r"^(true|True|TRUE|false|False|FALSE)$")
_NULL = re.compile(r"^(~|null|Null|NULL|)$")

_Loader.yaml_implicit_resolvers = {}
for _tag, _regexp, _first in (
        ("tag:yaml.org,2002:bool", _BOOL, "tTfF"),
        ("tag:yaml.org,2002:null", _NULL, ["~", "n", "N", ""]),
        ("tag:yaml.org,2002:int", _INT, "-+0123456789"),
        ("tag:yaml.org,2002:float", _FLOAT, "-+0123456789."),
        ("tag:yaml.org,2002:merge", re.compile(r"^<<$"), "<"),
        ("tag:yaml.org,2002:timestamp", re.compile(  # go-yaml's timestamp layouts
            r"^\d{4}-\d{1,2}-\d{1,2}(?:(?:[Tt]\d{1,2}:\d{1,2}:\d{1,2}(?:\.\d{1,9})?(?:Z|[+-]\d{2}:\d{2}))"
            r"|(?: \d{1,2}:\d{1,2}:\d{1,2}(?:\.\d{1,9})?))?$"), "0123456789")):
    _Loader.add_implicit_resolver(_tag, _regexp, list(_first))


def _construct_int(loader: yaml.BaseLoader, node: yaml.ScalarNode) -> int:
    text = loader.construct_scalar(node).replace("_", "")
    sign = -1 if text.startswith("-") else 1
    digits = text.lstrip("+-")
    if digits.startswith("0o"):
        return sign * int(digits[2:], 8)
    if digits.startswith(("0x", "0b")):
        return sign * int(digits, 0)
    if len(digits) > 1 and digits.startswith("0"):  # go's strconv base 0: a leading zero is octal
        return sign * int(digits, 8)
    return sign * int(digits)


def _construct_float(loader: yaml.BaseLoader, node: yaml.ScalarNode) -> float:
    text = loader.construct_scalar(node).replace("_", "").lower()
    if text.endswith(".inf"):
        return -math.inf if text.startswith("-") else math.inf
    if text.endswith(".nan"):
        return math.nan
    return float(text)


_Loader.add_constructor("tag:yaml.org,2002:int", _construct_int)
_Loader.add_constructor("tag:yaml.org,2002:float", _construct_float)
_Loader.add_constructor("tag:yaml.org,2002:bool", lambda loader, node: loader.construct_scalar(node).lower() == "true")


class Timestamp(str):
    """A plain scalar YAML resolves as a timestamp, kept as its text (a `str` in every way). Marked so that
    the renderer can mirror kustomize, whose JSON round trip rewrites some timestamps as RFC 3339."""

    __slots__ = ()


_Loader.add_constructor("tag:yaml.org,2002:timestamp",
                        lambda loader, node: Timestamp(loader.construct_scalar(node)))


class _Loader11(_Loader):
    """go-yaml v2's YAML 1.1 typing (what sigs.k8s.io/yaml's YAMLToJSON uses): the 1.2 rules above, plus
    y, n, yes, no, on and off (in their usual capitalisations) are booleans."""


_BOOL11 = re.compile(r"^(y|Y|yes|Yes|YES|n|N|no|No|NO|on|On|ON|off|Off|OFF)$")
_Loader11.add_implicit_resolver("tag:yaml.org,2002:bool", _BOOL11, list("yYnNoO"))
_Loader11.add_constructor("tag:yaml.org,2002:bool", lambda loader, node: loader.construct_scalar(node).lower()
                          in ("true", "y", "yes", "on"))


@dataclass
class _Walk:
    """Copies a loaded document into plain JSON-like values within the alias budget and depth limit."""

    source: str
    budget: int

    def value(self, value: object, depth: int) -> object:
        self.budget -= 1
        if self.budget < 0:
            raise YamlError(self.source, "document contains excessive aliasing (an alias-expansion bomb?)")
        if value is None or isinstance(value, bool | int | float | str):
            return value
        if depth >= MAX_DEPTH:
            raise YamlError(self.source, f"document nests deeper than {MAX_DEPTH} levels")
        if isinstance(value, dict):
            return {self.key(k): self.value(v, depth + 1) for k, v in value.items()}
        if isinstance(value, list | tuple):
            return [self.value(v, depth + 1) for v in value]
        if isinstance(value, set):
            return {self.key(k): None for k in sorted(value, key=str)}
        if isinstance(value, bytes):  # !!binary
            return value.decode("utf-8", "replace")
        raise YamlError(self.source, f"unsupported YAML value of type {type(value).__name__}")

    def key(self, key: object) -> str:
        if isinstance(key, str):
            return key
        if isinstance(key, bool):
            return "true" if key else "false"
        if key is None:
            return "null"
        if isinstance(key, int | float):
            return str(key)
        raise YamlError(self.source, f"map keys must be scalars, got {type(key).__name__}")


def _error(source: str, exc: Exception) -> YamlError:
    mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
    line = mark.line + 1 if mark is not None else 0
    problem = getattr(exc, "problem", None) or str(exc)
    context = getattr(exc, "context", None)
    message = f"{context}, {problem}" if context else str(problem)
    return YamlError(source, f"invalid YAML: {message}", line)


def _checked_text(data: bytes | str, source: str) -> str:
    size = len(data)
    if size > MAX_DOCUMENT_BYTES:
        raise YamlError(source, f"file is {size} bytes, over the limit of {MAX_DOCUMENT_BYTES} bytes")
    if isinstance(data, bytes):
        try:
            return data.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            raise YamlError(source, f"not UTF-8 text (byte {exc.start})") from exc
    return data


def iter_documents(data: bytes | str, source: str, *, yaml11: bool = False) -> Iterator[object]:
    """Each document of a YAML stream as plain values (dict, list, str, int, float, bool, None);
    empty documents are yielded as None. Raises YamlError naming `source`. `yaml11` types scalars as
    sigs.k8s.io/yaml does (kustomize reads JSON 6902 patches written in YAML that way)."""
    text = _checked_text(data, source)
    walk = _Walk(source, len(text) + ALIAS_SLACK)
    loader = (_Loader11 if yaml11 else _Loader)(text)
    try:
        while loader.check_data():
            yield walk.value(loader.get_data(), 0)
    except YamlError:
        raise
    except (yaml.YAMLError, RecursionError) as exc:
        raise _error(source, exc) from exc
    finally:
        loader.dispose()


def load_all(data: bytes | str, source: str, *, yaml11: bool = False) -> list[object]:
    """Every non-empty document of a YAML stream (see `iter_documents`)."""
    return [doc for doc in iter_documents(data, source, yaml11=yaml11) if doc is not None]


def load_one(data: bytes | str, source: str, *, yaml11: bool = False) -> object:
    """A YAML file that holds a single document (None when empty); more than one document is an error."""
    docs = load_all(data, source, yaml11=yaml11)
    if len(docs) > 1:
        raise YamlError(source, f"expected one YAML document, found {len(docs)}")
    return docs[0] if docs else None
