"""The `replacements` field of a kustomization: copy a value from one object's field into fields of others.

kustomize v5.5's ReplacementTransformer (api/filters/replacement), applied in order, each replacement
seeing the results of the previous ones:
- `source` picks exactly one object by group, version, kind, name and namespace (exact values, matched
  against the current and every previous id; unset means any) and a `fieldPath` (default `metadata.name`):
  dotted, `[key=value]` picks the first list element whose `key` equals `value`, a number an index, `-` the
  last element. `options.delimiter` / `options.index` take one piece of the value.
- each target `select`s objects (same id rules, plus labelSelector / annotationSelector), minus those any
  `reject` matches, and writes the value at every `fieldPaths` entry (default `metadata.name`). In target
  paths `[key=value]` is an unanchored regular expression (kustomize's PathMatcher: `[name=app]` also
  matches `my-app`), `*` is every element, a number an index (beyond the end it is an error). A missing
  field is an error unless `options.create`. A scalar target keeps its type (an integer stays an
  integer; text that is not one is an error, as in kustomize); a created scalar is typed from its text.
  With `options.delimiter` the value replaces piece `index` of the target (a negative index prepends, one
  past the end appends).
- `path: file.yaml` loads one replacement, or a list of them, from a file inside the kustomization's
  directory.

Known difference: non-string scalars are written back with their canonical YAML text (`010` reads as 8 and is
copied as `8`), since parsed values no longer remember how they were spelled.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from fleetline.jsoncopy import clone
from fleetline.yamlsafe import YamlError, iter_documents, load_one
from hub.render.errors import RenderError
from hub.render.fieldspecs import describe
from hub.render.files import RepoFiles, resolve, within
from hub.render.hashing import scalar_text
from hub.render.resource import ResId, Resource, is_cluster_scoped
from hub.render.selectors import LabelSelector, SelectorSyntaxError, kustomize_ids, parse_label_selector

_ID_FIELDS = ("group", "version", "kind", "name", "namespace")
_SOURCE_FIELDS = (*_ID_FIELDS, "fieldPath", "options")
_SELECT_FIELDS = (*_ID_FIELDS, "labelSelector", "annotationSelector")
_TARGET_FIELDS = ("select", "reject", "fieldPaths", "options")
_OPTION_FIELDS = ("delimiter", "index", "encoding", "create")
_DEFAULT_PATH = "metadata.name"
_PLAIN = re.compile(r"^[-+.0-9A-Za-z_~]*$")  # the characters of every YAML int, float, bool and null


@dataclass(frozen=True)
class Options:
    delimiter: str = ""
    index: int = 0
    create: bool = False


@dataclass(frozen=True)
class IdSelector:
    """kustomize's ResId used as a selector, with optional label and annotation selectors."""

    group: str = ""
    version: str = ""
    kind: str = ""
    name: str = ""
    namespace: str = ""
    labels: LabelSelector | None = None
    annotations: LabelSelector | None = None

    def has_id(self) -> bool:
        return any((self.group, self.version, self.kind, self.name, self.namespace))

    def has_metadata_selector(self) -> bool:
        return self.labels is not None or self.annotations is not None

    def selects_id(self, res: Resource, rid: ResId) -> bool:
        """kustomize's ResId.IsSelectedBy."""
        if self.name and self.name != rid.name:
            return False
        own_api_version = f"{self.group}/{self.version}" if self.group else self.version
        if self.namespace and _effective(own_api_version, self.kind, self.namespace) != \
                _effective(res.api_version, rid.kind, rid.namespace):
            return False
        return (not self.group or self.group == rid.group) and (not self.version or self.version == rid.version) \
            and (not self.kind or self.kind == rid.kind)

    def selects_any_id(self, res: Resource) -> bool:
        return any(self.selects_id(res, rid) for rid in kustomize_ids(res))

    def matches_metadata(self, res: Resource) -> bool:
        return (self.labels is None or self.labels.matches(_text_map(res.labels()))) and \
            (self.annotations is None or self.annotations.matches(_text_map(res.annotations())))

    def __str__(self) -> str:
        parts = [f"{k}={getattr(self, k)}" for k in _ID_FIELDS if getattr(self, k)]
        parts += [f"{k}Selector={v.text}" for k, v in (("label", self.labels), ("annotation", self.annotations)) if v]
        return "{" + ", ".join(parts) + "}" if parts else "{} (everything)"


@dataclass(frozen=True)
class Target:
    select: IdSelector
    reject: tuple[IdSelector, ...]
    field_paths: tuple[str, ...]
    options: Options
    where: str


@dataclass(frozen=True)
class Replacement:
    source: IdSelector
    field_path: str
    source_options: Options
    targets: tuple[Target, ...]
    file: str
    where: str


@dataclass
class _Created:
    """A scalar leaf made by `create`: it has no type yet, the written text decides it."""

    text: str = ""


@dataclass
class _Slot:
    """A place in an object where a value can be read and written."""

    parent: Any  # dict or list
    key: Any  # str or int

    def get(self) -> Any:
        return self.parent[self.key]

    def set(self, value: Any) -> None:
        self.parent[self.key] = value


def _effective(api_version: str, kind: str, namespace: str) -> str:
    """kustomize's EffectiveNamespace ("" for cluster-scoped types)."""
    if is_cluster_scoped(api_version, kind):
        return ""
    return namespace or "default"


def _text(value: Any) -> str:
    return value if isinstance(value, str) else scalar_text(value)


def _text_map(values: dict) -> dict:
    return {str(k): v if isinstance(v, str) else scalar_text(v) for k, v in values.items()}


def _typed(text: str) -> Any:
    """What an untyped (plain) YAML scalar with this text reads as: int, float, bool, null or string (the
    empty text stays a string: kustomize prints it as "")."""
    if not text or not _PLAIN.match(text):
        return text
    try:
        value = load_one(text, "replacement value")
    except YamlError:
        return text
    return text if isinstance(value, (dict, list)) else value


# ---------------------------------------------------------------------------------------------- parsing


def parse_replacements(raw: Any, files: RepoFiles, directory: str, file: str, field_name: str) -> list[Replacement]:
    """Validate the `replacements` list of `file`, loading `path:` entries."""
    if raw is None:
        return []
    if not isinstance(raw, list):
        raise RenderError(file, f"expected a list of replacements, found {describe(raw)}", field_name)
    out: list[Replacement] = []
    for index, entry in enumerate(raw):
        where = f"{field_name}[{index}]"
        if not isinstance(entry, dict):
            raise RenderError(file, f"expected a mapping with source and targets, or path, found {describe(entry)}",
                              where)
        if "path" in entry:
            extra = sorted(set(entry) - {"path"})
            if extra:
                raise RenderError(file, f"a replacement with a path cannot also have {', '.join(extra)}: put the "
                                        "replacement inline or in the file, not both", where)
            out.extend(_load_file(files, directory, file, f"{where}.path", entry["path"]))
        else:
            out.append(_parse_one(entry, file, where))
    return out


def _load_file(files: RepoFiles, directory: str, file: str, where: str, reference: Any) -> list[Replacement]:
    if not isinstance(reference, str):
        raise RenderError(file, f"expected a file path, found {describe(reference)}", where)
    path = resolve(directory, reference, file, where)
    if not within(directory, path):
        raise RenderError(file, f"security: file {reference!r} ({path}) is not in or below {directory or '.'}; a "
                                "kustomization may only read files in its own directory tree", where)
    if files.kind(path) != "file":
        raise RenderError(file, f"replacement file {reference!r} not found (looked for {path})", where)
    try:
        document = next((doc for doc in iter_documents(files.read(path), path) if doc is not None), None)
    except YamlError as exc:
        raise RenderError(path, exc.reason + (f" (line {exc.line})" if exc.line else "")) from exc
    if isinstance(document, list):
        return [_parse_one(item, path, f"[{i}]") for i, item in enumerate(document)]
    if isinstance(document, dict):
        return [_parse_one(document, path, "")]
    raise RenderError(path, f"expected a replacement (a mapping) or a list of them, found {describe(document)}")


def _parse_one(raw: Any, file: str, where: str) -> Replacement:
    def at(name: str) -> str:
        return f"{where}.{name}" if where else name

    if not isinstance(raw, dict):
        raise RenderError(file, f"expected a mapping with source and targets, found {describe(raw)}", where)
    _no_unknown(raw, ("source", "targets"), file, where, "a replacement")
    if raw.get("source") is None or raw.get("targets") in (None, []):
        missing = "source" if raw.get("source") is None else "targets"
        raise RenderError(file, "a replacement must have a source and at least one target", at(missing))
    source = raw["source"]
    if not isinstance(source, dict):
        raise RenderError(file, f"expected a mapping ({', '.join(_SOURCE_FIELDS)}), found {describe(source)}",
                          at("source"))
    _no_unknown(source, _SOURCE_FIELDS, file, at("source"), "a replacement source")
    selector = _selector({k: v for k, v in source.items() if k in _ID_FIELDS}, file, at("source"))
    field_path = _string(source.get("fieldPath"), file, at("source.fieldPath")) or _DEFAULT_PATH
    source_options = _options(source.get("options"), file, at("source.options"))
    targets_raw = raw["targets"]
    if not isinstance(targets_raw, list):
        raise RenderError(file, f"expected a list of targets, found {describe(targets_raw)}", at("targets"))
    targets = []
    for index, target in enumerate(targets_raw):
        here = at(f"targets[{index}]")
        if not isinstance(target, dict):
            raise RenderError(file, f"expected a mapping with select and fieldPaths, found {describe(target)}", here)
        _no_unknown(target, _TARGET_FIELDS, file, here, "a replacement target")
        if target.get("select") is None:
            raise RenderError(file, "a target must say which objects to select (select: {kind: ..., name: ...})",
                              f"{here}.select")
        select = _selector(target["select"], file, f"{here}.select")
        rejects_raw = target.get("reject") or []
        if not isinstance(rejects_raw, list):
            raise RenderError(file, f"expected a list of selectors, found {describe(rejects_raw)}", f"{here}.reject")
        rejects = tuple(_selector(r, file, f"{here}.reject[{i}]") for i, r in enumerate(rejects_raw))
        paths_raw = target.get("fieldPaths")
        if paths_raw is None:
            paths: list[str] = []
        elif isinstance(paths_raw, list):
            paths = [_string(p, file, f"{here}.fieldPaths[{i}]") for i, p in enumerate(paths_raw)]
        else:
            raise RenderError(file, f"expected a list of field paths, found {describe(paths_raw)}",
                              f"{here}.fieldPaths")
        targets.append(Target(select, rejects, tuple(paths or [_DEFAULT_PATH]),
                              _options(target.get("options"), file, f"{here}.options"), here))
    return Replacement(selector, field_path, source_options, tuple(targets), file, where)


def _selector(raw: Any, file: str, where: str) -> IdSelector:
    if raw is None:
        return IdSelector()
    if not isinstance(raw, dict):
        raise RenderError(file, f"expected a mapping with some of {', '.join(_SELECT_FIELDS)}, found "
                                f"{describe(raw)}", where)
    _no_unknown(raw, _SELECT_FIELDS, file, where, "a selector")
    values = {key: _string(raw.get(key), file, f"{where}.{key}") for key in _SELECT_FIELDS}
    parsed: dict[str, LabelSelector | None] = {}
    for key in ("labelSelector", "annotationSelector"):
        parsed[key] = None
        if values[key]:
            try:
                parsed[key] = parse_label_selector(values[key])
            except SelectorSyntaxError as exc:
                raise RenderError(file, f"invalid selector {values[key]!r}: {exc}", f"{where}.{key}") from exc
    return IdSelector(values["group"], values["version"], values["kind"], values["name"], values["namespace"],
                      parsed["labelSelector"], parsed["annotationSelector"])


def _options(raw: Any, file: str, where: str) -> Options:
    if raw is None:
        return Options()
    if not isinstance(raw, dict):
        raise RenderError(file, f"expected a mapping with some of {', '.join(_OPTION_FIELDS)}, found "
                                f"{describe(raw)}", where)
    _no_unknown(raw, _OPTION_FIELDS, file, where, "options")
    index = raw.get("index", 0)
    if index is None:
        index = 0
    if isinstance(index, bool) or not isinstance(index, int):
        raise RenderError(file, f"expected an integer, found {describe(index)}", f"{where}.index")
    create = raw.get("create", False)
    if create is None:
        create = False
    if not isinstance(create, bool):
        raise RenderError(file, f"expected true or false, found {describe(create)}", f"{where}.create")
    _string(raw.get("encoding"), file, f"{where}.encoding")  # accepted and ignored, as kustomize does
    return Options(_string(raw.get("delimiter"), file, f"{where}.delimiter"), index, create)


def _no_unknown(raw: dict, allowed: tuple[str, ...], file: str, where: str, what: str) -> None:
    for key in raw:
        if key not in allowed:
            prefix = f"{where}." if where else ""
            raise RenderError(file, f"unknown field {key!r}: {what} has {', '.join(allowed)}", f"{prefix}{key}")


def _string(value: Any, file: str, where: str) -> str:
    if value is None:
        return ""
    if not isinstance(value, str):
        raise RenderError(file, f"expected a string, found {describe(value)}", where)
    return value


# --------------------------------------------------------------------------------------------- applying


def apply_replacements(resources: list[Resource], replacements: list, files: RepoFiles, directory: str,
                       file: str, field: str = "replacements") -> None:
    """Apply the kustomization's `replacements` (raw YAML values) to `resources`, in place."""
    for replacement in parse_replacements(replacements, files, directory, file, field):
        value = _source_value(resources, replacement)
        for target in replacement.targets:
            for res in resources:
                if _targeted(res, target):
                    for index, path in enumerate(target.field_paths):
                        _write(res, path, value, target, replacement, index)


def split_path(path: str) -> list[str]:
    """kustomize's SmarterPathSplitter on '.': `\\.` escapes a dot; `[a.b=c]` and `[a.b]` stay whole (the
    brackets of the latter, a map key, are dropped)."""
    pieces = path.split(".")
    if len(pieces) > 1 and pieces[0] == "":
        pieces = pieces[1:]
    parts = [pieces[0]]
    for piece in pieces[1:]:
        if parts[-1].endswith("\\"):
            parts[-1] = parts[-1][:-1] + "." + piece
        else:
            parts.append(piece)
    out: list[str] = []
    index = 0
    while index < len(parts):
        part = parts[index]
        if part.startswith("[") and not part.endswith("]"):
            group = [part]
            while index < len(parts) - 1:
                index += 1
                group.append(parts[index])
                if parts[index].endswith("]"):
                    break
            joined = ".".join(group)
            out.append(joined if "=" in joined else joined.strip("[]"))
        else:
            out.append(part)
        index += 1
    return out


def _source_value(resources: list[Resource], replacement: Replacement) -> Any:
    def fail(message: str) -> RenderError:
        where = f"{replacement.where}.source" if replacement.where else "source"
        return RenderError(replacement.file, message, where)

    chosen = [res for res in resources if replacement.source.selects_any_id(res)]
    if not chosen:
        raise fail(f"no object matches the replacement source {replacement.source}")
    if len(chosen) > 1:
        found = "; ".join(f"{res.cur_id()} from {res.origin}" for res in chosen)
        raise fail(f"the replacement source {replacement.source} matches several objects ({found}): add kind, name "
                   "or namespace to pick one")
    res = chosen[0]
    try:
        value = _lookup(res.obj, split_path(replacement.field_path))
    except _PathError as exc:
        raise fail(f"cannot read fieldPath {replacement.field_path!r} of {res.cur_id()}: {exc}") from exc
    if value is None or value == {} or value == []:
        raise fail(f"fieldPath {replacement.field_path!r} is missing (or empty) in the source {res.cur_id()} "
                   f"from {res.origin}")
    options = replacement.source_options
    if not options.delimiter:
        return clone(value)
    if isinstance(value, (dict, list)):
        raise fail("options.delimiter can only be used when the source field is a single value")
    pieces = _text(value).split(options.delimiter)
    if not 0 <= options.index < len(pieces):
        raise fail(f"options.index {options.index} is out of range: {_text(value)!r} split on "
                   f"{options.delimiter!r} has {len(pieces)} pieces")
    piece = pieces[options.index]
    return piece if isinstance(value, str) else _typed(piece)


def _targeted(res: Resource, target: Target) -> bool:
    """kustomize's target selection: select's labels/annotations, no reject's labels/annotations, then
    an id (current or previous) select picks, and no id a reject with an id part picks."""
    if not target.select.matches_metadata(res):
        return False
    if any(rej.has_metadata_selector() and rej.matches_metadata(res) for rej in target.reject):
        return False
    if not target.select.selects_any_id(res):
        return False
    return not any(rej.has_id() and rej.selects_any_id(res) for rej in target.reject)


def _write(res: Resource, path: str, value: Any, target: Target, replacement: Replacement, index: int) -> None:
    where = f"{target.where}.fieldPaths[{index}]"
    create = target.options.create
    try:
        slots = _match(res.obj, split_path(path), create, _kind(value))
    except _PathError as exc:
        raise RenderError(replacement.file, f"cannot {'find or create' if create else 'find'} field {path!r} in "
                                            f"{res.cur_id()} from {res.origin}: {exc}", where) from exc
    if not slots:
        hint = "" if create else " (set options.create: true on the target to add it)"
        raise RenderError(replacement.file, f"field {path!r} not found in {res.cur_id()} from {res.origin}{hint}",
                          where)
    for slot in slots:
        _set_value(slot, value, target.options, res, replacement.file, where, path)


def _kind(value: Any) -> str:
    return "map" if isinstance(value, dict) else "list" if isinstance(value, list) else "scalar"


def _set_value(slot: _Slot, value: Any, options: Options, res: Resource, file: str, where: str, path: str) -> None:
    current = slot.get()
    untyped = isinstance(current, _Created)
    if options.delimiter:
        if isinstance(current, (dict, list)):
            raise RenderError(file, f"options.delimiter needs a single value at {path!r} in {res.cur_id()}, found "
                                    f"{describe(current)}", where)
        pieces = (current.text if untyped else _text(current)).split(options.delimiter)
        piece = "" if isinstance(value, (dict, list)) else _text(value)
        if options.index < 0:
            pieces.insert(0, piece)
        elif options.index >= len(pieces):
            pieces.append(piece)
        else:
            pieces[options.index] = piece
        value = options.delimiter.join(pieces)
    if isinstance(current, (dict, list)) and not untyped:
        slot.set(clone(value))
        return
    text = "" if isinstance(value, (dict, list)) else _text(value)
    if untyped:
        slot.set(_typed(text))
    elif isinstance(current, str):
        slot.set(text)
    else:
        slot.set(_retyped(current, text, file, where, path, res))


def _retyped(current: Any, text: str, file: str, where: str, path: str, res: Resource) -> Any:
    """A scalar target keeps its YAML type; the new text must be a value of that type."""
    new = _typed(text) if text else None
    if isinstance(current, bool):
        ok = isinstance(new, bool)
        want = "true or false"
    elif isinstance(current, int):
        ok = isinstance(new, int) and not isinstance(new, bool)
        want = "an integer"
    elif isinstance(current, float):
        ok = isinstance(new, (int, float)) and not isinstance(new, bool)
        want = "a number"
    else:
        ok = new is None
        want = "null"
    if not ok:
        raise RenderError(file, f"{path!r} in {res.cur_id()} holds {want} ({_text(current)}), and the replacement "
                                f"value {text!r} is not one: quote the target value in the manifest to make it a "
                                "string, or replace a string field", where)
    return new


# ------------------------------------------------------------------------------------------ path walking


class _PathError(ValueError):
    """A field path that cannot be followed in an object (wrong kind of node, bad index, bad syntax)."""


def _lookup(node: Any, parts: list[str]) -> Any:
    """kustomize's PathGetter (used for the source): exact `[key=value]`, indexes, `-`; None when missing."""
    for part in (p.strip() for p in parts):
        if not part:
            continue
        if node is None:
            return None
        if re.fullmatch(r"[-+]?\d+", part):
            number = int(part)
            if number < 0:
                raise _PathError(f"list index {number} cannot be negative")
            items = _expect_list(node, part)
            node = items[number] if number < len(items) else None
        elif part == "-":
            items = _expect_list(node, part)
            node = items[-1] if items else None
        elif part == "*":
            raise _PathError("'*' is not supported in a source fieldPath")
        elif part.startswith("[") and part.endswith("]"):
            key, value = _split_selector(part)
            items = _expect_list(node, part)
            node = next((item for item in items if _element_equals(item, key, value)), None)
        else:
            node = _expect_map(node, part).get(part)
    return node


def _element_equals(item: Any, key: str, value: str) -> bool:
    if not key:
        return not isinstance(item, (dict, list)) and item is not None and _text(item) == value
    return isinstance(item, dict) and item.get(key) is not None and not isinstance(item[key], (dict, list)) and \
        _text(item[key]) == value


def _match(root: Any, parts: list[str], create: bool, create_kind: str) -> list[_Slot]:
    """kustomize's PathMatcher (used for targets): every slot the path leads to, creating it if asked."""
    holder = {"": root}
    return _match_in(_Slot(holder, ""), parts, create, create_kind)


def _match_in(slot: _Slot, parts: list[str], create: bool, kind: str) -> list[_Slot]:
    if not parts:
        return [slot]
    part, rest = parts[0], parts[1:]
    node = slot.get()
    if re.fullmatch(r"\d+", part):
        index = int(part)
        items = _expect_list(node, part)
        if index == len(items) and create:
            items.append(_new_node(rest, kind))
        if index >= len(items):
            raise _PathError(f"index {index} specified but only {len(items)} elements found")
        return _match_in(_Slot(items, index), rest, create, kind)
    if part.startswith("[") and part.endswith("]"):
        key, pattern = _split_selector(part)
        items = _expect_list(node, part)
        try:
            regex = re.compile(pattern)
        except re.error as exc:
            raise _PathError(f"invalid regular expression {pattern!r} in {part}: {exc}") from exc
        found = [i for i, item in enumerate(items) if _element_matches(item, key, regex)]
        if not found and create:
            items.append(_typed(pattern) if not key else {key: _typed(pattern)})
            found = [len(items) - 1] if _element_matches(items[-1], key, regex) else []
        out: list[_Slot] = []
        for i in found:
            out.extend(_match_in(_Slot(items, i), rest, create, kind))
        return out
    if part == "*":
        items = _expect_list(node, part)
        out = []
        for i in range(len(items)):
            out.extend(_match_in(_Slot(items, i), rest, create, kind))
        return out
    if node is None or isinstance(node, _Created):
        return []
    mapping = _expect_map(node, part)
    if part not in mapping or (mapping[part] is None and rest):
        if not create:
            return []
        mapping[part] = _new_node(rest, kind)
    return _match_in(_Slot(mapping, part), rest, create, kind)


def _new_node(rest: list[str], kind: str) -> Any:
    """What `create` puts at a missing step: a list before an index or `[k=v]`, a map before a field, and
    at the leaf an empty node of the value's kind."""
    if not rest:
        return {} if kind == "map" else [] if kind == "list" else _Created()
    following = rest[0]
    if re.fullmatch(r"\d+", following) or (following.startswith("[") and following.endswith("]")):
        return []
    return {}


def _element_matches(item: Any, key: str, regex: re.Pattern[str]) -> bool:
    if not key:
        if item is None or isinstance(item, (dict, list)):
            return False
        return regex.search(_text(item)) is not None
    if not isinstance(item, dict) or item.get(key) is None or isinstance(item[key], (dict, list)):
        return False
    return regex.search(_text(item[key])) is not None


def _split_selector(part: str) -> tuple[str, str]:
    inner = part[1:-1]
    if "=" not in inner:
        raise _PathError(f"{part}: a list element selector must be [field=value] (or [=value])")
    key, _, value = inner.partition("=")
    return key, value


def _expect_list(node: Any, part: str) -> list:
    if not isinstance(node, list):
        raise _PathError(f"{part!r} selects a list element, but the field holds {describe(node)}")
    return node


def _expect_map(node: Any, part: str) -> dict:
    if not isinstance(node, dict):
        raise _PathError(f"{part!r} names a field, but the value there is {describe(node)}, not a mapping "
                         "(use an index or [name=...] for list elements)")
    return node
