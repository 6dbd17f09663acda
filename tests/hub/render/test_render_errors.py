"""Repositories the renderer must refuse, each with a message that names the file at fault and says what is
wrong (section 5 of issue 3, plus inputs kustomize itself rejects).

Each case asserts that rendering raises `RenderError` and that str(error) contains the offending file's
repository-relative path and the listed phrases (case-insensitive). Where kustomize rejects the input too,
the test also runs `kubectl kustomize` and checks that it fails; kustomize's own message is quoted beside
the case. Cases are built in `<tmp>/repo`, so that files "outside the repository" can exist in `<tmp>`.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from fleetline.yamlsafe import MAX_DEPTH, MAX_DOCUMENT_BYTES
from tests.hub.render.conftest import Oracle, fleetline_render, write_tree
from tests.hub.render.oracle_cases.base import deployment, text


@dataclass(frozen=True)
class ErrorCase:
    """A repository (`files`, plus `setup(tmp)` for what a dict cannot say) that must fail to render at `path`.

    `file` is the repository-relative path str(error) must name; `phrases` must all appear in it (a phrase
    written `a|b` is satisfied by either alternative).
    `kustomize_fails`: True when kustomize rejects the input as well (checked at test time), False when it
    accepts it (Fleetline is stricter on purpose), None when kustomize is not run (it would use the network)."""

    name: str
    files: dict[str, str]
    file: str
    phrases: tuple[str, ...]
    kustomize_fails: bool | None
    path: str = ""
    setup: Callable[[Path], None] | None = None
    outside: dict[str, str] = field(default_factory=dict)  # files written beside the repository, in <tmp>


_CONFIGMAP = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: outside\ndata:\n  k: v\n"


def _symlink_file(tmp: Path) -> None:
    os.symlink(tmp / "outside" / "secret.yaml", tmp / "repo" / "linked.yaml")


def _symlink_dir(tmp: Path) -> None:
    os.symlink(tmp / "outside", tmp / "repo" / "vendored")


def _bomb() -> str:
    lines = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    for index in range(1, 10):
        prev, cur = chr(ord("a") + index - 1), chr(ord("a") + index)
        lines.append(f"{cur}: &{cur} [*{prev},*{prev},*{prev},*{prev},*{prev},*{prev},*{prev},*{prev},*{prev}]")
    return "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: bomb\ndata:\n  k: v\nextra:\n" + "".join(
        f"  {line}\n" for line in lines)


def _huge() -> str:
    line = "x" * 1000
    count = MAX_DOCUMENT_BYTES // 1000 + 10
    return "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: huge\ndata:\n  blob: |\n" + "".join(
        f"    {line}\n" for _ in range(count))


def _deep() -> str:
    depth = MAX_DEPTH + 50
    nested = "[" * depth + "]" * depth
    return f"apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: deep\ndata:\n  k: v\nextra: {nested}\n"


ERROR_CASES: list[ErrorCase] = [
    # kustomize: security; file '<tmp>/outside/secret.yaml' is not in or below '<tmp>/repo'
    ErrorCase("dotdot_file_escape", {"kustomization.yaml": "resources:\n- ../outside/secret.yaml\n"},
              "kustomization.yaml", ("resources[0]", "leaves the repository"), True,
              outside={"outside/secret.yaml": _CONFIGMAP}),
    # kustomize accepts a directory outside its root (only files are restricted); Fleetline refuses any escape.
    ErrorCase("dotdot_directory_escape", {"overlay/kustomization.yaml": "resources:\n- ../../outside\n"},
              "overlay/kustomization.yaml", ("resources[0]", "leaves the repository"), False, path="overlay",
              outside={"outside/kustomization.yaml": "resources:\n- secret.yaml\n", "outside/secret.yaml": _CONFIGMAP}),
    # kustomize: security; file '/<tmp>/outside/secret.yaml' is not in or below '<tmp>/repo'
    ErrorCase("absolute_path", {"kustomization.yaml": "resources:\n- {ABS}/outside/secret.yaml\n"},
              "kustomization.yaml", ("resources[0]", "absolute path"), True,
              outside={"outside/secret.yaml": _CONFIGMAP}),
    # kustomize: security; file '<tmp>/outside/secret.yaml' is not in or below '<tmp>/repo'
    ErrorCase("symlink_file_leaving_repository", {"kustomization.yaml": "resources:\n- linked.yaml\n"},
              "linked.yaml", ("outside the repository",), True, setup=_symlink_file,
              outside={"outside/secret.yaml": _CONFIGMAP}),
    # kustomize follows a symlinked directory outside its root; Fleetline refuses it.
    ErrorCase("symlink_directory_leaving_repository", {"kustomization.yaml": "resources:\n- vendored\n"},
              "vendored", ("outside the repository",), False, setup=_symlink_dir,
              outside={"outside/kustomization.yaml": "resources:\n- secret.yaml\n", "outside/secret.yaml": _CONFIGMAP}),
    # kustomize would clone the repository over the network; not run here.
    ErrorCase("remote_url_resource", {"kustomization.yaml": text("""
        resources:
        - https://github.com/kubernetes-sigs/kustomize//examples/helloWorld?ref=v5.5.0
        """)}, "kustomization.yaml", ("resources[0]", "remote"), None),
    ErrorCase("remote_git_base", {"kustomization.yaml": "resources:\n- git@github.com:acme/fleet-bases.git//base\n"},
              "kustomization.yaml", ("resources[0]", "remote"), None),
    # kustomize (go-yaml) spends minutes expanding it (killed after 60 s when tried); not run here.
    ErrorCase("yaml_alias_bomb", {"kustomization.yaml": "resources:\n- bomb.yaml\n", "bomb.yaml": _bomb()},
              "bomb.yaml", ("alias",), None),
    # kustomize reads it (no size limit); Fleetline refuses files over MAX_DOCUMENT_BYTES.
    ErrorCase("document_over_size_limit", {"kustomization.yaml": "resources:\n- huge.yaml\n", "huge.yaml": _huge()},
              "huge.yaml", ("over the limit",), False),
    # kustomize reads 250 levels; Fleetline refuses documents nesting deeper than MAX_DEPTH.
    ErrorCase("nesting_too_deep", {"kustomization.yaml": "resources:\n- deep.yaml\n", "deep.yaml": _deep()},
              "deep.yaml", ("deeper than",), False),
    # kustomize: cycle detected: candidate root '<tmp>/repo/overlays/loop-west' contains visited root
    # '<tmp>/repo/overlays/loop-east'
    ErrorCase("kustomization_cycle", {
        "overlays/loop-east/kustomization.yaml": "resources:\n- ../loop-west\n",
        "overlays/loop-west/kustomization.yaml": "resources:\n- ../loop-east\n- cm.yaml\n",
        "overlays/loop-west/cm.yaml": _CONFIGMAP,
    }, "overlays/loop-west/kustomization.yaml", ("cycle", "overlays/loop-east", "overlays/loop-west"), True,
        path="overlays/loop-east"),
    # kustomize: may not add resource with an already registered id: Deployment.v1.apps/web.[noNs]
    ErrorCase("duplicate_ids_from_two_files", {
        "kustomization.yaml": "resources:\n- team-a/web.yaml\n- team-b/web.yaml\n",
        "team-a/web.yaml": deployment("web"),
        "team-b/web.yaml": deployment("web", "nginx:1.26.0"),
    }, "team-b/web.yaml", ("duplicate|twice|already", "Deployment", "web", "team-a/web.yaml"), True),
    # kustomize: accumulating resources: accumulation err='accumulating resources from 'missing.yaml':
    # open <tmp>/repo/missing.yaml: no such file or directory' ...
    ErrorCase("missing_resource_file", {"kustomization.yaml": "resources:\n- app.yaml\n- missing.yaml\n",
                                        "app.yaml": deployment("app")},
              "kustomization.yaml", ("resources[1]", "missing.yaml", "not found"), True),
    # kustomize: unable to find one of 'kustomization.yaml', 'kustomization.yml' or 'Kustomization' in
    # directory '<tmp>/repo/base'
    ErrorCase("directory_without_kustomization", {"kustomization.yaml": "resources:\n- base\n",
                                                  "base/app.yaml": deployment("app")},
              "kustomization.yaml", ("resources[0]", "base", "kustomization"), True),
    # kustomize: no matches for Id Deployment.v1.apps/inference.[noNs]; failed to find unique target for patch
    ErrorCase("patch_target_not_found", {
        "base/kustomization.yaml": "resources:\n- app.yaml\n",
        "base/app.yaml": deployment("inference-server"),
        "overlay/kustomization.yaml": "resources:\n- ../base\npatchesStrategicMerge:\n- replicas.yaml\n",
        "overlay/replicas.yaml": "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: inference\nspec:\n"
                                 "  replicas: 3\n",
    }, "overlay/kustomization.yaml", ("not found", "inference"), True, path="overlay"),
    # kustomize: no resource matches strategic merge patch "Deployment.v1.apps/inference.[noNs]"
    ErrorCase("patches_untargeted_smp_not_found", {
        "kustomization.yaml": text("""
            resources:
            - app.yaml
            patches:
            - patch: |-
                apiVersion: apps/v1
                kind: Deployment
                metadata:
                  name: inference
                spec:
                  replicas: 3
            """),
        "app.yaml": deployment("inference-server"),
    }, "kustomization.yaml", ("patches[0]", "not found", "inference"), True),
    # kustomize: testing value /spec/replicas failed: test failed
    ErrorCase("json6902_test_operation_fails", {
        "kustomization.yaml": text("""
            resources:
            - app.yaml
            patches:
            - target:
                kind: Deployment
                name: api
              patch: |-
                - op: test
                  path: /spec/replicas
                  value: 5
                - op: replace
                  path: /spec/replicas
                  value: 6
            """),
        "app.yaml": deployment("api"),
    }, "kustomization.yaml", ("patches[0]", "test"), True),
    # kustomize: add operation does not apply: doc is missing path: "/metadata/labels/team": missing value
    ErrorCase("json6902_path_missing", {
        "kustomization.yaml": text("""
            resources:
            - app.yaml
            patchesJson6902:
            - target:
                version: v1
                kind: ConfigMap
                name: settings
              patch: |-
                - op: add
                  path: /metadata/labels/team
                  value: ml
            """),
        "app.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: settings\ndata:\n  k: v\n",
    }, "kustomization.yaml", ("patchesJson6902[0]", "/metadata/labels/team"), True),
    # kustomize: json: unknown field "namePrefx"
    ErrorCase("unknown_kustomization_field", {"kustomization.yaml": "namePrefx: dev-\nresources:\n- app.yaml\n",
                                              "app.yaml": deployment("app")},
              "kustomization.yaml", ("namePrefx", "unknown field"), True),
    # kustomize: json: cannot unmarshal array into Go struct field Kustomization.namePrefix of type string
    ErrorCase("kustomization_field_wrong_type", {"kustomization.yaml": "namePrefix: [dev-]\nresources:\n- app.yaml\n",
                                                 "app.yaml": deployment("app")},
              "kustomization.yaml", ("namePrefix", "string"), True),
    # kustomize: MalformedYAMLError: yaml: line 4: mapping values are not allowed in this context
    ErrorCase("invalid_yaml_in_resource", {"kustomization.yaml": "resources:\n- broken.yaml\n",
                                           "broken.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a: b\n"},
              "broken.yaml", ("invalid YAML",), True),
    # kustomize: configmap runtime-env illegally repeats the key `OMP_NUM_THREADS`
    ErrorCase("generator_repeats_key", {
        "kustomization.yaml": text("""
            configMapGenerator:
            - name: runtime-env
              envs:
              - common.env
              - gpu.env
            """),
        "common.env": "OMP_NUM_THREADS=8\n",
        "gpu.env": "OMP_NUM_THREADS=16\n",
    }, "kustomization.yaml", ("configMapGenerator[0]", "OMP_NUM_THREADS"), True),
    # kustomize: id resid.ResId{Gvk:resid.Gvk{Group:"", Version:"v1", Kind:"ConfigMap"}, Name:"settings",
    # Namespace:""} does not exist; cannot merge or replace
    ErrorCase("generator_merge_without_base", {
        "kustomization.yaml": "configMapGenerator:\n- name: settings\n  behavior: merge\n  literals:\n  - A=1\n",
    }, "kustomization.yaml", ("configMapGenerator[0]", "settings", "merge"), True),
    # kustomize: security; file '<tmp>/repo/shared/patch.yaml' is not in or below '<tmp>/repo/overlay'
    ErrorCase("patch_file_outside_kustomization_directory", {
        "overlay/kustomization.yaml": "resources:\n- app.yaml\npatches:\n- path: ../shared/patch.yaml\n",
        "overlay/app.yaml": deployment("app"),
        "shared/patch.yaml": "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: app\nspec:\n  replicas: 2\n",
    }, "overlay/kustomization.yaml", ("patches[0]", "shared/patch.yaml", "not in or below"), True, path="overlay"),
    # kustomize: security; file '<tmp>/repo/shared/settings.env' is not in or below '<tmp>/repo/overlay'
    ErrorCase("generator_file_outside_kustomization_directory", {
        "overlay/kustomization.yaml": "configMapGenerator:\n- name: settings\n  envs:\n  - ../shared/settings.env\n",
        "shared/settings.env": "A=1\n",
    }, "overlay/kustomization.yaml", ("configMapGenerator[0]", "shared/settings.env", "not in or below"), True,
        path="overlay"),
    # kustomize: missing metadata.name in object {{v1 ConfigMap} {{ ...
    ErrorCase("object_without_name", {"kustomization.yaml": "resources:\n- nameless.yaml\n",
                                      "nameless.yaml": "apiVersion: v1\nkind: ConfigMap\ndata:\n  k: v\n"},
              "nameless.yaml", ("metadata.name",), True),
    # kustomize supports vars (deprecated); Fleetline refuses them and points to replacements.
    ErrorCase("vars_refused", {"kustomization.yaml": text("""
        resources:
        - app.yaml
        vars:
        - name: APP_NAME
          objref:
            apiVersion: apps/v1
            kind: Deployment
            name: app
        """), "app.yaml": deployment("app")}, "kustomization.yaml", ("vars", "replacements"), False),
    # kustomize without --enable-helm: must specify --enable-helm
    ErrorCase("helm_charts_refused", {"kustomization.yaml": text("""
        helmCharts:
        - name: ingress-nginx
          repo: https://kubernetes.github.io/ingress-nginx
          version: 4.10.1
        """)}, "kustomization.yaml", ("helmCharts",), True),
]


def _materialise(case: ErrorCase, tmp: Path) -> Path:
    repo = tmp / "repo"
    repo.mkdir()
    files = {path: body.replace("{ABS}", str(tmp)) for path, body in case.files.items()}
    write_tree(repo, files)
    write_tree(tmp, case.outside)
    if case.setup is not None:
        case.setup(tmp)
    return repo


@pytest.mark.parametrize("case", ERROR_CASES, ids=[case.name for case in ERROR_CASES])
def test_render_error(case: ErrorCase, tmp_path: Path) -> None:
    from hub.render.errors import RenderError

    repo = _materialise(case, tmp_path)
    with pytest.raises(RenderError) as caught:
        fleetline_render(repo, case.path)
    message = str(caught.value)
    print(f"{case.name}: {message}")
    missing = [part for part in (case.file, *case.phrases)
               if not any(option.lower() in message.lower() for option in part.split("|"))]
    assert not missing, f"error message {message!r} lacks {missing}"


@pytest.mark.kubectl
@pytest.mark.parametrize("case", [c for c in ERROR_CASES if c.kustomize_fails is not None],
                         ids=[c.name for c in ERROR_CASES if c.kustomize_fails is not None])
def test_kustomize_agrees(case: ErrorCase, tmp_path: Path, kustomize_oracle: Oracle) -> None:
    """Whether kustomize rejects the input too, as recorded beside each case (so the comments stay true)."""
    repo = _materialise(case, tmp_path)
    result = kustomize_oracle.run(repo / case.path if case.path else repo)
    if case.kustomize_fails:
        assert not result.ok, f"kustomize accepted {case.name}:\n{result.stdout[:2000]}"
    else:
        assert result.ok, f"kustomize rejected {case.name}:\n{result.stderr}"


def test_patch_target_not_found_suggests_close_name(tmp_path: Path) -> None:
    """DESIGN.md's example error: `patch target Deployment/inference not found (did you mean inference-server?)`."""
    from hub.render.errors import RenderError

    case = next(c for c in ERROR_CASES if c.name == "patch_target_not_found")
    repo = _materialise(case, tmp_path)
    with pytest.raises(RenderError, match="inference-server"):
        fleetline_render(repo, case.path)


def test_failure_in_one_build_does_not_poison_the_next(tmp_path: Path) -> None:
    """A failing kustomization leaves no state behind: the next build of a good one still works."""
    from hub.render.errors import RenderError

    write_tree(tmp_path, {
        "bad/kustomization.yaml": "resources:\n- missing.yaml\n",
        "good/kustomization.yaml": "resources:\n- app.yaml\n",
        "good/app.yaml": deployment("app"),
    })
    with pytest.raises(RenderError):
        fleetline_render(tmp_path, "bad")
    objects = fleetline_render(tmp_path, "good")
    assert [(o["kind"], o["metadata"]["name"]) for o in objects] == [("Deployment", "app")]
