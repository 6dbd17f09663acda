"""Reading a kustomization file: finding it in a directory, checking it field by field, and holding its values.

kustomize decodes `kustomization.yaml` strictly into its Go `Kustomization` type: an unknown field or a value
of the wrong type is an error, field names match case-insensitively when no exact match exists, and a later
duplicate wins. This module does the same, with errors that name the file, the field path
(`images[1].newTag`), what was found and what to write instead. It also applies kustomize's fixes on load
(a generator's `env` appended to its `envs`; `bases` and `imageTags`, which kustomize appends to
`resources` and `images`, are kept apart so that errors name the field as written) and refuses,
with an explanation, the features Fleetline does not render: plugins (`generators`, `transformers`,
`validators`), `helmCharts` (use a Helm application source), `vars` (use `replacements`), `configurations`,
`crds`, `openapi` and `buildMetadata`.

The values are kept as plain data (lists of dicts) for the transformer modules, which check their own
semantics; this module checks only shapes and types.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass, field

from fleetline.yamlsafe import YamlError, load_one
from hub.render.errors import RenderError
from hub.render.errors import describe_value as _describe
from hub.render.files import RepoFiles

KUSTOMIZATION_FILE_NAMES = ("kustomization.yaml", "kustomization.yml", "Kustomization")
KUSTOMIZATION_VERSION = "kustomize.config.k8s.io/v1beta1"
COMPONENT_VERSION = "kustomize.config.k8s.io/v1alpha1"


# -- the shape of kustomize's types ------------------------------------------------------------------------

@dataclass(frozen=True)
class _Type:
    """One Go type of kustomize's Kustomization: `kind` is str, bool, int, any, list, map or struct."""

    kind: str
    item: _Type | None = None  # element of a list, value of a map
    fields: tuple[tuple[str, _Type], ...] = ()  # a struct's fields, by JSON name
    name: str = ""  # a struct's name, for messages


STR, BOOL, INT, ANY = _Type("str"), _Type("bool"), _Type("int"), _Type("any")


def _list(item: _Type) -> _Type:
    return _Type("list", item=item)


def _map(item: _Type) -> _Type:
    return _Type("map", item=item)


def _struct(type_name: str, /, **fields: _Type) -> _Type:
    return _Type("struct", fields=tuple(fields.items()), name=type_name)


def _fields(**fields: _Type) -> dict[str, _Type]:
    return fields


_GVK = _fields(group=STR, version=STR, kind=STR)
_RESID = _fields(**_GVK, name=STR, namespace=STR)
_SELECTOR = _struct("Selector", **_RESID, annotationSelector=STR, labelSelector=STR)
_FIELD_SPEC = _struct("FieldSpec", **_GVK, path=STR, create=BOOL)
_OBJECT_META = _struct("ObjectMeta", name=STR, namespace=STR, labels=_map(STR), annotations=_map(STR))
_GENERATOR_OPTIONS = _struct("GeneratorOptions", labels=_map(STR), annotations=_map(STR),
                             disableNameSuffixHash=BOOL, immutable=BOOL)
_GENERATOR_ARGS = _fields(namespace=STR, name=STR, behavior=STR, literals=_list(STR), files=_list(STR),
                          envs=_list(STR), env=STR, options=_GENERATOR_OPTIONS)
_FIELD_OPTIONS = _struct("FieldOptions", delimiter=STR, index=INT, encoding=STR, create=BOOL)
_PATCH = _struct("Patch", path=STR, patch=STR, target=_SELECTOR, options=_map(BOOL))
_REPLACEMENT = _struct(
    "ReplacementField", path=STR,
    source=_struct("SourceSelector", **_RESID, fieldPath=STR, options=_FIELD_OPTIONS),
    targets=_list(_struct("TargetSelector", select=_SELECTOR, reject=_list(_SELECTOR), fieldPaths=_list(STR),
                          options=_FIELD_OPTIONS)))

KUSTOMIZATION_TYPE = _struct(
    "Kustomization",
    apiVersion=STR, kind=STR, metadata=_OBJECT_META, openapi=_map(STR),
    namePrefix=STR, nameSuffix=STR, namespace=STR,
    commonLabels=_map(STR),
    labels=_list(_struct("Label", pairs=_map(STR), includeSelectors=BOOL, includeTemplates=BOOL,
                         fields=_list(_FIELD_SPEC))),
    commonAnnotations=_map(STR),
    patchesStrategicMerge=_list(STR), patchesJson6902=_list(_PATCH), patches=_list(_PATCH),
    images=_list(_struct("Image", name=STR, newName=STR, tagSuffix=STR, newTag=STR, digest=STR)),
    imageTags=_list(_struct("Image", name=STR, newName=STR, tagSuffix=STR, newTag=STR, digest=STR)),
    replacements=_list(_REPLACEMENT),
    replicas=_list(_struct("Replica", name=STR, count=INT)),
    vars=_list(ANY),
    sortOptions=_struct("SortOptions", order=STR,
                        legacySortOptions=_struct("LegacySortOptions", orderFirst=_list(STR),
                                                  orderLast=_list(STR))),
    resources=_list(STR), components=_list(STR), crds=_list(STR), bases=_list(STR),
    configMapGenerator=_list(_struct("ConfigMapArgs", **_GENERATOR_ARGS)),
    secretGenerator=_list(_struct("SecretArgs", **_GENERATOR_ARGS, type=STR)),
    helmGlobals=ANY, helmCharts=_list(ANY), helmChartInflationGenerator=_list(ANY),
    generatorOptions=_GENERATOR_OPTIONS,
    configurations=_list(STR), generators=_list(STR), transformers=_list(STR), validators=_list(STR),
    buildMetadata=_list(STR),
)

# Fields kustomize accepts that Fleetline refuses, and what to do instead.
_REFUSED = {
    "helmCharts": "Helm charts are not inflated inside kustomizations: declare the chart as the application's "
                  "Helm source in fleet.yaml (source.chart, valueFiles) instead",
    "helmGlobals": "Helm charts are not inflated inside kustomizations: declare the chart as the application's "
                   "Helm source in fleet.yaml instead",
    "helmChartInflationGenerator": "Helm charts are not inflated inside kustomizations: declare the chart as "
                                   "the application's Helm source in fleet.yaml instead",
    "vars": "vars are deprecated in kustomize and not supported: use replacements "
            "(https://kubectl.docs.kubernetes.io/references/kustomize/kustomization/replacements/)",
    "generators": "generator plugins are not supported: only the built-in configMapGenerator and "
                  "secretGenerator run (commit the generated manifests instead)",
    "transformers": "transformer plugins are not supported: use the built-in fields (patches, replacements, "
                    "labels, images, ...) instead",
    "validators": "validator plugins are not supported: Fleetline's policies check rendered output instead",
    "configurations": "custom transformer configurations are not supported: only kustomize's built-in field "
                      "specs apply (use patches or replacements for other fields)",
    "crds": "the crds field is not supported: use patches or replacements for fields of custom resources",
    "openapi": "custom OpenAPI schemas are not supported: strategic merge patches use the built-in "
               "Kubernetes schema (use a JSON 6902 patch for custom resources)",
    "buildMetadata": "buildMetadata (origin and transformer annotations, managed-by label) is not supported: "
                     "remove it",
}


# -- the loaded kustomization ------------------------------------------------------------------------------

@dataclass
class Kustomization:
    """A kustomization file's values, checked for shape and type, with kustomize's load-time fixes applied.

    List and map fields hold plain data as written (struct keys normalised to their exact field names);
    absent fields are empty. `file` is the repository path of the file, `directory` the directory it
    belongs to (where its relative references resolve)."""

    file: str
    directory: str
    kind: str = "Kustomization"  # or "Component"
    api_version: str = KUSTOMIZATION_VERSION
    metadata: dict = field(default_factory=dict)
    resources: list[str] = field(default_factory=list)
    bases: list[str] = field(default_factory=list)  # kustomize appends them to resources
    components: list[str] = field(default_factory=list)
    namespace: str = ""
    name_prefix: str = ""
    name_suffix: str = ""
    common_labels: dict[str, str] = field(default_factory=dict)
    labels: list[dict] = field(default_factory=list)
    common_annotations: dict[str, str] = field(default_factory=dict)
    patches_strategic_merge: list[str] = field(default_factory=list)
    patches: list[dict] = field(default_factory=list)
    patches_json6902: list[dict] = field(default_factory=list)
    images: list[dict] = field(default_factory=list)
    image_tags: list[dict] = field(default_factory=list)  # kustomize appends them to images
    replicas: list[dict] = field(default_factory=list)
    replacements: list[dict] = field(default_factory=list)
    config_map_generator: list[dict] = field(default_factory=list)
    secret_generator: list[dict] = field(default_factory=list)
    generator_options: dict | None = None
    sort_options: dict | None = None

    @property
    def is_component(self) -> bool:
        return self.kind == "Component"

    def resource_entries(self) -> list[tuple[str, str]]:
        """(field path, reference) of every entry of resources and then bases, kustomize's accumulation order."""
        return [*((f"resources[{i}]", ref) for i, ref in enumerate(self.resources)),
                *((f"bases[{i}]", ref) for i, ref in enumerate(self.bases))]


_ATTRIBUTES = {
    "metadata": "metadata", "resources": "resources", "bases": "bases", "components": "components",
    "namespace": "namespace",
    "namePrefix": "name_prefix", "nameSuffix": "name_suffix", "commonLabels": "common_labels",
    "labels": "labels", "commonAnnotations": "common_annotations",
    "patchesStrategicMerge": "patches_strategic_merge", "patches": "patches",
    "patchesJson6902": "patches_json6902", "images": "images", "imageTags": "image_tags", "replicas": "replicas",
    "replacements": "replacements", "configMapGenerator": "config_map_generator",
    "secretGenerator": "secret_generator", "generatorOptions": "generator_options",
    "sortOptions": "sort_options",
}


def find_kustomization_file(files: RepoFiles, directory: str) -> str | None:
    """The repository path of `directory`'s kustomization file, None when it has none; an error when it
    has several (kustomize refuses the ambiguity)."""
    found = [name for name in KUSTOMIZATION_FILE_NAMES if files.kind(_join(directory, name)) == "file"]
    if len(found) > 1:
        raise RenderError(directory or ".", f"found several kustomization files ({', '.join(found)}): keep one")
    return _join(directory, found[0]) if found else None


def missing_kustomization_message(directory: str) -> str:
    """kustomize's message for a directory without a kustomization file."""
    names = [f"'{name}'" for name in KUSTOMIZATION_FILE_NAMES]
    return (f"unable to find one of {', '.join(names[:-1])} or {names[-1]} in directory "
            f"'{directory or '.'}': a directory listed in resources, bases or components must hold a "
            "kustomization (or list its manifest files one by one)")


def load_kustomization(files: RepoFiles, directory: str) -> Kustomization:
    """Find, read and check the kustomization of `directory` (a repository path)."""
    path = find_kustomization_file(files, directory)
    if path is None:
        raise RenderError(directory or ".", missing_kustomization_message(directory))
    try:
        raw = load_one(files.read(path), path, yaml11=True)  # kustomize reads it with sigs.k8s.io/yaml
    except YamlError as exc:
        raise RenderError(path, exc.reason if exc.line == 0 else f"line {exc.line}: {exc.reason}") from exc
    return parse_kustomization(raw, path, directory)


def parse_kustomization(raw: object, file: str, directory: str) -> Kustomization:
    """Check a loaded kustomization document and build the `Kustomization` (see the module docstring)."""
    if raw is None:
        raw = {}
    if not isinstance(raw, dict):
        raise RenderError(file, f"expected a kustomization (a YAML mapping of fields), found {_describe(raw)}")
    values = _check(raw, KUSTOMIZATION_TYPE, file, "")
    for name, reason in _REFUSED.items():
        if values.get(name):
            raise RenderError(file, f"not supported by Fleetline: {reason}", name)
    kind = values.get("kind") or "Kustomization"
    if kind not in ("Kustomization", "Component"):
        raise RenderError(file, f"kind should be Kustomization or Component, found {kind!r}", "kind")
    required = COMPONENT_VERSION if kind == "Component" else KUSTOMIZATION_VERSION
    api_version = values.get("apiVersion") or required
    if api_version != required:
        raise RenderError(file, f"apiVersion for {kind} should be {required}, found {api_version!r}", "apiVersion")
    if all(values.get(name) is None for name in values if name not in ("apiVersion", "kind")):
        raise RenderError(file, "kustomization is empty: list resources, components or generators")
    result = Kustomization(file=file, directory=directory, kind=kind, api_version=api_version)
    for name, attribute in _ATTRIBUTES.items():
        value = values.get(name)
        if value is not None:
            setattr(result, attribute, value)
    for generator in (*result.config_map_generator, *result.secret_generator):
        env = generator.pop("env", "")
        if env:
            generator["envs"] = [*(generator.get("envs") or []), env]
    return result


# -- checking values against the types ---------------------------------------------------------------------

def _check(value: object, typ: _Type, file: str, path: str) -> object:
    """`value` checked against `typ` (None stays None: an unset field); struct keys get their exact names."""
    if value is None:
        return None
    if typ.kind == "any":
        return value
    if typ.kind == "str":
        if not isinstance(value, str):
            raise RenderError(file, f"expected a string, found {_describe(value)}{_quote_hint(value)}", path)
        return value
    if typ.kind == "bool":
        if not isinstance(value, bool):
            raise RenderError(file, f"expected true or false, found {_describe(value)}", path)
        return value
    if typ.kind == "int":
        if isinstance(value, bool) or not isinstance(value, int):
            raise RenderError(file, f"expected an integer, found {_describe(value)}", path)
        return value
    if typ.kind == "list":
        if not isinstance(value, list):
            raise RenderError(file, f"expected a list, found {_describe(value)}", path)
        assert typ.item is not None
        return [_zero(typ.item) if item is None else _check(item, typ.item, file, f"{path}[{index}]")
                for index, item in enumerate(value)]
    if typ.kind == "map":
        if not isinstance(value, dict):
            raise RenderError(file, f"expected a map, found {_describe(value)}", path)
        assert typ.item is not None
        return {key: _zero(typ.item) if item is None else _check(item, typ.item, file, _join_field(path, key))
                for key, item in value.items()}
    return _check_struct(value, typ, file, path)


def _check_struct(value: object, typ: _Type, file: str, path: str) -> dict:
    if not isinstance(value, dict):
        raise RenderError(file, f"expected a map of {typ.name} fields, found {_describe(value)}", path)
    fields = dict(typ.fields)
    folded = {name.lower(): name for name in fields}
    result: dict = {}
    for key in sorted(value):  # Go decodes in sorted key order: of two spellings of a field, the later wins
        name = key if key in fields else folded.get(key.lower())
        if name is None:
            raise RenderError(file, _unknown_field_message(key, typ, fields), _join_field(path, key))
        result[name] = _check(value[key], fields[name], file, _join_field(path, name))
    return result


def _zero(typ: _Type) -> object:
    """What Go's JSON decoder leaves for a null list element or map value."""
    return {"str": "", "bool": False, "int": 0, "list": [], "map": {}, "struct": {}}.get(typ.kind)


def _unknown_field_message(key: str, typ: _Type, fields: dict[str, _Type]) -> str:
    close = difflib.get_close_matches(key, list(fields), n=1, cutoff=0.6)
    hint = f" (did you mean {close[0]!r}?)" if close else ""
    if typ.name == "Kustomization":
        return f"unknown field {key!r}{hint}: it is not a kustomize v5.5 kustomization field"
    return f"unknown field {key!r} in {typ.name}{hint}: expected one of {', '.join(sorted(fields))}"


def _quote_hint(value: object) -> str:
    if isinstance(value, bool):  # written true/false, or yes/no/on/off, which YAML 1.1 reads as booleans too
        return ": quote it to make it a string (kustomization files are YAML 1.1: yes, no, on and off are booleans)"
    if isinstance(value, int | float):
        return f": quote it to make it a string (\"{value}\")"
    return ""


def _join_field(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


def _join(directory: str, name: str) -> str:
    return f"{directory}/{name}" if directory else name
