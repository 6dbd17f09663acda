"""kustomize's configMapGenerator and secretGenerator, and how generated objects join the accumulated ones.

Owns reading the generator entries of one kustomization (name, namespace, behavior, literals, files, envs,
type, options, and the kustomization-wide generatorOptions), building the ConfigMaps and Secrets the way
kustomize v5.5 does (api/kv, api/internal/generators, kyaml's datamap), and `merge_generated`: kustomize's
create / merge / replace of a generated object against the objects of the kustomization's resources and bases.
The content-hash suffix is added later, once, by `hub.render.hashing`; files are read only through
`RepoFiles`, and only inside the kustomization's directory (kustomize's default load restriction).

Sources are read in kustomize's order: env files, then literals, then files. ConfigMap values that are not
UTF-8 go to `binaryData`, base64-encoded; every Secret value is base64-encoded. Both wrap base64 at 70
characters (with a trailing newline) when it is longer than one line, as kustomize does.

Deliberate difference: kustomize v5.5 no longer validates keys (its validator is a stub); we refuse keys
Kubernetes would refuse (`[-._a-zA-Z0-9]+`, not `.`/`..`), since the API server would reject the object.
"""

from __future__ import annotations

import base64
import posixpath
import re
from dataclasses import dataclass, field
from typing import Any

from hub.render.errors import RenderError
from hub.render.fieldspecs import describe
from hub.render.files import RepoFiles, resolve, within
from hub.render.hashing import scalar_text
from hub.render.resource import ResId, Resource
from hub.render.selectors import kustomize_ids

BEHAVIORS = ("create", "merge", "replace")
_COMMON_FIELDS = ("name", "namespace", "behavior", "literals", "files", "envs", "env", "options")
_OPTION_FIELDS = ("labels", "annotations", "disableNameSuffixHash", "immutable")
_KEY = re.compile(r"^[-._a-zA-Z0-9]+$")
_BOM = "\ufeff"
# Characters kustomize's YAML writer emits raw and its reader then refuses (DEL, C1 controls, U+FFFE/U+FFFF).
_UNPRINTABLE = re.compile("[\x7f\x80-\x84\x86-\x9f\ufffe\uffff]")
# Go's unicode.IsSpace (what kustomize trims from the start of env-file lines); Python's isspace() differs.
_GO_SPACE = frozenset("\t\n\v\f\r \x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009"
                      "\u200a\u2028\u2029\u202f\u205f\u3000")


@dataclass
class GeneratorOptions:
    """`options` of one generator, or the kustomization's `generatorOptions`."""

    labels: dict[str, str] = field(default_factory=dict)
    annotations: dict[str, str] = field(default_factory=dict)
    disable_name_suffix_hash: bool = False
    immutable: bool = False


def parse_options(raw: Any, file: str, where: str) -> GeneratorOptions | None:
    """Validate an options mapping (`labels`, `annotations`, `disableNameSuffixHash`, `immutable`)."""
    if raw is None:
        return None
    if not isinstance(raw, dict):
        raise RenderError(file, f"expected a mapping with some of {', '.join(_OPTION_FIELDS)}, found "
                                f"{describe(raw)}", where)
    for key in raw:
        if key not in _OPTION_FIELDS:
            raise RenderError(file, f"unknown field {key!r}: generator options are {', '.join(_OPTION_FIELDS)}",
                              f"{where}.{key}")
    return GeneratorOptions(labels=_string_map(raw.get("labels"), file, f"{where}.labels"),
                            annotations=_string_map(raw.get("annotations"), file, f"{where}.annotations"),
                            disable_name_suffix_hash=_bool(raw.get("disableNameSuffixHash"), file,
                                                           f"{where}.disableNameSuffixHash"),
                            immutable=_bool(raw.get("immutable"), file, f"{where}.immutable"))


def merge_options(local: GeneratorOptions | None, shared: GeneratorOptions | None) -> GeneratorOptions | None:
    """kustomize's MergeGlobalOptionsIntoLocal: a generator's own labels/annotations win over the shared ones;
    disableNameSuffixHash and immutable are on if either sets them."""
    if shared is None:
        return local
    local = local or GeneratorOptions()
    return GeneratorOptions(labels={**shared.labels, **local.labels},
                            annotations={**shared.annotations, **local.annotations},
                            disable_name_suffix_hash=local.disable_name_suffix_hash or shared.disable_name_suffix_hash,
                            immutable=local.immutable or shared.immutable)


# ------------------------------------------------------------------------------------------ generating


def generate(files: RepoFiles, directory: str, file: str, configmaps: list | None, secrets: list | None,
             options: dict | None) -> list[Resource]:
    """The ConfigMaps then Secrets the kustomization `file` (in `directory`) generates, in entry order.

    `configmaps`, `secrets` and `options` are the raw values of configMapGenerator, secretGenerator and
    generatorOptions. Each Resource carries its behavior and whether its name needs the hash suffix."""
    shared = parse_options(options, file, "generatorOptions")
    out: list[Resource] = []
    for field_name, entries, kind in (("configMapGenerator", configmaps, "ConfigMap"),
                                      ("secretGenerator", secrets, "Secret")):
        if entries is None:
            continue
        if not isinstance(entries, list):
            raise RenderError(file, f"expected a list of generators, found {describe(entries)}", field_name)
        for index, entry in enumerate(entries):
            out.append(_generate_one(files, directory, file, f"{field_name}[{index}]", kind, entry, shared))
    return out


def _generate_one(files: RepoFiles, directory: str, file: str, where: str, kind: str, entry: Any,
                  shared: GeneratorOptions | None) -> Resource:
    allowed = _COMMON_FIELDS + (("type",) if kind == "Secret" else ())
    if not isinstance(entry, dict):
        raise RenderError(file, f"expected a mapping with a name and literals, files or envs, found "
                                f"{describe(entry)}", where)
    for key in entry:
        if key not in allowed:
            hint = " (a ConfigMap has no type)" if key == "type" else ""
            raise RenderError(file, f"unknown field {key!r}{hint}: a {kind} generator has {', '.join(allowed)}",
                              f"{where}.{key}")
    name = _string(entry.get("name"), file, f"{where}.name")
    if not name:
        raise RenderError(file, f"a {kind} generator needs a name", f"{where}.name")
    namespace = _string(entry.get("namespace"), file, f"{where}.namespace")
    behavior = _string(entry.get("behavior"), file, f"{where}.behavior") or "create"
    if behavior not in BEHAVIORS:
        raise RenderError(file, f"unknown behavior {behavior!r}: expected create (the default), merge or replace",
                          f"{where}.behavior")
    opts = merge_options(parse_options(entry.get("options"), file, f"{where}.options"), shared)

    envs = _string_list(entry.get("envs"), file, f"{where}.envs")
    env = _string(entry.get("env"), file, f"{where}.env")
    env_sources = [(f"{where}.envs[{i}]", path) for i, path in enumerate(envs)]
    if env:
        env_sources.append((f"{where}.env", env))
    pairs: list[tuple[str, str, bytes]] = []  # (where, key, value)
    for at, path in env_sources:
        pairs.extend(_env_pairs(files, directory, file, at, path))
    for i, literal in enumerate(_string_list(entry.get("literals"), file, f"{where}.literals")):
        key, value = _literal(literal, file, f"{where}.literals[{i}]")
        pairs.append((f"{where}.literals[{i}]", key, value.encode("utf-8")))
    for i, source in enumerate(_string_list(entry.get("files"), file, f"{where}.files")):
        at = f"{where}.files[{i}]"
        key, path = _file_source(source, file, at)
        pairs.append((at, key, _read(files, directory, file, at, path)))

    data: dict[str, bytes] = {}
    for at, key, value in pairs:
        _check_key(key, file, at)
        if key in data:
            raise RenderError(file, f"{kind.lower()} {name} repeats the key {key!r}: each key may come from only "
                                    "one literal, file or env line", at)
        data[key] = value

    obj: dict[str, Any] = {"apiVersion": "v1", "kind": kind, "metadata": {"name": name}}
    if namespace:
        obj["metadata"]["namespace"] = namespace
    if kind == "Secret":
        obj["type"] = _string(entry.get("type"), file, f"{where}.type") or "Opaque"
        obj["data"] = {key: _base64(value) for key, value in sorted(data.items())}
    else:
        for key, value in sorted(data.items()):
            try:
                text = value.decode("utf-8")
            except UnicodeDecodeError:
                obj.setdefault("binaryData", {})[key] = _base64(value)
                continue
            bad = _UNPRINTABLE.search(text)
            if bad:
                at = next(at for at, k, _ in pairs if k == key)
                raise RenderError(file, f"the value of key {key!r} contains the character U+{ord(bad.group()):04X}, "
                                        "which kustomize cannot write into YAML (it fails with 'control characters "
                                        "are not allowed'): remove it, or put the value in a secretGenerator", at)
            obj.setdefault("data", {})[key] = text
    if opts is not None:
        if opts.labels:
            obj["metadata"]["labels"] = dict(sorted(opts.labels.items()))
        if opts.annotations:
            obj["metadata"]["annotations"] = dict(sorted(opts.annotations.items()))
        if opts.immutable:
            obj["immutable"] = True
    return Resource(obj=obj, origin=file, behavior=behavior,
                    needs_hash=opts is None or not opts.disable_name_suffix_hash)


def _literal(source: str, file: str, at: str) -> tuple[str, str]:
    """`key=value` with the value's surrounding matching quotes removed (kustomize's parseLiteralSource)."""
    key, sep, value = source.partition("=")
    if not sep or not key:
        raise RenderError(file, f"invalid literal {source!r}: expected key=value", at)
    if len(value) >= 2 and value[0] == value[-1] and value[0] in "\"'":
        value = value[1:-1]
    return key, value


def _file_source(source: str, file: str, at: str) -> tuple[str, str]:
    """`path` (key: the file's base name) or `key=path` (kustomize's ParseFileSource)."""
    count = source.count("=")
    if count == 0:
        return posixpath.basename(source.rstrip("/")) or source, source
    if count > 1:
        raise RenderError(file, f"{source!r}: the key name or the file path contains '=' (write key=path)", at)
    key, _, path = source.partition("=")
    if not key:
        raise RenderError(file, f"missing key name for file path {path!r} in {source!r} (write key=path)", at)
    if not path:
        raise RenderError(file, f"missing file path for key name {key!r} in {source!r} (write key=path)", at)
    return key, path


def _read(files: RepoFiles, directory: str, file: str, at: str, reference: str) -> bytes:
    path = resolve(directory, reference, file, at)
    if not within(directory, path):
        raise RenderError(file, f"security: file {reference!r} ({path}) is not in or below {directory or '.'}; "
                                "a kustomization may only read files in its own directory tree (move the file, "
                                "or generate from the kustomization that contains it)", at)
    found = files.kind(path)
    if found is None:
        raise RenderError(file, f"file {reference!r} not found (looked for {path})", at)
    if found != "file":
        raise RenderError(file, f"{reference!r} ({path}) is a directory: a generator source must be a file", at)
    return files.read(path)


def _env_pairs(files: RepoFiles, directory: str, file: str, at: str, reference: str) -> list[tuple[str, str, bytes]]:
    """The KEY=value lines of an env file (kustomize's keyValuesFromLines)."""
    content = _read(files, directory, file, at, reference)
    lines = content.split(b"\n")
    if lines and lines[-1] == b"":
        lines.pop()
    pairs = []
    for number, raw in enumerate(lines):
        raw = raw.removesuffix(b"\r")
        try:
            line = raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise RenderError(file, f"env file {reference!r} line {number + 1} is not valid UTF-8", at) from exc
        if number == 0:
            line = line.removeprefix(_BOM)
        index = 0
        while index < len(line) and line[index] in _GO_SPACE:
            index += 1
        line = line[index:]
        if not line or line.startswith("#"):
            continue
        key, _, value = line.partition("=")
        if not key:  # kustomize skips `=value` lines silently, like blank ones
            continue
        pairs.append((f"{at} ({reference} line {number + 1})", key, value.encode("utf-8")))
    return pairs


def _check_key(key: str, file: str, at: str) -> None:
    if not _KEY.match(key) or key in (".", "..") or key.startswith("..") or len(key) > 253:
        raise RenderError(file, f"invalid key {key!r}: a ConfigMap or Secret key must be 1-253 characters of "
                                "letters, digits, '-', '_' or '.', and not '.', '..' or start with '..'", at)


def _base64(value: bytes) -> str:
    """kustomize's encodeBase64: standard base64, split in 70-character lines each ending in a newline when
    the encoding is 70 characters or longer."""
    encoded = base64.b64encode(value).decode("ascii")
    if len(encoded) < 70:
        return encoded
    return "".join(encoded[i:i + 70] + "\n" for i in range(0, len(encoded), 70))


# ------------------------------------------------------------------------------------------- merging


def merge_generated(accumulated: list[Resource], generated: list[Resource], file: str) -> list[Resource]:
    """Add `generated` to `accumulated` one by one as kustomize's resWrangler.appendReplaceOrMerge does.

    A generated object matches an accumulated one whose current or any previous id equals its id.
    behavior create: no match allowed; merge: data, binaryData, labels and annotations merged into the
    existing object (the generated values win); replace: the generated object takes the existing one's place.
    In both cases the name, namespace and rename history of the existing object are kept, and the hash suffix
    stays only if both the existing and the generated object wanted it. Returns the new list."""
    result = list(accumulated)
    seen: dict[str, int] = {}
    for res in generated:
        index = seen.get(res.kind, 0)
        seen[res.kind] = index + 1
        where = f"{'configMapGenerator' if res.kind == 'ConfigMap' else 'secretGenerator'}[{index}]"
        rid = res.cur_id()
        matches = [i for i, old in enumerate(result) if any(rid.same_object(other) for other in kustomize_ids(old))]
        behavior = res.behavior or "create"
        if not matches:
            if behavior != "create":
                raise RenderError(file, f"behavior {behavior} needs an existing {_show(rid)} from the resources or "
                                        f"bases, and there is none (use behavior: create, or check the name and "
                                        f"namespace)", f"{where}.behavior")
            result.append(res)
            continue
        if len(matches) > 1:
            found = ", ".join(f"{result[i].cur_id()} from {result[i].origin}" for i in matches)
            raise RenderError(file, f"{_show(rid)} could {behavior} into several objects: {found}", where)
        old = result[matches[0]]
        if behavior == "create":
            raise RenderError(file, f"{_show(rid)} is already defined by {old.origin} (as {old.cur_id()}); to change "
                                    "it from here set behavior: merge or replace", where)
        result[matches[0]] = _combine(old, res, behavior)
    return result


def _combine(old: Resource, new: Resource, behavior: str) -> Resource:
    obj = new.obj
    meta = obj.setdefault("metadata", {})
    _set_map(meta, "labels", {**_text_map(old.labels()), **_text_map(new.labels())})
    _set_map(meta, "annotations", {**_text_map(old.annotations()), **_text_map(new.annotations())})
    meta["name"] = old.name
    if old.namespace:
        meta["namespace"] = old.namespace
    else:
        meta.pop("namespace", None)
    if behavior == "merge":
        for key in ("data", "binaryData"):
            merged = {**_text_map(old.obj.get(key)), **_text_map(obj.get(key))}
            obj.pop(key, None)
            if merged:
                obj[key] = dict(sorted(merged.items()))
    return Resource(obj=obj, origin=old.origin if behavior == "merge" else new.origin,
                    previous_ids=list(old.previous_ids), behavior=old.behavior,
                    needs_hash=old.needs_hash and new.needs_hash, prefixes=list(old.prefixes),
                    suffixes=list(old.suffixes))


def _set_map(meta: dict, key: str, values: dict) -> None:
    meta.pop(key, None)
    if values:
        meta[key] = dict(sorted(values.items()))


def _text_map(value: Any) -> dict[str, str]:
    """A string map as kustomize reads one (GetDataMap, GetLabels): every scalar value as its YAML text."""
    if not isinstance(value, dict):
        return {}
    return {str(k): "" if v is None else scalar_text(v) for k, v in value.items() if not isinstance(v, (dict, list))}


def _show(rid: ResId) -> str:
    where = f" in namespace {rid.namespace}" if rid.namespace else ""
    return f"{rid.kind} {rid.name!r}{where}"


# ------------------------------------------------------------------------------------------ validation


def _string(value: Any, file: str, where: str) -> str:
    if value is None:
        return ""
    if not isinstance(value, str):
        raise RenderError(file, f"expected a string, found {describe(value)} (quote it)", where)
    return value


def _bool(value: Any, file: str, where: str) -> bool:
    if value is None:
        return False
    if not isinstance(value, bool):
        raise RenderError(file, f"expected true or false, found {describe(value)}", where)
    return value


def _string_list(value: Any, file: str, where: str) -> list[str]:
    if value is None:
        return []
    if not isinstance(value, list):
        raise RenderError(file, f"expected a list of strings, found {describe(value)}", where)
    return [_string(item, file, f"{where}[{i}]") for i, item in enumerate(value)]


def _string_map(value: Any, file: str, where: str) -> dict[str, str]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise RenderError(file, f"expected a mapping of strings, found {describe(value)}", where)
    for key, item in value.items():
        if not isinstance(item, str):
            raise RenderError(file, f"expected a string value, found {describe(item)} (quote it: "
                                    f"{key}: \"{_unquoted(item)}\")", f"{where}.{key}")
    return dict(value)


def _unquoted(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return "" if value is None else str(value)
