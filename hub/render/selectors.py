"""Which objects a kustomize `target` (a patch target, a replacement source or target) selects.

Owns the `Target` record, its validation from kustomization YAML (`parse_target`), kustomize's selection
rules (`select`) and the Kubernetes label-selector language used by `labelSelector` and
`annotationSelector`. Mirrors kustomize v5.5 (`types.SelectorRegex`, `resWrangler.Select`):

- group, version, kind, name and namespace are regular expressions anchored at both ends; an empty one
  matches anything;
- name and namespace match if either the object's original id (before any prefix, suffix, namespace or
  patch renamed it, possibly in a base) or its current id matches;
- namespaces compare as kustomize's "effective namespace": an unset namespace is `default`, and
  cluster-scoped kinds have none (only an empty `namespace` selects them).

Knows nothing about patches or replacements themselves.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass, field

from hub.render.errors import RenderError
from hub.render.errors import describe_value as _describe
from hub.render.resource import CLUSTER_SCOPED_KINDS, ResId, Resource

_NOT_NAMESPACEABLE = "_non_namespaceable_"  # kustomize's effective namespace of cluster-scoped kinds
TARGET_FIELDS = ("group", "version", "kind", "name", "namespace", "labelSelector", "annotationSelector")


# ------------------------------------------------------------------------------------------ selectors


@dataclass(frozen=True)
class Requirement:
    """One clause of a label selector: `key <operator> values`."""

    key: str
    operator: str  # "exists", "!", "=", "!=", "in", "notin", ">", "<"
    values: tuple[str, ...] = ()

    def matches(self, labels: dict) -> bool:
        present = self.key in labels
        value = labels.get(self.key)
        if isinstance(value, bool):
            value = "true" if value else "false"
        elif not isinstance(value, str):
            value = "" if value is None else str(value)
        if self.operator == "exists":
            return present
        if self.operator == "!":
            return not present
        if self.operator in ("=", "in"):
            return present and value in self.values
        if self.operator in ("!=", "notin"):
            return not present or value not in self.values
        # ">" and "<": both sides must be integers
        if not present:
            return False
        try:
            have = int(value)
        except ValueError:
            return False
        want = int(self.values[0])
        return have > want if self.operator == ">" else have < want


@dataclass(frozen=True)
class LabelSelector:
    """A parsed Kubernetes label selector; the empty selector matches everything."""

    text: str
    requirements: tuple[Requirement, ...] = ()

    def matches(self, labels: dict) -> bool:
        return all(req.matches(labels) for req in self.requirements)


class SelectorSyntaxError(ValueError):
    """A label selector that Kubernetes' `labels.Parse` would refuse."""


_TOKEN = re.compile(r"\s*(?:(?P<op>==|!=|=|\(|\)|,|!|>|<)|(?P<word>[^\s=!(),<>]+))")
_NAME = re.compile(r"^([A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?)$")
_DNS_SUBDOMAIN = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")


def _tokens(text: str) -> list[tuple[str, str]]:
    out: list[tuple[str, str]] = []
    pos = 0
    while pos < len(text):
        if text[pos:].strip() == "":
            break
        match = _TOKEN.match(text, pos)
        if match is None:  # pragma: no cover - the word class accepts every other character
            raise SelectorSyntaxError(f"unexpected character {text[pos]!r} at position {pos}")
        if match.group("op"):
            out.append(("op", match.group("op")))
        else:
            word = match.group("word")
            out.append(("kw" if word in ("in", "notin") else "word", word))
        pos = match.end()
    return out


def _check_key(key: str) -> None:
    prefix, slash, name = key.rpartition("/")
    problems = []
    if slash and (not prefix or len(prefix) > 253 or not _DNS_SUBDOMAIN.match(prefix)):
        problems.append("the prefix before '/' must be a DNS subdomain (lower case, at most 253 characters)")
    if not name or len(name) > 63 or not _NAME.match(name):
        problems.append("the name must be 1-63 characters of [A-Za-z0-9-_.], starting and ending with an "
                        "alphanumeric character")
    if problems:
        raise SelectorSyntaxError(f"invalid key {key!r}: " + "; ".join(problems))


def _check_value(value: str) -> None:
    if value and (len(value) > 63 or not _NAME.match(value)):
        raise SelectorSyntaxError(f"invalid value {value!r}: a label value is at most 63 characters of "
                                  "[A-Za-z0-9-_.], starting and ending with an alphanumeric character")


def _parse_value_list(tokens: list[tuple[str, str]], index: int, key: str) -> list:
    """The values of `key in (...)` starting at the `(` at `index`, followed by the index after `)`.

    As in Kubernetes, empty values are allowed: `()`, `(,a)` and `(a,,b)` contain the empty string."""
    if index >= len(tokens) or tokens[index] != ("op", "("):
        found = tokens[index][1] if index < len(tokens) else "the end"
        raise SelectorSyntaxError(f"expected '(' after the operator of {key!r}, found {found!r}")
    index += 1
    values: list[str] = []
    expect_value = True
    while True:
        kind, word = tokens[index] if index < len(tokens) else ("end", "")
        if kind in ("word", "kw") and expect_value:
            values.append(word)
            expect_value = False
        elif (kind, word) == ("op", ","):
            if expect_value:
                values.append("")
            expect_value = True
        elif (kind, word) == ("op", ")"):
            if expect_value:
                values.append("")
            return [*dict.fromkeys(values), index + 1]
        else:
            raise SelectorSyntaxError(f"expected a value, ',' or ')' in the values of {key!r}, "
                                      f"found {word or 'the end'!r}")
        index += 1


def parse_label_selector(text: str) -> LabelSelector:
    """Parse Kubernetes' selector syntax (`a=b,c!=d,e in (f,g),h notin (i),j,!k,l>3`)."""
    tokens = _tokens(text)
    requirements: list[Requirement] = []
    index = 0

    def peek() -> tuple[str, str]:
        return tokens[index] if index < len(tokens) else ("end", "")

    while index < len(tokens):
        kind, value = peek()
        if (kind, value) == ("op", "!"):
            index += 1
            kind, key = peek()
            if kind != "word":
                raise SelectorSyntaxError(f"expected a key after '!', found {key or 'the end'!r}")
            index += 1
            _check_key(key)
            requirements.append(Requirement(key, "!"))
        elif kind == "word":
            key = value
            _check_key(key)
            index += 1
            kind, op = peek()
            if kind == "end" or (kind, op) == ("op", ","):
                requirements.append(Requirement(key, "exists"))
            elif kind == "kw":
                index += 1
                values = _parse_value_list(tokens, index, key)
                index = values.pop()
                for item in values:
                    _check_value(item)
                requirements.append(Requirement(key, op, tuple(values)))
            elif kind == "op" and op in ("=", "==", "!=", ">", "<"):
                index += 1
                kind, word = peek()
                if kind in ("word", "kw"):
                    index += 1
                elif kind == "end" or (kind, word) == ("op", ","):
                    word = ""
                else:
                    raise SelectorSyntaxError(f"expected a value after {key}{op}, found {word!r}")
                if op in (">", "<"):
                    if not re.fullmatch(r"[+-]?\d+", word):
                        raise SelectorSyntaxError(f"'{op}' needs an integer value for {key!r}, found {word!r}")
                else:
                    _check_value(word)
                requirements.append(Requirement(key, "=" if op == "==" else op, (word,)))
            else:
                raise SelectorSyntaxError(f"expected an operator (=, ==, !=, in, notin, <, >) or ',' after key "
                                          f"{key!r}, found {op!r}")
        else:
            raise SelectorSyntaxError(f"expected a key, found {value!r}")
        kind, value = peek()
        if kind == "end":
            break
        if (kind, value) != ("op", ","):
            raise SelectorSyntaxError(f"expected ',' between requirements, found {value!r}")
        index += 1
        if peek()[0] == "end":
            raise SelectorSyntaxError("expected a requirement after the trailing ','")
    return LabelSelector(text, tuple(requirements))


# ---------------------------------------------------------------------------------------------- target


@dataclass(frozen=True)
class Target:
    """A kustomize selector: every non-empty field must match (regexes for the id fields).

    Constructing one compiles its regexes and selectors: `re.error` or `SelectorSyntaxError` when invalid
    (`parse_target` turns those into `RenderError`s naming the field)."""

    group: str = ""
    version: str = ""
    kind: str = ""
    name: str = ""
    namespace: str = ""
    label_selector: str = ""
    annotation_selector: str = ""
    patterns: dict[str, re.Pattern[str]] = field(init=False, compare=False, repr=False, hash=False)
    labels: LabelSelector = field(init=False, compare=False, repr=False, hash=False)
    annotations: LabelSelector = field(init=False, compare=False, repr=False, hash=False)

    def __post_init__(self) -> None:
        patterns = {}
        for key in _ID_FIELDS:
            text = getattr(self, key)
            if text:
                patterns[key] = re.compile(f"(?:{text})")
        object.__setattr__(self, "patterns", patterns)
        object.__setattr__(self, "labels", parse_label_selector(self.label_selector))
        object.__setattr__(self, "annotations", parse_label_selector(self.annotation_selector))

    def __str__(self) -> str:
        where = f" in namespace {self.namespace}" if self.namespace else ""
        what = f"{self.kind or '*'}/{self.name or '*'}{where}"
        extras = [f"{k}={v}" for k, v in (("group", self.group), ("version", self.version),
                                           ("labelSelector", self.label_selector),
                                           ("annotationSelector", self.annotation_selector)) if v]
        return what + (f" ({', '.join(extras)})" if extras else "")


_ID_FIELDS = ("group", "version", "kind", "name", "namespace")


def parse_target(raw: object, file: str, field: str) -> Target:
    """Validate a `target:` mapping written in `file` at `field` (e.g. `patches[1].target`)."""
    if not isinstance(raw, dict):
        raise RenderError(file, f"expected a mapping with some of {', '.join(TARGET_FIELDS)}, found "
                                f"{_describe(raw)}", field)
    values: dict[str, str] = {}
    for key, value in raw.items():
        # kustomize decodes the kustomization with Go's encoding/json: field names match case-insensitively
        key = next((f for f in TARGET_FIELDS if str(key).lower() == f.lower()), key)
        if key not in TARGET_FIELDS:
            hint = difflib.get_close_matches(str(key), TARGET_FIELDS, n=1)
            fix = f"did you mean {hint[0]!r}?" if hint else f"expected one of {', '.join(TARGET_FIELDS)}"
            raise RenderError(file, f"unknown field {key!r} in a target ({fix})", field)
        if value is None:
            value = ""
        if not isinstance(value, str):
            raise RenderError(file, f"expected a string, found {_describe(value)}", f"{field}.{key}")
        values[key] = value
    for key in _ID_FIELDS:
        try:
            re.compile(values.get(key, ""))
        except re.error as exc:
            raise RenderError(file, f"invalid regular expression {values[key]!r}: {exc}", f"{field}.{key}") from exc
    for key in ("labelSelector", "annotationSelector"):
        try:
            parse_label_selector(values.get(key, ""))
        except SelectorSyntaxError as exc:
            raise RenderError(file, f"invalid selector {values[key]!r}: {exc}", f"{field}.{key}") from exc
    return Target(group=values.get("group", ""), version=values.get("version", ""), kind=values.get("kind", ""),
                  name=values.get("name", ""), namespace=values.get("namespace", ""),
                  label_selector=values.get("labelSelector", ""),
                  annotation_selector=values.get("annotationSelector", ""))


# ------------------------------------------------------------------------------------------- selecting


def effective_namespace(kind: str, namespace: str) -> str:
    """kustomize's EffectiveNamespace: "default" for an unset namespace, a marker for cluster-scoped kinds."""
    if kind in CLUSTER_SCOPED_KINDS:
        return _NOT_NAMESPACEABLE
    return namespace or "default"


def kustomize_ids(resource: Resource) -> list[ResId]:
    """The resource's ids as kustomize sees them: previous ids oldest first, then the current one.

    kustomize records only the previous names, namespaces and kinds: its previous ids carry the current
    group and version."""
    current = resource.cur_id()
    previous = [ResId(current.group, current.version, old.kind, old.name, old.namespace)
                for old in resource.previous_ids]
    return [*previous, current]


def _full(pattern: re.Pattern[str] | None, value: str) -> bool:
    return pattern is None or pattern.fullmatch(value) is not None


def matches(resource: Resource, target: Target) -> bool:
    """Whether `target` selects `resource` (kustomize's resWrangler.Select for one object)."""
    pats = target.patterns
    current = resource.cur_id()
    original = kustomize_ids(resource)[0]
    if "namespace" in pats and not (
            _full(pats["namespace"], effective_namespace(original.kind, original.namespace))
            or _full(pats["namespace"], effective_namespace(current.kind, current.namespace))):
        return False
    if "name" in pats and not (_full(pats["name"], original.name) or _full(pats["name"], current.name)):
        return False
    if not (_full(pats.get("group"), current.group) and _full(pats.get("version"), current.version)
            and _full(pats.get("kind"), current.kind)):
        return False
    return target.labels.matches(_string_map(resource.labels())) and \
        target.annotations.matches(_string_map(resource.annotations()))


def _string_map(values: dict) -> dict:
    return {str(k): v for k, v in values.items()}


def select(resources: list[Resource], target: Target) -> list[Resource]:
    """The resources `target` selects, in their order."""
    return [res for res in resources if matches(res, target)]


def suggest(resources: list[Resource], target: Target) -> str:
    """A ` (did you mean X?)` hint for a target that selected nothing: the closest name among objects of
    the target's kind (or of every kind when none is given); "" when nothing is close."""
    kind_pattern = target.patterns.get("kind")
    names = sorted({res.name for res in resources if _full(kind_pattern, res.kind)} |
                   {old.name for res in resources if _full(kind_pattern, res.kind) for old in res.previous_ids})
    if not target.name or not names:
        return ""
    close = difflib.get_close_matches(target.name, names, n=1, cutoff=0.5)
    if not close:
        close = [n for n in names if target.name in n or n in target.name][:1]
    return f" (did you mean {close[0]}?)" if close else ""

