"""Promotion: image tag and model version written into overlays in one commit, pushed; refusals say why."""

from __future__ import annotations

import difflib

import pytest

from hub.changes import (
    DirtyCloneError,
    DivergedError,
    NothingToPromoteError,
    PromotionError,
    promote,
)
from tests.hub.changes.conftest import AUTHOR, IMAGE, World, overlay, overlay_path, served

EU = "apps/inference/overlays/eu-1"


def changed_lines(before: str, after: str) -> list[str]:
    return [line for line in difflib.ndiff(before.splitlines(), after.splitlines()) if line[:1] in "+-"]


def test_promotion_sets_image_and_model_version_in_one_pushed_commit(world: World) -> None:
    before = (world.hub.path / overlay_path("eu-1")).read_text()
    result = promote(world.hub.path, "main", EU, IMAGE, "1.1.0", "resnet-50-v2", AUTHOR)
    pushed = world.remote_commit("main")
    assert pushed.hexsha == result.commit and pushed.parents[0].hexsha == world.initial
    assert result.files == (overlay_path("eu-1"),) and list(pushed.stats.files) == [overlay_path("eu-1")]
    assert (pushed.author.name, pushed.committer.email) == ("Ada Lovelace", "ada@example.com")
    assert pushed.message.startswith(f"Promote {IMAGE} to 1.1.0 with MODEL_VERSION resnet-50-v2 in {EU}\n")
    assert f"images[{IMAGE}].newTag 1.0.0 -> 1.1.0" in pushed.message
    assert "MODEL_VERSION resnet-50-v1 -> resnet-50-v2" in pushed.message
    # both values move in that one commit; every other line (comments, blank line, order) is as it was
    assert served(world.remote, "main", "eu-1") == (f"{IMAGE}:1.1.0", "resnet-50-v2")
    assert served(world.remote, "main", "us-east-1") == (f"{IMAGE}:1.0.0", "resnet-50-v1")
    after = (world.hub.path / overlay_path("eu-1")).read_text()
    assert changed_lines(before, after) == [
        '-   newTag: "1.0.0"', '+   newTag: "1.1.0"',
        "-   - MODEL_VERSION=resnet-50-v1   # coupled to the image tag",
        "+   - MODEL_VERSION=resnet-50-v2   # coupled to the image tag"]
    assert world.hub.status() == ""


def test_several_overlays_in_one_commit_from_a_clone_that_was_behind(world: World) -> None:
    world.dev.commit({"README.md": "fleet\n"}, "readme")
    overlays = [EU, "apps/inference/overlays/us-east-1/"]
    result = promote(world.hub.path, "main", overlays, IMAGE, "2.0.0", "llama-3-8b", AUTHOR)
    assert result.files == (overlay_path("eu-1"), overlay_path("us-east-1"))
    assert world.remote_commit("main").parents[0].hexsha == world.dev.repo.head.commit.hexsha
    for cluster in ("eu-1", "us-east-1"):
        assert served(world.remote, "main", cluster) == (f"{IMAGE}:2.0.0", "llama-3-8b")
    assert served(world.remote, "main", "staging-1") == (f"{IMAGE}:1.0.0", "resnet-50-v1")


def test_model_version_in_a_configmap_manifest_and_an_env_file(world: World) -> None:
    kustomization = overlay("eu-1").replace("  - MODEL_VERSION=resnet-50-v1   # coupled to the image tag\n", "")
    kustomization = kustomization.replace("- ../../base\n", "- ../../base\n- model.yaml\n")
    manifest = ("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: model\ndata:\n"
                "  MODEL_VERSION: 'resnet-50-v1'  # the model\n  MODEL_URI: s3://models/resnet\n")
    world.dev.commit({overlay_path("eu-1"): kustomization, f"{EU}/model.yaml": manifest}, "eu-1: model ConfigMap")
    result = promote(world.hub.path, "main", EU, IMAGE, "1.1.0", "resnet-50-v2", AUTHOR)
    assert result.files == (overlay_path("eu-1"), f"{EU}/model.yaml")
    assert (world.hub.path / EU / "model.yaml").read_text() == manifest.replace("'resnet-50-v1'", "'resnet-50-v2'")

    env_overlay = overlay("us-east-1").replace("  - MODEL_VERSION=resnet-50-v1   # coupled to the image tag\n",
                                               "").replace("  literals:\n", "  envs:\n  - model.env\n  literals:\n")
    world.dev.pull()
    world.dev.commit({overlay_path("us-east-1"): env_overlay,
                      "apps/inference/overlays/us-east-1/model.env": "# model\nMODEL_VERSION=resnet-50-v1\n"},
                     "us-east-1: model env file")
    promote(world.hub.path, "main", "apps/inference/overlays/us-east-1", IMAGE, "1.1.0", "resnet-50-v3", AUTHOR)
    assert served(world.remote, "main", "us-east-1") == (f"{IMAGE}:1.1.0", "resnet-50-v3")
    assert (world.hub.path / "apps/inference/overlays/us-east-1/model.env").read_text() == \
        "# model\nMODEL_VERSION=resnet-50-v3\n"


def test_a_missing_image_or_key_is_refused_naming_the_file_and_what_is_there(world: World) -> None:
    head = world.remote_head()
    with pytest.raises(PromotionError) as caught:
        promote(world.hub.path, "main", EU, "registry.example.com/ml/trainer", "1.1.0", "v2", AUTHOR)
    assert str(caught.value).startswith(f"{overlay_path('eu-1')}: no images entry for "
                                        "'registry.example.com/ml/trainer' (its images entries: "
                                        f"{IMAGE})")
    with pytest.raises(PromotionError) as caught:
        promote(world.hub.path, "main", [EU, "apps/inference/overlays/us-east-1"], IMAGE, "1.1.0", "v2", AUTHOR,
                key="MODEL")
    assert str(caught.value).startswith(f"{EU}: no model-version value 'MODEL' is set in the overlay (there: "
                                        "configMapGenerator inference-settings (keys: MODEL_VERSION, REGION))")
    with pytest.raises(PromotionError, match="no model-version value 'MODEL_VERSION' in ConfigMap 'model'"):
        promote(world.hub.path, "main", EU, IMAGE, "1.1.0", "v2", AUTHOR, configmap="model")
    with pytest.raises(PromotionError, match="overlay directory 'apps/nowhere' does not exist"):
        promote(world.hub.path, "main", "apps/nowhere", IMAGE, "1.1.0", "v2", AUTHOR)
    with pytest.raises(PromotionError, match="must be a path inside the repository"):
        promote(world.hub.path, "main", "../elsewhere", IMAGE, "1.1.0", "v2", AUTHOR)
    assert world.remote_head() == head and world.hub.status() == ""


def test_a_file_reached_through_a_symbolic_link_is_not_edited(world: World) -> None:
    link = world.dev.path / "apps/inference/overlays/eu-1/model.yaml"
    world.dev.write({"apps/shared/model.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: model\n"
                                               "data:\n  MODEL_VERSION: old\n"})
    link.symlink_to("../../../shared/model.yaml")
    kustomization = overlay("eu-1").replace("- ../../base\n", "- ../../base\n- model.yaml\n")
    world.dev.commit({overlay_path("eu-1"): kustomization}, "eu-1: shared model ConfigMap")
    with pytest.raises(PromotionError, match=f"{EU}/model.yaml: is reached through a symbolic link"):
        promote(world.hub.path, "main", EU, IMAGE, "1.1.0", "v2", AUTHOR, configmap="model")
    assert world.hub.status() == ""


def test_an_ambiguous_key_needs_the_configmap_named(world: World) -> None:
    kustomization = overlay("eu-1").replace("- ../../base\n", "- ../../base\n- model.yaml\n")
    manifest = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: model\ndata:\n  MODEL_VERSION: old\n"
    world.dev.commit({overlay_path("eu-1"): kustomization, f"{EU}/model.yaml": manifest}, "two ConfigMaps")
    with pytest.raises(PromotionError, match=r"'MODEL_VERSION' is set in several ConfigMaps \(inference-settings, "
                                             r"model\); say which one"):
        promote(world.hub.path, "main", EU, IMAGE, "1.1.0", "v2", AUTHOR)
    result = promote(world.hub.path, "main", EU, IMAGE, "1.1.0", "v2", AUTHOR, configmap="model")
    assert result.files == (overlay_path("eu-1"), f"{EU}/model.yaml")
    assert "MODEL_VERSION=resnet-50-v1" in (world.hub.path / overlay_path("eu-1")).read_text()


def test_an_entry_without_newtag_gets_one_and_a_digest_is_refused(world: World) -> None:
    no_tag = overlay("eu-1").replace('  newTag: "1.0.0"\n', "  newName: eu.registry.example.com/ml/inference\n")
    world.dev.commit({overlay_path("eu-1"): no_tag}, "eu-1: regional registry")
    promote(world.hub.path, "main", EU, "eu.registry.example.com/ml/inference", "1.1.0", "v2", AUTHOR)
    assert served(world.remote, "main", "eu-1") == ("eu.registry.example.com/ml/inference:1.1.0", "v2")
    world.dev.pull()
    digest = no_tag.replace("  newName: eu", "  digest: sha256:" + "a" * 64 + "\n  newName: eu")
    world.dev.commit({overlay_path("eu-1"): digest}, "eu-1: pin a digest")
    with pytest.raises(PromotionError, match="pins a digest"):
        promote(world.hub.path, "main", EU, IMAGE, "1.2.0", "v3", AUTHOR)


def test_nothing_to_promote_and_malformed_input(world: World) -> None:
    head = world.remote_head()
    with pytest.raises(NothingToPromoteError, match="newTag already 1.0.0.*MODEL_VERSION already resnet-50-v1"):
        promote(world.hub.path, "main", EU, IMAGE, "1.0.0", "resnet-50-v1", AUTHOR)
    for tag in ("", "-1", "1.0 beta", "a" * 129):
        with pytest.raises(PromotionError, match="not a valid tag"):
            promote(world.hub.path, "main", EU, IMAGE, tag, "v2", AUTHOR)
    with pytest.raises(PromotionError, match="single-line"):
        promote(world.hub.path, "main", EU, IMAGE, "1.1.0", "v2\nv3", AUTHOR)
    assert world.remote_head() == head and world.hub.status() == ""


def test_promotion_refuses_a_dirty_or_diverged_clone(world: World) -> None:
    edited = world.hub.path / overlay_path("eu-1")
    original = edited.read_text()
    edited.write_text(original.replace("REGION=eu", "REGION=europe"))
    with pytest.raises(DirtyCloneError, match=overlay_path("eu-1")):
        promote(world.hub.path, "main", EU, IMAGE, "1.1.0", "v2", AUTHOR)
    assert "REGION=europe" in edited.read_text()  # the local edit is not lost
    edited.write_text(original)
    world.dev.commit({"README.md": "remote\n"}, "remote")
    world.hub.commit({"NOTES.md": "local\n"}, "local", push=False)
    head = world.remote_head()
    with pytest.raises(DivergedError, match="diverged"):
        promote(world.hub.path, "main", EU, IMAGE, "1.1.0", "v2", AUTHOR)
    assert world.remote_head() == head
