"""Loading and checking kustomization files: shapes, types, kustomize's load-time fixes and refused features."""

from __future__ import annotations

import pytest

from hub.render.errors import RenderError
from hub.render.files import DirectoryFiles
from hub.render.kustomization import (
    COMPONENT_VERSION,
    KUSTOMIZATION_VERSION,
    find_kustomization_file,
    load_kustomization,
    parse_kustomization,
)


def parse(raw: object):
    return parse_kustomization(raw, "app/kustomization.yaml", "app")


def error_of(raw: object) -> RenderError:
    with pytest.raises(RenderError) as info:
        parse(raw)
    return info.value


def test_fields_are_read_with_defaults():
    k = parse({"resources": ["a.yaml"], "namePrefix": "p-", "commonLabels": {"app": "web"},
               "images": [{"name": "nginx", "newTag": "1.25"}]})
    assert k.kind == "Kustomization" and k.api_version == KUSTOMIZATION_VERSION
    assert k.resources == ["a.yaml"] and k.name_prefix == "p-" and k.common_labels == {"app": "web"}
    assert k.images == [{"name": "nginx", "newTag": "1.25"}]
    assert k.namespace == "" and k.patches == [] and k.sort_options is None
    assert k.file == "app/kustomization.yaml" and k.directory == "app"


def test_component_kind_and_default_version():
    k = parse({"kind": "Component", "resources": ["a.yaml"]})
    assert k.is_component and k.api_version == COMPONENT_VERSION


def test_unknown_field_names_the_field_and_suggests_the_close_one():
    err = error_of({"resources": ["a.yaml"], "namePrefx": "p-"})
    assert err.file == "app/kustomization.yaml" and err.field == "namePrefx"
    assert "unknown field 'namePrefx'" in err.message and "did you mean 'namePrefix'?" in err.message


def test_unknown_nested_field_lists_the_expected_ones():
    err = error_of({"images": [{"name": "a"}, {"name": "b", "tag": "1"}]})
    assert err.field == "images[1].tag"
    assert "unknown field 'tag' in Image" in err.message and "newTag" in err.message


def test_wrong_types_name_the_path_found_and_fix():
    err = error_of({"images": [{"name": "nginx", "newTag": 1.25}]})
    assert err.field == "images[0].newTag"
    assert "expected a string, found the number 1.25" in err.message and 'quote it' in err.message
    assert error_of({"resources": "a.yaml"}).field == "resources"
    assert "expected a list" in error_of({"resources": "a.yaml"}).message
    err = error_of({"replicas": [{"name": "web", "count": "3"}]})
    assert err.field == "replicas[0].count" and "expected an integer" in err.message
    err = error_of({"labels": [{"pairs": {"a": "b"}, "includeSelectors": "yes"}]})
    assert err.field == "labels[0].includeSelectors" and "expected true or false" in err.message
    assert error_of({"commonLabels": {"tier": 1}}).field == "commonLabels.tier"


def test_field_names_match_case_insensitively_exact_spelling_wins():
    # encoding/json: an exact match first, then a case-insensitive one; keys are decoded in sorted order.
    assert parse({"NamePrefix": "p-", "resources": []}).name_prefix == "p-"
    assert parse({"NamePrefix": "a-", "namePrefix": "b-"}).name_prefix == "b-"
    assert parse({"images": [{"NAME": "x", "newtag": "2"}]}).images == [{"name": "x", "newTag": "2"}]


def test_nulls_are_unset_and_null_elements_are_zero_values():
    k = parse({"resources": ["a.yaml"], "namePrefix": None, "commonLabels": {"a": None}})
    assert k.name_prefix == "" and k.common_labels == {"a": ""}
    assert parse({"resources": [None]}).resources == [""]


def test_empty_kustomization_is_refused_but_an_empty_list_is_content():
    for raw in (None, {}, {"apiVersion": KUSTOMIZATION_VERSION, "kind": "Kustomization"}, {"resources": None}):
        assert "kustomization is empty" in error_of(raw).message
    assert parse({"resources": []}).resources == []
    assert parse({"metadata": {"name": "x"}}).metadata == {"name": "x"}


def test_kind_and_api_version_are_checked():
    err = error_of({"kind": "Deployment", "resources": []})
    assert err.field == "kind" and "kind should be Kustomization or Component, found 'Deployment'" in err.message
    err = error_of({"apiVersion": "v1", "resources": []})
    assert err.field == "apiVersion" and KUSTOMIZATION_VERSION in err.message
    err = error_of({"kind": "Component", "apiVersion": KUSTOMIZATION_VERSION, "resources": []})
    assert f"apiVersion for Component should be {COMPONENT_VERSION}" in err.message


def test_not_a_mapping():
    assert "expected a kustomization (a YAML mapping of fields), found a list" in error_of(["a"]).message


@pytest.mark.parametrize(("field", "value", "words"), [
    ("helmCharts", [{"name": "redis"}], "Helm source in fleet.yaml"),
    ("vars", [{"name": "X", "objref": {"kind": "Service", "name": "s"}}], "use replacements"),
    ("generators", ["gen.yaml"], "generator plugins are not supported"),
    ("transformers", ["t.yaml"], "transformer plugins are not supported"),
    ("validators", ["v.yaml"], "validator plugins"),
    ("configurations", ["c.yaml"], "custom transformer configurations"),
    ("crds", ["crd.json"], "crds field is not supported"),
    ("openapi", {"path": "schema.json"}, "custom OpenAPI schemas"),
    ("buildMetadata", ["originAnnotations"], "buildMetadata"),
])
def test_refused_features_explain_what_to_do(field, value, words):
    err = error_of({"resources": ["a.yaml"], field: value})
    assert err.field == field and "not supported by Fleetline" in err.message and words in err.message


def test_empty_refused_fields_are_harmless():
    assert parse({"resources": ["a.yaml"], "vars": [], "helmCharts": []}).resources == ["a.yaml"]


def test_bases_and_image_tags_kept_apart_in_kustomize_order():
    k = parse({"bases": ["../base"], "resources": ["a.yaml"], "imageTags": [{"name": "x", "newTag": "2"}],
               "images": [{"name": "x", "newTag": "1"}]})
    assert k.resource_entries() == [("resources[0]", "a.yaml"), ("bases[0]", "../base")]
    assert k.images == [{"name": "x", "newTag": "1"}] and k.image_tags == [{"name": "x", "newTag": "2"}]


def test_generator_env_is_appended_to_envs():
    k = parse({"configMapGenerator": [{"name": "c", "env": "c.env", "envs": ["a.env"]}],
               "secretGenerator": [{"name": "s", "env": "s.env", "type": "Opaque"}]})
    assert k.config_map_generator == [{"name": "c", "envs": ["a.env", "c.env"]}]
    assert k.secret_generator == [{"name": "s", "envs": ["s.env"], "type": "Opaque"}]


def test_load_finds_each_accepted_file_name(tmp_path):
    for name in ("kustomization.yaml", "kustomization.yml", "Kustomization"):
        directory = tmp_path / name.replace(".", "_")
        directory.mkdir()
        (directory / name).write_text("resources: [a.yaml]\n")
        k = load_kustomization(DirectoryFiles(tmp_path), directory.name)
        assert k.file == f"{directory.name}/{name}" and k.resources == ["a.yaml"]


def test_load_refuses_several_files_and_names_a_missing_one(tmp_path):
    (tmp_path / "two").mkdir()
    (tmp_path / "two" / "kustomization.yaml").write_text("resources: []\n")
    (tmp_path / "two" / "Kustomization").write_text("resources: []\n")
    (tmp_path / "none").mkdir()
    files = DirectoryFiles(tmp_path)
    with pytest.raises(RenderError, match=r"several kustomization files \(kustomization.yaml, Kustomization\)"):
        find_kustomization_file(files, "two")
    with pytest.raises(RenderError) as info:
        load_kustomization(files, "none")
    assert info.value.file == "none"
    assert ("unable to find one of 'kustomization.yaml', 'kustomization.yml' or 'Kustomization' in directory "
            "'none'") in info.value.message


def test_load_reports_yaml_errors_with_the_line(tmp_path):
    (tmp_path / "kustomization.yaml").write_text("resources:\n- a.yaml\n  bad: [\n")
    with pytest.raises(RenderError) as info:
        load_kustomization(DirectoryFiles(tmp_path), "")
    assert info.value.file == "kustomization.yaml" and "line " in info.value.message



def test_kustomization_files_are_yaml_1_1_like_kustomize_reads_them(tmp_path) -> None:
    # kustomize: "json: cannot unmarshal bool into Go struct field Kustomization.commonLabels of type string"
    from hub.render.build import render_directory
    from hub.render.errors import RenderError

    (tmp_path / "kustomization.yaml").write_text("resources: [cm.yaml]\ncommonLabels:\n  enabled: yes\n")
    (tmp_path / "cm.yaml").write_text("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\n  labels:\n    a: yes\n")
    try:
        render_directory(tmp_path)
    except RenderError as exc:
        assert exc.field == "commonLabels.enabled" and "found the boolean true" in exc.message
        assert "yes, no, on and off are booleans" in exc.message
    else:
        raise AssertionError("a boolean label value in a kustomization must be refused, as kustomize does")
    (tmp_path / "kustomization.yaml").write_text("resources: [cm.yaml]\ncommonLabels:\n  enabled: 'yes'\n")
    [cm] = render_directory(tmp_path)
    assert cm["metadata"]["labels"] == {"a": "yes", "enabled": "yes"}  # manifests stay YAML 1.2 like kyaml
