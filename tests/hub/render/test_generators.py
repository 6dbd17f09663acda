"""configMapGenerator / secretGenerator, merge_generated and the content-hash suffix, against kubectl kustomize.

The oracle comparisons build the same directory twice: with `kubectl kustomize`, and with a small build made
of H3's functions (generate, merge_generated, apply_replacements, add_hash_suffixes, fix_name_references) and
simulated namespace / namePrefix / nameSuffix; `test_namerefs` and `test_replacements` reuse it.
"""

from __future__ import annotations

import base64
import posixpath
from pathlib import Path

import pytest

from fleetline.yamlsafe import load_all, load_one
from hub.render.errors import RenderError
from hub.render.files import DirectoryFiles
from hub.render.generators import generate, merge_generated
from hub.render.hashing import add_hash_suffixes, content_hash, go_json
from hub.render.namerefs import fix_name_references
from hub.render.resource import Resource, is_cluster_scoped
from hub.render.transforms.replacements import apply_replacements
from tests.hub.render.conftest import Oracle, write_tree

SKIPPED_BY_AFFIXES = ("CustomResourceDefinition", "APIService", "Namespace")


def add_affixes(resources: list[Resource], prefix: str, suffix: str) -> None:
    """kustomize's namePrefix / nameSuffix as far as these tests need them."""
    for res in resources:
        if res.kind in SKIPPED_BY_AFFIXES:
            continue
        if prefix:
            res.prefixes.append(prefix)
            res.rename(name=prefix + res.name)
        if suffix:
            res.suffixes.append(suffix)
            res.rename(name=res.name + suffix)


def set_namespace(resources: list[Resource], namespace: str) -> None:
    """kustomize's namespace transformer as far as these tests need it: it records every object's id first,
    even when nothing changes (which the name-reference fixer notices)."""
    if not namespace:
        return
    for res in resources:
        res.previous_ids.append(res.cur_id())
        if not is_cluster_scoped(res.api_version, res.kind):
            res.metadata["namespace"] = namespace


def build_level(root: Path, directory: str) -> list[Resource]:
    """One kustomization, recursively: its `resources` (files and directories), generators, namespace,
    namePrefix / nameSuffix and replacements, in kustomize's order. No hashing, no name references."""
    files = DirectoryFiles(root)
    kfile = f"{directory}/kustomization.yaml" if directory else "kustomization.yaml"
    kustomization = load_one(files.read(kfile), kfile) or {}
    resources: list[Resource] = []
    for ref in kustomization.get("resources", []):
        path = posixpath.normpath(f"{directory}/{ref}" if directory else ref)
        if files.kind(path) == "dir":
            resources += build_level(root, path)
        else:
            resources += [Resource(obj=doc, origin=path) for doc in load_all(files.read(path), path)]
    generated = generate(files, directory, kfile, kustomization.get("configMapGenerator"),
                         kustomization.get("secretGenerator"), kustomization.get("generatorOptions"))
    resources = merge_generated(resources, generated, kfile)
    set_namespace(resources, kustomization.get("namespace", ""))
    add_affixes(resources, kustomization.get("namePrefix", ""), kustomization.get("nameSuffix", ""))
    if kustomization.get("replacements"):
        apply_replacements(resources, kustomization["replacements"], files, directory, kfile)
    return resources


def ours(root: Path, directory: str = "") -> list[dict]:
    """The whole (simplified) build: every level, then hash suffixes, then name references."""
    resources = build_level(root, directory)
    add_hash_suffixes(resources)
    fix_name_references(resources)
    return [res.obj for res in resources]


def by_id(docs: list) -> dict:
    return {(d["kind"], d["metadata"].get("namespace", ""), d["metadata"]["name"]): d for d in docs}


def assert_same_objects(expected: list, actual: list) -> None:
    assert sorted(by_id(actual)) == sorted(by_id(expected))
    assert by_id(actual) == by_id(expected)


# ------------------------------------------------------------------------------------------ the oracle


MANY_GENERATORS = """
namePrefix: p-
configMapGenerator:
- name: literals
  literals: [plain=1, 'dq="quoted"', "sq='single'", 'half="open', 'inner=a"b"c', 'eq=a=b=c', 'empty=', 'sp= x ']
- name: files
  files: [config/app.properties, renamed.txt=config/app.properties, nested/deep.conf]
- name: binary
  files: [blob.bin, config/app.properties]
- name: envs
  envs: [env/one.env, env/two.env]
- name: env-singular
  env: env/one.env
  literals: [LIT=1]
- name: with-options
  literals: [a=b]
  options:
    labels: {app: web, tier: front}
    annotations: {note: "hello world"}
    immutable: true
- name: no-hash
  literals: [a=b]
  options: {disableNameSuffixHash: true}
- name: namespaced
  namespace: team-a
  literals: [a=b]
- name: no-data
- name: escapes
  literals: ['html=<a href="x">&amp;</a>', 'uni=grüße ✓', "tab=a\\tb", 'sep=a\u2028b']
  files: [ctrl.txt]
- name: same-content-1
  literals: [k=v]
- name: same-content-2
  literals: [k=v]
secretGenerator:
- name: opaque
  literals: [user=admin, password=s3cr3t]
- name: typed
  type: kubernetes.io/basic-auth
  literals: [username=u, password=p]
- name: wrap-69
  literals: [k=aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa]
- name: wrap-70
  literals: [k=aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa]
- name: wrap-long
  files: [big=config/big.txt]
- name: binary-secret
  files: [blob.bin]
- name: empty-secret
- name: secret-options
  literals: [a=b]
  options: {labels: {own: "1"}, disableNameSuffixHash: false}
generatorOptions:
  labels: {shared: "yes", own: shared}
  annotations: {from: options}
"""


def many_generators_tree(root: Path) -> Path:
    return write_tree(root, {
        "kustomization.yaml": MANY_GENERATORS,
        "config/app.properties": "a=1\nb=2\n",
        "config/big.txt": "line of text\n" * 20,
        "nested/deep.conf": "deep\n",
        "blob.bin": bytes(range(256)),
        "ctrl.txt": "bell\x07 backspace\x08 formfeed\x0c esc\x1b nul\x00 bom\ufeff\r\n",
        "env/one.env": "\ufeffFIRST=1\n# comment\n\n   INDENTED=two words  \nNOVALUE\n=ignored\nQ=\"kept\"\r\nEQ=a=b\n",
        "env/two.env": "SECOND=2",
    })


def test_many_generators_equal_kustomize(tmp_path: Path, kustomize_oracle: Oracle) -> None:
    root = many_generators_tree(tmp_path)
    expected = kustomize_oracle.build(root)
    actual = ours(root)
    assert len(actual) == 20
    assert_same_objects(expected, actual)


def test_generated_names_equal_kustomize(tmp_path: Path, kustomize_oracle: Oracle) -> None:
    root = many_generators_tree(tmp_path)
    expected = sorted(d["metadata"]["name"] for d in kustomize_oracle.build(root))
    assert sorted(d["metadata"]["name"] for d in ours(root)) == expected


@pytest.mark.parametrize("literals", [
    ["a=b"], ["a=b", "c=d"], ["x="], ["k=" + "v" * 300], ["n=0"], ["t=true"], ["s=<script>"], ["amp=&&"],
    ["json={\"a\": [1, 2]}"], ["u=日本語"], ["nl=line1\\nline2"], ["k.dotted-key_1=v"],
])
def test_hash_suffix_of_literals(tmp_path: Path, kustomize_oracle: Oracle, literals: list[str]) -> None:
    quoted = ", ".join(f"'{lit}'" for lit in literals)
    root = write_tree(tmp_path, {"kustomization.yaml": f"configMapGenerator:\n- name: cm\n  literals: [{quoted}]\n"
                                                       f"secretGenerator:\n- name: sec\n  literals: [{quoted}]\n"})
    assert_same_objects(kustomize_oracle.build(root), ours(root))


def test_merge_and_replace_across_an_overlay(tmp_path: Path, kustomize_oracle: Oracle) -> None:
    root = write_tree(tmp_path, {
        "base/res.yaml": """
apiVersion: v1
kind: ConfigMap
metadata:
  name: plain
  labels: {a: base, b: base}
  annotations: {x: base}
data: {k1: v1, num: 5}
---
apiVersion: v1
kind: Secret
metadata:
  name: tls
type: kubernetes.io/tls
data: {tls.crt: Y3J0}
stringData: {s: t}
""",
        "base/kustomization.yaml": """
namePrefix: b-
resources: [res.yaml]
configMapGenerator:
- name: gen
  literals: [a=1, b=2]
  options: {labels: {gl: base}, annotations: {ga: base}}
- name: nohash
  literals: [a=1]
  options: {disableNameSuffixHash: true}
- name: both
  literals: [a=1]
secretGenerator:
- name: gs
  type: kubernetes.io/tls
  literals: [tls.key=k]
""",
        "ov/kustomization.yaml": """
resources: [../base]
namePrefix: o-
configMapGenerator:
- name: plain
  behavior: merge
  literals: [k2=v2]
  options: {labels: {b: ov, c: ov}}
- name: gen
  behavior: merge
  literals: [b=3, c=4]
  options: {disableNameSuffixHash: true}
- name: nohash
  behavior: merge
  literals: [z=1]
- name: both
  behavior: merge
  literals: [b=2]
  options: {annotations: {ov: "1"}}
secretGenerator:
- name: tls
  behavior: merge
  literals: [tls.key=a]
- name: gs
  behavior: replace
  literals: [new=1]
""",
    })
    expected = kustomize_oracle.build(root / "ov")
    overlay = build_level(root, "ov")
    add_hash_suffixes(overlay)
    fix_name_references(overlay)
    assert_same_objects(expected, [res.obj for res in overlay])
    merged = {res.cur_id().name: res for res in overlay}
    assert merged["o-b-plain"].origin == "base/res.yaml"  # merge keeps the original's origin
    assert "gen" in [rid.name for rid in merged["o-b-gen"].previous_ids]  # and its rename history


# ------------------------------------------------------------------------------------------ unit checks


def test_hash_ignores_name_labels_and_annotations() -> None:
    one = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "a", "labels": {"x": "1"}},
           "data": {"k": "v"}}
    two = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "b"}, "data": {"k": "v"}}
    assert content_hash(one) == content_hash(two)
    two["data"]["k"] = "w"
    assert content_hash(one) != content_hash(two)
    assert content_hash({"kind": "Secret", "data": {"k": "dg=="}}) != \
        content_hash({"kind": "Secret", "type": "Opaque", "data": {"k": "dg=="}})


def test_known_hashes() -> None:  # values printed by kubectl kustomize v5.5.0
    assert content_hash({"kind": "ConfigMap", "metadata": {"name": "cm"}, "data": {"a": "b"}}) == "4h2mbtbbt6"
    assert content_hash({"kind": "ConfigMap", "metadata": {"name": "e"}}) == "6ct58987ht"
    assert content_hash({"kind": "Secret", "type": "Opaque", "data": {"a": "Yg=="}}) == "k695gkmbtk"


def test_go_json_escapes_like_go() -> None:
    assert go_json({"b": 1, "a": "<&>"}) == '{"a":"\\u003c\\u0026\\u003e","b":1}'
    assert go_json({"x": 1.0, "y": 1.5, "z": 1e21, "w": 1e-7}) == '{"w":1e-7,"x":1,"y":1.5,"z":1e+21}'
    assert go_json(["\u2028", "é", "\n"]) == '["\\u2028","é","\\n"]'


def test_add_hash_suffixes_records_previous_name() -> None:
    res = Resource(obj={"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "cm"}, "data": {"a": "b"}},
                   origin="k.yaml", needs_hash=True)
    plain = Resource(obj={"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "x"}}, origin="r.yaml")
    add_hash_suffixes([res, plain])
    assert res.name == "cm-4h2mbtbbt6"
    assert [rid.name for rid in res.previous_ids] == ["cm"]
    assert not res.needs_hash
    assert plain.name == "x" and not plain.previous_ids


def test_secret_base64_wraps_at_70_characters(tmp_path: Path) -> None:
    root = write_tree(tmp_path, {"big": "x" * 200})
    [secret] = generate(DirectoryFiles(root), "", "kustomization.yaml", [],
                        [{"name": "s", "files": ["big"], "literals": ["short=ab"]}], None)
    lines = secret.obj["data"]["big"].split("\n")
    assert [len(line) for line in lines] == [70, 70, 70, 58, 0]
    assert base64.b64decode("".join(lines)) == b"x" * 200
    assert secret.obj["data"]["short"] == "YWI="
    assert secret.obj["type"] == "Opaque" and secret.behavior == "create" and secret.needs_hash


# ------------------------------------------------------------------------------------------------ errors


def _generate_error(tmp_path: Path, configmaps: list, secrets: list | None = None, options: dict | None = None,
                    tree: dict | None = None, directory: str = "app") -> RenderError:
    root = write_tree(tmp_path, {"app/kustomization.yaml": "", "outside.txt": "x", "app/data.txt": "d",
                                 "app/sub/f.txt": "f", **(tree or {})})
    with pytest.raises(RenderError) as info:
        generate(DirectoryFiles(root), directory, "app/kustomization.yaml", configmaps, secrets or [], options)
    return info.value


@pytest.mark.parametrize(("configmaps", "field", "message"), [
    ([{"literals": ["a=b"]}], "configMapGenerator[0].name", "needs a name"),
    ([{"name": "a", "literals": ["=x"]}], "configMapGenerator[0].literals[0]", "expected key=value"),
    ([{"name": "a", "literals": ["novalue"]}], "configMapGenerator[0].literals[0]", "expected key=value"),
    ([{"name": "a", "literals": ["k=1", "k=2"]}], "configMapGenerator[0].literals[1]", "repeats the key 'k'"),
    ([{"name": "a", "literals": ["data.txt=1"], "files": ["data.txt"]}], "configMapGenerator[0].files[0]",
     "repeats the key 'data.txt'"),
    ([{"name": "a", "files": ["../outside.txt"]}], "configMapGenerator[0].files[0]", "is not in or below app"),
    ([{"name": "a", "files": ["missing.txt"]}], "configMapGenerator[0].files[0]", "not found"),
    ([{"name": "a", "files": ["sub"]}], "configMapGenerator[0].files[0]", "is a directory"),
    ([{"name": "a", "files": ["=data.txt"]}], "configMapGenerator[0].files[0]", "missing key name"),
    ([{"name": "a", "files": ["k="]}], "configMapGenerator[0].files[0]", "missing file path"),
    ([{"name": "a", "files": ["k=v=data.txt"]}], "configMapGenerator[0].files[0]", "contains '='"),
    ([{"name": "a", "envs": ["../outside.txt"]}], "configMapGenerator[0].envs[0]", "is not in or below app"),
    ([{"name": "a", "literal": ["x=1"]}], "configMapGenerator[0].literal", "unknown field 'literal'"),
    ([{"name": "a", "type": "Opaque"}], "configMapGenerator[0].type", "a ConfigMap has no type"),
    ([{"name": "a", "behavior": "marge"}], "configMapGenerator[0].behavior", "unknown behavior 'marge'"),
    ([{"name": 5}], "configMapGenerator[0].name", "expected a string, found the number 5"),
    ([{"name": "a", "literals": "x=1"}], "configMapGenerator[0].literals", "expected a list of strings"),
    ([{"name": "a", "literals": ["a b=1"]}], "configMapGenerator[0].literals[0]", "invalid key 'a b'"),
    ([{"name": "a", "options": {"labels": {"x": 1}}}], "configMapGenerator[0].options.labels.x",
     "expected a string value, found the number 1"),
    ([{"name": "a", "options": {"disableNameSufixHash": True}}],
     "configMapGenerator[0].options.disableNameSufixHash", "unknown field"),
    ("notalist", "configMapGenerator", "expected a list of generators"),
])
def test_generator_errors(tmp_path: Path, configmaps: list, field: str, message: str) -> None:
    error = _generate_error(tmp_path, configmaps)
    assert error.file == "app/kustomization.yaml"
    assert error.field == field
    assert message in error.message


def test_env_file_errors_name_the_line(tmp_path: Path) -> None:
    error = _generate_error(tmp_path, [{"name": "a", "envs": ["bad.env"]}],
                            tree={"app/bad.env": b"OK=1\nBAD=\xff\n"})
    assert error.field == "configMapGenerator[0].envs[0]" and "line 2 is not valid UTF-8" in error.message
    error = _generate_error(tmp_path, [{"name": "a", "envs": ["sp.env"]}], tree={"app/sp.env": "A B=1\n"})
    assert "invalid key 'A B'" in error.message and "sp.env line 1" in error.field


def test_generator_options_errors(tmp_path: Path) -> None:
    error = _generate_error(tmp_path, [{"name": "a"}], options={"immutable": "yes"})
    assert error.field == "generatorOptions.immutable"
    assert error.message == "expected true or false, found the string 'yes'"


def _cm(name: str, origin: str, data: dict | None = None, namespace: str = "") -> Resource:
    meta = {"name": name, **({"namespace": namespace} if namespace else {})}
    return Resource(obj={"apiVersion": "v1", "kind": "ConfigMap", "metadata": meta, "data": data or {}},
                    origin=origin)


def test_create_over_an_existing_object_names_both_origins() -> None:
    existing = _cm("settings", "base/config.yaml")
    new = _cm("settings", "overlay/kustomization.yaml")
    new.behavior = "create"
    with pytest.raises(RenderError) as info:
        merge_generated([existing], [new], "overlay/kustomization.yaml")
    error = info.value
    assert error.file == "overlay/kustomization.yaml" and error.field == "configMapGenerator[0]"
    assert "already defined by base/config.yaml" in error.message and "behavior: merge or replace" in error.message


def test_merge_without_an_existing_object_is_an_error() -> None:
    new = _cm("settings", "k.yaml")
    new.behavior = "merge"
    other_namespace = _cm("settings", "base.yaml", namespace="elsewhere")
    with pytest.raises(RenderError) as info:
        merge_generated([other_namespace], [_cm("x", "k.yaml"), new], "k.yaml")
    assert info.value.field == "configMapGenerator[1].behavior"
    assert "needs an existing ConfigMap 'settings'" in info.value.message


def test_merge_matches_a_previous_name_and_keeps_the_current_one() -> None:
    existing = _cm("settings", "base.yaml", {"a": "1", "b": "2"})
    existing.rename(name="pre-settings")
    existing.prefixes.append("pre-")
    new = _cm("settings", "k.yaml", {"b": "3"})
    new.behavior, new.needs_hash = "merge", True
    [merged] = merge_generated([existing], [new], "k.yaml")
    assert merged.name == "pre-settings" and merged.obj["data"] == {"a": "1", "b": "3"}
    assert merged.prefixes == ["pre-"] and not merged.needs_hash  # the original had no hash suffix
