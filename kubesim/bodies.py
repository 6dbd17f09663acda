"""Request bodies: JSON and YAML decoded into what Go's JSON decoder would produce, and DeleteOptions checked.

Bodies are bounded (`MAX_BODY_DEPTH` levels; the size limit is the HTTP layer's); NaN and infinities are
refused, lone surrogates become U+FFFD, YAML keys become strings and YAML timestamps stay strings, as
kube-apiserver's sigs.k8s.io/yaml does. Every failure is a 400 `ApiError`.
"""

from __future__ import annotations

import json
import math
import re

import yaml

from kubesim import errors
from kubesim.errors import ApiError

MAX_BODY_DEPTH = 100  # nesting levels of a request body (kube's decoder allows 10,000; kubesim's code recurses)

# -- request bodies: JSON and YAML decoded into what Go's JSON decoder would produce ----------------------------------

_SURROGATE = re.compile("[\ud800-\udfff]")
_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F]")  # a JSON escape of a UTF-16 surrogate
_TIMESTAMP_TAG = "tag:yaml.org,2002:timestamp"
_JSON_ERROR = "couldn't get version/kind; json parse error"
_TOO_DEEP = f"exceeded max depth: a body may nest at most {MAX_BODY_DEPTH} levels"


class _YamlLoader(getattr(yaml, "CSafeLoader", yaml.SafeLoader)):  # type: ignore[misc]
    """YAML read as sigs.k8s.io/yaml reads it on its way to JSON: timestamps stay strings."""


_YamlLoader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != _TIMESTAMP_TAG]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()}
_YamlLoader.add_constructor(_TIMESTAMP_TAG, lambda loader, node: loader.construct_scalar(node))


def _no_constant(name: str) -> object:
    raise ValueError(f"invalid character '{name[0]}' looking for beginning of value")


def _finite(text: str) -> float:
    number = float(text)
    if math.isinf(number):
        raise ValueError(f"cannot unmarshal number {text} into a float64 (out of range)")
    return number


def decode_json(raw: bytes) -> object:
    """A JSON request body as kube-apiserver reads it: no NaN or Infinity, no number out of float64's
    range, invalid UTF-8 and lone surrogates replaced by U+FFFD, at most MAX_BODY_DEPTH levels deep (400)."""
    text = raw.decode("utf-8", "replace")
    try:
        value = json.loads(text, parse_constant=_no_constant, parse_float=_finite)
    except RecursionError as exc:
        raise errors.bad_request(f"{_JSON_ERROR}: {_TOO_DEEP}") from exc
    except ValueError as exc:
        raise errors.bad_request(f"{_JSON_ERROR}: {exc}") from exc
    if _SURROGATE_ESCAPE.search(text):  # rare: walk every string
        return _BodyValue(_JSON_ERROR, len(raw)).convert(value, 0)
    _check_depth(value, 0)
    return value


def _check_depth(value: object, depth: int) -> None:
    """400 when containers nest deeper than MAX_BODY_DEPTH (the cheap walk of a common JSON body)."""
    if depth >= MAX_BODY_DEPTH:
        raise errors.bad_request(f"{_JSON_ERROR}: {_TOO_DEEP}")
    if type(value) is dict:
        value = value.values()
    elif type(value) is not list:
        return
    for item in value:  # type: ignore[union-attr]
        if type(item) is dict or type(item) is list:
            _check_depth(item, depth + 1)


def decode_yaml(raw: bytes) -> object:
    """A YAML request body converted to JSON as sigs.k8s.io/yaml does (400 for what has no JSON form):
    timestamps stay strings, map keys become strings, `!!binary` becomes its decoded text, and aliases may
    not expand the document beyond its own size (kube's "excessive aliasing")."""
    try:
        value = yaml.load(raw, Loader=_YamlLoader)  # noqa: S506 - a safe loader
    except (yaml.YAMLError, RecursionError) as exc:
        raise errors.bad_request(f"error converting YAML to JSON: {exc}".replace("\n", " ")) from exc
    return _BodyValue("error converting YAML to JSON", len(raw)).convert(value, 0)


class _BodyValue:
    """Walks a decoded body into plain JSON values (dict, list, str, int, float, bool, None) or raises 400."""

    def __init__(self, context: str, size: int) -> None:
        self.context = context
        self.budget = size + 10_000  # a document without aliases has fewer nodes than bytes

    def fail(self, reason: str) -> ApiError:
        return errors.bad_request(f"{self.context}: {reason}")

    def convert(self, value: object, depth: int) -> object:
        self.budget -= 1
        if self.budget < 0:
            raise self.fail("yaml: document contains excessive aliasing")
        if isinstance(value, str):
            return value if value.isascii() or not _SURROGATE.search(value) else _SURROGATE.sub("\ufffd", value)
        if value is None or isinstance(value, bool | int):
            return value
        if isinstance(value, float):
            if not math.isfinite(value):
                raise self.fail(f"unsupported value: {value} (numbers must be finite)")
            return value
        if depth >= MAX_BODY_DEPTH:
            raise self.fail(_TOO_DEEP)
        if isinstance(value, dict):
            return {self.key(k): self.convert(v, depth + 1) for k, v in value.items()}
        if isinstance(value, list | tuple):
            return [self.convert(v, depth + 1) for v in value]
        if isinstance(value, set):  # YAML !!set: a map of nulls
            return {self.key(k): None for k in sorted(value, key=str)}
        if isinstance(value, bytes):  # YAML !!binary
            return value.decode("utf-8", "replace")
        raise self.fail(f"unsupported value of type {type(value).__name__}")

    def key(self, key: object) -> str:
        if isinstance(key, str):
            return self.convert(key, 0)  # type: ignore[return-value]
        if isinstance(key, bool):
            return "true" if key else "false"
        if key is None:
            return "null"
        if isinstance(key, int | float):
            return str(self.convert(key, 0))
        raise self.fail(f"map keys must be strings, got {type(key).__name__}")


_DELETE_OPTION_TYPES = {"propagationPolicy": (str, "string", "v1.DeletionPropagation"),
                        "orphanDependents": (bool, "bool", "bool"),
                        "gracePeriodSeconds": (int, "number", "int64"),
                        "preconditions": (dict, "object", "v1.Preconditions"),
                        "dryRun": (list, "array", "[]string")}


def _json_type(value: object) -> str:
    return {dict: "object", list: "array", str: "string", bool: "bool"}.get(type(value), "number")


def delete_options(options: object) -> dict:
    """A DeleteOptions body, its fields of the types Go decodes them into (400 otherwise, as kube-apiserver)."""
    if not isinstance(options, dict):
        raise errors.bad_request(f"json: cannot unmarshal {_json_type(options)} into Go value of type "
                                 "v1.DeleteOptions")
    checks = [(f"DeleteOptions.{k}", options.get(k), *_DELETE_OPTION_TYPES[k]) for k in _DELETE_OPTION_TYPES]
    pre = options.get("preconditions")
    if isinstance(pre, dict):
        checks += [("DeleteOptions.preconditions.uid", pre.get("uid"), str, "string", "types.UID"),
                   ("DeleteOptions.preconditions.resourceVersion", pre.get("resourceVersion"), str, "string",
                    "string")]
    if isinstance(options.get("dryRun"), list):
        checks += [("DeleteOptions.dryRun", v, str, "string", "string") for v in options["dryRun"]]
    for where, value, kind, _, go_type in checks:
        if value is not None and (not isinstance(value, kind) or (kind is int and isinstance(value, bool))):
            raise errors.bad_request(f"json: cannot unmarshal {_json_type(value)} into Go struct field {where} "
                                     f"of type {go_type}")
    return options
